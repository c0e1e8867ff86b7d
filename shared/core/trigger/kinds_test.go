package trigger_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/trigger"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/kit/clocktest"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// recorder is a fake action kind: it records what it is asked to deliver,
// optionally with a body template, and fails with fail.
type recorder struct {
	mu   sync.Mutex
	got  []destination.Delivery
	tpl  string
	fail error
}

func (r *recorder) Deliver(_ context.Context, d destination.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, d)
	return r.fail
}

func (r *recorder) BodyTemplate() string { return r.tpl }

func (r *recorder) deliveries() []destination.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]destination.Delivery(nil), r.got...)
}

// stager is a fake Staged kind: its event goes to the outbox with the claim.
type stager struct{ delivered int }

func (s *stager) Deliver(context.Context, destination.Delivery) error { s.delivered++; return nil }

func (s *stager) Stage(d destination.Delivery) ([]events.Envelope, error) {
	env, err := events.New("Staged", d.Event.Time, map[string]string{"firing": d.ID}, "staged", d.ID)
	return []events.Envelope{env}, err
}

// kind registers act under name, whatever the action's settings.
func kind(name string, act destination.Action) destination.Kind {
	return destination.Kind{Name: name, Build: func(config.TriggerAction) (destination.Action, error) { return act, nil }}
}

func registry(t *testing.T, kinds ...destination.Kind) *destination.Registry {
	t.Helper()
	r, err := destination.NewRegistry(kinds...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// engine builds an engine over a fresh store with only the given kinds.
func engine(t *testing.T, kinds *destination.Registry, dead trigger.DeadLetterSink, triggers ...config.Trigger) (*trigger.Engine, *embedded.Store, error) {
	t.Helper()
	clk := clocktest.New(t0)
	st, err := embedded.Open(filepath.Join(t.TempDir(), "a.db"), embedded.Options{NoSync: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e, err := trigger.New(triggers, trigger.Deps{Profiles: st, State: st, Actions: kinds, DeadLetters: dead},
		trigger.Options{Clock: clk.Now})
	return e, st, err
}

// The engine knows no kind: an implementation registered alone (no webhook
// sender, queue or secrets anywhere) receives the trigger's firing.
func TestActionKindPlugsIn(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{tpl: `{"who": {{json .profile.id}}, "trigger": {{json .trigger.id}}}`}
	stg := &stager{}
	dead := trigger.NewMemoryDeadLetters(nil)
	tr := config.Trigger{ID: "vip", When: config.TriggerWhen{SegmentEntered: "vip"},
		Actions: []config.TriggerAction{{SQS: &config.SQSAction{QueueURL: "https://q"}}, {Event: &config.EventAction{}}}}
	eng, st, err := engine(t, registry(t, kind("sqs", rec), kind("event", stg)), dead, tr)
	if err != nil {
		t.Fatalf("New with the fake kinds = %v; want an engine", err)
	}
	(&fixture{st: st}).profile(t, "p1", nil)
	env := segmentEntered(t, "p1", "vip", t0)
	if err := eng.Handle(ctx, env); err != nil {
		t.Fatal(err)
	}
	firing := trigger.Pending{TriggerID: "vip", ProfileID: "p1", Cause: events.Cause{EventID: env.ID}}.FiringID()
	got := rec.deliveries()
	if len(got) != 1 {
		t.Fatalf("fake kind received %d deliveries; want 1", len(got))
	}
	d := got[0]
	if d.ID != firing || d.ProfileID != "p1" || d.Event.ID != firing || d.Event.DetailType != events.TypeTriggerFired {
		t.Errorf("delivery id %q, profile %q, event %s %q; want firing %s, p1, TriggerFired with the firing id",
			d.ID, d.ProfileID, d.Event.DetailType, d.Event.ID, firing)
	}
	var body map[string]any
	if err := json.Unmarshal(d.Body, &body); err != nil || body["who"] != "p1" || body["trigger"] != "vip" {
		t.Errorf("delivery body = %s; want the fake kind's template rendered", d.Body)
	}
	out, err := st.Outbox(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].DetailType != "Staged" || stg.delivered != 0 {
		t.Errorf("outbox = %+v, staged kind delivered %d times; want only the staged kind's event, never delivered", out, stg.delivered)
	}

	rec.fail = errors.New("fake destination down")
	if err := eng.Handle(ctx, segmentEntered(t, "p1", "vip", t0.Add(1))); err != nil {
		t.Fatal(err)
	}
	if dl := dead.List(); len(dl) != 1 || dl[0].Action != "sqs" || dl[0].ActionIndex != 0 || dl[0].Error != "fake destination down" {
		t.Errorf("dead letters = %+v; want the fake kind's failure as action sqs, index 0", dl)
	}
}

func TestActionKindRefused(t *testing.T) {
	rec := &recorder{}
	tests := []struct {
		name   string
		kinds  []destination.Kind
		action config.TriggerAction
		want   string
	}{
		{"unregistered kind", []destination.Kind{kind("webhook", rec)}, config.TriggerAction{SQS: &config.SQSAction{QueueURL: "https://q"}},
			`triggers[0] (t).actions[0]: unknown action kind "sqs" (registered: webhook)`},
		{"empty registry", nil, config.TriggerAction{Event: &config.EventAction{}},
			`triggers[0] (t).actions[0]: unknown action kind "event" (registered: none)`},
		{"no kind set", []destination.Kind{kind("event", rec)}, config.TriggerAction{},
			`triggers[0] (t).actions[0]: expected exactly one action kind (registered: event)`},
		{"builder refuses", []destination.Kind{{Name: "event", Build: func(config.TriggerAction) (destination.Action, error) {
			return nil, errors.New("no outbox")
		}}}, config.TriggerAction{Event: &config.EventAction{}}, `triggers[0] (t).actions[0].event: no outbox`},
		{"bad body template", []destination.Kind{kind("sqs", &recorder{tpl: "{{"})}, config.TriggerAction{SQS: &config.SQSAction{QueueURL: "https://q"}},
			`triggers[0] (t).actions[0].sqs.body:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := config.Trigger{ID: "t", When: config.TriggerWhen{SegmentEntered: "x"}, Actions: []config.TriggerAction{tt.action}}
			_, _, err := engine(t, registry(t, tt.kinds...), trigger.NewMemoryDeadLetters(nil), tr)
			if !errors.Is(err, fault.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New(%s) = %v; want an ErrInvalid error containing %q", tt.name, err, tt.want)
			}
		})
	}
}
