package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/pattern"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Item kinds the engine owns.
const (
	KindFired   = "trg.fired"
	KindCap     = "trg.cap"
	KindUnless  = "trg.unless"
	KindPending = "trg.pending"
)

// Defaults of Options.
const (
	DefaultFiredTTL = 30 * 24 * time.Hour
	DefaultLease    = 5 * time.Minute
	DefaultAccount  = "000000000000"
	DefaultRegion   = "local"
)

// Profiles reads the current profile; *store.Store implementations do.
// A missing or erased profile is fault.ErrNotFound.
type Profiles interface {
	Profile(ctx context.Context, id string) (profile.Profile, error)
}

// State is the part of the store the engine keeps its state in.
type State interface {
	Item(ctx context.Context, kind, key, sort string) (store.Item, error)
	Items(ctx context.Context, kind, key, from, to string, limit int, cursor string) ([]store.Item, string, error)
	Commit(ctx context.Context, changes ...store.Change) error
}

// Scheduler calls Engine.Fire with p at p.Due: EventBridge Scheduler in
// AWS, StoreScheduler locally. Scheduling the same firing twice must be
// harmless.
type Scheduler interface {
	Schedule(ctx context.Context, p Pending) error
}

// DeadLetterSink keeps actions that failed for good.
type DeadLetterSink interface {
	DeadLetter(ctx context.Context, d DeadLetter) error
}

// DeadLetter is an action that could not be carried out.
type DeadLetter struct {
	TriggerID   string    `json:"trigger_id"`
	ProfileID   string    `json:"profile_id"`
	FiringID    string    `json:"firing_id"`
	Action      string    `json:"action"`
	ActionIndex int       `json:"action_index"`
	Error       string    `json:"error"`
	At          time.Time `json:"at"`
	Pending     Pending   `json:"pending"`
}

// Pending is a firing on its way: scheduled until Due when the trigger
// has a delay, immediate otherwise. It is what EventBridge Scheduler hands
// back to functions/triggers.
type Pending struct {
	TriggerID string       `json:"trigger_id"`
	ProfileID string       `json:"profile_id"`
	Cause     events.Cause `json:"cause"`
	// Detail is the causing event's detail; templates and conditions see
	// it as event.
	Detail json.RawMessage `json:"detail,omitempty"`
	// Due is when the firing happens (the cause's time plus the delay).
	Due time.Time `json:"due"`
}

// FiringID is stable for the trigger, profile and causing event. It is
// also the id of the firing's TriggerFired event.
func (p Pending) FiringID() string {
	return events.StableID(events.TypeTriggerFired, p.TriggerID, p.ProfileID, p.Cause.EventID)
}

// Deps are the engine's collaborators. Profiles and State are required;
// the others are required by the triggers that use them: Scheduler by
// delays, Actions by every action (it builds them by kind), DeadLetters by
// actions that deliver after the firing (all but Staged ones).
type Deps struct {
	Profiles    Profiles
	State       State
	Scheduler   Scheduler
	Actions     *destination.Registry
	DeadLetters DeadLetterSink
}

// Options tune the engine.
type Options struct {
	// Clock; default time.Now.
	Clock func() time.Time
	// Logger receives trigger and profile ids, never personal data.
	Logger *slog.Logger
	// FiredTTL is how long firing keys are kept (re-deliveries within it
	// fire nothing); default 30 days, and never less than a trigger's
	// delay plus its cap window.
	FiredTTL time.Duration
	// Lease is how long a claimed firing whose actions have not finished
	// blocks other deliveries; after it a re-delivery runs the actions
	// again. Default 5 minutes.
	Lease time.Duration
	// Exclusive says this engine is the only one using its store (local
	// mode, which holds the store's file lock): a firing still claimed
	// from before the engine started was left by a process that died in
	// its actions, and is taken over at once instead of after the lease.
	Exclusive bool
	// Account and Region fill the EventBridge event built from an
	// envelope for pattern matching (Handle); defaults as the local bus.
	Account, Region string
}

// Engine executes triggers.
type Engine struct {
	deps     Deps
	opts     Options
	started  time.Time // when New ran, by opts.Clock
	triggers map[string]*compiled
	order    []*compiled
	log      *slog.Logger
}

type compiled struct {
	cfg     *config.Trigger
	when    *pattern.Pattern
	unless  *pattern.Pattern
	cond    *condition
	delay   time.Duration
	capMax  int
	capPer  time.Duration
	actions []action
	work    bool // has actions delivered after the claim (not Staged)
}

// action is one built action of a trigger.
type action struct {
	kind   string
	act    destination.Action
	body   *destination.Template // nil: the default body
	staged destination.Staged    // non-nil: committed with the claim
}

// New compiles triggers; their actions are built by d.Actions, so an
// action of a kind not registered there is an error. Errors name the
// trigger and the key.
func New(triggers []config.Trigger, d Deps, opts Options) (*Engine, error) {
	if d.Profiles == nil || d.State == nil {
		return nil, fmt.Errorf("trigger: the engine needs profiles and state")
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.FiredTTL <= 0 {
		opts.FiredTTL = DefaultFiredTTL
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.Account == "" {
		opts.Account = DefaultAccount
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	e := &Engine{deps: d, opts: opts, started: opts.Clock(), triggers: map[string]*compiled{}, log: opts.Logger}
	var errs []error
	for i := range triggers {
		t := &triggers[i]
		c, err := compile(t, d)
		if err != nil {
			errs = append(errs, fmt.Errorf("triggers[%d] (%s).%w", i, t.ID, err))
			continue
		}
		e.triggers[t.ID] = c
		e.order = append(e.order, c)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("trigger: %w: %w", fault.ErrInvalid, errors.Join(errs...))
	}
	return e, nil
}

func compile(t *config.Trigger, d Deps) (*compiled, error) {
	c := &compiled{cfg: t}
	pat, err := WhenPattern(t)
	if err != nil {
		return nil, fmt.Errorf("when: %w", err)
	}
	if c.when, err = pattern.Parse(pat); err != nil {
		return nil, fmt.Errorf("when: %w", err)
	}
	if t.Unless != nil {
		if c.unless, err = t.Unless.Compile(); err != nil {
			return nil, fmt.Errorf("unless: %w", err)
		}
	}
	if strings.TrimSpace(t.If) != "" {
		if c.cond, err = compileCondition(t.If); err != nil {
			return nil, fmt.Errorf("if: %w", err)
		}
	}
	if t.Delay != "" {
		if c.delay, err = config.ParseDuration(t.Delay); err != nil {
			return nil, fmt.Errorf("delay: %w", err)
		}
		if d.Scheduler == nil {
			return nil, fmt.Errorf("delay: no scheduler configured")
		}
	}
	if t.Cap != nil {
		if c.capPer, err = config.ParseDuration(t.Cap.Per); err != nil {
			return nil, fmt.Errorf("cap.per: %w", err)
		}
		c.capMax = t.Cap.Max
		if c.capMax < 1 {
			return nil, fmt.Errorf("cap.max: %d; expected at least 1", c.capMax)
		}
	}
	for j, a := range t.Actions {
		act, err := buildAction(d.Actions, fmt.Sprintf("actions[%d]", j), a)
		if err != nil {
			return nil, err
		}
		c.actions = append(c.actions, act)
		c.work = c.work || act.staged == nil
	}
	if c.work && d.DeadLetters == nil {
		return nil, fmt.Errorf("actions: no dead-letter sink configured")
	}
	return c, nil
}

// buildAction builds a through the registry and parses its body template.
func buildAction(reg *destination.Registry, path string, a config.TriggerAction) (action, error) {
	act, err := reg.Build(path, a)
	if err != nil {
		return action{}, err
	}
	out := action{kind: a.Kind(), act: act}
	out.staged, _ = act.(destination.Staged)
	if t, ok := act.(destination.Templated); ok && t.BodyTemplate() != "" {
		if out.body, err = destination.ParseTemplate(t.BodyTemplate()); err != nil {
			return action{}, fmt.Errorf("%s.%s.body: %w", path, out.kind, err)
		}
	}
	return out, nil
}

// WhenPattern returns the EventBridge event pattern of a trigger's when:
// the rule that routes its events to functions/triggers.
func WhenPattern(t *config.Trigger) ([]byte, error) {
	w := t.When
	var p map[string]any
	switch {
	case w.SegmentEntered != "":
		p = aurumPattern(events.TypeSegmentEntered, "segment_id", w.SegmentEntered)
	case w.SegmentExited != "":
		p = aurumPattern(events.TypeSegmentExited, "segment_id", w.SegmentExited)
	case w.AttributeChanged != "":
		p = aurumPattern(events.TypeProfileUpdated, "changed_attributes", w.AttributeChanged)
	case w.Event != nil:
		p = w.Event
	default:
		return nil, fault.Invalidf("trigger %s: when is empty", t.ID)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("trigger %s: encode pattern: %w", t.ID, err)
	}
	return b, nil
}

// RulePatterns returns the patterns of the EventBridge rules that must
// route events to functions/triggers for t: its when and, if set, its
// unless (cancellations must reach the function too).
func RulePatterns(t *config.Trigger) ([][]byte, error) {
	when, err := WhenPattern(t)
	if err != nil {
		return nil, err
	}
	out := [][]byte{when}
	if t.Unless != nil {
		u, err := t.Unless.JSON()
		if err != nil {
			return nil, fmt.Errorf("trigger %s: encode unless: %w", t.ID, err)
		}
		out = append(out, u)
	}
	return out, nil
}

func aurumPattern(detailType, field, value string) map[string]any {
	return map[string]any{
		"source":      []any{events.Source},
		"detail-type": []any{detailType},
		"detail":      map[string]any{field: []any{value}},
	}
}
