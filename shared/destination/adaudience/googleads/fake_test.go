package googleads

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// fakeAds is the Google Ads API as its documentation describes it, for
// the OfflineUserDataJobService calls Customer Match uses. It checks
// every request (path, method, headers, body schema, limits, and that
// every hash is the SHA-256 of a normalised value the test registered)
// and keeps each user list's members as Google would after the job runs.
type fakeAds struct {
	t        testing.TB
	customer string
	token    string
	devToken string
	login    string
	maxIDs   int // the client's configured bound, checked as well as 100,000

	mu        sync.Mutex
	known     map[string]bool // hashes of normalised values the test expects
	poison    map[string]bool // hashes answered with a partial failure
	jobs      map[string]*fakeJob
	lists     map[string]map[string]bool // user list → identifier key → member
	fail      map[int]fakeFailure        // request number → answer to give instead
	requests  int
	bytes     int64
	consented int // jobs created declaring consent
	errs      []string
}

type fakeJob struct {
	list string
	ops  []map[string]wireUserData
	ran  bool
}

type fakeFailure struct {
	status     int
	retryAfter string
	body       string
}

func newFakeAds(t testing.TB) (*fakeAds, *httptest.Server) {
	f := &fakeAds{t: t, customer: "1234567890", token: "ya29.test-token", devToken: "dev-token-1", login: "9876543210",
		maxIDs: MaxIdentifiersPerRequest, known: map[string]bool{}, poison: map[string]bool{}, jobs: map[string]*fakeJob{}, lists: map[string]map[string]bool{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// expect registers normalised values (written by hand in the tests) whose
// hashes may arrive.
func (f *fakeAds) expect(values ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, v := range values {
		f.known[hashOf(v)] = true
	}
}

// failAfter answers x instead of the call after the next n.
func (f *fakeAds) failAfter(n int, x fakeFailure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail == nil {
		f.fail = map[int]fakeFailure{}
	}
	f.fail[f.requests+n+1] = x
}

func (f *fakeAds) errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

// check fails the test with every contract violation seen.
func (f *fakeAds) check() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.errs {
		f.t.Error("contract: " + e)
	}
}

var (
	createPath = regexp.MustCompile(`^/v[0-9]+/customers/([0-9]{10})/offlineUserDataJobs:create$`)
	jobPath    = regexp.MustCompile(`^/v[0-9]+/(customers/[0-9]{10}/offlineUserDataJobs/[0-9]+):(addOperations|run)$`)
	listName   = regexp.MustCompile(`^customers/([0-9]{10})/userLists/[0-9]+$`)
	hexHash    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func (f *fakeAds) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	f.bytes += int64(len(body))
	if r.Method != http.MethodPost {
		f.errorf("%s %s: every OfflineUserDataJobService REST call is a POST", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+f.token {
		f.errorf("%s: Authorization = %q; want Bearer token", r.URL.Path, got)
		writeError(w, http.StatusUnauthorized, 16, `{"authenticationError":"OAUTH_TOKEN_INVALID"}`)
		return
	}
	if got := r.Header.Get("developer-token"); got != f.devToken {
		f.errorf("%s: developer-token = %q", r.URL.Path, got)
	}
	if got := r.Header.Get("login-customer-id"); got != f.login {
		f.errorf("%s: login-customer-id = %q; want %q", r.URL.Path, got, f.login)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		f.errorf("%s: Content-Type = %q", r.URL.Path, ct)
	}
	if x, ok := f.fail[f.requests]; ok {
		delete(f.fail, f.requests)
		if x.retryAfter != "" {
			w.Header().Set("Retry-After", x.retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(x.status)
		io.WriteString(w, x.body)
		return
	}
	if m := createPath.FindStringSubmatch(r.URL.Path); m != nil {
		f.create(w, m[1], body)
		return
	}
	m := jobPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		f.errorf("unknown path %s", r.URL.Path)
		http.NotFound(w, r)
		return
	}
	job := f.jobs[m[1]]
	if job == nil {
		f.errorf("%s: no such job", r.URL.Path)
		writeError(w, http.StatusNotFound, 5, `{"requestError":"RESOURCE_NAME_MALFORMED"}`)
		return
	}
	if job.ran {
		f.errorf("%s: job already ran", r.URL.Path)
		writeError(w, http.StatusBadRequest, 3, `{"offlineUserDataJobError":"INVALID_JOB_STATUS"}`)
		return
	}
	if m[2] == "run" {
		f.run(w, m[1], job)
		return
	}
	f.addOperations(w, job, body)
}

func (f *fakeAds) create(w http.ResponseWriter, customer string, body []byte) {
	var req struct {
		Job struct {
			Type     string `json:"type"`
			Metadata struct {
				UserList string `json:"userList"`
				Consent  *struct {
					AdUserData        string `json:"adUserData"`
					AdPersonalization string `json:"adPersonalization"`
				} `json:"consent"`
			} `json:"customerMatchUserListMetadata"`
		} `json:"job"`
	}
	if err := strictJSON(body, &req); err != nil {
		f.errorf("create: %v", err)
	}
	if customer != f.customer {
		f.errorf("create: customer %s; want %s", customer, f.customer)
	}
	if req.Job.Type != "CUSTOMER_MATCH_USER_LIST" {
		f.errorf("create: job.type = %q; want CUSTOMER_MATCH_USER_LIST", req.Job.Type)
	}
	if m := listName.FindStringSubmatch(req.Job.Metadata.UserList); m == nil || m[1] != customer {
		f.errorf("create: userList = %q; want customers/%s/userLists/{id}", req.Job.Metadata.UserList, customer)
	}
	if c := req.Job.Metadata.Consent; c != nil {
		for _, v := range []string{c.AdUserData, c.AdPersonalization} {
			if v != "GRANTED" && v != "DENIED" && v != "UNSPECIFIED" && v != "UNKNOWN" {
				f.errorf("create: consent value %q is not a ConsentStatus", v)
			}
		}
		f.consented++
	}
	name := fmt.Sprintf("customers/%s/offlineUserDataJobs/%d", customer, 1000+len(f.jobs))
	f.jobs[name] = &fakeJob{list: req.Job.Metadata.UserList}
	json.NewEncoder(w).Encode(map[string]string{"resourceName": name})
}

func (f *fakeAds) addOperations(w http.ResponseWriter, job *fakeJob, body []byte) {
	var req struct {
		EnablePartialFailure bool                      `json:"enablePartialFailure"`
		Operations           []map[string]wireUserData `json:"operations"`
	}
	if err := strictJSON(body, &req); err != nil {
		f.errorf("addOperations: %v", err)
	}
	if !req.EnablePartialFailure {
		f.errorf("addOperations: enablePartialFailure not set")
	}
	if len(req.Operations) == 0 {
		f.errorf("addOperations: no operations")
	}
	ids := 0
	type failure struct {
		index int
		code  string
	}
	var failed []failure
	for i, op := range req.Operations {
		if len(op) != 1 {
			f.errorf("operations[%d]: want exactly one of create, remove", i)
		}
		for kind, ud := range op {
			if kind != "create" && kind != "remove" {
				f.errorf("operations[%d]: unknown operation %q", i, kind)
			}
			if n := len(ud.UserIdentifiers); n == 0 || n > MaxIdentifiersPerUser {
				f.errorf("operations[%d]: %d userIdentifiers; want 1..20", i, n)
			}
			ids += len(ud.UserIdentifiers)
			for j, u := range ud.UserIdentifiers {
				for _, h := range f.checkIdentifier(fmt.Sprintf("operations[%d].userIdentifiers[%d]", i, j), u) {
					if f.poison[h] {
						failed = append(failed, failure{i, "INVALID_SHA256_FORMAT"})
					}
				}
			}
		}
	}
	if ids > MaxIdentifiersPerRequest {
		f.errorf("addOperations: %d identifiers; the limit is 100,000 per request", ids)
	}
	if ids > f.maxIDs {
		f.errorf("addOperations: %d identifiers; the client was configured for %d", ids, f.maxIDs)
	}
	resp := map[string]any{}
	for i, op := range req.Operations {
		if !slicesContains(failed, func(x failure) bool { return x.index == i }) {
			job.ops = append(job.ops, op)
		}
	}
	if len(failed) > 0 {
		var tmpl struct {
			PartialFailureError json.RawMessage `json:"partialFailureError"`
		}
		// The documented shape (testdata/partialFailure.json), one error per failed operation.
		errs := make([]string, 0, len(failed))
		for _, x := range failed {
			errs = append(errs, fmt.Sprintf(`{"errorCode":{"offlineUserDataJobError":%q},"message":"The SHA256 encoded value is malformed.","location":{"fieldPathElements":[{"fieldName":"operations","index":%d},{"fieldName":"create"},{"fieldName":"user_identifiers","index":0}]}}`, x.code, x.index))
		}
		tmpl.PartialFailureError = json.RawMessage(`{"code":3,"message":"Multiple errors in 'details'.","details":[{"@type":"type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure","errors":[` + strings.Join(errs, ",") + `]}]}`)
		json.NewEncoder(w).Encode(tmpl)
		return
	}
	json.NewEncoder(w).Encode(resp)
}

// checkIdentifier checks one UserIdentifier and returns its hashes.
func (f *fakeAds) checkIdentifier(at string, u wireIdentifier) []string {
	set := 0
	var hashes []string
	if u.HashedEmail != "" {
		set++
		hashes = append(hashes, f.checkHash(at+".hashedEmail", u.HashedEmail))
	}
	if u.HashedPhoneNumber != "" {
		set++
		hashes = append(hashes, f.checkHash(at+".hashedPhoneNumber", u.HashedPhoneNumber))
	}
	if a := u.AddressInfo; a != nil {
		set++
		hashes = append(hashes, f.checkHash(at+".addressInfo.hashedFirstName", a.HashedFirstName), f.checkHash(at+".addressInfo.hashedLastName", a.HashedLastName))
		if !regexp.MustCompile(`^[A-Z]{2}$`).MatchString(a.CountryCode) {
			f.errorf("%s.addressInfo.countryCode = %q; want ISO 3166-1 alpha-2, not hashed", at, a.CountryCode)
		}
		if a.PostalCode == "" || hexHash.MatchString(a.PostalCode) {
			f.errorf("%s.addressInfo.postalCode = %q; want the code in clear", at, a.PostalCode)
		}
	}
	if set != 1 {
		f.errorf("%s: %d identifier fields set; the oneof takes exactly one", at, set)
	}
	return hashes
}

func (f *fakeAds) checkHash(at, h string) string {
	if !hexHash.MatchString(h) {
		f.errorf("%s = %q: want 64 lower-case hex digits (SHA-256)", at, h)
	} else if !f.known[h] {
		f.errorf("%s: hash of no expected normalised value", at)
	}
	return h
}

func (f *fakeAds) run(w http.ResponseWriter, name string, job *fakeJob) {
	job.ran = true
	list := f.lists[job.list]
	if list == nil {
		list = map[string]bool{}
		f.lists[job.list] = list
	}
	for _, op := range job.ops {
		for kind, ud := range op {
			for _, u := range ud.UserIdentifiers {
				key := u.HashedEmail + u.HashedPhoneNumber
				if u.AddressInfo != nil {
					key = u.AddressInfo.HashedFirstName + u.AddressInfo.HashedLastName + u.AddressInfo.CountryCode + u.AddressInfo.PostalCode
				}
				if kind == "create" {
					list[key] = true
				} else {
					delete(list, key)
				}
			}
		}
	}
	json.NewEncoder(w).Encode(map[string]string{"name": strings.Replace(name, "offlineUserDataJobs", "operations", 1)})
}

// members returns the identifier keys on a user list.
func (f *fakeAds) members(list string) map[string]bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]bool{}
	for k := range f.lists[list] {
		out[k] = true
	}
	return out
}

// The wire types as the REST reference spells them (independent of the
// client's own).
type wireUserData struct {
	UserIdentifiers []wireIdentifier `json:"userIdentifiers"`
}

type wireIdentifier struct {
	HashedEmail       string `json:"hashedEmail"`
	HashedPhoneNumber string `json:"hashedPhoneNumber"`
	AddressInfo       *struct {
		HashedFirstName string `json:"hashedFirstName"`
		HashedLastName  string `json:"hashedLastName"`
		CountryCode     string `json:"countryCode"`
		PostalCode      string `json:"postalCode"`
	} `json:"addressInfo"`
}

func writeError(w http.ResponseWriter, code, grpc int, errorCode string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"error":{"code":%d,"message":"Request contains an invalid argument.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure","errors":[{"errorCode":%s,"message":"x"}]}]}}`, grpc, errorCode)
}

// strictJSON decodes refusing unknown fields (a misspelt field is a
// silently ignored one at Google).
func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

func slicesContains[T any](s []T, f func(T) bool) bool {
	for _, x := range s {
		if f(x) {
			return true
		}
	}
	return false
}
