package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/http/api"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

const (
	writeKey = "dev-write-key"
	readKey  = "dev-read-key"
)

// now is the fake clock's time: the server's receivedAt.
var now = time.Date(2025, 11, 29, 12, 0, 0, 0, time.UTC)

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// testConfig is a small aurum.yaml: one api source "web" mapping the
// Segment fields, one file source that must not take write keys.
func testConfig() *config.Config {
	return &config.Config{
		Version: 1,
		Identifiers: []config.IdentifierType{
			{Name: "customer_id", Normalizer: "id"},
			{Name: "anonymous_id", Normalizer: "id"},
			{Name: "email", Normalizer: "email"},
			{Name: "phone", Normalizer: "phone"},
		},
		Sources: []config.Source{
			{
				Name:      "web",
				Kind:      config.KindAPI,
				Region:    "GB",
				WriteKeys: []config.SecretRef{{SHA256: sha256Hex(writeKey)}},
				Mapping: config.Mapping{
					Identifiers: []config.IdentifierField{
						{Type: "customer_id", Field: config.Field{Field: "userId"}},
						{Type: "anonymous_id", Field: config.Field{Field: "anonymousId"}},
						{Type: "email", Field: config.Field{Field: "traits.email"}},
						{Type: "email", Field: config.Field{Field: "context.traits.email"}},
						{Type: "phone", Field: config.Field{Field: "traits.phone"}},
					},
					Attributes: map[string]config.Field{
						"first_name": {Field: "traits.first_name", Type: "name"},
						"email":      {Field: "traits.email", Type: "email"},
						"plan":       {Field: "traits.plan"},
					},
				},
			},
			{Name: "crm", Kind: config.KindFile, Format: "csv"},
		},
	}
}

// fakeIngester records what it receives and de-duplicates on record keys,
// as the pipeline's idempotency does.
type fakeIngester struct {
	mu    sync.Mutex
	calls [][]profile.Record
	seen  map[string]bool
	err   error
}

func (f *fakeIngester) Ingest(ctx context.Context, recs []profile.Record) (pipeline.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return pipeline.Result{}, f.err
	}
	f.calls = append(f.calls, recs)
	if f.seen == nil {
		f.seen = make(map[string]bool)
	}
	var res pipeline.Result
	for _, r := range recs {
		if f.seen[r.Key()] {
			res.Duplicates++
		} else {
			f.seen[r.Key()] = true
			res.Accepted++
		}
		res.ProfileIDs = append(res.ProfileIDs, "p_1")
	}
	return res, nil
}

// records returns every record received, in order.
func (f *fakeIngester) records() []profile.Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []profile.Record
	for _, c := range f.calls {
		all = append(all, c...)
	}
	return all
}

// fakeProfiles serves profiles, identifier owners and events from maps.
type fakeProfiles struct {
	profiles  map[string]profile.Profile
	redirects map[string]string
	owners    map[profile.Identifier]store.Owner
	events    map[string][]profile.Event
	err       error
}

func (f *fakeProfiles) Profile(ctx context.Context, id string) (profile.Profile, error) {
	if f.err != nil {
		return profile.Profile{}, f.err
	}
	if to, ok := f.redirects[id]; ok {
		id = to
	}
	p, ok := f.profiles[id]
	if !ok {
		return profile.Profile{}, fault.ErrNotFound
	}
	return p, nil
}

func (f *fakeProfiles) Owners(ctx context.Context, ids []profile.Identifier) (map[profile.Identifier]store.Owner, error) {
	if f.err != nil {
		return nil, f.err
	}
	out := make(map[profile.Identifier]store.Owner)
	for _, id := range ids {
		if o, ok := f.owners[id]; ok {
			out[id] = o
		}
	}
	return out, nil
}

// Events pages with the index of the next event as the cursor.
func (f *fakeProfiles) Events(ctx context.Context, profileID string, limit int, cursor string) ([]profile.Event, string, error) {
	evs := f.events[profileID]
	start := 0
	if cursor != "" {
		n, ok := strings.CutPrefix(cursor, "c")
		if !ok {
			return nil, "", fault.Invalidf("cursor")
		}
		for _, c := range n {
			start = start*10 + int(c-'0')
		}
	}
	if start > len(evs) {
		start = len(evs)
	}
	end := min(start+limit, len(evs))
	next := ""
	if end < len(evs) {
		next = "c" + itoa(end)
	}
	return evs[start:end], next, nil
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// env is a test's API with its fakes.
type env struct {
	api      *api.API
	h        http.Handler
	ingester *fakeIngester
	profiles *fakeProfiles
	logs     *bytes.Buffer
}

type envOption func(*config.Config, *api.Deps, *api.Options)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	e := &env{
		ingester: &fakeIngester{},
		profiles: &fakeProfiles{},
		logs:     &bytes.Buffer{},
	}
	cfg := testConfig()
	deps := api.Deps{
		Ingester: e.ingester,
		Profiles: e.profiles,
		Now:      func() time.Time { return now },
		Logger:   slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	o := api.Options{ReadKeys: []config.SecretRef{{SHA256: sha256Hex(readKey)}}}
	for _, f := range opts {
		f(cfg, &deps, &o)
	}
	a, err := api.New(cfg.Sources, cfg.Identifiers, deps, o)
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	e.api, e.h = a, a.Handler()
	return e
}

// request describes one HTTP request to the API.
type request struct {
	method  string
	path    string
	body    string
	gzip    bool
	basic   string // HTTP Basic username ("" for none)
	bearer  string
	header  map[string]string
	remote  string
	noColon bool // encode the Basic username without the colon
}

func (e *env) do(t *testing.T, rq request) *httptest.ResponseRecorder {
	t.Helper()
	method := rq.method
	if method == "" {
		method = http.MethodPost
	}
	var body io.Reader = strings.NewReader(rq.body)
	if rq.gzip {
		body = bytes.NewReader(gzipBytes(t, rq.body))
	}
	r := httptest.NewRequest(method, rq.path, body)
	if rq.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if rq.gzip {
		r.Header.Set("Content-Encoding", "gzip")
	}
	switch {
	case rq.noColon:
		r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(rq.basic)))
	case rq.basic != "":
		r.SetBasicAuth(rq.basic, "")
	case rq.bearer != "":
		r.Header.Set("Authorization", "Bearer "+rq.bearer)
	}
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	if h := rq.header["Host"]; h != "" {
		r.Host = h // net/http keeps the Host header in r.Host
	}
	if rq.remote != "" {
		r.RemoteAddr = rq.remote
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func gzipBytes(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// trackResp mirrors the 200 body of tracking calls.
type trackResp struct {
	Success    bool         `json:"success"`
	Accepted   int          `json:"accepted"`
	Duplicates int          `json:"duplicates"`
	Rejected   []itemReport `json:"rejected"`
	Warnings   []itemReport `json:"warnings"`
}

type itemReport struct {
	Index     int    `json:"index"`
	MessageID string `json:"messageId"`
	Code      string `json:"code"`
	Errors    []struct {
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

// errResp mirrors error bodies.
type errResp struct {
	Error struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"`
	} `json:"error"`
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q; want application/json", ct)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode body %q: %v", w.Body.String(), err)
	}
	return v
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
