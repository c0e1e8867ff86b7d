package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/pattern"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// tsLayout renders times in fixed width so that they sort as strings.
const tsLayout = "2006-01-02T15:04:05.000000000Z"

func sortable(t time.Time) string { return t.UTC().Format(tsLayout) }

// Handle processes one event envelope from the bus: it is matched as the
// full EventBridge event the local bus builds (see HandleEvent).
func (e *Engine) Handle(ctx context.Context, env events.Envelope) error {
	raw, err := pattern.EventJSON(env, e.opts.Account, e.opts.Region, e.opts.Clock)
	if err != nil {
		return fmt.Errorf("trigger: %w", err)
	}
	return e.HandleEvent(ctx, raw)
}

// eventHead is what the engine reads of an EventBridge event.
type eventHead struct {
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       time.Time       `json:"time"`
	Detail     json.RawMessage `json:"detail"`
}

type detailHead struct {
	EventID   string `json:"event_id"`
	ProfileID string `json:"profile_id"`
	TriggerID string `json:"trigger_id"`
}

// HandleEvent processes one full EventBridge event (as a rule delivers
// it): every trigger whose unless matches records a cancellation for the
// event's profile, and every trigger whose when matches starts a firing,
// now or after its delay. The profile is the detail's profile_id; events
// without one are ignored. The cause's id is the detail's event_id (the
// stable id Aurum writes into every detail), else the event id.
//
// An error means the event should be delivered again; a re-delivered
// event never fires a trigger twice.
func (e *Engine) HandleEvent(ctx context.Context, raw []byte) error {
	var h eventHead
	if err := json.Unmarshal(raw, &h); err != nil {
		return fault.Invalidf("trigger: event is not an EventBridge event: %v", err)
	}
	var d detailHead
	if len(h.Detail) > 0 {
		if err := json.Unmarshal(h.Detail, &d); err != nil {
			return fault.Invalidf("trigger: event %s: detail is not an object: %v", h.ID, err)
		}
	}
	if d.ProfileID == "" {
		e.log.DebugContext(ctx, "trigger: event without profile_id ignored", slog.String("event_id", h.ID), slog.String("detail_type", h.DetailType))
		return nil
	}
	if h.Time.IsZero() {
		h.Time = e.opts.Clock()
	}
	cause := events.Cause{EventID: d.EventID, Source: h.Source, DetailType: h.DetailType, Time: h.Time.UTC()}
	if cause.EventID == "" {
		cause.EventID = h.ID
	}
	flat, err := pattern.Flatten(raw) // once for every trigger's patterns
	if err != nil {
		return fault.Invalidf("trigger: event %s: %v", h.ID, err)
	}
	var errs []error
	for _, c := range e.order {
		if c.unless == nil {
			continue
		}
		ok, err := c.unless.MatchFlat(flat)
		if err != nil {
			e.log.WarnContext(ctx, "trigger: unless pattern failed", slog.String("trigger", c.cfg.ID), slog.String("error", err.Error()))
			continue
		}
		if ok {
			errs = append(errs, e.cancel(ctx, c, d.ProfileID, cause))
		}
	}
	for _, c := range e.order {
		ok, err := c.when.MatchFlat(flat)
		if err != nil {
			e.log.WarnContext(ctx, "trigger: when pattern failed", slog.String("trigger", c.cfg.ID), slog.String("error", err.Error()))
			continue
		}
		if !ok {
			continue
		}
		if h.DetailType == events.TypeTriggerFired && h.Source == events.Source && d.TriggerID == c.cfg.ID {
			continue // a trigger never restarts itself
		}
		p := Pending{TriggerID: c.cfg.ID, ProfileID: d.ProfileID, Cause: cause, Detail: h.Detail, Due: cause.Time.Add(c.delay)}
		if c.delay > 0 && p.Due.After(e.opts.Clock()) {
			if err := e.deps.Scheduler.Schedule(ctx, p); err != nil {
				errs = append(errs, fmt.Errorf("trigger %s: schedule firing %s: %w", c.cfg.ID, p.FiringID(), err))
				continue
			}
			e.log.InfoContext(ctx, "trigger: firing scheduled", slog.String("trigger", c.cfg.ID), slog.String("profile_id", p.ProfileID),
				slog.String("firing_id", p.FiringID()), slog.Time("due", p.Due))
			continue
		}
		errs = append(errs, e.Fire(ctx, p))
	}
	return errors.Join(errs...)
}

// cancel records that an unless event happened for the profile; delayed
// firings whose wait covers its time find it and do not fire.
func (e *Engine) cancel(ctx context.Context, c *compiled, profileID string, cause events.Cause) error {
	it := store.Item{
		Kind:    KindUnless,
		Key:     c.cfg.ID + "/" + profileID,
		Sort:    sortable(cause.Time) + "#" + cause.EventID,
		Expires: cause.Time.Add(c.delay + 24*time.Hour),
	}
	if err := e.deps.State.Commit(ctx, store.Change{Items: []store.ItemWrite{{Op: store.ItemPut, Item: it}}}); err != nil {
		return fmt.Errorf("trigger %s: record cancellation: %w", c.cfg.ID, err)
	}
	e.log.InfoContext(ctx, "trigger: cancellation recorded", slog.String("trigger", c.cfg.ID), slog.String("profile_id", profileID))
	return nil
}

// cancelled reports whether an unless event of the profile happened
// between the cause and the due time.
func (e *Engine) cancelled(ctx context.Context, c *compiled, p Pending, liveID string) (bool, error) {
	from, to := sortable(p.Cause.Time), sortable(p.Due.Add(time.Nanosecond))
	ids := []string{p.ProfileID}
	if liveID != "" && liveID != p.ProfileID {
		ids = append(ids, liveID)
	}
	for _, id := range ids {
		its, _, err := e.deps.State.Items(ctx, KindUnless, c.cfg.ID+"/"+id, from, to, 1, "")
		if err != nil {
			return false, fmt.Errorf("read cancellations: %w", err)
		}
		if len(its) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// Outcome says what became of a firing.
type Outcome string

// Outcomes of Fire.
const (
	Fired       Outcome = "fired"
	Duplicate   Outcome = "duplicate"
	Cancelled   Outcome = "cancelled"
	Capped      Outcome = "capped"
	ConditionNo Outcome = "condition_false"
	NoProfile   Outcome = "no_profile"
	NoTrigger   Outcome = "unknown_trigger"
)

// Fire carries out a firing that is due: the unless check, the condition
// on the current profile, the frequency cap, the at-most-once claim and
// the actions. Scheduled firings come back here.
func (e *Engine) Fire(ctx context.Context, p Pending) error {
	_, err := e.FireOutcome(ctx, p)
	return err
}

// FireOutcome is Fire that also reports what happened.
func (e *Engine) FireOutcome(ctx context.Context, p Pending) (Outcome, error) {
	out, err := e.fire(ctx, p)
	attrs := []any{slog.String("trigger", p.TriggerID), slog.String("profile_id", p.ProfileID),
		slog.String("firing_id", p.FiringID()), slog.String("outcome", string(out))}
	if err != nil {
		e.log.WarnContext(ctx, "trigger: firing failed", append(attrs, slog.String("error", err.Error()))...)
		return out, err
	}
	e.log.InfoContext(ctx, "trigger: firing", attrs...)
	return out, nil
}

func (e *Engine) fire(ctx context.Context, p Pending) (Outcome, error) {
	c, ok := e.triggers[p.TriggerID]
	if !ok {
		return NoTrigger, nil // removed from the configuration since
	}
	prof, err := e.deps.Profiles.Profile(ctx, p.ProfileID)
	if errors.Is(err, fault.ErrNotFound) {
		return NoProfile, nil
	}
	if err != nil {
		return "", fmt.Errorf("trigger %s: read profile %s: %w", c.cfg.ID, p.ProfileID, err)
	}
	if c.unless != nil {
		stop, err := e.cancelled(ctx, c, p, prof.ID)
		if err != nil {
			return "", fmt.Errorf("trigger %s: %w", c.cfg.ID, err)
		}
		if stop {
			return Cancelled, nil
		}
	}
	var detail map[string]any
	if len(p.Detail) > 0 {
		if err := json.Unmarshal(p.Detail, &detail); err != nil {
			return "", fault.Invalidf("trigger %s: cause detail is not an object", c.cfg.ID)
		}
	}
	now := e.opts.Clock().UTC()
	if c.cond != nil {
		ok, err := c.cond.eval(&prof, now, detail)
		if err != nil {
			e.log.WarnContext(ctx, "trigger: condition failed; treated as false", slog.String("trigger", c.cfg.ID),
				slog.String("profile_id", p.ProfileID), slog.String("error", err.Error()))
		}
		if !ok {
			return ConditionNo, nil
		}
	}
	fired := events.TriggerFired{
		Version: events.SchemaVersion, TriggerID: c.cfg.ID, ProfileID: prof.ID,
		FiringID: p.FiringID(), Cause: p.Cause, FiredAt: now,
	}
	d, err := delivery(c, p, prof, detail, fired)
	if err != nil {
		return "", err
	}
	out, err := e.claim(ctx, c, p, d, now)
	if err != nil || out != Fired {
		return out, err
	}
	if c.work {
		if err := e.act(ctx, c, p, d); err != nil {
			return "", err
		}
		e.done(ctx, p.FiringID())
	}
	return Fired, nil
}

// delivery is what the firing's actions receive: the firing id as the
// idempotency id, the TriggerFired detail as the default body and as the
// event (whose id is the firing id, so that subscribers and webhook
// receivers de-duplicate on one value), and the template data.
func delivery(c *compiled, p Pending, prof profile.Profile, detail map[string]any, fired events.TriggerFired) (destination.Delivery, error) {
	body, err := json.Marshal(fired)
	if err != nil {
		return destination.Delivery{}, fmt.Errorf("trigger %s: encode firing: %w", c.cfg.ID, err)
	}
	env, err := events.New(events.TypeTriggerFired, fired.FiredAt, fired, p.TriggerID, p.ProfileID, p.Cause.EventID)
	if err != nil {
		return destination.Delivery{}, fmt.Errorf("trigger %s: %w", c.cfg.ID, err)
	}
	return destination.Delivery{
		ID: fired.FiringID, ProfileID: fired.ProfileID, Body: body, Event: env,
		Data: map[string]any{
			"profile": ProfileValue(prof),
			"event":   detail,
			"trigger": map[string]any{"id": c.cfg.ID, "description": c.cfg.Description},
			"firing":  fired,
		},
	}, nil
}

// firedState is the value of a trg.fired item.
type firedState struct {
	State string    `json:"state"` // pending (actions running), done, capped
	At    time.Time `json:"at"`
}

// claim makes the firing happen at most once: it creates the firing's
// item, counts it against the cap and writes the Staged actions' events
// (the event action's TriggerFired) to the outbox, all in one atomic
// change. It returns Duplicate when the firing happened before, Capped
// when the cap is reached, Fired when this call owns the firing's actions.
func (e *Engine) claim(ctx context.Context, c *compiled, p Pending, d destination.Delivery, now time.Time) (Outcome, error) {
	id := p.FiringID()
	ttl := max(e.opts.FiredTTL, c.delay+c.capPer+24*time.Hour)
	for attempt := 1; ; attempt++ {
		existing, err := e.deps.State.Item(ctx, KindFired, id, "F")
		switch {
		case err == nil:
			var st firedState
			_ = json.Unmarshal(existing.Value, &st)
			if st.State != "pending" {
				return Duplicate, nil
			}
			orphaned := e.opts.Exclusive && st.At.Before(e.started)
			if !orphaned && now.Sub(st.At) < e.opts.Lease {
				return "", fmt.Errorf("trigger %s: firing %s is in progress elsewhere: %w", c.cfg.ID, id, fault.ErrRetryable)
			}
			// The previous owner did not finish: take over and run the
			// actions again (receivers de-duplicate on the firing id).
			val, _ := json.Marshal(firedState{State: "pending", At: now})
			err := e.deps.State.Commit(ctx, store.Change{Items: []store.ItemWrite{{
				Op: store.ItemReplace, ExpectVersion: existing.Version,
				Item: store.Item{Kind: KindFired, Key: id, Sort: "F", Value: val, Expires: existing.Expires},
			}}})
			if err == nil {
				return Fired, nil
			}
			if !errors.Is(err, fault.ErrConflict) {
				return "", fmt.Errorf("trigger %s: take over firing %s: %w", c.cfg.ID, id, err)
			}
		case errors.Is(err, fault.ErrNotFound):
			ch, capped, err := e.claimChange(ctx, c, p, d, now, ttl)
			if err != nil {
				return "", err
			}
			err = e.deps.State.Commit(ctx, ch)
			if err == nil {
				if capped {
					return Capped, nil
				}
				return Fired, nil
			}
			if !errors.Is(err, fault.ErrConflict) {
				return "", fmt.Errorf("trigger %s: claim firing %s: %w", c.cfg.ID, id, err)
			}
		default:
			return "", fmt.Errorf("trigger %s: read firing %s: %w", c.cfg.ID, id, err)
		}
		if attempt == 10 {
			return "", fmt.Errorf("trigger %s: claim firing %s: still conflicting after %d attempts: %w", c.cfg.ID, id, attempt, fault.ErrRetryable)
		}
	}
}

// claimChange builds the change that claims a firing. The cap is a
// sliding window: one log item per firing, expiring after the window, and
// a head item whose version serializes concurrent claims for the same
// trigger and profile.
func (e *Engine) claimChange(ctx context.Context, c *compiled, p Pending, d destination.Delivery, now time.Time, ttl time.Duration) (store.Change, bool, error) {
	id := p.FiringID()
	state := "done"
	if c.work {
		state = "pending"
	}
	var ch store.Change
	if c.capMax > 0 {
		key := c.cfg.ID + "/" + d.ProfileID
		head, err := e.deps.State.Item(ctx, KindCap, key, "head")
		if err != nil && !errors.Is(err, fault.ErrNotFound) {
			return ch, false, fmt.Errorf("trigger %s: read cap: %w", c.cfg.ID, err)
		}
		its, _, err := e.deps.State.Items(ctx, KindCap, key, "t#"+sortable(now.Add(-c.capPer)), "t#~", c.capMax+1, "")
		if err != nil {
			return ch, false, fmt.Errorf("trigger %s: read cap: %w", c.cfg.ID, err)
		}
		n := 0
		for _, it := range its {
			if it.Expires.IsZero() || it.Expires.After(now) {
				n++
			}
		}
		if n >= c.capMax {
			// Remember the decision, so a re-delivery later (when the
			// window has room) does not fire it after all.
			val, _ := json.Marshal(firedState{State: "capped", At: now})
			ch.Items = append(ch.Items, store.ItemWrite{Op: store.ItemCreate,
				Item: store.Item{Kind: KindFired, Key: id, Sort: "F", Value: val, Expires: now.Add(ttl)}})
			return ch, true, nil
		}
		hw := store.ItemWrite{Op: store.ItemReplace, ExpectVersion: head.Version,
			Item: store.Item{Kind: KindCap, Key: key, Sort: "head", Expires: now.Add(c.capPer)}}
		if head.Version == 0 {
			hw.Op = store.ItemCreate
		}
		ch.Items = append(ch.Items, hw, store.ItemWrite{Op: store.ItemPut,
			Item: store.Item{Kind: KindCap, Key: key, Sort: "t#" + sortable(now) + "#" + id, Expires: now.Add(c.capPer)}})
	}
	val, _ := json.Marshal(firedState{State: state, At: now})
	ch.Items = append(ch.Items, store.ItemWrite{Op: store.ItemCreate,
		Item: store.Item{Kind: KindFired, Key: id, Sort: "F", Value: val, Expires: now.Add(ttl)}})
	for j, a := range c.actions {
		if a.staged == nil {
			continue
		}
		envs, err := a.staged.Stage(d)
		if err != nil {
			return ch, false, fmt.Errorf("trigger %s: actions[%d].%s: %w", c.cfg.ID, j, a.kind, err)
		}
		for _, env := range envs {
			if !slices.ContainsFunc(ch.Outbox, func(o events.Envelope) bool { return o.ID == env.ID }) {
				ch.Outbox = append(ch.Outbox, env) // two event actions publish once
			}
		}
	}
	return ch, false, nil
}

// done marks a claimed firing's actions finished. A failure only means a
// later re-delivery after the lease runs the actions again.
func (e *Engine) done(ctx context.Context, id string) {
	it, err := e.deps.State.Item(ctx, KindFired, id, "F")
	if err == nil {
		val, _ := json.Marshal(firedState{State: "done", At: e.opts.Clock().UTC()})
		err = e.deps.State.Commit(ctx, store.Change{Items: []store.ItemWrite{{
			Op: store.ItemReplace, ExpectVersion: it.Version,
			Item: store.Item{Kind: KindFired, Key: id, Sort: "F", Value: val, Expires: it.Expires},
		}}})
	}
	if err != nil {
		e.log.WarnContext(ctx, "trigger: could not mark firing done", slog.String("firing_id", id), slog.String("error", err.Error()))
	}
}

// act runs the actions that deliver after the claim, in order. An action
// that fails for good goes to the dead-letter sink under its kind and
// index; only a failing sink is an error (the firing stays pending and a
// re-delivery after the lease retries).
func (e *Engine) act(ctx context.Context, c *compiled, p Pending, d destination.Delivery) error {
	for j, a := range c.actions {
		if a.staged != nil {
			continue
		}
		err := deliver(ctx, a, d)
		if err == nil {
			continue
		}
		dl := DeadLetter{TriggerID: c.cfg.ID, ProfileID: d.ProfileID, FiringID: d.ID,
			Action: a.kind, ActionIndex: j, Error: err.Error(), At: e.opts.Clock().UTC(), Pending: p}
		e.log.ErrorContext(ctx, "trigger: action failed; dead-lettered", slog.String("trigger", c.cfg.ID),
			slog.String("firing_id", d.ID), slog.String("action", a.kind), slog.Int("index", j), slog.String("error", err.Error()))
		if err := e.deps.DeadLetters.DeadLetter(ctx, dl); err != nil {
			return fmt.Errorf("trigger %s: dead-letter action %d: %w", c.cfg.ID, j, err)
		}
	}
	return nil
}

// deliver renders the action's body template, if it has one, and
// delivers.
func deliver(ctx context.Context, a action, d destination.Delivery) error {
	if a.body != nil {
		body, err := a.body.Render(d.Data)
		if err != nil {
			return err
		}
		d.Body = body
	}
	return a.act.Deliver(ctx, d)
}
