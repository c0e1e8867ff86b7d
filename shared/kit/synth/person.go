package synth

import (
	"strconv"
	"strings"
	"time"
)

// person is the truth about one generated person: what every source record
// of theirs is a more or less faithful copy of.
type person struct {
	idx    int
	id     string
	c      *country
	female bool
	first  string
	// last is the full surname; Spanish people often have two, and
	// sources often keep only the first (last1).
	last, last1 string
	birth       time.Time
	email       string
	workEmail   string
	mobile      phone
	landline    phone
	hasLandline bool
	household   bool
	since       time.Time

	inCRM, inShop, inPOS, inNewsletter, inWeb bool
	crmRecords                                int
}

// Presence rates per source, and rates of the data each person has.
const (
	rateCRM        = 0.70
	rateShop       = 0.45
	ratePOS        = 0.35
	rateNewsletter = 0.40
	rateWeb        = 0.40
	rateCRMDup     = 0.04 // a second CRM customer id for the same person
	rateHousehold  = 0.04 // pairs of people sharing a landline
	rateLandline   = 0.15
	rateWorkEmail  = 0.25
)

// householdPair reports whether people 2m and 2m+1 share a household.
func (g *generator) householdPair(m int) bool {
	return splitmix64(g.opts.Seed^splitmix64(uint64(m)<<8|0xee))%1000 < uint64(rateHousehold*1000)
}

// makePerson draws person i from its core stream. prev is person i-1.
func (g *generator) makePerson(i int, prev *person) person {
	g.reseed(i, streamCore)
	r := g.r
	p := person{idx: i, id: padded("P", uint64(i), 8)}
	partner := i%2 == 1 && g.householdPair(i/2)
	head := i%2 == 0 && g.householdPair(i/2)
	p.household = partner || head

	if partner {
		p.c = prev.c
	} else {
		total := 0
		for _, c := range countries {
			total += c.weight
		}
		x := r.IntN(total)
		for k := range countries {
			if x < countries[k].weight {
				p.c = &countries[k]
				break
			}
			x -= countries[k].weight
		}
	}
	cc := p.c.code
	p.female = r.IntN(2) == 0
	if p.female {
		p.first = pick(r, p.c.female)
	} else {
		p.first = pick(r, p.c.male)
	}
	p.last = pick(r, p.c.last)
	p.last1 = p.last
	if cc == "ES" && r.IntN(10) < 6 {
		p.last += " " + pick(r, p.c.last)
	}
	if partner && r.IntN(10) < 8 {
		p.last, p.last1 = prev.last, prev.last1
	}
	p.birth = time.Date(1945+r.IntN(62), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	p.since = epoch.Add(time.Duration(r.Int64N(int64(span * 2 / 3))))

	// E-mail: the person's number makes it unique, whatever the name.
	f, l := localPart(p.first, cc), localPart(p.last1, cc)
	var base string
	switch r.IntN(8) {
	case 0, 1:
		base = f + "." + l
	case 2:
		base = f + l
	case 3:
		base = f[:1] + l
	case 4:
		base = f[:1] + "." + l
	case 5:
		base = l + "." + f
	case 6:
		base = f + "_" + l
	default:
		base = f
	}
	provider := p.c.providers[min(r.IntN(len(p.c.providers)), r.IntN(len(p.c.providers)))]
	p.email = base + strconv.Itoa(i) + "@" + provider
	if r.Float64() < rateWorkEmail {
		p.workEmail = f + "." + l + strconv.Itoa(i) + "@" + pick(r, companies) + ".com"
	}

	u := g.unique.at(uint64(i))
	p.mobile = mobileNumber(cc, u)
	switch {
	case p.household:
		// The household's line is numbered after its first member.
		p.landline = landlineNumber(cc, g.landline.at(uint64(i&^1)))
		if partner {
			p.landline = prev.landline
		}
		p.hasLandline = true
	case r.Float64() < rateLandline:
		p.landline = landlineNumber(cc, g.landline.at(uint64(i)))
		p.hasLandline = true
	}

	p.inCRM = r.Float64() < rateCRM || g.opts.CRMOnly
	p.inShop = r.Float64() < rateShop
	p.inPOS = r.Float64() < ratePOS
	p.inNewsletter = r.Float64() < rateNewsletter
	p.inWeb = r.Float64() < rateWeb
	if !(p.inCRM || p.inShop || p.inPOS || p.inNewsletter || p.inWeb) {
		p.inNewsletter = true
	}
	p.crmRecords = 1
	if r.Float64() < rateCRMDup {
		p.crmRecords = 2
	}
	return p
}

// person generates person i and all their records.
func (g *generator) person(i int) {
	p := g.makePerson(i, &g.prev)
	if p.inCRM {
		g.crm(&p)
	}
	if !g.opts.CRMOnly {
		g.orders = g.orders[:0]
		if p.inShop {
			g.shop(&p)
		}
		if p.inPOS {
			g.pos(&p)
		}
		if p.inNewsletter {
			g.newsletter(&p)
		}
		if p.inWeb {
			g.web(&p)
		}
	}
	g.prev = p
}

// firstName returns the given name as one source record holds it.
func (g *generator) firstName(p *person, nickRate float64) string {
	s := p.first
	if nicks, ok := nicknames[s]; ok && g.chance(nickRate) {
		s = pick(g.r, nicks)
	}
	return g.dirtyName(s, p.c.code)
}

// lastName returns the surname as one source record holds it.
func (g *generator) lastName(p *person) string {
	s := p.last
	if s != p.last1 && g.chance(0.4) {
		s = p.last1
	}
	return g.dirtyName(s, p.c.code)
}

// dirtyName applies the usual damage to a name.
func (g *generator) dirtyName(s, cc string) string {
	r := g.r
	x := r.Float64()
	switch {
	case x < 0.015:
		return ""
	case x < 0.035:
		s = typo(r, s)
	}
	if !isASCII(s) {
		switch y := r.Float64(); {
		case y < 0.12:
			s = fold(s)
		case y < 0.18 && cc == "DE":
			s = transliterateGerman(s)
		}
	}
	switch y := r.Float64(); {
	case y < 0.06:
		s = strings.ToUpper(s)
	case y < 0.09:
		s = strings.ToLower(s)
	case y < 0.11:
		s = s + " "
	case y < 0.12:
		s = " " + s
	}
	return s
}

// emailVariant returns address e as one record holds it.
func (g *generator) emailVariant(e string, tagRate float64) string {
	r := g.r
	local, domain, _ := strings.Cut(e, "@")
	if domain == "gmail.com" {
		switch x := r.Float64(); {
		case x < 0.10 && strings.Contains(local, "."):
			local = strings.ReplaceAll(local, ".", "")
		case x < 0.16:
			k := 1 + r.IntN(len(local)-1)
			if local[k-1] != '.' && local[k] != '.' {
				local = local[:k] + "." + local[k:]
			}
		}
	}
	if r.Float64() < tagRate && (domain == "gmail.com" || domain == "outlook.com") {
		local += "+" + pick(r, []string{"shop", "news", "promo", "2"})
	}
	if r.Float64() < 0.007 {
		if t, ok := domainTypos[domain]; ok {
			domain = t
		}
	}
	e = local + "@" + domain
	switch x := r.Float64(); {
	case x < 0.05:
		e = strings.ToUpper(e)
	case x < 0.09:
		e = strings.ToUpper(e[:1]) + e[1:]
	case x < 0.105:
		e = " " + e
	case x < 0.12:
		e += "  "
	case x < 0.124:
		e = strings.Replace(e, "@", "[at]", 1)
	case x < 0.127:
		e = strings.Replace(e, "@", "", 1)
	case x < 0.129:
		e = strings.Replace(e, "@", "@@", 1)
	}
	return e
}
