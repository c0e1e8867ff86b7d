package trigger_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/adapter/secrets"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/core/trigger"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/event"
	sqsaction "github.com/aurum-cdp/aurum/shared/destination/sqs"
	"github.com/aurum-cdp/aurum/shared/destination/webhook"
	"github.com/aurum-cdp/aurum/shared/kit/clocktest"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/pattern"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// hooks records webhook requests; fail makes every request fail.
type hooks struct {
	mu   sync.Mutex
	reqs []webhook.Request
	fail error
}

func (h *hooks) Send(_ context.Context, r webhook.Request) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fail != nil {
		return h.fail
	}
	h.reqs = append(h.reqs, r)
	return nil
}

func (h *hooks) sent() []webhook.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.reqs)
}

// queues records SQS messages.
type queues struct {
	mu   sync.Mutex
	msgs []sqsaction.Message
}

func (q *queues) SendMessage(_ context.Context, m sqsaction.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, m)
	return nil
}

type fixture struct {
	clk    *clocktest.Clock
	st     *embedded.Store
	eng    *trigger.Engine
	hooks  *hooks
	queues *queues
	dead   *trigger.MemoryDeadLetters
	sched  *trigger.StoreScheduler
}

func newFixture(t *testing.T, triggers ...config.Trigger) *fixture {
	t.Helper()
	f := &fixture{clk: clocktest.New(t0), hooks: &hooks{}, queues: &queues{}, dead: trigger.NewMemoryDeadLetters(nil)}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true, Now: f.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	f.sched = trigger.NewStoreScheduler(st, f.clk.Now, nil)
	kinds := actionKinds(t, f.hooks, secrets.New(nil, nil, func(string) string { return "whsec_test" }), f.queues)
	f.eng, err = trigger.New(triggers, trigger.Deps{
		Profiles: st, State: st, Scheduler: f.sched, Actions: kinds, DeadLetters: f.dead,
	}, trigger.Options{Clock: f.clk.Now})
	if err != nil {
		t.Fatalf("trigger.New: %v", err)
	}
	return f
}

// actionKinds registers the webhook, sqs and event kinds over the fakes.
func actionKinds(t *testing.T, hooks webhook.Doer, sec webhook.SecretResolver, queues sqsaction.Sender) *destination.Registry {
	t.Helper()
	kinds, err := destination.NewRegistry(webhook.Kind(hooks, sec), sqsaction.Kind(queues), event.Kind())
	if err != nil {
		t.Fatal(err)
	}
	return kinds
}

// profile stores a profile with the given attributes.
func (f *fixture) profile(t *testing.T, id string, attrs map[string]any) {
	t.Helper()
	p := profile.Profile{ID: id, Version: 1, Attributes: map[string]profile.Attribute{}, CreatedAt: t0, UpdatedAt: t0}
	for k, v := range attrs {
		p.Attributes[k] = profile.Attribute{Value: v, Source: "crm", RecordID: "r1", ObservedAt: t0}
	}
	if err := f.st.Commit(context.Background(), store.Change{Profiles: []store.ProfileWrite{{Profile: p}}}); err != nil {
		t.Fatalf("store profile: %v", err)
	}
}

func segmentEntered(t *testing.T, profileID, segment string, at time.Time) events.Envelope {
	t.Helper()
	env, err := events.New(events.TypeSegmentEntered, at, events.SegmentEntered{
		Version: events.SchemaVersion, ProfileID: profileID, SegmentID: segment, At: at, ProfileVersion: 1, Cause: "change",
	}, profileID, segment, at.String())
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func updated(t *testing.T, profileID string, version int64, at time.Time, names ...string) events.Envelope {
	t.Helper()
	env, err := events.New(events.TypeProfileUpdated, at, events.ProfileUpdated{
		Version: events.SchemaVersion, ProfileID: profileID, ProfileVersion: version, EventNames: names,
	}, profileID, time.Duration(version).String())
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func webhookAction(url string) config.TriggerAction {
	return config.TriggerAction{Webhook: &config.WebhookAction{URL: url, Secret: &config.SecretRef{Env: "HOOK_SECRET"}}}
}

func TestWhenPattern(t *testing.T) {
	ctx := context.Background()
	_ = ctx
	tests := []struct {
		name  string
		when  config.TriggerWhen
		env   events.Envelope
		match bool
	}{
		{"segment entered, same segment", config.TriggerWhen{SegmentEntered: "vip"}, segmentEntered(t, "p1", "vip", t0), true},
		{"segment entered, other segment", config.TriggerWhen{SegmentEntered: "vip"}, segmentEntered(t, "p1", "churn", t0), false},
		{"segment exited does not match entered", config.TriggerWhen{SegmentExited: "vip"}, segmentEntered(t, "p1", "vip", t0), false},
		{"attribute changed", config.TriggerWhen{AttributeChanged: "email"}, func() events.Envelope {
			env, _ := events.New(events.TypeProfileUpdated, t0, events.ProfileUpdated{Version: "1", ProfileID: "p1", Changed: []string{"name", "email"}}, "x")
			return env
		}(), true},
		{"attribute not changed", config.TriggerWhen{AttributeChanged: "phone"}, updated(t, "p1", 2, t0, "Order Completed"), false},
		{"event pattern", config.TriggerWhen{Event: config.EventPattern{"detail-type": []any{"ProfileUpdated"}, "detail": map[string]any{"event_names": []any{"Order Completed"}}}},
			updated(t, "p1", 2, t0, "Page Viewed", "Order Completed"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := trigger.WhenPattern(&config.Trigger{ID: "t", When: tt.when})
			if err != nil {
				t.Fatal(err)
			}
			p, err := pattern.Parse(raw)
			if err != nil {
				t.Fatalf("ParsePattern(%s): %v", raw, err)
			}
			ev, err := pattern.EventJSON(tt.env, "000000000000", "local", time.Now)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Match(ev)
			if err != nil || got != tt.match {
				t.Errorf("WhenPattern(%+v) = %s matches %s: %v, %v; want %v", tt.when, raw, ev, got, err, tt.match)
			}
		})
	}
}

func TestFiresOnceAndRedeliveryIsNoop(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, config.Trigger{
		ID: "welcome-vip", When: config.TriggerWhen{SegmentEntered: "vip"},
		Actions: []config.TriggerAction{webhookAction("https://hooks.example.com/vip"), {Event: &config.EventAction{}}},
	})
	f.profile(t, "p1", map[string]any{"country": "GB"})
	env := segmentEntered(t, "p1", "vip", t0)
	for i := range 3 {
		if err := f.eng.Handle(ctx, env); err != nil {
			t.Fatalf("Handle #%d: %v", i+1, err)
		}
	}
	sent := f.hooks.sent()
	if len(sent) != 1 {
		t.Fatalf("3 deliveries of one event sent %d webhooks; want 1", len(sent))
	}
	var body events.TriggerFired
	if err := json.Unmarshal(sent[0].Body, &body); err != nil {
		t.Fatalf("default body %s: %v", sent[0].Body, err)
	}
	wantID := trigger.Pending{TriggerID: "welcome-vip", ProfileID: "p1", Cause: events.Cause{EventID: env.ID}}.FiringID()
	if body.TriggerID != "welcome-vip" || body.ProfileID != "p1" || body.FiringID != wantID || body.Cause.EventID != env.ID {
		t.Errorf("default body = %+v; want trigger welcome-vip, profile p1, firing %s, cause %s", body, wantID, env.ID)
	}
	if sent[0].DeliveryID != wantID || string(sent[0].Secret) != "whsec_test" {
		t.Errorf("request delivery id %q, secret %q; want %q and the resolved secret", sent[0].DeliveryID, sent[0].Secret, wantID)
	}
	out, err := f.st.Outbox(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].DetailType != events.TypeTriggerFired || out[0].ID != wantID {
		t.Fatalf("outbox = %+v; want one TriggerFired with id %s", out, wantID)
	}
	var detail map[string]any
	if err := json.Unmarshal(out[0].Detail, &detail); err != nil || detail["event_id"] != wantID || detail["version"] != "1" {
		t.Errorf("TriggerFired detail = %s; want event_id %s and version 1", out[0].Detail, wantID)
	}
}

func TestCondition(t *testing.T) {
	tests := []struct {
		name  string
		cond  string
		attrs map[string]any
		fires bool
	}{
		{"true", `profile.attributes.country == "GB"`, map[string]any{"country": "GB"}, true},
		{"false", `profile.attributes.country == "GB"`, map[string]any{"country": "FR"}, false},
		{"missing attribute is false", `profile.attributes.country == "GB"`, nil, false},
		{"has() guards", `!has(profile.attributes.country)`, nil, true},
		{"event detail", `event.segment_id == "vip" && profile.id == "p1"`, nil, true},
		{"numbers", `profile.attributes.ltv > 100.0`, map[string]any{"ltv": 250.5}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, config.Trigger{
				ID: "t", When: config.TriggerWhen{SegmentEntered: "vip"}, If: tt.cond,
				Actions: []config.TriggerAction{webhookAction("https://hooks.example.com/x")},
			})
			f.profile(t, "p1", tt.attrs)
			if err := f.eng.Handle(context.Background(), segmentEntered(t, "p1", "vip", t0)); err != nil {
				t.Fatal(err)
			}
			if got := len(f.hooks.sent()) == 1; got != tt.fires {
				t.Errorf("if %s with %v fired = %v; want %v", tt.cond, tt.attrs, got, tt.fires)
			}
		})
	}
}

// TestConditionSegmentLanguage checks that an if sees what a segment
// sees: recent events through the events helpers, memberships, now.
func TestConditionSegmentLanguage(t *testing.T) {
	order := func(id string, age time.Duration) profile.Event {
		return profile.Event{ID: id, Source: "shop", Type: "track", Name: "Order Completed", Timestamp: t0.Add(-age),
			Properties: map[string]any{"total": 40.0}}
	}
	const noRecentOrder = `profile.attributes.country == "GB" && events.count("Order Completed", days(30)) == 0`
	tests := []struct {
		name     string
		cond     string
		events   []profile.Event
		segments map[string]time.Time
		fires    bool
	}{
		{"no order in 30 days", noRecentOrder, []profile.Event{order("o1", 40*24*time.Hour)}, nil, true},
		{"order in 30 days", noRecentOrder, []profile.Event{order("o1", 10*24*time.Hour)}, nil, false},
		{"never ordered", noRecentOrder, nil, nil, true},
		{"spent over 50", `events.sum("Order Completed", "total") > 50.0`,
			[]profile.Event{order("o2", time.Hour), order("o1", 2*time.Hour)}, nil, true},
		{"in segment", `"vip" in profile.segments && event.segment_id == "vip"`, nil, map[string]time.Time{"vip": t0}, true},
		{"not in segment", `"lapsed" in profile.segments`, nil, map[string]time.Time{"vip": t0}, false},
		{"member for a day", `now - profile.segments.vip >= days(1)`, nil, map[string]time.Time{"vip": t0.Add(-25 * time.Hour)}, true},
		{"member for an hour", `now - profile.segments.vip >= days(1)`, nil, map[string]time.Time{"vip": t0.Add(-time.Hour)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, config.Trigger{
				ID: "t", When: config.TriggerWhen{SegmentEntered: "vip"}, If: tt.cond,
				Actions: []config.TriggerAction{webhookAction("https://hooks.example.com/x")},
			})
			p := profile.Profile{ID: "p1", Version: 1, CreatedAt: t0.Add(-time.Hour), UpdatedAt: t0.Add(-time.Hour),
				Attributes:   map[string]profile.Attribute{"country": {Value: "GB", Source: "crm", RecordID: "r1", ObservedAt: t0}},
				RecentEvents: tt.events, Segments: tt.segments, EventCount: len(tt.events)}
			if err := f.st.Commit(context.Background(), store.Change{Profiles: []store.ProfileWrite{{Profile: p}}}); err != nil {
				t.Fatalf("store profile: %v", err)
			}
			if err := f.eng.Handle(context.Background(), segmentEntered(t, "p1", "vip", t0)); err != nil {
				t.Fatal(err)
			}
			if got := len(f.hooks.sent()) == 1; got != tt.fires {
				t.Errorf("if %s with events %v, segments %v fired = %v; want %v", tt.cond, tt.events, tt.segments, got, tt.fires)
			}
		})
	}
}

// TestConditionErrorPosition checks that an if that does not compile is
// reported with its trigger and its position in the expression.
func TestConditionErrorPosition(t *testing.T) {
	tests := []struct {
		name, cond string
		want       []string
	}{
		{"typo", `profile.atributes.country == "GB"`, []string{"triggers[1] (bad-if).if:", "1:8:", "undefined field 'atributes'"}},
		{"second line", "true &&\n  events.count(1) == 0", []string{"triggers[1] (bad-if).if:", "2:15:", "no matching overload"}},
		{"not a bool", `events.count("Order Completed")`, []string{"triggers[1] (bad-if).if:", "want bool"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := embedded.Open(filepath.Join(t.TempDir(), "a.db"), embedded.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			ok := config.Trigger{ID: "ok", When: config.TriggerWhen{SegmentEntered: "x"}, If: `"x" in profile.segments`,
				Actions: []config.TriggerAction{{Event: &config.EventAction{}}}}
			bad := config.Trigger{ID: "bad-if", When: config.TriggerWhen{SegmentEntered: "x"}, If: tt.cond,
				Actions: []config.TriggerAction{{Event: &config.EventAction{}}}}
			_, err = trigger.New([]config.Trigger{ok, bad}, trigger.Deps{Profiles: st, State: st, Actions: actionKinds(t, nil, nil, nil)}, trigger.Options{})
			var ce *segment.CompileError
			if !errors.Is(err, fault.ErrInvalid) || !errors.As(err, &ce) {
				t.Fatalf("New(if %s) = %v; want an ErrInvalid *segment.CompileError", tt.cond, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New(if %s) = %v; want it to contain %q", tt.cond, err, w)
				}
			}
		})
	}
}

func TestInvalidTriggers(t *testing.T) {
	tests := []struct {
		name string
		tr   config.Trigger
	}{
		{"if does not compile", config.Trigger{ID: "a", When: config.TriggerWhen{SegmentEntered: "x"}, If: "profile.", Actions: []config.TriggerAction{{Event: &config.EventAction{}}}}},
		{"if is not a bool", config.Trigger{ID: "b", When: config.TriggerWhen{SegmentEntered: "x"}, If: `"yes"`, Actions: []config.TriggerAction{{Event: &config.EventAction{}}}}},
		{"body template does not parse", config.Trigger{ID: "c", When: config.TriggerWhen{SegmentEntered: "x"}, Actions: []config.TriggerAction{{Webhook: &config.WebhookAction{URL: "https://x", Body: "{{", Secret: &config.SecretRef{Env: "S"}}}}}},
		{"bad pattern", config.Trigger{ID: "d", When: config.TriggerWhen{Event: config.EventPattern{"source": "aurum"}}, Actions: []config.TriggerAction{{Event: &config.EventAction{}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := embedded.Open(filepath.Join(t.TempDir(), "a.db"), embedded.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			_, err = trigger.New([]config.Trigger{tt.tr}, trigger.Deps{
				Profiles: st, State: st, Actions: actionKinds(t, &hooks{}, secrets.New(nil, nil, nil), nil), DeadLetters: trigger.NewMemoryDeadLetters(nil),
			}, trigger.Options{})
			if !errors.Is(err, fault.ErrInvalid) {
				t.Errorf("New(%s) = %v; want an ErrInvalid error", tt.name, err)
			}
		})
	}
}

func TestFrequencyCap(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, config.Trigger{
		ID: "nudge", When: config.TriggerWhen{Event: config.EventPattern{"detail-type": []any{"ProfileUpdated"}}},
		Cap:     &config.FrequencyCap{Max: 2, Per: "24h"},
		Actions: []config.TriggerAction{webhookAction("https://hooks.example.com/nudge")},
	})
	f.profile(t, "p1", nil)
	f.profile(t, "p2", nil)
	fire := func(profileID string, version int64) {
		t.Helper()
		if err := f.eng.Handle(ctx, updated(t, profileID, version, f.clk.Now())); err != nil {
			t.Fatalf("Handle: %v", err)
		}
		f.clk.Advance(time.Hour)
	}
	for v := range int64(4) {
		fire("p1", v+1) // 4 events within 4 hours: 2 fire
	}
	fire("p2", 1) // another profile has its own cap
	if got := len(f.hooks.sent()); got != 3 {
		t.Fatalf("4 events of p1 and 1 of p2 within 24h sent %d webhooks; want 3 (cap 2 per profile)", got)
	}
	// The capped event, re-delivered after the window has room, still
	// does not fire: the decision was recorded.
	f.clk.Advance(24 * time.Hour)
	if err := f.eng.Handle(ctx, updated(t, "p1", 3, t0.Add(2*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if got := len(f.hooks.sent()); got != 3 {
		t.Errorf("re-delivered capped event sent a webhook (%d total); want 3", got)
	}
	fire("p1", 5) // a new event after the window fires again
	if got := len(f.hooks.sent()); got != 4 {
		t.Errorf("after the window: %d webhooks; want 4", got)
	}
}

func TestDelayUnless(t *testing.T) {
	cart := config.EventPattern{"detail-type": []any{"ProfileUpdated"}, "detail": map[string]any{"event_names": []any{"Checkout Started"}}}
	order := config.EventPattern{"detail-type": []any{"ProfileUpdated"}, "detail": map[string]any{"event_names": []any{"Order Completed"}}}
	tests := []struct {
		name string
		// orderAfter is when the order follows the cart (0: no order).
		orderAfter  time.Duration
		orderFirst  bool
		orderOther  bool
		wantWebhook bool
	}{
		{"cart abandoned fires", 0, false, false, true},
		{"order within the delay cancels", 20 * time.Minute, false, false, false},
		{"order after the delay does not cancel", 2 * time.Hour, false, false, true},
		{"order before the cart does not cancel", 0, true, false, true},
		{"order of another profile does not cancel", 20 * time.Minute, false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, config.Trigger{
				ID: "cart-abandoned", When: config.TriggerWhen{Event: cart}, Delay: "1h", Unless: order,
				Actions: []config.TriggerAction{webhookAction("https://hooks.example.com/cart")},
			})
			f.profile(t, "p1", nil)
			f.profile(t, "p2", nil)
			if tt.orderFirst {
				if err := f.eng.Handle(ctx, updated(t, "p1", 1, f.clk.Now().Add(-time.Minute), "Order Completed")); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.eng.Handle(ctx, updated(t, "p1", 2, f.clk.Now(), "Checkout Started")); err != nil {
				t.Fatal(err)
			}
			if n, err := f.sched.FireDue(ctx, f.eng.Fire); err != nil || n != 0 {
				t.Fatalf("FireDue before the delay = %d, %v; want 0", n, err)
			}
			if len(f.hooks.sent()) != 0 {
				t.Fatal("webhook sent before the delay")
			}
			steps := []time.Duration{30 * time.Minute, 31 * time.Minute}
			if tt.orderAfter > 0 && tt.orderAfter < time.Hour {
				f.clk.Advance(tt.orderAfter)
				who := "p1"
				if tt.orderOther {
					who = "p2"
				}
				if err := f.eng.Handle(ctx, updated(t, who, 3, f.clk.Now(), "Page Viewed", "Order Completed")); err != nil {
					t.Fatal(err)
				}
				steps = []time.Duration{time.Hour - tt.orderAfter + time.Minute}
			}
			for _, d := range steps {
				f.clk.Advance(d)
				if _, err := f.sched.FireDue(ctx, f.eng.Fire); err != nil {
					t.Fatal(err)
				}
			}
			if tt.orderAfter >= time.Hour {
				// Too late to cancel: it already fired; the order changes nothing.
				if err := f.eng.Handle(ctx, updated(t, "p1", 3, t0.Add(tt.orderAfter), "Order Completed")); err != nil {
					t.Fatal(err)
				}
			}
			if got := len(f.hooks.sent()) == 1; got != tt.wantWebhook {
				t.Errorf("webhook sent = %v (%d); want %v", got, len(f.hooks.sent()), tt.wantWebhook)
			}
			// Nothing stays scheduled, and a later tick fires nothing more.
			f.clk.Advance(24 * time.Hour)
			if n, err := f.sched.FireDue(ctx, f.eng.Fire); err != nil || n != 0 {
				t.Errorf("FireDue a day later = %d, %v; want 0", n, err)
			}
		})
	}
}

func TestDeadLetterAndTemplates(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, config.Trigger{
		ID: "t", When: config.TriggerWhen{SegmentEntered: "vip"},
		Actions: []config.TriggerAction{
			{Webhook: &config.WebhookAction{URL: "https://hooks.example.com/x", Secret: &config.SecretRef{Env: "S"},
				Body: `{"email": {{json .profile.attributes.email}}, "segment": {{json .event.segment_id}}, "trigger": {{json .trigger.id}}}`}},
			{SQS: &config.SQSAction{QueueURL: "https://sqs.eu-west-1.amazonaws.com/1/q.fifo"}},
			{Webhook: &config.WebhookAction{URL: "https://hooks.example.com/y", Secret: &config.SecretRef{Env: "S"}, Body: `not json {{.profile.id}}`}},
		},
	})
	f.profile(t, "p1", map[string]any{"email": "ann@example.com"})
	if err := f.eng.Handle(ctx, segmentEntered(t, "p1", "vip", t0)); err != nil {
		t.Fatal(err)
	}
	sent := f.hooks.sent()
	if len(sent) != 1 {
		t.Fatalf("sent %d webhooks; want 1 (the second renders no JSON)", len(sent))
	}
	var body map[string]any
	if err := json.Unmarshal(sent[0].Body, &body); err != nil || body["email"] != "ann@example.com" || body["segment"] != "vip" || body["trigger"] != "t" {
		t.Errorf("templated body = %s; want email, segment and trigger filled in", sent[0].Body)
	}
	if len(f.queues.msgs) != 1 || f.queues.msgs[0].GroupID != "p1" || f.queues.msgs[0].DeduplicationID == "" {
		t.Errorf("SQS messages = %+v; want one FIFO message grouped by profile", f.queues.msgs)
	}
	dead := f.dead.List()
	if len(dead) != 1 || dead[0].ActionIndex != 2 || dead[0].Action != "webhook" {
		t.Fatalf("dead letters = %+v; want the third action", dead)
	}

	// A failing receiver also ends in the dead-letter sink, once.
	f.hooks.fail = errors.New("status 500 after 4 attempts")
	if err := f.eng.Handle(ctx, segmentEntered(t, "p1", "vip", t0.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	if got := len(f.dead.List()); got != 3 {
		t.Errorf("dead letters after a failing receiver = %d; want 3", got)
	}
}

func TestIgnoresOwnTriggerFired(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, config.Trigger{
		ID: "loop", When: config.TriggerWhen{Event: config.EventPattern{"source": []any{"aurum"}}},
		Actions: []config.TriggerAction{webhookAction("https://hooks.example.com/x")},
	})
	f.profile(t, "p1", nil)
	env, err := events.New(events.TypeTriggerFired, t0, events.TriggerFired{Version: "1", TriggerID: "loop", ProfileID: "p1", FiringID: "f"}, "f")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.eng.Handle(ctx, env); err != nil {
		t.Fatal(err)
	}
	if got := len(f.hooks.sent()); got != 0 {
		t.Errorf("a trigger's own TriggerFired fired it again (%d webhooks); want 0", got)
	}
}
