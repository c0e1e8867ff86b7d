package trigger_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/bus"
	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/adapter/secrets"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/core/trigger"
	"github.com/aurum-cdp/aurum/shared/destination/webhook"
	"github.com/aurum-cdp/aurum/shared/kit/clocktest"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/pattern"
	"github.com/aurum-cdp/aurum/shared/port/store"
	"github.com/aurum-cdp/aurum/shared/wire/local"
)

const e2eSecret = "whsec_e2e_test"

const e2eConfig = `version: 1
identifiers:
  - name: email
    normalizer: email
sources:
  - name: shop
    kind: bus
    bus: {source: com.shop}
segments:
  - id: vip
    expr: profile.attributes.country == "GB"
triggers:
  - id: welcome-vip
    when: {segment_entered: vip}
    if: profile.attributes.country == "GB"
    cap: {max: 1, per: 24h}
    actions:
      - webhook:
          url: %[1]s/welcome
          secret: {env: HOOK_SECRET}
          headers: {X-Team: growth}
          body: '{"profile": {{json .profile.id}}, "country": {{json .profile.attributes.country}}, "segment": {{json .event.segment_id}}}'
      - event: {}
  - id: cart-abandoned
    when:
      event: {source: [aurum], detail-type: [ProfileUpdated], detail: {event_names: [Checkout Started]}}
    delay: 1h
    unless: {source: [aurum], detail-type: [ProfileUpdated], detail: {event_names: [Order Completed]}}
    actions:
      - webhook:
          url: %[1]s/cart
          secret: {env: HOOK_SECRET}
`

// receiver is the marketing tool: it verifies every request with the
// recipe of docs/triggers.md and keeps the bodies per path.
type receiver struct {
	t     *testing.T
	clk   *clocktest.Clock
	mu    sync.Mutex
	got   map[string][]map[string]any
	ids   map[string]int
	wrong int
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts, sig := r.Header.Get("X-Aurum-Timestamp"), r.Header.Get("X-Aurum-Signature")
	// The documented recipe, written out: HMAC-SHA256 over ts "." body.
	m := hmac.New(sha256.New, []byte(e2eSecret))
	m.Write([]byte(ts + "." + string(body)))
	want := "v1=" + hex.EncodeToString(m.Sum(nil))
	tsN, _ := strconv.ParseInt(ts, 10, 64)
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if !hmac.Equal([]byte(sig), []byte(want)) || rv.clk.Now().Sub(time.Unix(tsN, 0)).Abs() > 5*time.Minute ||
		webhook.Verify([]byte(e2eSecret), sig, ts, body, rv.clk.Now(), 0) != nil {
		rv.wrong++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		rv.t.Errorf("%s: body %s is not JSON", r.URL.Path, body)
	}
	rv.got[r.URL.Path] = append(rv.got[r.URL.Path], v)
	rv.ids[r.Header.Get("X-Aurum-Delivery")]++
}

func (rv *receiver) count(path string) int {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return len(rv.got[path])
}

// platform is local mode in miniature: the embedded store, the pipeline,
// the outbox relay, the local bus and the trigger engine subscribed to it.
type platform struct {
	t     *testing.T
	clk   *clocktest.Clock
	st    *embedded.Store
	pl    *pipeline.Pipeline
	relay *local.Relay
	bus   *bus.Bus
	sched *trigger.StoreScheduler
	eng   *trigger.Engine
	mu    sync.Mutex
	fired []events.Envelope
}

func newPlatform(t *testing.T, hookURL string, clk *clocktest.Clock, client *http.Client) *platform {
	t.Helper()
	cfg, err := config.Parse("aurum.yaml", fmt.Appendf(nil, e2eConfig, hookURL))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p := &platform{t: t, clk: clk, st: st}
	p.pl = pipeline.New(pipeline.ConfigOf(cfg), st, pipeline.Options{Clock: clk.Now})
	p.bus = bus.New(nil, bus.WithClock(clk.Now), bus.WithRetry(2, time.Millisecond, time.Millisecond))
	t.Cleanup(func() { p.bus.Close(context.Background()) })
	p.relay = &local.Relay{Outbox: st, Publisher: p.bus}
	sender, err := webhook.NewSender(client, webhook.WithClock(clk.Now), webhook.WithRetry(2, time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	p.sched = trigger.NewStoreScheduler(st, clk.Now, nil)
	sec := secrets.New(nil, nil, func(name string) string {
		if name == "HOOK_SECRET" {
			return e2eSecret
		}
		return ""
	})
	p.eng, err = trigger.New(cfg.Triggers, trigger.Deps{
		Profiles: st, State: st, Scheduler: p.sched, Actions: actionKinds(t, sender, sec, nil),
		DeadLetters: trigger.NewMemoryDeadLetters(nil),
	}, trigger.Options{Clock: clk.Now})
	if err != nil {
		t.Fatalf("trigger.New: %v", err)
	}
	if err := p.bus.Subscribe("triggers", nil, p.eng.Handle); err != nil {
		t.Fatal(err)
	}
	watch, err := pattern.Parse([]byte(`{"source":["aurum"],"detail-type":["TriggerFired"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.bus.Subscribe("watch", watch, func(_ context.Context, env events.Envelope) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.fired = append(p.fired, env)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return p
}

// settle relays the outbox to the bus until nothing is left to deliver.
func (p *platform) settle() {
	p.t.Helper()
	ctx := context.Background()
	for range 5 {
		n, err := p.relay.Drain(ctx)
		if err != nil {
			p.t.Fatalf("relay: %v", err)
		}
		if err := p.bus.Flush(ctx); err != nil {
			p.t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if dead := p.bus.DeadLetters(); len(dead) > 0 {
		p.t.Fatalf("bus dead letters: %+v", dead[0].Err)
	}
}

// ingest commits one record of the shop source and returns its profile.
func (p *platform) ingest(id, email string, attrs map[string]any, eventName string) string {
	p.t.Helper()
	now := p.clk.Now()
	rec := profile.Record{Source: "shop", ID: id, ObservedAt: now, ReceivedAt: now,
		Identifiers: []profile.Identifier{{Type: "email", Value: email}}, Attributes: attrs}
	if eventName != "" {
		rec.Events = []profile.Event{{ID: id, Source: "shop", Type: "event", Name: eventName, Timestamp: now}}
	}
	res, err := p.pl.Ingest(context.Background(), []profile.Record{rec})
	if err != nil {
		p.t.Fatalf("ingest %s: %v", id, err)
	}
	p.settle()
	return res.ProfileIDs[0]
}

// enterSegment stands in for the segments function: it commits a
// SegmentEntered event to the outbox.
func (p *platform) enterSegment(profileID, segment string) events.Envelope {
	p.t.Helper()
	now := p.clk.Now()
	env, err := events.New(events.TypeSegmentEntered, now, events.SegmentEntered{
		Version: events.SchemaVersion, ProfileID: profileID, SegmentID: segment, At: now, ProfileVersion: 1, Cause: "change",
	}, profileID, segment, now.Format(time.RFC3339Nano))
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.st.Commit(context.Background(), store.Change{Outbox: []events.Envelope{env}}); err != nil {
		p.t.Fatal(err)
	}
	p.settle()
	return env
}

func TestEndToEnd(t *testing.T) {
	clk := clocktest.New(time.Now().UTC().Truncate(time.Second))
	rv := &receiver{t: t, clk: clk, got: map[string][]map[string]any{}, ids: map[string]int{}}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	p := newPlatform(t, srv.URL, clk, srv.Client())
	ctx := context.Background()

	t.Run("segment entered sends a signed webhook", func(t *testing.T) {
		ann := p.ingest("r-ann", "ann@example.com", map[string]any{"country": "GB"}, "")
		first := p.enterSegment(ann, "vip")
		if got := rv.count("/welcome"); got != 1 {
			t.Fatalf("welcome webhooks = %d (rejected %d); want 1", got, rv.wrong)
		}
		body := rv.got["/welcome"][0]
		if body["profile"] != ann || body["country"] != "GB" || body["segment"] != "vip" {
			t.Errorf("welcome body = %v; want profile %s, country GB, segment vip", body, ann)
		}
		p.mu.Lock()
		fired := len(p.fired)
		p.mu.Unlock()
		if fired != 1 {
			t.Errorf("TriggerFired events on the bus = %d; want 1", fired)
		}

		t.Run("re-delivered event fires nothing new", func(t *testing.T) {
			for range 2 {
				if err := p.bus.Publish(ctx, first); err != nil {
					t.Fatal(err)
				}
			}
			p.settle()
			if got := rv.count("/welcome"); got != 1 {
				t.Errorf("welcome webhooks after re-delivery = %d; want 1", got)
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			if len(p.fired) != 1 {
				t.Errorf("TriggerFired events after re-delivery = %d; want 1", len(p.fired))
			}
		})

		t.Run("frequency cap holds", func(t *testing.T) {
			clk.Advance(2 * time.Hour) // re-enters the segment: a new cause
			p.enterSegment(ann, "vip")
			if got := rv.count("/welcome"); got != 1 {
				t.Errorf("welcome webhooks after re-entering within 24h = %d; want 1 (cap 1 per 24h)", got)
			}
			clk.Advance(23 * time.Hour)
			p.enterSegment(ann, "vip")
			if got := rv.count("/welcome"); got != 2 {
				t.Errorf("welcome webhooks after the cap window = %d; want 2", got)
			}
		})

		t.Run("condition false fires nothing", func(t *testing.T) {
			fr := p.ingest("r-fred", "fred@example.com", map[string]any{"country": "FR"}, "")
			p.enterSegment(fr, "vip")
			if got := rv.count("/welcome"); got != 2 {
				t.Errorf("welcome webhooks after a non-GB profile entered = %d; want 2", got)
			}
		})
	})

	t.Run("cart abandoned fires after the delay", func(t *testing.T) {
		bob := p.ingest("r-bob-cart", "bob@example.com", nil, "Checkout Started")
		clk.Advance(59 * time.Minute)
		if _, err := p.sched.FireDue(ctx, p.eng.Fire); err != nil {
			t.Fatal(err)
		}
		if got := rv.count("/cart"); got != 0 {
			t.Fatalf("cart webhooks before the delay = %d; want 0", got)
		}
		clk.Advance(2 * time.Minute)
		if _, err := p.sched.FireDue(ctx, p.eng.Fire); err != nil {
			t.Fatal(err)
		}
		if got := rv.count("/cart"); got != 1 {
			t.Fatalf("cart webhooks after the delay = %d (rejected %d); want 1", got, rv.wrong)
		}
		if got := rv.got["/cart"][0]["profile_id"]; got != bob {
			t.Errorf("cart webhook profile_id = %v; want %s", got, bob)
		}
	})

	t.Run("cart followed by an order does not fire", func(t *testing.T) {
		before := rv.count("/cart")
		p.ingest("r-cat-cart", "cat@example.com", nil, "Checkout Started")
		clk.Advance(20 * time.Minute)
		p.ingest("r-cat-order", "cat@example.com", nil, "Order Completed")
		clk.Advance(45 * time.Minute)
		if _, err := p.sched.FireDue(ctx, p.eng.Fire); err != nil {
			t.Fatal(err)
		}
		if got := rv.count("/cart"); got != before {
			t.Errorf("cart webhooks after cart + order = %d; want %d", got, before)
		}
	})

	for id, n := range rv.ids {
		if n != 1 {
			t.Errorf("delivery %s received %d times; want once", id, n)
		}
	}
	if rv.wrong != 0 {
		t.Errorf("%d requests failed signature verification", rv.wrong)
	}
}
