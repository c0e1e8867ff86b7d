package api_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/mapping"
	"github.com/aurum-cdp/aurum/shared/http/api"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// observed is one call of fakeObserver.Observe.
type observed struct {
	source string
	row    map[string]any
	rec    profile.Record
	errs   []mapping.FieldError
}

// fakeObserver records what the API hands the data catalog.
type fakeObserver struct {
	mu      sync.Mutex
	seen    []observed
	flushes int
}

func (f *fakeObserver) Observe(source string, row map[string]any, rec profile.Record, errs []mapping.FieldError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, observed{source, row, rec, errs})
}

func (f *fakeObserver) Flush(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flushes++
	return nil
}

func withObserver(o api.Observer) envOption {
	return func(_ *config.Config, d *api.Deps, _ *api.Options) { d.Observer = o }
}

func hasFatal(errs []mapping.FieldError, field string) bool {
	for _, fe := range errs {
		if fe.Fatal && fe.Field == field {
			return true
		}
	}
	return false
}

// TestObserverTracking checks that every message of a tracking request
// reaches the observer as received, with its record and field errors,
// and that the observer is flushed once per request.
func TestObserverTracking(t *testing.T) {
	obs := &fakeObserver{}
	e := newEnv(t, withObserver(obs))
	body := `{"writeKey":"` + writeKey + `","batch":[
		{"type":"identify","userId":"u1","messageId":"m0","writeKey":"` + writeKey + `","traits":{"email":"ann@example.com"}},
		{"type":"track","userId":"u1","messageId":"m1"},
		"not an object",
		{"type":"identify","userId":"u2","messageId":"m3","traits":{"email":"not-an-email"}}
	]}`
	if w := e.do(t, request{path: "/v1/batch", body: body}); w.Code != http.StatusOK {
		t.Fatalf("POST /v1/batch = %d %s; want 200", w.Code, w.Body)
	}
	if w := e.do(t, request{path: "/v1/track", body: `{"userId":"u1","messageId":"m4"}`, basic: writeKey}); w.Code != http.StatusBadRequest {
		t.Fatalf("POST /v1/track without event = %d %s; want 400", w.Code, w.Body)
	}
	if len(obs.seen) != 5 || obs.flushes != 2 {
		t.Fatalf("observer saw %d messages in %d flushes; want 5 in 2", len(obs.seen), obs.flushes)
	}
	traits := func(o observed) string {
		m, _ := o.row["traits"].(map[string]any)
		s, _ := m["email"].(string)
		return s
	}
	tests := []struct {
		name  string
		got   observed
		check func(o observed) string
	}{
		{"accepted: raw row and record", obs.seen[0], func(o observed) string {
			if traits(o) != "ann@example.com" || o.rec.Source != "web" || o.rec.ID != "m0" || len(o.errs) != 0 {
				return "want the raw traits.email, record web/m0, no errors"
			}
			if _, ok := o.row["writeKey"]; ok {
				return "want no writeKey in the row"
			}
			return ""
		}},
		{"rejected: row and fatal error", obs.seen[1], func(o observed) string {
			if o.row["messageId"] != "m1" || !hasFatal(o.errs, "event") {
				return "want row m1 with a fatal error on event"
			}
			return ""
		}},
		{"not an object: no row, fatal error", obs.seen[2], func(o observed) string {
			if o.row != nil || !mapping.HasFatal(o.errs) {
				return "want a nil row and a fatal error"
			}
			return ""
		}},
		{"accepted with a dropped value: the mapping's error", obs.seen[3], func(o observed) string {
			if traits(o) != "not-an-email" || len(o.errs) == 0 || o.errs[0].Field != "traits.email" || mapping.HasFatal(o.errs) {
				return "want the raw value and a non-fatal error on traits.email"
			}
			return ""
		}},
		{"single call rejected", obs.seen[4], func(o observed) string {
			if o.source != "web" || o.row["messageId"] != "m4" || !hasFatal(o.errs, "event") {
				return "want source web, row m4, a fatal error on event"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if msg := tt.check(tt.got); msg != "" {
				t.Errorf("Observe(%s, %v, %s/%s, %+v); %s", tt.got.source, tt.got.row, tt.got.rec.Source, tt.got.rec.ID, tt.got.errs, msg)
			}
		})
	}
	for _, o := range obs.seen {
		if strings.Contains(fmt.Sprint(o.row), writeKey) {
			t.Errorf("observed row %v holds the write key", o.row)
		}
	}
}

func TestObserverWebhook(t *testing.T) {
	t.Setenv("AURUM_TEST_HOOK_SECRET", hookSecret)
	obs := &fakeObserver{}
	e := newEnv(t, withEverything(t, keyStore(t), &fakePrivacy{}), withObserver(obs))
	cfg := testConfig()
	withEverything(t, nil, nil)(cfg, nil2(), nil3())
	sample, err := os.ReadFile("../../../events/webhook-stripe-charge.json")
	if err != nil {
		t.Fatal(err)
	}
	w := e.do(t, request{path: "/v1/webhooks/stripe", body: string(sample), header: signedStripe(t, cfg, string(sample))})
	if w.Code != http.StatusOK {
		t.Fatalf("POST /v1/webhooks/stripe = %d %s; want 200", w.Code, w.Body)
	}
	if len(obs.seen) != 1 || obs.flushes != 1 {
		t.Fatalf("observer saw %d items in %d flushes; want 1 in 1", len(obs.seen), obs.flushes)
	}
	if o := obs.seen[0]; o.source != "stripe" || o.row != nil || o.rec.ID != "evt_3QnB4dLkdIwHu7ix0AbCdEfG" {
		t.Errorf("Observe(%s, %v, record %s); want stripe, a nil row, the event's record", o.source, o.row, o.rec.ID)
	}
}
