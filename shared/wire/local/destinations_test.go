package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/bus"
	"github.com/aurum-cdp/aurum/shared/adapter/dir"
	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/adapter/secrets"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/activation"
	"github.com/aurum-cdp/aurum/shared/destination/mailchimp"
	"github.com/aurum-cdp/aurum/shared/kit/clocktest"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/pattern"
	"github.com/aurum-cdp/aurum/shared/wire/app"
	"github.com/aurum-cdp/aurum/shared/wire/local"
)

const destConfig = `version: 1
identifiers:
  - name: email
    normalizer: email
sources:
  - name: shop
    kind: bus
    bus: {source: com.shop}
identity:
  rules:
    - {name: email, kind: exact, identifiers: [email]}
segments:
  - id: vip
    expr: profile.attributes.tier == "gold"
destinations:
  - name: crm
    kind: hubspot
    url: %[1]s/hubspot
    credential: {env: HS_TOKEN}
    purposes: [marketing]
    options: {event_prefix: pe42_}
    profiles:
      attributes: [first_name, tier]
      map: {tier: profile.attributes.tier}
    events: {tracked: [Order Completed]}
  - name: news
    kind: mailchimp
    url: %[1]s/mailchimp
    credential: {env: MC_KEY}
    purposes: [marketing]
    options: {list_id: L1}
    audiences: {segments: [vip], names: {vip: VIP}}
  - name: hook
    kind: webhook
    webhook: {url: "%[1]s/hook", secret: {env: HOOK_SECRET}}
    events: {aurum: {detail-type: [SegmentEntered]}}
triggers:
  - id: vip-welcome
    when: {segment_entered: vip}
    actions: [{destination: hook}, {destination: crm}]
`

// tools stands in for HubSpot, Mailchimp and a webhook receiver: it
// keeps every request (its contracts are tested in each preset's
// package) and answers as they document.
type tools struct {
	mu    sync.Mutex
	calls []toolCall
	down  string // a path prefix answered 503 (a tool that is down)
}

type toolCall struct {
	method, path string
	body         map[string]any
}

func (tl *tools) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var v map[string]any
	_ = json.Unmarshal(b, &v)
	tl.mu.Lock()
	down := tl.down != "" && strings.HasPrefix(r.URL.Path, tl.down)
	if !down {
		tl.calls = append(tl.calls, toolCall{r.Method, r.URL.Path, v})
	}
	tl.mu.Unlock()
	switch {
	case down:
		w.WriteHeader(http.StatusServiceUnavailable)
	case strings.HasSuffix(r.URL.Path, "/contacts/batch/upsert"):
		fmt.Fprint(w, `{"status":"COMPLETE","results":[]}`)
	case strings.HasPrefix(r.URL.Path, "/mailchimp/") && r.Method == http.MethodPut:
		fmt.Fprint(w, `{"status":"subscribed"}`)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// find returns the calls whose path ends with suffix.
func (tl *tools) find(suffix string) []toolCall {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var out []toolCall
	for _, c := range tl.calls {
		if strings.HasSuffix(c.path, suffix) {
			out = append(out, c)
		}
	}
	return out
}

type rig struct {
	t      *testing.T
	clk    *clocktest.Clock
	p      *app.Platform
	relay  *local.Relay
	bus    *bus.Bus
	runner *activation.Runner
	seen   []events.Envelope
}

// newRig wires local mode's parts as local.Run does (app.LocalActivation
// on the embedded store, the relay, the in-process bus) on a fake clock.
func newRig(t *testing.T, url string) *rig {
	cfg, err := config.Parse("aurum.yaml", fmt.Appendf(nil, destConfig, url))
	if err != nil {
		t.Fatal(err)
	}
	clk := clocktest.New(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	dirp := t.TempDir()
	st, err := embedded.Open(filepath.Join(dirp, "aurum.db"), embedded.Options{NoSync: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	objs, err := dir.New(filepath.Join(dirp, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HS_TOKEN": "hs", "MC_KEY": "k-us21", "HOOK_SECRET": "whsec"}
	p, err := app.New(app.Parts{Config: cfg, Store: st, Objects: objs, Clock: clk.Now,
		Secrets: secrets.New(nil, nil, func(n string) string { return env[n] })})
	if err != nil {
		t.Fatal(err)
	}
	eng, _, _, runner, err := p.LocalActivation(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, clk: clk, p: p, runner: runner}
	r.bus = bus.New(nil, bus.WithClock(clk.Now), bus.WithRetry(1, time.Millisecond, time.Millisecond))
	t.Cleanup(func() { r.bus.Close(context.Background()) })
	r.relay = &local.Relay{Outbox: st, Publisher: r.bus}
	all, _ := pattern.Parse([]byte(`{"source":["aurum"]}`))
	handlers := map[string]bus.Handler{"triggers": eng.Handle,
		"watch": func(_ context.Context, env events.Envelope) error { r.seen = append(r.seen, env); return nil }}
	for _, name := range runner.Names() { // as local.Run subscribes them
		handlers["destination:"+name] = func(ctx context.Context, env events.Envelope) error { return runner.HandleFor(ctx, name, env) }
	}
	for name, h := range handlers {
		if err := r.bus.Subscribe(name, all, h); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func (r *rig) settle() {
	r.t.Helper()
	r.drain()
	if dead := r.bus.DeadLetters(); len(dead) > 0 {
		r.t.Fatalf("bus dead letters: %v", dead[0].Err)
	}
}

func (r *rig) drain() {
	r.t.Helper()
	for range 5 {
		n, err := r.relay.Drain(context.Background())
		if err != nil {
			r.t.Fatal(err)
		}
		if err := r.bus.Flush(context.Background()); err != nil {
			r.t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
}

func (r *rig) ingest(id, email string, attrs map[string]any, event string) string {
	r.t.Helper()
	r.clk.Advance(time.Minute)
	now := r.clk.Now()
	rec := profile.Record{Source: "shop", ID: id, ObservedAt: now, ReceivedAt: now,
		Identifiers: []profile.Identifier{{Type: "email", Value: email}}, Attributes: attrs}
	if event != "" {
		rec.Events = []profile.Event{{ID: id, Source: "shop", Type: "event", Name: event, Timestamp: now, Properties: map[string]any{"revenue": 42.0}}}
	}
	res, err := r.p.Ingester.Ingest(context.Background(), []profile.Record{rec})
	if err != nil {
		r.t.Fatal(err)
	}
	r.settle()
	return res.ProfileIDs[0]
}

// ingestDrain is ingest that leaves dead letters for the test to read.
func (r *rig) ingestDrain(id, email string, attrs map[string]any) {
	r.t.Helper()
	r.clk.Advance(time.Minute)
	now := r.clk.Now()
	rec := profile.Record{Source: "shop", ID: id, ObservedAt: now, ReceivedAt: now,
		Identifiers: []profile.Identifier{{Type: "email", Value: email}}, Attributes: attrs}
	if _, err := r.p.Ingester.Ingest(context.Background(), []profile.Record{rec}); err != nil {
		r.t.Fatal(err)
	}
	r.drain()
}

func TestDestinationsEndToEnd(t *testing.T) {
	tl := &tools{}
	srv := httptest.NewServer(tl)
	defer srv.Close()
	r := newRig(t, srv.URL)

	t.Run("a changed profile with consent is upserted and its tracked event forwarded", func(t *testing.T) {
		r.ingest("a1", "ann@example.com", map[string]any{"first_name": "Ann", "tier": "silver", "consent.marketing": true}, "Order Completed")
		ups := tl.find("/contacts/batch/upsert")
		if len(ups) != 1 {
			t.Fatalf("%d contact upserts; want 1", len(ups))
		}
		in := ups[0].body["inputs"].([]any)[0].(map[string]any)
		if in["id"] != "ann@example.com" || fmt.Sprint(in["properties"].(map[string]any)["tier"]) != "silver" {
			t.Errorf("upserted %v; want ann@example.com with tier silver", in)
		}
		evs := tl.find("/events/v3/send/batch")
		if len(evs) != 1 || evs[0].body["inputs"].([]any)[0].(map[string]any)["eventName"] != "pe42_order_completed" {
			t.Errorf("event sends %v; want one pe42_order_completed", evs)
		}
	})

	t.Run("a profile without the needed consent is skipped and counted, never sent", func(t *testing.T) {
		before := len(tl.find("/contacts/batch/upsert")) + len(tl.find("/events/v3/send/batch"))
		r.ingest("b1", "bob@example.com", map[string]any{"first_name": "Bob", "tier": "silver"}, "Order Completed")
		if after := len(tl.find("/contacts/batch/upsert")) + len(tl.find("/events/v3/send/batch")); after != before {
			t.Errorf("HubSpot got %d requests for a profile without consent; want none", after-before)
		}
		if got := r.runner.Stats()["crm"].Skipped["consent:marketing"]; got != 1 {
			t.Errorf("crm skipped for consent:marketing = %d; want 1", got)
		}
	})

	var ann string
	t.Run("entering a segment adds to the audience, fires the trigger's destinations and forwards the Aurum event", func(t *testing.T) {
		ann = r.ingest("a2", "ann@example.com", map[string]any{"tier": "gold"}, "")
		hash := mailchimp.SubscriberHash("ann@example.com")
		tags := tl.find("/members/" + hash + "/tags")
		if len(tags) != 1 || fmt.Sprint(tags[0].body["tags"]) != "[map[name:VIP status:active]]" {
			t.Errorf("Mailchimp tag calls %v; want VIP active once", tags)
		}
		hooks := tl.find("/hook")
		var kinds []string
		for _, h := range hooks {
			if h.body["type"] == "event" {
				kinds = append(kinds, "event:"+fmt.Sprint(h.body["event"].(map[string]any)["name"]))
			} else {
				kinds = append(kinds, "firing:"+fmt.Sprint(h.body["trigger_id"]))
			}
		}
		if fmt.Sprint(kinds) != "[event:SegmentEntered firing:vip-welcome]" && fmt.Sprint(kinds) != "[firing:vip-welcome event:SegmentEntered]" {
			t.Errorf("webhook received %v; want the forwarded SegmentEntered and the trigger's firing", kinds)
		}
		var names []string
		for _, c := range tl.find("/events/v3/send/batch") {
			names = append(names, fmt.Sprint(c.body["inputs"].([]any)[0].(map[string]any)["eventName"]))
		}
		if fmt.Sprint(names) != "[pe42_order_completed pe42_vip_welcome]" {
			t.Errorf("HubSpot events %v; want the order, then the trigger's vip-welcome", names)
		}
	})

	t.Run("exiting the segment removes from the audience", func(t *testing.T) {
		r.ingest("a3", "ann@example.com", map[string]any{"tier": "silver"}, "")
		tags := tl.find("/members/" + mailchimp.SubscriberHash("ann@example.com") + "/tags")
		if len(tags) != 2 || fmt.Sprint(tags[1].body["tags"]) != "[map[name:VIP status:inactive]]" {
			t.Errorf("Mailchimp tag calls %v; want VIP inactive after active", tags)
		}
	})

	t.Run("a destination that is down fails alone; once back it receives what it missed, once", func(t *testing.T) {
		tags := len(tl.find("/tags"))
		hooks := len(tl.find("/hook"))
		tl.mu.Lock()
		tl.down = "/hook"
		tl.mu.Unlock()
		r.ingestDrain("a4", "ann@example.com", map[string]any{"tier": "gold"})
		var missed []events.Envelope
		for _, d := range r.bus.DeadLetters() {
			if d.Subscriber != "destination:hook" {
				t.Errorf("dead letter of %s: %v; want only the hook's", d.Subscriber, d.Err)
				continue
			}
			missed = append(missed, d.Envelope)
		}
		if len(missed) != 1 || missed[0].DetailType != events.TypeSegmentEntered {
			t.Fatalf("hook missed %v; want the SegmentEntered", missed)
		}
		if got := len(tl.find("/tags")) - tags; got != 1 {
			t.Errorf("Mailchimp got %d tag calls while the hook was down; want exactly 1", got)
		}
		tl.mu.Lock()
		tl.down = ""
		tl.mu.Unlock()
		for _, env := range missed { // the replay of the dead letter
			if err := r.runner.HandleFor(context.Background(), "hook", env); err != nil {
				t.Fatal(err)
			}
		}
		if got := len(tl.find("/hook")) - hooks; got != 1 {
			t.Errorf("hook received %d requests after it came back; want the missed event once", got)
		}
		if got := len(tl.find("/tags")) - tags; got != 1 {
			t.Errorf("replaying the hook's event sent Mailchimp %d tag calls; want still 1", got)
		}
	})

	t.Run("a re-delivered event forwards no tracked event twice", func(t *testing.T) {
		before := len(tl.find("/events/v3/send/batch"))
		for _, env := range r.seen {
			if env.DetailType == events.TypeProfileUpdated {
				if err := r.runner.Handle(context.Background(), env); err != nil {
					t.Fatal(err)
				}
			}
		}
		if after := len(tl.find("/events/v3/send/batch")); after != before {
			t.Errorf("re-delivery sent %d more event batches; want none", after-before)
		}
		if ann == "" {
			t.Skip("no profile")
		}
		if got := r.runner.Stats()["crm"]; got.Failed != 0 || got.Delivered == 0 {
			t.Errorf("crm stats %+v; want deliveries and no failures", got)
		}
	})
}
