// Package meta keeps Meta (Facebook, Instagram) Custom Audiences built from
// customer files in step with Aurum segments, through the Marketing API's
// /{audience_id}/users edge: POST adds users, DELETE removes them. Each
// request carries at most 10,000 rows (the documented limit; Config.MaxRows
// lowers it) of the multi-key schema EMAIL, PHONE, FN, LN, ZIP, COUNTRY,
// every value normalised as Meta documents and hashed with SHA-256, an
// unknown key left blank; the requests of one change share a session
// (session_id, batch_seq, last_batch_flag, estimated_num_total).
//
// Normalisation (Meta's "Hashing and normalizing data"): e-mail trimmed
// and lower-cased; phone digits only, with the country code, without
// symbols, letters or leading zeros; first and last names lower-case
// letters only, no punctuation or spaces, UTF-8 letters kept; ZIP lower
// case without spaces or dashes (US: the five digits); country the
// lower-case ISO 3166-1 alpha-2 code. See docs/audiences.md.
package meta

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/adaudience"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// DefaultBaseURL is the Graph API's endpoint.
const DefaultBaseURL = "https://graph.facebook.com"

// DefaultVersion is the Graph API version called when Config.Version is
// empty.
const DefaultVersion = "v25.0"

// MaxRowsPerRequest is the documented limit: "only up to 10000 at a time".
const MaxRowsPerRequest = 10_000

// Schema is the multi-key schema of every request, in column order.
var Schema = []string{"EMAIL", "PHONE", "FN", "LN", "ZIP", "COUNTRY"}

// Config configures one Custom Audiences destination. Credentials are
// resolved by the caller and passed in.
type Config struct {
	// BaseURL defaults to DefaultBaseURL; tests point it at their server.
	BaseURL string
	// Version defaults to DefaultVersion.
	Version string
	// Token returns the access token (a system user's, with
	// ads_management).
	Token func(ctx context.Context) (string, error)
	// AppSecret, when set, signs every call with appsecret_proof
	// (HMAC-SHA256 of the token keyed with the app secret).
	AppSecret string
	// Audiences maps an Aurum segment id to its custom audience id.
	Audiences map[string]string
	// MaxRows bounds the rows of one request; MaxRowsPerRequest when 0.
	MaxRows int
	// Attributes names the member attributes of the name and address
	// keys; DefaultAttributes when zero.
	Attributes Attributes
	// Now is the clock for Retry-After dates; time.Now when nil.
	Now func() time.Time
}

// Attributes names the member attributes read for FN, LN, ZIP and COUNTRY.
type Attributes struct {
	FirstName, LastName, Zip, Country string
}

// DefaultAttributes is the attribute naming of Aurum's sample mappings.
var DefaultAttributes = Attributes{FirstName: "first_name", LastName: "last_name", Zip: "postal_code", Country: "country"}

// Audience is a Custom Audiences destination; it implements
// destination.Audience.
type Audience struct {
	client *http.Client
	cfg    Config
}

var _ destination.Audience = (*Audience)(nil)

// New returns a Custom Audiences destination calling the API with client.
func New(client *http.Client, cfg Config) (*Audience, error) {
	if client == nil {
		client = http.DefaultClient
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	switch {
	case cfg.Token == nil:
		return nil, fault.Invalidf("meta: token: missing")
	case cfg.MaxRows < 0 || cfg.MaxRows > MaxRowsPerRequest:
		return nil, fault.Invalidf("meta: max_rows: %d is outside 1..%d", cfg.MaxRows, MaxRowsPerRequest)
	}
	for seg, id := range cfg.Audiences {
		if !numeric.MatchString(id) {
			return nil, fault.Invalidf("meta: audiences.%s: %q is not a custom audience id", seg, id)
		}
	}
	if cfg.MaxRows == 0 {
		cfg.MaxRows = MaxRowsPerRequest
	}
	if cfg.Attributes == (Attributes{}) {
		cfg.Attributes = DefaultAttributes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Audience{client: client, cfg: cfg}, nil
}

var numeric = regexp.MustCompile(`^[0-9]+$`)

// SyncAudience sends c's removes (DELETE) and then its adds (POST), each
// as one session of requests of at most MaxRows rows. Meta ignores a row
// already in (or already out of) the audience, so a retry of the same
// change, or a Full page, leaves the audience as one clean run would. A
// failed request fails the change; it is sent again whole, in the same
// session ids (derived from c.ID).
func (a *Audience) SyncAudience(ctx context.Context, c destination.AudienceChange) (destination.Result, error) {
	id, ok := a.cfg.Audiences[c.Audience]
	if !ok {
		return destination.Result{}, fault.Invalidf("meta: segment %q has no custom audience", c.Audience)
	}
	var res destination.Result
	for _, part := range []struct {
		method  string
		members []destination.Member
	}{{http.MethodDelete, c.Remove}, {http.MethodPost, c.Add}} {
		if len(part.members) == 0 {
			continue
		}
		if err := a.session(ctx, id, part.method, sessionID(c.ID, part.method), part.members, &res); err != nil {
			return destination.Result{}, err
		}
	}
	return res, nil
}

// sessionID derives a positive 63-bit session id from the change id and
// the method, the same on every attempt.
func sessionID(change, method string) int64 {
	h := fnv.New64a()
	io.WriteString(h, method+"\x00"+change)
	return int64(h.Sum64()>>1) | 1
}

type row struct {
	profileID string
	cells     []string
}

func (a *Audience) session(ctx context.Context, audience, method string, session int64, members []destination.Member, res *destination.Result) error {
	var rows []row
	for _, m := range members {
		cells, ok := a.cells(m)
		if !ok {
			res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: m.ProfileID, Reason: "no key Meta matches on (e-mail, phone with country code, or first and last name with ZIP)"})
			continue
		}
		rows = append(rows, row{profileID: m.ProfileID, cells: cells})
	}
	for seq, start := 1, 0; start < len(rows); seq++ {
		end := min(start+a.cfg.MaxRows, len(rows))
		s := sessionParam{SessionID: session, BatchSeq: seq, LastBatchFlag: end == len(rows), EstimatedNumTotal: len(rows)}
		if err := a.send(ctx, audience, method, s, rows[start:end], res); err != nil {
			return err
		}
		start = end
	}
	return nil
}

type sessionParam struct {
	SessionID         int64 `json:"session_id"`
	BatchSeq          int   `json:"batch_seq"`
	LastBatchFlag     bool  `json:"last_batch_flag"`
	EstimatedNumTotal int   `json:"estimated_num_total"`
}

type payload struct {
	Schema []string   `json:"schema"`
	Data   [][]string `json:"data"`
}

// answer is the documented response of the users edge.
type answer struct {
	AudienceID          string          `json:"audience_id"`
	SessionID           json.Number     `json:"session_id"`
	NumReceived         int             `json:"num_received"`
	NumInvalidEntries   int             `json:"num_invalid_entries"`
	InvalidEntrySamples json.RawMessage `json:"invalid_entry_samples"`
}

// samples reads invalid_entry_samples tolerantly: an object of entry →
// reason, or a list of entries; any other shape samples nothing (the
// count still applies), so an answer Meta shapes differently never turns
// an accepted batch into a retry.
func (a answer) samples() map[string]string {
	out := map[string]string{}
	if json.Unmarshal(a.InvalidEntrySamples, &out) == nil {
		return out
	}
	var list []string
	if json.Unmarshal(a.InvalidEntrySamples, &list) == nil {
		for _, e := range list {
			out[e] = ""
		}
	}
	return out
}

// send makes one request of rows and records what Meta accepted: rows
// named by invalid_entry_samples are rejected with Meta's reason; when
// Meta counts more invalid entries than it samples, the rest cannot be
// told apart and are counted as not sent, under one Rejected without a
// profile id.
func (a *Audience) send(ctx context.Context, audience, method string, s sessionParam, rows []row, res *destination.Result) error {
	p := payload{Schema: Schema, Data: make([][]string, len(rows))}
	for i, r := range rows {
		p.Data[i] = r.cells
	}
	pj, _ := json.Marshal(p)
	sj, _ := json.Marshal(s)
	token, err := a.cfg.Token(ctx)
	if err != nil {
		return fmt.Errorf("meta: access token: %w", err)
	}
	form := url.Values{"payload": {string(pj)}, "session": {string(sj)}, "access_token": {token}}
	if a.cfg.AppSecret != "" {
		m := hmac.New(sha256.New, []byte(a.cfg.AppSecret))
		m.Write([]byte(token))
		form.Set("appsecret_proof", hex.EncodeToString(m.Sum(nil)))
	}
	what := fmt.Sprintf("meta: %s users batch %d", method, s.BatchSeq)
	req, err := http.NewRequestWithContext(ctx, method, a.cfg.BaseURL+"/"+a.cfg.Version+"/"+audience+"/users", strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := a.client.Do(req)
	if err != nil {
		return adaudience.TransportError(ctx, what, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return adaudience.TransportError(ctx, what, err)
	}
	if resp.StatusCode/100 != 2 {
		return a.failure(what, resp, data)
	}
	var ans answer
	if err := json.Unmarshal(data, &ans); err != nil {
		return &destination.RetryError{Err: fmt.Errorf("%s: decode answer: %w", what, err)}
	}
	invalid, samples := 0, ans.samples()
	for _, r := range rows {
		if reason, bad := sampled(samples, r.cells); bad {
			res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: r.profileID, Reason: reason})
			invalid++
		}
	}
	sent := len(rows) - invalid
	if rest := ans.NumInvalidEntries - invalid; rest > 0 {
		sent -= rest
		res.Rejected = append(res.Rejected, destination.Rejected{Reason: fmt.Sprintf("%d more invalid entries Meta did not sample", rest)})
	}
	res.Sent += max(sent, 0)
	return nil
}

// sampled reports whether an invalid-entry sample names one of cells,
// and Meta's reason (a fixed text, never the value).
func sampled(samples map[string]string, cells []string) (string, bool) {
	for _, c := range cells {
		if c == "" {
			continue
		}
		if reason, ok := samples[c]; ok {
			if reason == "" {
				reason = "invalid entry"
			}
			return "meta: " + reason, true
		}
	}
	return "", false
}

// graphError is the Graph API's error body.
type graphError struct {
	Error struct {
		Type        string `json:"type"`
		Code        int    `json:"code"`
		Subcode     int    `json:"error_subcode"`
		IsTransient bool   `json:"is_transient"`
	} `json:"error"`
}

// rateLimited are the Graph API's throttling and temporary error codes:
// 1 unknown, 2 service, 4 application limit, 17 user limit, 32 page
// limit, 341 application limit, 613 calls limit, 80003 custom audience
// (business use case) limit, 80004 ads management.
var rateLimited = map[int]bool{1: true, 2: true, 4: true, 17: true, 32: true, 341: true, 613: true, 80003: true, 80004: true}

func (a *Audience) failure(what string, resp *http.Response, data []byte) error {
	var e graphError
	_ = json.Unmarshal(data, &e)
	reason := fmt.Sprintf("%s code %d subcode %d", e.Error.Type, e.Error.Code, e.Error.Subcode)
	after := adaudience.RetryAfter(resp.Header.Get("Retry-After"), a.cfg.Now())
	if d := regainAccess(resp.Header.Get("X-Business-Use-Case-Usage")); d > after {
		after = d
	}
	status := resp.StatusCode
	switch {
	case rateLimited[e.Error.Code] || e.Error.IsTransient:
		return &destination.RetryError{Err: fmt.Errorf("%s: HTTP %d: %s", what, status, reason), After: after}
	case e.Error.Code == 190:
		status = http.StatusUnauthorized
	case e.Error.Code == 10 || (e.Error.Code >= 200 && e.Error.Code < 300):
		status = http.StatusForbidden
	}
	return adaudience.StatusError(what, status, reason, after)
}

// regainAccess reads the longest estimated_time_to_regain_access (in
// minutes) of an X-Business-Use-Case-Usage header.
func regainAccess(h string) time.Duration {
	if h == "" {
		return 0
	}
	var usage map[string][]struct {
		Minutes int `json:"estimated_time_to_regain_access"`
	}
	if json.Unmarshal([]byte(h), &usage) != nil {
		return 0
	}
	var longest time.Duration
	for _, list := range usage {
		for _, u := range list {
			longest = max(longest, time.Duration(u.Minutes)*time.Minute)
		}
	}
	return longest
}

// cells returns m's row of hashed keys in Schema order ("" for unknown
// keys), and whether Meta can match on it.
func (a *Audience) cells(m destination.Member) ([]string, bool) {
	first := func(typ string, norm func(string) (string, bool)) string {
		for _, id := range m.Identifiers {
			if id.Type == typ {
				if v, ok := norm(id.Value); ok {
					return v
				}
			}
		}
		return ""
	}
	str := func(name string) string { s, _ := m.Attributes[name].(string); return s }
	country, _ := NormalizeCountry(str(a.cfg.Attributes.Country))
	zip, _ := NormalizeZip(str(a.cfg.Attributes.Zip), country)
	fn, _ := NormalizeName(str(a.cfg.Attributes.FirstName))
	ln, _ := NormalizeName(str(a.cfg.Attributes.LastName))
	raw := []string{first("email", NormalizeEmail), first("phone", NormalizePhone), fn, ln, zip, country}
	if raw[0] == "" && raw[1] == "" && (fn == "" || ln == "" || zip == "") {
		return nil, false
	}
	out := make([]string, len(raw))
	for i, v := range raw {
		if v != "" {
			out[i] = adaudience.SHA256(v)
		}
	}
	return out, true
}

// NormalizeEmail trims and lower-cases an e-mail address; one without
// exactly one @ is refused.
func NormalizeEmail(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.Count(s, "@") != 1 || strings.ContainsAny(s, " \t") {
		return "", false
	}
	return s, true
}

// NormalizePhone keeps the digits of a phone number and drops leading
// zeros: "+1 (650) 555-1212" → "16505551212". Meta needs the country
// code, which Aurum's E.164 identifiers carry; a number written without
// one (a leading 0 or no +) cannot be told apart from one that has it
// and is refused unless it starts with "+" or "00".
func NormalizePhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	international := strings.HasPrefix(s, "+") || strings.HasPrefix(s, "00")
	d := strings.TrimLeft(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s), "0")
	if !international || len(d) < 7 || len(d) > 15 {
		return "", false
	}
	return d, true
}

// NormalizeName lower-cases a first or last name and keeps only its
// letters (UTF-8 letters included): no punctuation, spaces or digits.
func NormalizeName(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
	return s, s != ""
}

// NormalizeZip lower-cases a postal code without spaces or dashes; a US
// code keeps its first five digits.
func NormalizeZip(s, country string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
	if country == "us" && len(s) > 5 {
		s = s[:5]
	}
	return s, s != ""
}

// NormalizeCountry returns a lower-case two-letter ISO 3166-1 alpha-2
// code.
func NormalizeCountry(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) != 2 || s[0] < 'a' || s[0] > 'z' || s[1] < 'a' || s[1] > 'z' {
		return "", false
	}
	return s, true
}
