// Package googleads keeps Google Ads Customer Match user lists in step with
// Aurum segments through the Google Ads API's OfflineUserDataJobService
// (REST): for each batch of membership changes it creates an offline user
// data job of type CUSTOMER_MATCH_USER_LIST on the segment's user list,
// adds the members as create (or remove) operations in requests of at
// most Config.MaxIdentifiers identifiers with partial failure enabled,
// and runs the job.
//
// Identifiers are normalised as the API reference documents
// (UserIdentifier, OfflineUserAddressInfo) and hashed with SHA-256:
// e-mail trimmed and lower-cased; phone numbers in E.164; first name
// lower-cased with extra spaces removed; last name lower-cased without
// punctuation; country code (ISO 3166-1 alpha-2) and postal code sent in
// clear. See docs/audiences.md.
package googleads

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/adaudience"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// DefaultBaseURL is the Google Ads API's REST endpoint.
const DefaultBaseURL = "https://googleads.googleapis.com"

// DefaultVersion is the API version called when Config.Version is empty.
const DefaultVersion = "v26"

// MaxIdentifiersPerRequest is the documented ceiling: an
// AddOfflineUserDataJobOperationsRequest holds at most 100,000
// identifiers across all its UserData objects.
const MaxIdentifiersPerRequest = 100_000

// DefaultIdentifiers is the identifiers per request Google recommends
// for throughput (10,000 per call).
const DefaultIdentifiers = 10_000

// MaxIdentifiersPerUser bounds the UserIdentifiers of one UserData.
const MaxIdentifiersPerUser = 20

// Config configures one Customer Match destination. Credentials are
// resolved by the caller (secrets by reference) and passed in.
type Config struct {
	// BaseURL defaults to DefaultBaseURL; tests point it at their server.
	BaseURL string
	// Version defaults to DefaultVersion ("v26").
	Version string
	// CustomerID is the advertiser's customer id, ten digits (dashes are
	// removed).
	CustomerID string
	// LoginCustomerID is the manager account's id when access goes
	// through one (the login-customer-id header); empty otherwise.
	LoginCustomerID string
	// DeveloperToken is the developer-token header.
	DeveloperToken string
	// Token returns a current OAuth 2.0 access token (Bearer).
	Token func(ctx context.Context) (string, error)
	// UserLists maps an Aurum segment id to its user list id (digits) or
	// resource name (customers/{cid}/userLists/{id}).
	UserLists map[string]string
	// MaxIdentifiers bounds the identifiers of one addOperations request;
	// DefaultIdentifiers when 0, at most MaxIdentifiersPerRequest.
	MaxIdentifiers int
	// Address names the member attributes holding the address
	// identifier's parts; DefaultAddress when zero.
	Address Address
	// DeclareConsent sets the job's customerMatchUserListMetadata.consent
	// (adUserData and adPersonalization GRANTED), which Google requires
	// for users in the EEA: set it when the destination's runner sends
	// only members whose consent allows ads (consent.Allowed).
	DeclareConsent bool
	// Now is the clock for Retry-After dates; time.Now when nil.
	Now func() time.Time
}

// Address names the member attributes of an address identifier. All four
// are needed for Google to match on an address.
type Address struct {
	FirstName, LastName, CountryCode, PostalCode string
}

// DefaultAddress is the attribute naming of Aurum's sample mappings.
var DefaultAddress = Address{FirstName: "first_name", LastName: "last_name", CountryCode: "country", PostalCode: "postal_code"}

// Audience is a Customer Match destination; it implements
// destination.Audience.
type Audience struct {
	client *http.Client
	cfg    Config
}

var _ destination.Audience = (*Audience)(nil)

var digits = regexp.MustCompile(`^[0-9]{10}$`)

// New returns a Customer Match destination calling the API with client.
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
	cfg.CustomerID = strings.ReplaceAll(cfg.CustomerID, "-", "")
	cfg.LoginCustomerID = strings.ReplaceAll(cfg.LoginCustomerID, "-", "")
	switch {
	case !digits.MatchString(cfg.CustomerID):
		return nil, fault.Invalidf("googleads: customer_id: want 10 digits")
	case cfg.LoginCustomerID != "" && !digits.MatchString(cfg.LoginCustomerID):
		return nil, fault.Invalidf("googleads: login_customer_id: want 10 digits")
	case cfg.DeveloperToken == "":
		return nil, fault.Invalidf("googleads: developer_token: missing")
	case cfg.Token == nil:
		return nil, fault.Invalidf("googleads: token: missing")
	case cfg.MaxIdentifiers < 0 || cfg.MaxIdentifiers > MaxIdentifiersPerRequest:
		return nil, fault.Invalidf("googleads: max_identifiers: %d is outside 1..%d", cfg.MaxIdentifiers, MaxIdentifiersPerRequest)
	}
	if cfg.MaxIdentifiers == 0 {
		cfg.MaxIdentifiers = DefaultIdentifiers
	}
	if cfg.Address == (Address{}) {
		cfg.Address = DefaultAddress
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Audience{client: client, cfg: cfg}, nil
}

// SyncAudience applies c to the segment's user list: one job for the
// removes, then one for the adds (a Full page is sent as adds; adding a
// member already on the list changes nothing, so a re-sync and a retry
// are idempotent). A failed call returns an error and no Result: the
// whole change is sent again on retry, into fresh jobs (a job that was
// never run is discarded by Google).
func (a *Audience) SyncAudience(ctx context.Context, c destination.AudienceChange) (destination.Result, error) {
	list, err := a.userList(c.Audience)
	if err != nil {
		return destination.Result{}, err
	}
	var res destination.Result
	for _, part := range []struct {
		op      string
		members []destination.Member
	}{{"remove", c.Remove}, {"create", c.Add}} {
		if len(part.members) == 0 {
			continue
		}
		if err := a.job(ctx, list, part.op, part.members, &res); err != nil {
			return destination.Result{}, err
		}
	}
	return res, nil
}

func (a *Audience) userList(segment string) (string, error) {
	id, ok := a.cfg.UserLists[segment]
	if !ok || id == "" {
		return "", fault.Invalidf("googleads: segment %q has no user list", segment)
	}
	if strings.HasPrefix(id, "customers/") {
		return id, nil
	}
	return "customers/" + a.cfg.CustomerID + "/userLists/" + id, nil
}

// operation is one UserData of the request with the member it stands for.
type operation struct {
	profileID string
	body      map[string]userData
	size      int
}

type userData struct {
	UserIdentifiers []userIdentifier `json:"userIdentifiers"`
}

type userIdentifier struct {
	HashedEmail       string       `json:"hashedEmail,omitempty"`
	HashedPhoneNumber string       `json:"hashedPhoneNumber,omitempty"`
	AddressInfo       *addressInfo `json:"addressInfo,omitempty"`
}

type addressInfo struct {
	HashedFirstName string `json:"hashedFirstName"`
	HashedLastName  string `json:"hashedLastName"`
	CountryCode     string `json:"countryCode"`
	PostalCode      string `json:"postalCode"`
}

// job runs one offline user data job holding members as op operations.
func (a *Audience) job(ctx context.Context, list, op string, members []destination.Member, res *destination.Result) error {
	var ops []operation
	for _, m := range members {
		ids := a.identifiers(m)
		if len(ids) == 0 {
			res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: m.ProfileID, Reason: "no identifier Customer Match accepts (e-mail, E.164 phone, or first and last name with country and postal code)"})
			continue
		}
		ops = append(ops, operation{profileID: m.ProfileID, body: map[string]userData{op: {UserIdentifiers: ids}}, size: len(ids)})
	}
	if len(ops) == 0 {
		return nil
	}
	var created struct {
		ResourceName string `json:"resourceName"`
	}
	meta := map[string]any{"userList": list}
	if a.cfg.DeclareConsent {
		meta["consent"] = map[string]string{"adUserData": "GRANTED", "adPersonalization": "GRANTED"}
	}
	body := map[string]any{"job": map[string]any{
		"type":                          "CUSTOMER_MATCH_USER_LIST",
		"customerMatchUserListMetadata": meta,
	}}
	if err := a.call(ctx, "customers/"+a.cfg.CustomerID+"/offlineUserDataJobs:create", body, &created); err != nil {
		return err
	}
	if !strings.HasPrefix(created.ResourceName, "customers/"+a.cfg.CustomerID+"/offlineUserDataJobs/") {
		return &destination.RetryError{Err: fmt.Errorf("googleads: create job: unexpected resource name %q", created.ResourceName)}
	}
	for _, chunk := range chunks(ops, a.cfg.MaxIdentifiers) {
		if err := a.add(ctx, created.ResourceName, chunk, res); err != nil {
			return err
		}
	}
	return a.call(ctx, created.ResourceName+":run", map[string]any{}, nil)
}

// chunks splits ops into requests of at most max identifiers each.
func chunks(ops []operation, max int) [][]operation {
	var out [][]operation
	start, n := 0, 0
	for i, o := range ops {
		if n+o.size > max && i > start {
			out = append(out, ops[start:i])
			start, n = i, 0
		}
		n += o.size
	}
	return append(out, ops[start:])
}

// add sends one addOperations request and records what it accepted.
func (a *Audience) add(ctx context.Context, job string, ops []operation, res *destination.Result) error {
	body := struct {
		EnablePartialFailure bool                  `json:"enablePartialFailure"`
		Operations           []map[string]userData `json:"operations"`
	}{EnablePartialFailure: true}
	for _, o := range ops {
		body.Operations = append(body.Operations, o.body)
	}
	var out struct {
		PartialFailureError *status `json:"partialFailureError"`
	}
	if err := a.call(ctx, job+":addOperations", body, &out); err != nil {
		return err
	}
	failed := out.PartialFailureError.byOperation()
	for i, o := range ops {
		if reason, bad := failed[i]; bad {
			res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: o.profileID, Reason: reason})
			continue
		}
		res.Sent++
	}
	return nil
}

// status is a google.rpc.Status whose details hold GoogleAdsFailures.
type status struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type       string `json:"@type"`
		RetryDelay string `json:"retryDelay"`
		Errors     []struct {
			ErrorCode map[string]string `json:"errorCode"`
			Location  struct {
				FieldPathElements []struct {
					FieldName string `json:"fieldName"`
					Index     *int   `json:"index"`
				} `json:"fieldPathElements"`
			} `json:"location"`
		} `json:"errors"`
	} `json:"details"`
}

// byOperation returns the reason (the error codes, never the message,
// which may quote a value) of each failed operation by its index.
func (s *status) byOperation() map[int]string {
	out := map[int]string{}
	if s == nil {
		return out
	}
	for _, d := range s.Details {
		for _, e := range d.Errors {
			p := e.Location.FieldPathElements
			if len(p) == 0 || p[0].FieldName != "operations" || p[0].Index == nil {
				continue
			}
			reason := codes(e.ErrorCode)
			if prev, ok := out[*p[0].Index]; ok && !strings.Contains(prev, reason) {
				reason = prev + "; " + reason
			}
			out[*p[0].Index] = reason
		}
	}
	return out
}

func codes(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"."+v)
	}
	if len(parts) == 0 {
		return "rejected by Google Ads"
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// retryDelay returns the google.rpc.RetryInfo delay of s, if any.
func (s *status) retryDelay() time.Duration {
	if s == nil {
		return 0
	}
	for _, d := range s.Details {
		if strings.HasSuffix(d.Type, "google.rpc.RetryInfo") {
			if v, err := time.ParseDuration(d.RetryDelay); err == nil && v > 0 {
				return v
			}
		}
	}
	return 0
}

// call POSTs body as JSON to {base}/{version}/{path} and decodes the
// answer into out (nil: discard).
func (a *Audience) call(ctx context.Context, path string, body, out any) error {
	what := "googleads: " + path[strings.LastIndexByte(path, ':')+1:]
	buf, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	token, err := a.cfg.Token(ctx)
	if err != nil {
		return fmt.Errorf("%s: access token: %w", what, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.BaseURL+"/"+a.cfg.Version+"/"+path, bytes.NewReader(buf))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("developer-token", a.cfg.DeveloperToken)
	if a.cfg.LoginCustomerID != "" {
		req.Header.Set("login-customer-id", a.cfg.LoginCustomerID)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return adaudience.TransportError(ctx, what, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return adaudience.TransportError(ctx, what, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error status `json:"error"`
		}
		_ = json.Unmarshal(data, &e)
		after := adaudience.RetryAfter(resp.Header.Get("Retry-After"), a.cfg.Now())
		if d := e.Error.retryDelay(); d > after {
			after = d
		}
		return adaudience.StatusError(what, resp.StatusCode, errorReason(e.Error), after)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &destination.RetryError{Err: fmt.Errorf("%s: decode answer: %w", what, err)}
	}
	return nil
}

// errorReason names a failed call's error codes, or its gRPC status code.
func errorReason(s status) string {
	var parts []string
	for _, d := range s.Details {
		for _, e := range d.Errors {
			parts = append(parts, codes(e.ErrorCode))
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("status %d", s.Code)
	}
	return strings.Join(parts, "; ")
}

// identifiers returns m's hashed UserIdentifiers, at most
// MaxIdentifiersPerUser, e-mails first.
func (a *Audience) identifiers(m destination.Member) []userIdentifier {
	var out []userIdentifier
	seen := map[string]bool{}
	add := func(u userIdentifier, key string) {
		if !seen[key] && len(out) < MaxIdentifiersPerUser {
			seen[key] = true
			out = append(out, u)
		}
	}
	for _, id := range m.Identifiers {
		if id.Type != "email" {
			continue
		}
		if e, ok := NormalizeEmail(id.Value); ok {
			h := adaudience.SHA256(e)
			add(userIdentifier{HashedEmail: h}, "e"+h)
		}
	}
	for _, id := range m.Identifiers {
		if id.Type != "phone" {
			continue
		}
		if p, ok := NormalizePhone(id.Value); ok {
			h := adaudience.SHA256(p)
			add(userIdentifier{HashedPhoneNumber: h}, "p"+h)
		}
	}
	if ai, ok := a.address(m.Attributes); ok {
		add(userIdentifier{AddressInfo: ai}, "a"+ai.HashedFirstName+ai.HashedLastName+ai.CountryCode+ai.PostalCode)
	}
	return out
}

func (a *Audience) address(attrs map[string]any) (*addressInfo, bool) {
	str := func(name string) string { s, _ := attrs[name].(string); return s }
	fn, ok1 := NormalizeFirstName(str(a.cfg.Address.FirstName))
	ln, ok2 := NormalizeLastName(str(a.cfg.Address.LastName))
	cc, ok3 := NormalizeCountryCode(str(a.cfg.Address.CountryCode))
	pc, ok4 := NormalizePostalCode(str(a.cfg.Address.PostalCode))
	if !(ok1 && ok2 && ok3 && ok4) {
		return nil, false
	}
	return &addressInfo{HashedFirstName: adaudience.SHA256(fn), HashedLastName: adaudience.SHA256(ln), CountryCode: cc, PostalCode: pc}, true
}

// NormalizeEmail trims and lower-cases an e-mail address. Google's
// Customer Match guide notes that the periods before @gmail.com and
// @googlemail.com need not be removed ("they'll still be accepted"), so
// they are kept. An address without exactly one @ is refused.
func NormalizeEmail(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.Count(s, "@") != 1 || strings.ContainsAny(s, " \t") {
		return "", false
	}
	return s, true
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// NormalizePhone returns s in E.164 (+ then up to 15 digits), removing
// spaces, dashes, dots and parentheses; a number without its country
// code (no leading +) is refused: E.164 cannot be guessed.
func NormalizePhone(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')', '\t':
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if !e164.MatchString(s) {
		return "", false
	}
	return s, true
}

// NormalizeFirstName lower-cases a first name and removes the extra
// spaces before, after and in between (OfflineUserAddressInfo).
func NormalizeFirstName(s string) (string, bool) {
	s = strings.Join(strings.Fields(strings.ToLower(s)), " ")
	return s, s != ""
}

// NormalizeLastName lower-cases a last name and removes punctuation
// (OfflineUserAddressInfo: "lower case only and no punctuation") and the
// extra spaces.
func NormalizeLastName(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPunct(r) {
			return -1
		}
		return r
	}, strings.ToLower(s))
	s = strings.Join(strings.Fields(s), " ")
	return s, s != ""
}

// NormalizeCountryCode returns a two-letter ISO 3166-1 alpha-2 code in
// upper case (sent in clear).
func NormalizeCountryCode(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return "", false
	}
	return s, true
}

// NormalizePostalCode trims a postal code (sent in clear).
func NormalizePostalCode(s string) (string, bool) {
	s = strings.TrimSpace(s)
	return s, s != ""
}
