package meta

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

func TestNormalize(t *testing.T) {
	cases := []struct {
		name string
		f    func(string) (string, bool)
		in   string
		want string
		ok   bool
	}{
		{"email/trim and lower", NormalizeEmail, "  Ann.Lee@Example.COM ", "ann.lee@example.com", true},
		{"email/no at", NormalizeEmail, "ann.example.com", "", false},
		// Meta's customer-list guide: "1-234-567-8910", "+44 844 412 4653".
		{"phone/doc US", NormalizePhone, "+1-234-567-8910", "12345678910", true},
		{"phone/doc UK", NormalizePhone, "+44 844 412 4653", "448444124653", true},
		{"phone/E.164", NormalizePhone, "+447700900123", "447700900123", true},
		{"phone/00 prefix, leading zeros dropped", NormalizePhone, "0044 7700 900123", "447700900123", true},
		{"phone/no country code", NormalizePhone, "07700 900123", "", false},
		{"name/lower, letters only", NormalizeName, "Mary-Jane", "maryjane", true},
		{"name/punctuation and spaces", NormalizeName, " O'Neil Jr. ", "oneiljr", true},
		{"name/UTF-8 letters kept", NormalizeName, "Zoë", "zoë", true},
		{"name/empty", NormalizeName, "-", "", false},
		{"country/lower alpha-2", NormalizeCountry, " US ", "us", true},
		{"country/alpha-3", NormalizeCountry, "USA", "", false},
		{"zip/US five digits", func(s string) (string, bool) { return NormalizeZip(s, "us") }, "10011-1234", "10011", true},
		{"zip/UK no space, lower", func(s string) (string, bool) { return NormalizeZip(s, "gb") }, "SW1A 1AA", "sw1a1aa", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := c.f(c.in)
			if got != c.want || ok != c.ok {
				t.Errorf("F(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
			}
		})
	}
}

// people: raw inputs, and the normalised value Meta must receive hashed in
// each column, written by hand.
var people = []struct {
	member destination.Member
	want   map[string]string
}{
	{destination.Member{ProfileID: "p1", Identifiers: []profile.Identifier{{Type: "email", Value: " Ann.Lee@Example.COM "}, {Type: "phone", Value: "+44 7700 900123"}}},
		map[string]string{"EMAIL": "ann.lee@example.com", "PHONE": "447700900123"}},
	{destination.Member{ProfileID: "p2", Identifiers: []profile.Identifier{{Type: "email", Value: "customer@example.com"}},
		Attributes: map[string]any{"first_name": "Mary-Jane", "last_name": "O'Neil", "postal_code": "10011-1234", "country": "US"}},
		map[string]string{"EMAIL": "customer@example.com", "FN": "maryjane", "LN": "oneil", "ZIP": "10011", "COUNTRY": "us"}},
	{destination.Member{ProfileID: "p3", Identifiers: []profile.Identifier{{Type: "phone", Value: "+1 (650) 555-1212"}}, Attributes: map[string]any{"first_name": "Zoë"}},
		map[string]string{"PHONE": "16505551212", "FN": "zoë"}},
	{destination.Member{ProfileID: "p5", Attributes: map[string]any{"first_name": "John", "last_name": "Doe", "postal_code": "SW1A 1AA", "country": "gb"}},
		map[string]string{"FN": "john", "LN": "doe", "ZIP": "sw1a1aa", "COUNTRY": "gb"}},
}

var unusable = destination.Member{ProfileID: "p4", Identifiers: []profile.Identifier{{Type: "email", Value: "bad"}, {Type: "phone", Value: "07700900123"}},
	Attributes: map[string]any{"first_name": "Ann"}}

func expectPeople(f *fakeGraph) {
	for _, p := range people {
		for col, v := range p.want {
			f.expect(col, v)
		}
	}
}

// key is the fake's member key of person i.
func key(i int) string {
	w := people[i].want
	h := func(col string) string {
		if v, ok := w[col]; ok {
			return hashOf(v)
		}
		return ""
	}
	return h("EMAIL") + "|" + h("PHONE") + "|" + h("FN") + h("LN") + h("ZIP")
}

func newAudience(t testing.TB, f *fakeGraph, url string, max int) *Audience {
	t.Helper()
	f.maxRows = MaxRowsPerRequest
	if max > 0 {
		f.maxRows = max
	}
	a, err := New(&http.Client{Timeout: 10 * time.Second}, Config{
		BaseURL: url, AppSecret: f.appSecret, MaxRows: max,
		Token:     func(context.Context) (string, error) { return f.token, nil },
		Audiences: map[string]string{"vip": "23837492"},
		Now:       func() time.Time { return time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func allPeople() []destination.Member {
	var out []destination.Member
	for _, p := range people {
		out = append(out, p.member)
	}
	return out
}

func TestSyncAddsAndRemoves(t *testing.T) {
	f, srv := newFakeGraph(t)
	expectPeople(f)
	a := newAudience(t, f, srv.URL, 0)
	ctx := context.Background()
	res, err := a.SyncAudience(ctx, destination.AudienceChange{ID: "b1", Audience: "vip", Add: append(allPeople(), unusable)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 4 || len(res.Rejected) != 1 || res.Rejected[0].ProfileID != "p4" {
		t.Fatalf("SyncAudience(add 5) = %+v; want 4 sent, p4 rejected", res)
	}
	if r := res.Rejected[0].Reason; strings.Contains(r, "bad") || strings.Contains(r, "07700") {
		t.Errorf("reason %q carries PII", r)
	}
	got := f.members("23837492")
	for i := range people {
		if !got[key(i)] {
			t.Errorf("after add: %s not in the audience", people[i].member.ProfileID)
		}
	}
	if _, err := a.SyncAudience(ctx, destination.AudienceChange{ID: "full-1", Audience: "vip", Add: allPeople(), Full: true}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.members("23837492")); n != 4 {
		t.Errorf("after a Full page of the same members: %d; want 4", n)
	}
	res, err = a.SyncAudience(ctx, destination.AudienceChange{ID: "b2", Audience: "vip", Remove: []destination.Member{people[0].member}})
	if err != nil || res.Sent != 1 {
		t.Fatalf("SyncAudience(remove p1) = %+v, %v; want 1 sent", res, err)
	}
	got = f.members("23837492")
	if got[key(0)] || len(got) != 3 {
		t.Errorf("after remove: %d members, p1 in: %v; want 3, false", len(got), got[key(0)])
	}
	f.check()
}

func TestSyncBatchesInOneSession(t *testing.T) {
	f, srv := newFakeGraph(t)
	var add []destination.Member
	for i := range 23 {
		e := fmt.Sprintf("user%d@example.com", i)
		f.expect("EMAIL", e)
		add = append(add, destination.Member{ProfileID: fmt.Sprint("p", i), Identifiers: []profile.Identifier{{Type: "email", Value: e}}})
	}
	a := newAudience(t, f, srv.URL, 5)
	res, err := a.SyncAudience(context.Background(), destination.AudienceChange{ID: "b", Audience: "vip", Add: add})
	if err != nil || res.Sent != 23 {
		t.Fatalf("SyncAudience(23) = %+v, %v; want 23 sent", res, err)
	}
	if f.requests != 5 || len(f.sessions) != 1 {
		t.Errorf("requests = %d in %d sessions; want 5 batches (≤ 5 rows) of one session", f.requests, len(f.sessions))
	}
	for _, seq := range f.sessions {
		if seq != 5 {
			t.Errorf("last batch_seq = %d; want 5", seq)
		}
	}
	f.check()
}

func TestInvalidEntries(t *testing.T) {
	for _, sampledMode := range []bool{true, false} {
		t.Run(fmt.Sprintf("sampled=%v", sampledMode), func(t *testing.T) {
			f, srv := newFakeGraph(t)
			expectPeople(f)
			f.poison[hashOf("customer@example.com")] = "Invalid EMAIL format"
			f.unsampled = !sampledMode
			a := newAudience(t, f, srv.URL, 0)
			res, err := a.SyncAudience(context.Background(), destination.AudienceChange{ID: "b", Audience: "vip", Add: allPeople()})
			if err != nil {
				t.Fatal(err)
			}
			if res.Sent != 3 || len(res.Rejected) != 1 {
				t.Fatalf("SyncAudience = %+v; want 3 sent, 1 rejected", res)
			}
			wantID := "p2"
			if !sampledMode {
				wantID = ""
			}
			if res.Rejected[0].ProfileID != wantID {
				t.Errorf("rejected %+v; want profile %q", res.Rejected[0], wantID)
			}
			f.check()
		})
	}
}

func TestInvalidEntrySampleShapes(t *testing.T) {
	h := hashOf("customer@example.com")
	cases := []struct {
		name, raw string
		want      int
	}{
		{"object", `{"` + h + `":"Invalid EMAIL format"}`, 1},
		{"list", `["` + h + `"]`, 1},
		{"empty object", `{}`, 0},
		{"other shape", `17`, 0},
		{"absent", ``, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := answer{InvalidEntrySamples: json.RawMessage(c.raw)}.samples()
			if len(got) != c.want {
				t.Errorf("samples(%s) = %v; want %d", c.raw, got, c.want)
			}
		})
	}
}

func TestFailures(t *testing.T) {
	usage := `{"1234567890":[{"type":"custom_audience","call_count":100,"total_cputime":25,"total_time":25,"estimated_time_to_regain_access":3}]}`
	cases := []struct {
		name  string
		fail  fakeFailure
		after time.Duration
		kind  error
	}{
		{"429 Retry-After", fakeFailure{429, map[string]string{"Retry-After": "12"}, `{"error":{"message":"x","type":"OAuthException","code":4}}`}, 12 * time.Second, fault.ErrRetryable},
		{"80003 regain access", fakeFailure{400, map[string]string{"X-Business-Use-Case-Usage": usage}, `{"error":{"message":"too many calls","type":"OAuthException","code":80003,"error_subcode":2446079,"is_transient":true}}`}, 3 * time.Minute, fault.ErrRetryable},
		{"17 user limit", fakeFailure{400, nil, `{"error":{"code":17,"type":"OAuthException"}}`}, 0, fault.ErrRetryable},
		{"503", fakeFailure{503, map[string]string{"Retry-After": "Mon, 07 Dec 2026 10:00:30 GMT"}, `{"error":{"code":2,"is_transient":true}}`}, 30 * time.Second, fault.ErrRetryable},
		{"500 no body", fakeFailure{500, nil, ``}, 0, fault.ErrRetryable},
		{"190 token", fakeFailure{400, nil, `{"error":{"code":190,"type":"OAuthException"}}`}, 0, fault.ErrUnauthorized},
		{"200 permission", fakeFailure{403, nil, `{"error":{"code":200,"type":"OAuthException"}}`}, 0, fault.ErrForbidden},
		{"100 invalid", fakeFailure{400, nil, `{"error":{"code":100,"error_subcode":1713230,"type":"OAuthException"}}`}, 0, fault.ErrInvalid},
	}
	for _, c := range cases {
		for _, step := range []int{0, 1} { // the first or the second batch fails
			t.Run(fmt.Sprintf("%s/batch %d", c.name, step+1), func(t *testing.T) {
				f, srv := newFakeGraph(t)
				expectPeople(f)
				a := newAudience(t, f, srv.URL, 2)
				ch := destination.AudienceChange{ID: "b", Audience: "vip", Add: allPeople()}
				f.failAfter(step, c.fail)
				_, err := a.SyncAudience(context.Background(), ch)
				if !errors.Is(err, c.kind) {
					t.Fatalf("SyncAudience = %v; want kind %v", err, c.kind)
				}
				if retry := errors.Is(err, fault.ErrRetryable); retry != (c.kind == fault.ErrRetryable) {
					t.Errorf("errors.Is(err, ErrRetryable) = %v", retry)
				}
				if got, _ := destination.RetryAfter(err); got != c.after {
					t.Errorf("RetryAfter = %v; want %v", got, c.after)
				}
				if _, err := a.SyncAudience(context.Background(), ch); err != nil {
					t.Fatalf("retry: %v", err)
				}
				if n := len(f.members("23837492")); n != 4 {
					t.Errorf("after the retry: %d members; want 4", n)
				}
				f.check()
			})
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	tok := func(context.Context) (string, error) { return "t", nil }
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"token", Config{}, "token"},
		{"rows", Config{Token: tok, MaxRows: 10_001}, "max_rows"},
		{"audience id", Config{Token: tok, Audiences: map[string]string{"vip": "act_1"}}, "audiences.vip"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := New(nil, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, fault.ErrInvalid) {
				t.Errorf("New = %v; want ErrInvalid naming %s", err, c.want)
			}
		})
	}
	f, srv := newFakeGraph(t)
	a := newAudience(t, f, srv.URL, 0)
	if _, err := a.SyncAudience(context.Background(), destination.AudienceChange{Audience: "other", Add: allPeople()}); !errors.Is(err, fault.ErrInvalid) || f.requests != 0 {
		t.Errorf("SyncAudience(unmapped) = %v after %d requests; want ErrInvalid, none", err, f.requests)
	}
}

// TestDocumentedExamples holds the fake and the client to the documented
// shapes.
func TestDocumentedExamples(t *testing.T) {
	// The reference page's request: a form whose payload is the JSON of
	// schema and data.
	raw, err := os.ReadFile("testdata/users_request.txt")
	if err != nil {
		t.Fatal(err)
	}
	form, err := url.ParseQuery(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema []string `json:"schema"`
		Data   [][]any  `json:"data"`
	}
	if err := json.Unmarshal([]byte(form.Get("payload")), &doc); err != nil || len(doc.Schema) != 2 || len(doc.Data) != 4 {
		t.Fatalf("documented request: %v %+v", err, doc)
	}
	// The multi-key example goes through the fake.
	mk, err := os.ReadFile("testdata/multikey_request.json")
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Payload json.RawMessage `json:"payload"`
		Session json.RawMessage `json:"session"`
	}
	if err := json.Unmarshal(mk, &ex); err != nil {
		t.Fatal(err)
	}
	f, srv := newFakeGraph(t)
	for col, v := range map[string][]string{"EMAIL": {"customer@example.com"}, "PHONE": {"16505551212", "447700900123"}, "FN": {"john"}, "LN": {"doe"}, "ZIP": {"10011"}, "COUNTRY": {"us"}} {
		f.expect(col, v...)
	}
	mac := hmacHex(f.appSecret, f.token)
	body := url.Values{"payload": {string(ex.Payload)}, "session": {string(ex.Session)}, "access_token": {f.token}, "appsecret_proof": {mac}}
	resp, err := http.Post(srv.URL+"/v25.0/23837492/users", "application/x-www-form-urlencoded", strings.NewReader(body.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	var ans answer
	json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	f.check()
	// The fake answers in the documented shape.
	docAns, _ := os.ReadFile("testdata/users_response.json")
	var want answer
	if err := json.Unmarshal(docAns, &want); err != nil {
		t.Fatal(err)
	}
	if ans.NumReceived != want.NumReceived || ans.AudienceID != want.AudienceID || ans.SessionID != want.SessionID {
		t.Errorf("fake answer %+v; want the documented %+v", ans, want)
	}
	// The client's row for the documented multi-key person is the example's.
	a := newAudience(t, f, srv.URL, 0)
	cells, _ := a.cells(destination.Member{Identifiers: []profile.Identifier{{Type: "email", Value: "Customer@Example.com"}, {Type: "phone", Value: "+1 650 555 1212"}},
		Attributes: map[string]any{"first_name": "John", "last_name": "Doe", "postal_code": "10011", "country": "US"}})
	var exp struct {
		Payload struct {
			Schema []string   `json:"schema"`
			Data   [][]string `json:"data"`
		} `json:"payload"`
	}
	json.Unmarshal(mk, &exp)
	if strings.Join(exp.Payload.Schema, ",") != strings.Join(Schema, ",") || strings.Join(cells, ",") != strings.Join(exp.Payload.Data[0], ",") {
		t.Errorf("client row = %v; want the example's %v", cells, exp.Payload.Data[0])
	}
	// The documented rate-limit error is retryable after the header's wait.
	rl, _ := os.ReadFile("testdata/rate_limit_error.json")
	var rle struct {
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	}
	json.Unmarshal(rl, &rle)
	h := http.Header{}
	for k, v := range rle.Headers {
		h.Set(k, v)
	}
	err = a.failure("meta: test", &http.Response{StatusCode: 400, Header: h}, rle.Body)
	if d, _ := destination.RetryAfter(err); !errors.Is(err, fault.ErrRetryable) || d != 3*time.Minute {
		t.Errorf("failure(documented 80003) = %v, after %v; want retryable after 3m", err, d)
	}
}

func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}
