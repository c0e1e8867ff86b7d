package googleads

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

func TestNormalize(t *testing.T) {
	type fn func(string) (string, bool)
	cases := []struct {
		name string
		f    fn
		in   string
		want string
		ok   bool
	}{
		// The documented sample's values (add-customer-match-user-list).
		{"email/doc sample", NormalizeEmail, "customer@example.com", "customer@example.com", true},
		{"email/trim and lower", NormalizeEmail, "  Ann.Lee@Example.COM\t", "ann.lee@example.com", true},
		{"email/gmail dots kept (not required to remove)", NormalizeEmail, "Jo.Hn@Gmail.com", "jo.hn@gmail.com", true},
		{"email/no at", NormalizeEmail, "customer.example.com", "", false},
		{"email/two ats", NormalizeEmail, "a@b@example.com", "", false},
		// E.164 examples of the reference and of the Google Ads API team.
		{"phone/doc E.164", NormalizePhone, "+16502531234", "+16502531234", true},
		{"phone/doc UK", NormalizePhone, "+442070313000", "+442070313000", true},
		{"phone/punctuation removed", NormalizePhone, "+1 (212) 565-0000", "+12125650000", true},
		{"phone/no country code", NormalizePhone, "6502531234", "", false},
		{"phone/too long", NormalizePhone, "+1234567890123456", "", false},
		{"first/doc sample", NormalizeFirstName, "John", "john", true},
		{"first/extra spaces", NormalizeFirstName, "  Mary   Ann ", "mary ann", true},
		{"first/empty", NormalizeFirstName, "  ", "", false},
		{"last/doc sample", NormalizeLastName, "Doe", "doe", true},
		{"last/no punctuation", NormalizeLastName, "O'Neil-Smith", "oneilsmith", true},
		{"last/accents kept", NormalizeLastName, "Pérez.", "pérez", true},
		{"country/doc sample", NormalizeCountryCode, "US", "US", true},
		{"country/lower", NormalizeCountryCode, " gb ", "GB", true},
		{"country/alpha-3", NormalizeCountryCode, "USA", "", false},
		{"postal/doc sample", NormalizePostalCode, "10011", "10011", true},
		{"postal/empty", NormalizePostalCode, " ", "", false},
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

// people is the table of raw inputs and, written by hand, the
// normalised values Google must receive hashed.
var people = []struct {
	member destination.Member
	want   []string // normalised values whose hashes are sent
}{
	{destination.Member{ProfileID: "p1", Identifiers: []profile.Identifier{{Type: "email", Value: " Ann.Lee@Example.COM "}, {Type: "phone", Value: "+44 7700 900123"}, {Type: "customer_id", Value: "C1"}}},
		[]string{"ann.lee@example.com", "+447700900123"}},
	{destination.Member{ProfileID: "p2", Identifiers: []profile.Identifier{{Type: "email", Value: "customer@example.com"}},
		Attributes: map[string]any{"first_name": " John ", "last_name": "Doe", "country": "us", "postal_code": "10011"}},
		[]string{"customer@example.com", "john", "doe"}},
	{destination.Member{ProfileID: "p3", Identifiers: []profile.Identifier{{Type: "phone", Value: "+16502531234"}}},
		[]string{"+16502531234"}},
	{destination.Member{ProfileID: "p5", Attributes: map[string]any{"first_name": "Mary  Ann", "last_name": "O'Neil-Smith", "country": "IE", "postal_code": "D02 X285"}},
		[]string{"mary ann", "oneilsmith"}},
}

// unusable has nothing Customer Match takes.
var unusable = destination.Member{ProfileID: "p4", Identifiers: []profile.Identifier{{Type: "email", Value: "not-an-email"}, {Type: "phone", Value: "07700900123"}},
	Attributes: map[string]any{"first_name": "Zoe"}}

func newAudience(t testing.TB, f *fakeAds, url string, max int) *Audience {
	t.Helper()
	f.maxIDs = MaxIdentifiersPerRequest
	if max > 0 {
		f.maxIDs = max
	}
	a, err := New(&http.Client{Timeout: 10 * time.Second}, Config{
		BaseURL: url, CustomerID: "123-456-7890", LoginCustomerID: "987-654-3210", DeveloperToken: f.devToken,
		Token:          func(context.Context) (string, error) { return f.token, nil },
		UserLists:      map[string]string{"vip": "555", "lapsed": "customers/1234567890/userLists/556"},
		MaxIdentifiers: max,
		Now:            func() time.Time { return time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func expectPeople(f *fakeAds) {
	for _, p := range people {
		f.expect(p.want...)
	}
}

func keysOf(p int) []string {
	w := people[p].want
	switch people[p].member.ProfileID {
	case "p2":
		return []string{hashOf(w[0]), hashOf(w[1]) + hashOf(w[2]) + "US" + "10011"}
	case "p5":
		return []string{hashOf(w[0]) + hashOf(w[1]) + "IE" + "D02 X285"}
	}
	var out []string
	for _, v := range w {
		out = append(out, hashOf(v))
	}
	return out
}

func TestSyncAddsAndRemoves(t *testing.T) {
	f, srv := newFakeAds(t)
	expectPeople(f)
	a := newAudience(t, f, srv.URL, 0)
	ctx := context.Background()
	var add []destination.Member
	for _, p := range people {
		add = append(add, p.member)
	}
	add = append(add, unusable)
	res, err := a.SyncAudience(ctx, destination.AudienceChange{ID: "b1", Audience: "vip", Add: add})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 4 || len(res.Rejected) != 1 || res.Rejected[0].ProfileID != "p4" {
		t.Fatalf("SyncAudience(add 5) = %+v; want 4 sent, p4 rejected", res)
	}
	if strings.Contains(res.Rejected[0].Reason, "Zoe") || strings.Contains(res.Rejected[0].Reason, "not-an-email") {
		t.Errorf("rejection reason %q carries PII", res.Rejected[0].Reason)
	}
	list := "customers/1234567890/userLists/555"
	members := f.members(list)
	for i := range people {
		for _, k := range keysOf(i) {
			if !members[k] {
				t.Errorf("after add: %s identifier %s… not on the list", people[i].member.ProfileID, k[:8])
			}
		}
	}
	// Again (a retry after a crash, or a Full page): the same state.
	if _, err := a.SyncAudience(ctx, destination.AudienceChange{ID: "b1", Audience: "vip", Add: add, Full: true}); err != nil {
		t.Fatal(err)
	}
	if got := f.members(list); len(got) != len(members) {
		t.Errorf("after the same change twice: %d identifiers; want %d", len(got), len(members))
	}
	res, err = a.SyncAudience(ctx, destination.AudienceChange{ID: "b2", Audience: "vip", Remove: []destination.Member{people[0].member}})
	if err != nil || res.Sent != 1 {
		t.Fatalf("SyncAudience(remove p1) = %+v, %v; want 1 sent", res, err)
	}
	after := f.members(list)
	for _, k := range keysOf(0) {
		if after[k] {
			t.Errorf("after remove: p1 identifier %s… still on the list", k[:8])
		}
	}
	if len(after) != len(members)-len(keysOf(0)) {
		t.Errorf("after remove: %d identifiers; want %d", len(after), len(members)-len(keysOf(0)))
	}
	f.check()
}

func TestSyncBatchesToTheLimit(t *testing.T) {
	f, srv := newFakeAds(t)
	var add []destination.Member
	for i := range 25 {
		e := fmt.Sprintf("user%d@example.com", i)
		f.expect(e, fmt.Sprintf("+3361234%04d", i))
		add = append(add, destination.Member{ProfileID: fmt.Sprint("p", i), Identifiers: []profile.Identifier{{Type: "email", Value: e}, {Type: "phone", Value: fmt.Sprintf("+3361234%04d", i)}}})
	}
	a := newAudience(t, f, srv.URL, 7) // 3 members (6 identifiers) per request
	res, err := a.SyncAudience(context.Background(), destination.AudienceChange{ID: "b", Audience: "vip", Add: add})
	if err != nil || res.Sent != 25 {
		t.Fatalf("SyncAudience(25) = %+v, %v; want 25 sent", res, err)
	}
	// create + ceil(25/3)=9 addOperations + run
	if f.requests != 11 {
		t.Errorf("requests = %d; want 11 (create, 9 addOperations of ≤ 7 identifiers, run)", f.requests)
	}
	if n := len(f.members("customers/1234567890/userLists/555")); n != 50 {
		t.Errorf("list holds %d identifiers; want 50", n)
	}
	f.check()
}

func TestPartialFailure(t *testing.T) {
	f, srv := newFakeAds(t)
	expectPeople(f)
	f.poison[hashOf("customer@example.com")] = true
	a := newAudience(t, f, srv.URL, 0)
	var add []destination.Member
	for _, p := range people {
		add = append(add, p.member)
	}
	res, err := a.SyncAudience(context.Background(), destination.AudienceChange{ID: "b", Audience: "vip", Add: add})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 3 || len(res.Rejected) != 1 || res.Rejected[0].ProfileID != "p2" {
		t.Fatalf("SyncAudience = %+v; want 3 sent, p2 rejected", res)
	}
	if want := "offlineUserDataJobError.INVALID_SHA256_FORMAT"; res.Rejected[0].Reason != want {
		t.Errorf("reason = %q; want %q", res.Rejected[0].Reason, want)
	}
	f.check()
}

func TestFailures(t *testing.T) {
	cases := []struct {
		name      string
		fail      fakeFailure
		retryable bool
		after     time.Duration
		kind      error
	}{
		{"429 Retry-After seconds", fakeFailure{429, "7", `{"error":{"code":8,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure","errors":[{"errorCode":{"quotaError":"RESOURCE_EXHAUSTED"}}]}]}}`}, true, 7 * time.Second, fault.ErrRetryable},
		{"429 RetryInfo", fakeFailure{429, "", `{"error":{"code":8,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"30s"}]}}`}, true, 30 * time.Second, fault.ErrRetryable},
		{"503 Retry-After date", fakeFailure{503, "Mon, 07 Dec 2026 10:01:00 GMT", `{"error":{"code":14,"status":"UNAVAILABLE"}}`}, true, time.Minute, fault.ErrRetryable},
		{"500 no wait", fakeFailure{500, "", `{"error":{"code":13,"status":"INTERNAL"}}`}, true, 0, fault.ErrRetryable},
		{"401", fakeFailure{401, "", `{"error":{"code":16,"status":"UNAUTHENTICATED"}}`}, false, 0, fault.ErrUnauthorized},
		{"403", fakeFailure{403, "", `{"error":{"code":7,"status":"PERMISSION_DENIED"}}`}, false, 0, fault.ErrForbidden},
		{"400", fakeFailure{400, "", `{"error":{"code":3,"status":"INVALID_ARGUMENT"}}`}, false, 0, fault.ErrInvalid},
	}
	for _, c := range cases {
		for _, step := range []int{0, 1, 2} { // fail on create, addOperations, run
			t.Run(fmt.Sprintf("%s/call %d", c.name, step), func(t *testing.T) {
				f, srv := newFakeAds(t)
				expectPeople(f)
				a := newAudience(t, f, srv.URL, 0)
				ch := destination.AudienceChange{ID: "b", Audience: "vip", Add: []destination.Member{people[0].member}}
				f.failAfter(step, c.fail)
				_, err := a.SyncAudience(context.Background(), ch)
				if err == nil {
					t.Fatal("SyncAudience = nil error; want one")
				}
				if got := errors.Is(err, fault.ErrRetryable); got != c.retryable {
					t.Errorf("errors.Is(%v, ErrRetryable) = %v; want %v", err, got, c.retryable)
				}
				if !errors.Is(err, c.kind) {
					t.Errorf("err = %v; want kind %v", err, c.kind)
				}
				if got, _ := destination.RetryAfter(err); got != c.after {
					t.Errorf("RetryAfter(err) = %v; want %v", got, c.after)
				}
				// The retry succeeds and leaves the list as one clean run.
				if _, err := a.SyncAudience(context.Background(), ch); err != nil {
					t.Fatalf("retry: %v", err)
				}
				if n := len(f.members("customers/1234567890/userLists/555")); n != 2 {
					t.Errorf("after the retry the list holds %d identifiers; want 2", n)
				}
				f.check()
			})
		}
	}
}

func TestDeclareConsent(t *testing.T) {
	for _, declare := range []bool{false, true} {
		t.Run(fmt.Sprint(declare), func(t *testing.T) {
			f, srv := newFakeAds(t)
			expectPeople(f)
			a := newAudience(t, f, srv.URL, 0)
			a.cfg.DeclareConsent = declare
			if _, err := a.SyncAudience(context.Background(), destination.AudienceChange{ID: "b", Audience: "vip", Add: []destination.Member{people[0].member}}); err != nil {
				t.Fatal(err)
			}
			if got := f.consented == 1; got != declare {
				t.Errorf("jobs declaring consent = %d; want declared %v", f.consented, declare)
			}
			f.check()
		})
	}
}

func TestUnmappedSegment(t *testing.T) {
	f, srv := newFakeAds(t)
	a := newAudience(t, f, srv.URL, 0)
	_, err := a.SyncAudience(context.Background(), destination.AudienceChange{ID: "b", Audience: "nope", Add: []destination.Member{people[0].member}})
	if !errors.Is(err, fault.ErrInvalid) || f.requests != 0 {
		t.Errorf("SyncAudience(unmapped) = %v after %d requests; want ErrInvalid, none sent", err, f.requests)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	tok := func(context.Context) (string, error) { return "t", nil }
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"customer id", Config{CustomerID: "12", DeveloperToken: "d", Token: tok}, "customer_id"},
		{"developer token", Config{CustomerID: "1234567890", Token: tok}, "developer_token"},
		{"token", Config{CustomerID: "1234567890", DeveloperToken: "d"}, "token"},
		{"limit", Config{CustomerID: "1234567890", DeveloperToken: "d", Token: tok, MaxIdentifiers: 100_001}, "max_identifiers"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(nil, c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, fault.ErrInvalid) {
				t.Errorf("New(%s) = %v; want an ErrInvalid naming %s", c.name, err, c.want)
			}
		})
	}
}

// TestDocumentedExamples holds the fake to the documented shapes: it must
// accept the documented requests and the client must read the
// documented partial failure.
func TestDocumentedExamples(t *testing.T) {
	f, srv := newFakeAds(t)
	f.expect("customer@example.com", "+16502531234", "john", "doe")
	for _, name := range []string{"create.json", "addOperations.json"} {
		body, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		path := "/v26/customers/1234567890/offlineUserDataJobs:create"
		if name == "addOperations.json" {
			path = "/v26/customers/1234567890/offlineUserDataJobs/1000:addOperations"
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+f.token)
		req.Header.Set("developer-token", f.devToken)
		req.Header.Set("login-customer-id", f.login)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", name, resp.StatusCode)
		}
	}
	f.check()
	raw, err := os.ReadFile("testdata/partialFailure.json")
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		PartialFailureError *status `json:"partialFailureError"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	got := out.PartialFailureError.byOperation()
	if len(got) != 1 || got[0] != "offlineUserDataJobError.INVALID_SHA256_FORMAT" {
		t.Errorf("byOperation(documented partial failure) = %v; want operation 0 INVALID_SHA256_FORMAT", got)
	}
	// The client's own request for the documented sample is the documented one.
	a := newAudience(t, f, srv.URL, 0)
	ops := []map[string]userData{}
	for _, m := range []destination.Member{
		{ProfileID: "a", Identifiers: []profile.Identifier{{Type: "email", Value: "customer@example.com"}, {Type: "phone", Value: "+16502531234"}}},
		{ProfileID: "b", Attributes: map[string]any{"first_name": "John", "last_name": "Doe", "country": "US", "postal_code": "10011"}},
	} {
		ops = append(ops, map[string]userData{"create": {UserIdentifiers: a.identifiers(m)}})
	}
	mine, _ := json.Marshal(map[string]any{"enablePartialFailure": true, "operations": ops})
	doc, _ := os.ReadFile("testdata/addOperations.json")
	if !sameJSON(t, mine, doc) {
		t.Errorf("client request for the documented sample =\n%s\nwant testdata/addOperations.json", mine)
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		t.Fatal("bad JSON")
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}
