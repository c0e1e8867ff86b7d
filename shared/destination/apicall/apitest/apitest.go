// Package apitest holds what the presets' contract tests share: a secret
// resolver over a map, the documented request examples of testdata/
// and a recorder of the requests a test server received.
package apitest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
)

// Secrets resolves env references from the map.
type Secrets map[string]string

// Resolve implements destination.SecretResolver.
func (s Secrets) Resolve(_ context.Context, ref config.SecretRef) (string, error) {
	if v, ok := s[ref.Env]; ok {
		return v, nil
	}
	return "", fmt.Errorf("no secret %q", ref.Env)
}

// Call is one request a test server received.
type Call struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// JSON decodes the call's body into v, failing the test otherwise.
func (c Call) JSON(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(c.Body, v); err != nil {
		t.Fatalf("%s %s: body is not the JSON expected: %v\n%s", c.Method, c.Path, err, c.Body)
	}
}

// Recorder keeps the calls of a handler.
type Recorder struct {
	mu    sync.Mutex
	calls []Call
}

// Wrap records each request, then lets h answer.
func (r *Recorder) Wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		c := Call{Method: req.Method, Path: req.URL.EscapedPath(), RawQuery: req.URL.RawQuery, Header: req.Header.Clone(), Body: b}
		r.mu.Lock()
		r.calls = append(r.calls, c)
		r.mu.Unlock()
		req.Body = io.NopCloser(bytesReader(b))
		h(w, req)
	}
}

// Calls returns the calls so far.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// Example reads a documented request example from testdata/ and returns
// its JSON body (the file's "request" member).
func Example(t *testing.T, file string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Source  string         `json:"source"`
		Request map[string]any `json:"request"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if doc.Source == "" {
		t.Fatalf("%s: no source URL noted", file)
	}
	return doc.Request
}

// Keys returns the keys of m.
func Keys(m map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

type byteReader struct {
	b []byte
	i int
}

func (r *byteReader) Read(p []byte) (int, error) {
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.i:])
	r.i += n
	return n, nil
}

func bytesReader(b []byte) io.Reader { return &byteReader{b: b} }

// Conforms checks got (a decoded request body) against a documented
// example: every key got sends must be one the example documents, at the
// same place, with a value of the same JSON kind; arrays are checked
// element by element against the example's first element. Keys under
// one of free (a path such as "inputs[].properties") are the caller's
// own fields and are not checked.
func Conforms(t *testing.T, got, example any, free ...string) {
	t.Helper()
	conforms(t, "", got, example, free)
}

func conforms(t *testing.T, path string, got, ex any, free []string) {
	t.Helper()
	for _, f := range free {
		if f == path {
			return
		}
	}
	switch ev := ex.(type) {
	case map[string]any:
		gm, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: sent %T; the documented request has an object", path, got)
			return
		}
		for k, v := range gm {
			d, ok := ev[k]
			if !ok {
				t.Errorf("%s: sent key %q, which the documented request does not have", path, childPath(path, k))
				continue
			}
			conforms(t, childPath(path, k), v, d, free)
		}
	case []any:
		ga, ok := got.([]any)
		if !ok {
			t.Errorf("%s: sent %T; the documented request has an array", path, got)
			return
		}
		if len(ev) == 0 {
			return
		}
		for _, g := range ga {
			conforms(t, path+"[]", g, ev[0], free)
		}
	case string:
		if _, ok := got.(string); !ok {
			t.Errorf("%s: sent %T; the documented request has a string", path, got)
		}
	case float64:
		if _, ok := got.(float64); !ok {
			t.Errorf("%s: sent %T; the documented request has a number", path, got)
		}
	case bool:
		if _, ok := got.(bool); !ok {
			t.Errorf("%s: sent %T; the documented request has a boolean", path, got)
		}
	}
}

func childPath(p, k string) string {
	if p == "" {
		return k
	}
	return p + "." + k
}
