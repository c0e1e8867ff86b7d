package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// fakeGraph is the Marketing API's /{custom_audience_id}/users edge as its
// documentation describes it. It checks every request (method, path,
// access token and appsecret_proof, form fields, schema, row shape, that
// every cell is blank or the SHA-256 of a value the test registered for
// that column, the 10,000-row limit, the session fields) and keeps each
// audience's members as Meta would.
type fakeGraph struct {
	t         testing.TB
	token     string
	appSecret string
	maxRows   int

	mu        sync.Mutex
	known     map[string]map[string]bool // column → hashes expected
	poison    map[string]string          // hash → invalid-entry reason
	unsampled bool                       // count poisoned rows without sampling them
	audiences map[string]map[string]bool // audience → member key
	sessions  map[string]int             // session id → last batch_seq
	fail      map[int]fakeFailure
	requests  int
	bytes     int64
	rows      int
	errs      []string
}

type fakeFailure struct {
	status  int
	headers map[string]string
	body    string
}

func newFakeGraph(t testing.TB) (*fakeGraph, *httptest.Server) {
	f := &fakeGraph{t: t, token: "EAAB-test-token", appSecret: "app-secret", maxRows: MaxRowsPerRequest,
		known: map[string]map[string]bool{}, poison: map[string]string{}, audiences: map[string]map[string]bool{}, sessions: map[string]int{}, fail: map[int]fakeFailure{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// expect registers normalised values (written by hand in the tests) that
// may arrive hashed in column col.
func (f *fakeGraph) expect(col string, values ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.known[col] == nil {
		f.known[col] = map[string]bool{}
	}
	for _, v := range values {
		f.known[col][hashOf(v)] = true
	}
}

func (f *fakeGraph) failAfter(n int, x fakeFailure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[f.requests+n+1] = x
}

func (f *fakeGraph) errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

func (f *fakeGraph) check() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.errs {
		f.t.Error("contract: " + e)
	}
}

var (
	usersPath = regexp.MustCompile(`^/v[0-9]+\.[0-9]+/([0-9]+)/users$`)
	hexHash   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	// The documented multi-key types.
	documentedKeys = map[string]bool{"EXTERN_ID": true, "EMAIL": true, "PHONE": true, "GEN": true, "DOBY": true, "DOBM": true, "DOBD": true,
		"LN": true, "FN": true, "FI": true, "CT": true, "ST": true, "ZIP": true, "MADID": true, "COUNTRY": true}
)

func (f *fakeGraph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	f.bytes += int64(len(body))
	w.Header().Set("Content-Type", "application/json")
	if x, ok := f.fail[f.requests]; ok {
		delete(f.fail, f.requests)
		for k, v := range x.headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(x.status)
		io.WriteString(w, x.body)
		return
	}
	m := usersPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		f.errorf("unknown path %s", r.URL.Path)
		graphErr(w, 400, 100, "Unknown path components")
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodDelete {
		f.errorf("%s %s: the users edge takes POST (add) and DELETE (remove)", r.Method, r.URL.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		f.errorf("Content-Type = %q; want a form", ct)
	}
	if r.URL.RawQuery != "" {
		f.errorf("query %q: the token and payload belong in the body", r.URL.RawQuery)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		f.errorf("body is not a form: %v", err)
	}
	if form.Get("access_token") != f.token {
		graphErr(w, 400, 190, "Invalid OAuth access token.")
		f.errorf("access_token missing or wrong")
		return
	}
	mac := hmac.New(sha256.New, []byte(f.appSecret))
	mac.Write([]byte(f.token))
	if form.Get("appsecret_proof") != hex.EncodeToString(mac.Sum(nil)) {
		f.errorf("appsecret_proof = %q; want HMAC-SHA256(app secret, token)", form.Get("appsecret_proof"))
	}
	for k := range form {
		if k != "payload" && k != "session" && k != "access_token" && k != "appsecret_proof" {
			f.errorf("unexpected form field %q", k)
		}
	}
	var p struct {
		Schema []string   `json:"schema"`
		Data   [][]string `json:"data"`
	}
	if err := strict(form.Get("payload"), &p); err != nil {
		f.errorf("payload: %v", err)
	}
	var s struct {
		SessionID         int64 `json:"session_id"`
		BatchSeq          int   `json:"batch_seq"`
		LastBatchFlag     bool  `json:"last_batch_flag"`
		EstimatedNumTotal int   `json:"estimated_num_total"`
	}
	if err := strict(form.Get("session"), &s); err != nil {
		f.errorf("session: %v", err)
	}
	f.checkSession(s.SessionID, s.BatchSeq, s.EstimatedNumTotal, len(p.Data))
	cols := map[string]int{}
	for i, k := range p.Schema {
		if !documentedKeys[k] {
			f.errorf("schema[%d] = %q: not a documented key", i, k)
		}
		if _, dup := cols[k]; dup {
			f.errorf("schema: %s twice", k)
		}
		cols[k] = i
	}
	if len(p.Data) == 0 || len(p.Data) > MaxRowsPerRequest || len(p.Data) > f.maxRows {
		f.errorf("%d rows; want 1..10,000 (client bound %d)", len(p.Data), f.maxRows)
	}
	f.rows += len(p.Data)
	aud := f.audiences[m[1]]
	if aud == nil {
		aud = map[string]bool{}
		f.audiences[m[1]] = aud
	}
	invalid, samples := 0, map[string]string{}
	for i, row := range p.Data {
		if len(row) != len(p.Schema) {
			f.errorf("data[%d]: %d cells for %d keys", i, len(row), len(p.Schema))
			continue
		}
		bad := false
		for j, c := range row {
			if c == "" {
				continue
			}
			if !hexHash.MatchString(c) {
				f.errorf("data[%d][%d] (%s): not a lower-case hex SHA-256", i, j, p.Schema[j])
			} else if !f.known[p.Schema[j]][c] {
				f.errorf("data[%d][%d] (%s): hash of no expected normalised value", i, j, p.Schema[j])
			}
			if reason, ok := f.poison[c]; ok {
				bad = true
				if !f.unsampled {
					samples[c] = reason
				}
			}
		}
		if bad {
			invalid++
			continue
		}
		key := row[cols["EMAIL"]] + "|" + row[cols["PHONE"]] + "|" + row[cols["FN"]] + row[cols["LN"]] + row[cols["ZIP"]]
		if r.Method == http.MethodDelete {
			delete(aud, key)
		} else {
			aud[key] = true
		}
	}
	json.NewEncoder(w).Encode(map[string]any{"audience_id": m[1], "session_id": fmt.Sprint(s.SessionID),
		"num_received": len(p.Data), "num_invalid_entries": invalid, "invalid_entry_samples": samples})
}

// checkSession holds the batches of a session to the documented fields:
// a positive id, batch_seq counting from 1 (a session sent again after a
// failure restarts at 1), last_batch_flag on the last.
func (f *fakeGraph) checkSession(id int64, seq, total, rows int) {
	key := fmt.Sprint(id)
	if id <= 0 {
		f.errorf("session_id = %d; want a positive number", id)
	}
	if prev := f.sessions[key]; seq != 1 && seq != prev+1 {
		f.errorf("session %s: batch_seq %d after %d", key, seq, prev)
	}
	f.sessions[key] = seq
	if total < rows {
		f.errorf("session %s: estimated_num_total %d below the %d rows of one batch", key, total, rows)
	}
}

func (f *fakeGraph) members(audience string) map[string]bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]bool{}
	for k := range f.audiences[audience] {
		out[k] = true
	}
	return out
}

func graphErr(w http.ResponseWriter, status, code int, msg string) {
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"message":%q,"type":"OAuthException","code":%d,"fbtrace_id":"A1"}}`, msg, code)
}

func strict(s string, v any) error {
	d := json.NewDecoder(strings.NewReader(s))
	d.DisallowUnknownFields()
	return d.Decode(v)
}
