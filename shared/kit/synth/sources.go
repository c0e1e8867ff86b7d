package synth

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Column headers; they match testdata/sample and the root aurum.yaml.
var (
	crmHeader        = []string{"Customer ID", "First Name", "Last Name", "E-mail", "Phone", "Birth Date", "Country", "Opt-in", "Last Modified"}
	posHeader        = []string{"Receipt", "Card Number", "Phone", "Amount", "Store", "Timestamp"}
	newsletterHeader = []string{"id", "email", "name", "signup_date", "status"}
)

// Source regions: the default phone region each source's numbers are
// parsed with (see aurum.yaml).
const (
	regionCRM  = "GB"
	regionShop = "FR"
	regionPOS  = "DE"
	regionWeb  = "GB"
)

// trapRate is the share of foreign numbers written in national format.
const trapRate = 0.03

// encoders turn rows into bytes; the buffers are reused row after row.
type encoders struct {
	crmBuf, posBuf, nlBuf, jsonBuf bytes.Buffer
	crm, pos, nl                   *csv.Writer
	json                           *json.Encoder
	row                            []string
}

func (e *encoders) init() {
	e.crm = csv.NewWriter(&e.crmBuf)
	e.crm.UseCRLF = true // an Excel export
	e.pos = csv.NewWriter(&e.posBuf)
	e.pos.Comma = ';'
	e.nl = csv.NewWriter(&e.nlBuf)
	e.json = json.NewEncoder(&e.jsonBuf)
	e.json.SetEscapeHTML(false)
}

// csvLine encodes one row with w, which writes to buf.
func csvLine(w *csv.Writer, buf *bytes.Buffer, row []string) []byte {
	buf.Reset()
	// Writes go to a bytes.Buffer and cannot fail; the fields are strings.
	_ = w.Write(row)
	w.Flush()
	return buf.Bytes()
}

// jsonLine encodes v as one JSON line. An error (none is expected: the
// types below always marshal) is kept in g and ends the run.
func (g *generator) jsonLine(v any) []byte {
	e := &g.enc
	e.jsonBuf.Reset()
	if err := e.json.Encode(v); err != nil && g.encErr == nil {
		g.encErr = fmt.Errorf("synth: encode %T: %w", v, err)
	}
	return e.jsonBuf.Bytes()
}

func (g *generator) headers() {
	e := &g.enc
	crm := append([]byte("\ufeff"), csvLine(e.crm, &e.crmBuf, crmHeader)...) // Excel writes a BOM
	g.sinks[0].header(crm)
	g.sinks[2].header(csvLine(e.pos, &e.posBuf, posHeader))
	g.sinks[3].header(csvLine(e.nl, &e.nlBuf, newsletterHeader))
}

// phoneFor returns the phone one record holds, or "".
func (g *generator) phoneFor(p *person, region string, present float64) string {
	r := g.r
	if !g.chance(present) {
		return ""
	}
	if g.chance(0.006) {
		return pick(r, placeholderPhones)
	}
	n := p.mobile
	if p.hasLandline && g.chance(0.3) {
		n = p.landline
	}
	return n.format(r, region, trapRate)
}

// ---- CRM ------------------------------------------------------------------

func (g *generator) crm(p *person) {
	g.reseed(p.idx, streamCRM)
	r := g.r
	e := &g.enc
	for k := 0; k < p.crmRecords; k++ {
		id := padded("C", g.customerID.at(uint64(2*p.idx+k)), 8)
		email := ""
		switch x := r.Float64(); {
		case k == 1 && x < 0.4 && p.workEmail != "":
			email = g.emailVariant(p.workEmail, 0)
		case x < 0.88:
			email = g.emailVariant(p.email, 0)
		case x < 0.92 && p.workEmail != "":
			email = g.emailVariant(p.workEmail, 0)
		case x < 0.925:
			email = pick(r, placeholderEmails)
		}
		birth := ""
		d, m, y := p.birth.Day(), int(p.birth.Month()), p.birth.Year()
		switch x := r.Float64(); {
		case x < 0.84:
			birth = p.birth.Format("02/01/2006")
		case x < 0.86:
			birth = p.birth.Format("01/02/2006") // day and month swapped
		case x < 0.875:
			birth = p.birth.Format("2006-01-02")
		case x < 0.878:
			birth = fmt.Sprintf("%02d/02/%d", 30+r.IntN(2), y) // no such day
		case x < 0.88:
			birth = fmt.Sprintf("%d/%d/%02d", d, m, y%100)
		}
		optIn := ""
		if x := r.Float64(); x < 0.55 {
			optIn = pick(r, optInForms[0])
		} else if x < 0.88 {
			optIn = pick(r, optInForms[1])
		}
		modified := g.instant(p.since)
		stamp := modified.Format("2006-01-02T15:04:05Z")
		if g.chance(0.2) {
			stamp = modified.In(time.FixedZone("", 3600*(1+r.IntN(2)))).Format(time.RFC3339)
		}
		e.row = append(e.row[:0],
			id,
			g.firstName(p, 0.08),
			g.lastName(p),
			email,
			g.phoneFor(p, regionCRM, 0.85),
			birth,
			pick(r, p.c.forms),
			optIn,
			stamp,
		)
		line := csvLine(e.crm, &e.crmBuf, e.row)
		g.record(0, id, p, line)
		if g.chance(0.005) {
			g.redeliver(0, line) // the same row exported twice
		}
	}
}

// ---- Shop -----------------------------------------------------------------

// order is one web-shop order; web events refer back to it.
type order struct {
	id       string
	at       time.Time
	total    float64
	currency string
}

type shopCustomer struct {
	Email     *string `json:"email"`
	Phone     *string `json:"phone"`
	FirstName *string `json:"first_name"`
	LastName  *string `json:"last_name"`
}

type shopOrder struct {
	OrderID   string       `json:"order_id"`
	CreatedAt string       `json:"created_at"`
	Customer  shopCustomer `json:"customer"`
	Total     any          `json:"total"`
	Currency  string       `json:"currency"`
	Items     any          `json:"items"`
}

// orNull returns nil for "" and &s otherwise.
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (g *generator) shop(p *person) {
	g.reseed(p.idx, streamShop)
	r := g.r
	n := 1
	for n < 8 && g.chance(0.5) {
		n++
	}
	for j := 0; j < n; j++ {
		o := order{
			id:       padded("ORD-", g.orderID.at(uint64(16*p.idx+j)), 9),
			at:       g.instant(p.since),
			total:    float64(900+r.IntN(40000)) / 100,
			currency: p.c.currency,
		}
		g.orders = append(g.orders, o)

		created := o.at.In(time.FixedZone("", 3600*pick(r, p.c.tzHours))).Format(time.RFC3339)
		if g.chance(0.2) {
			created = o.at.Format("2006-01-02T15:04:05Z")
		}
		email := ""
		switch x := r.Float64(); {
		case x < 0.85:
			email = g.emailVariant(p.email, 0.06)
		case x < 0.93 && p.workEmail != "":
			email = g.emailVariant(p.workEmail, 0)
		case x < 0.935:
			email = pick(r, placeholderEmails)
		case x < 0.95:
		default:
			email = g.emailVariant(p.email, 0.06)
		}
		var total any = json.Number(strconv.FormatFloat(o.total, 'f', -1, 64))
		switch x := r.Float64(); {
		case x < 0.003:
			total = "N/A"
		case x < 0.45:
			total = strconv.FormatFloat(o.total, 'f', 2, 64)
		}
		currency := o.currency
		if g.chance(0.05) {
			currency = strings.ToLower(currency)
		}
		items := 1 + r.IntN(6)
		var itemsV any = items
		if g.chance(0.1) {
			itemsV = strconv.Itoa(items)
		}
		line := g.jsonLine(shopOrder{
			OrderID:   o.id,
			CreatedAt: created,
			Customer: shopCustomer{
				Email:     orNull(email),
				Phone:     orNull(g.phoneFor(p, regionShop, 0.65)),
				FirstName: orNull(g.firstName(p, 0.10)),
				LastName:  orNull(g.lastName(p)),
			},
			Total:    total,
			Currency: currency,
			Items:    itemsV,
		})
		g.record(1, o.id, p, line)
		if g.chance(0.005) {
			g.redeliver(1, line) // a webhook retried
		}
	}
}

// ---- Point of sale ----------------------------------------------------------

var posZone = time.FixedZone("CET", 3600)

func (g *generator) pos(p *person) {
	g.reseed(p.idx, streamPOS)
	r := g.r
	e := &g.enc
	card := padded("6301", g.card.at(uint64(p.idx)), 8)
	n := 1
	for n < 12 && g.chance(0.6) {
		n++
	}
	for j := 0; j < n; j++ {
		id := padded("R", g.receipt.at(uint64(16*p.idx+j)), 9)
		c := ""
		if j == 0 || g.chance(0.8) {
			switch r.IntN(3) {
			case 0:
				c = card
			case 1:
				c = card[:4] + " " + card[4:8] + " " + card[8:]
			default:
				c = card[:4] + "-" + card[4:8] + "-" + card[8:]
			}
		}
		present := 0.4
		if j == 0 {
			present = 0.7 // the visit that registered the card
		}
		ph := g.phoneFor(p, regionPOS, present)
		if g.chance(0.012) {
			ph = "0000000000" // the till's default
		}
		if c == "" && ph == "" && !g.chance(0.05) {
			c = card
		}
		e.row = append(e.row[:0],
			id,
			c,
			ph,
			strconv.FormatFloat(float64(200+r.IntN(25000))/100, 'f', 2, 64),
			pick(r, p.c.stores),
			g.instant(p.since).In(posZone).Format("02.01.2006 15:04"),
		)
		g.record(2, id, p, csvLine(e.pos, &e.posBuf, e.row))
	}
}

// ---- Newsletter -----------------------------------------------------------

func (g *generator) newsletter(p *person) {
	g.reseed(p.idx, streamNewsletter)
	r := g.r
	e := &g.enc
	n := 1
	if g.chance(0.05) {
		n = 2
	}
	for k := 0; k < n; k++ {
		id := padded("NL-", g.newsletterID.at(uint64(2*p.idx+k)), 8)
		email := ""
		switch x := r.Float64(); {
		case x < 0.015:
			email = pick(r, placeholderEmails)
		case (x < 0.1 || k == 1) && p.workEmail != "":
			email = g.emailVariant(p.workEmail, 0)
		default:
			email = g.emailVariant(p.email, 0.08)
		}
		first, last := g.firstName(p, 0.08), g.lastName(p)
		var name string
		switch r.IntN(8) {
		case 0, 1:
			name = first + " " + last
		case 2:
			name = strings.ToUpper(last) + ", " + first
		case 3:
			name = strings.ToLower(first + " " + last)
		case 4:
			name = first + " " + strings.ToUpper(last)
		case 5:
			name = last + " " + first
		case 6:
			name = first
		default:
			name = titleCase(first + " " + last)
		}
		name = strings.TrimSpace(name)
		if g.chance(0.02) {
			name = ""
		}
		signed := g.instant(p.since)
		date := signed.Format("01/02/2006")
		switch x := r.Float64(); {
		case x < 0.02:
			date = signed.Format("2006-01-02")
		case x < 0.025:
			date = signed.Format("02/01/2006") // day first: invalid or wrong in m/d/y
		case x < 0.03:
			date = ""
		}
		e.row = append(e.row[:0], id, email, name, date, pick(r, newsletterStatuses))
		g.record(3, id, p, csvLine(e.nl, &e.nlBuf, e.row))
	}
}

// ---- Web (Segment) ----------------------------------------------------------

type webTraits struct {
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
}

type webProperties struct {
	Path      string       `json:"path,omitempty"`
	URL       string       `json:"url,omitempty"`
	ProductID string       `json:"product_id,omitempty"`
	Name      string       `json:"name,omitempty"`
	OrderID   string       `json:"order_id,omitempty"`
	Revenue   *json.Number `json:"revenue,omitempty"`
	Currency  string       `json:"currency,omitempty"`
}

type webLibrary struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type webContext struct {
	Library webLibrary `json:"library"`
	Locale  string     `json:"locale,omitempty"`
	Traits  *webTraits `json:"traits,omitempty"`
}

type webMessage struct {
	Type        string         `json:"type"`
	Event       string         `json:"event,omitempty"`
	Name        string         `json:"name,omitempty"`
	UserID      string         `json:"userId,omitempty"`
	AnonymousID string         `json:"anonymousId,omitempty"`
	Traits      *webTraits     `json:"traits,omitempty"`
	Properties  *webProperties `json:"properties,omitempty"`
	Context     webContext     `json:"context"`
	MessageID   string         `json:"messageId"`
	Timestamp   string         `json:"timestamp"`
}

var analyticsJS = webLibrary{Name: "analytics.js", Version: "4.1.0"}

// session writes the messages of one visit.
type session struct {
	g      *generator
	p      *person
	anon   string
	userID string // set once the visitor logged in
	at     time.Time
}

func (s *session) emit(m webMessage) {
	g := s.g
	s.at = s.at.Add(time.Duration(5+g.r.IntN(300))*time.Second + time.Duration(g.r.IntN(1000))*time.Millisecond)
	m.AnonymousID = s.anon
	if m.UserID == "" {
		m.UserID = s.userID
	}
	m.Context.Library = analyticsJS
	m.Context.Locale = s.p.c.locale
	m.MessageID = g.uuid()
	m.Timestamp = s.at.Format("2006-01-02T15:04:05.000Z")
	line := g.jsonLine(m)
	g.record(4, m.MessageID, s.p, line)
	if g.chance(0.005) {
		g.redeliver(4, line) // the SDK retried
	}
}

func (s *session) page() {
	pg := pages[s.g.r.IntN(len(pages))]
	s.emit(webMessage{Type: "page", Name: pg.name, Properties: &webProperties{Path: pg.path, URL: "https://shop.example.com" + pg.path}})
}

func (s *session) identify(userID string) {
	g, p := s.g, s.p
	t := &webTraits{Email: g.emailVariant(p.email, 0), FirstName: p.first, LastName: p.last1}
	if g.chance(0.3) {
		t.Phone = p.mobile.format(g.r, regionWeb, trapRate)
	}
	s.userID = userID
	s.emit(webMessage{Type: "identify", Traits: t})
}

func (g *generator) web(p *person) {
	g.reseed(p.idx, streamWeb)
	r := g.r
	devices := [2]string{g.uuid(), g.uuid()}
	ndev := 1
	if g.chance(0.25) {
		ndev = 2
	}
	customerID := ""
	if p.inCRM {
		customerID = padded("C", g.customerID.at(uint64(2*p.idx)), 8)
	}
	sessions := 1 + r.IntN(3)
	for k := 0; k < sessions; k++ {
		s := session{g: g, p: p, anon: devices[r.IntN(ndev)], at: g.instant(p.since)}
		s.page()
		switch x := r.Float64(); {
		case customerID != "" && x < 0.6:
			s.identify(customerID)
		case x < 0.75:
			s.identify("")
		}
		for range r.IntN(3) {
			s.page()
		}
		for range r.IntN(4) {
			pr := products[r.IntN(len(products))]
			m := webMessage{Type: "track", Event: "Product Viewed", Properties: &webProperties{ProductID: pr.id, Name: pr.name}}
			if s.userID != "" && g.chance(0.2) {
				m.Context.Traits = &webTraits{Email: p.email}
			}
			s.emit(m)
		}
	}
	// Orders placed on the web site are tracked too.
	for _, o := range g.orders {
		if !g.chance(0.5) {
			continue
		}
		s := session{g: g, p: p, anon: devices[r.IntN(ndev)], at: o.at.Add(-10 * time.Minute)}
		if customerID != "" && g.chance(0.8) {
			s.userID = customerID
		}
		rev := json.Number(strconv.FormatFloat(o.total, 'f', -1, 64))
		s.emit(webMessage{Type: "track", Event: "Order Completed",
			Properties: &webProperties{OrderID: o.id, Revenue: &rev, Currency: o.currency}})
	}
}
