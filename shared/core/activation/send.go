package activation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// KindForwarded is the item kind of forwarded-event markers: key the
// profile id, sort destination|source/event id.
const KindForwarded = "act.fwd"

// Stats are one destination's counts since the runner started, in items
// (events, profiles, members).
type Stats struct {
	// Delivered items the tool accepted.
	Delivered int64 `json:"delivered"`
	// Rejected items the tool refused for good (Result.Rejected).
	Rejected int64 `json:"rejected"`
	// Failed items of batches whose delivery failed.
	Failed int64 `json:"failed"`
	// Skipped items by reason: consent:<purpose>, no_profile.
	Skipped map[string]int64 `json:"skipped,omitempty"`
	// Batches delivered.
	Batches int64 `json:"batches"`
}

func newStats() *Stats { return &Stats{Skipped: map[string]int64{}} }

// Stats returns a copy of every destination's counts.
func (r *Runner) Stats() map[string]Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]Stats, len(r.stats))
	for n, s := range r.stats {
		c := *s
		c.Skipped = maps.Clone(s.Skipped)
		out[n] = c
	}
	return out
}

func (r *Runner) count(d *dest, fn func(s *Stats)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r.stats[d.cfg.Name])
}

func (r *Runner) skip(d *dest, reason string, n int) {
	r.count(d, func(s *Stats) { s.Skipped[reason] += int64(n) })
	r.log.Debug("activation: skipped", slog.String("destination", d.cfg.Name), slog.String("reason", reason), slog.Int("items", n))
}

// mark is a forwarded tracked event.
type mark struct{ profileID, dest, event string }

func (m mark) sort() string { return m.dest + "|" + m.event }

func (r *Runner) forwarded(ctx context.Context, m mark) (bool, error) {
	_, err := r.deps.State.Item(ctx, KindForwarded, m.profileID, m.sort())
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fault.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("activation: read forwarded marker: %w", err)
}

func (r *Runner) markForwarded(ctx context.Context, ms []mark) error {
	if len(ms) == 0 {
		return nil
	}
	exp := r.opts.Clock().Add(r.opts.ForwardedTTL)
	for chunk := range slices.Chunk(ms, 25) {
		var ch store.Change
		for _, m := range chunk {
			ch.Items = append(ch.Items, store.ItemWrite{Op: store.ItemPut, Item: store.Item{
				Kind: KindForwarded, Key: m.profileID, Sort: m.sort(), Value: []byte(`{}`), Expires: exp,
			}})
		}
		if err := r.deps.State.Commit(ctx, ch); err != nil {
			return fmt.Errorf("activation: mark forwarded events: %w", err)
		}
	}
	return nil
}

// flush delivers every plan, destination by destination in
// configuration order; a destination's failure does not stop the others.
func (w *work) flush(ctx context.Context) error {
	var errs []error
	for _, d := range w.dests() {
		pl := w.plans[d]
		if pl == nil {
			continue
		}
		if err := w.r.deliverPlan(ctx, d, pl); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *Runner) deliverPlan(ctx context.Context, d *dest, pl *plan) error {
	name := d.cfg.Name
	for i := 0; i < len(pl.events); i += d.maxEv {
		evs := pl.events[i:min(i+d.maxEv, len(pl.events))]
		ids := make([]string, len(evs))
		for j, e := range evs {
			ids[j] = e.ID
		}
		b := destination.Batch{Op: destination.OpEvents, Events: &destination.EventBatch{ID: batchID(name, destination.OpEvents, "", ids), Events: evs}}
		if err := r.send(ctx, d, b); err != nil {
			return err
		}
		if err := r.markForwarded(ctx, marksOf(pl.marks, evs)); err != nil {
			return err
		}
	}
	for i := 0; i < len(pl.members); i += d.maxProf {
		j := min(i+d.maxProf, len(pl.members))
		b := destination.Batch{Op: destination.OpProfiles, Profiles: &destination.ProfileBatch{
			ID: batchID(name, destination.OpProfiles, "", pl.keys[i:j]), Members: pl.members[i:j]}}
		if err := r.send(ctx, d, b); err != nil {
			return err
		}
	}
	for _, seg := range slices.Sorted(maps.Keys(pl.aud)) {
		a := pl.aud[seg]
		if err := r.sendAudience(ctx, d, seg, a.changes(), false); err != nil {
			return err
		}
	}
	return nil
}

// change is one member's audience change.
type change struct {
	m   destination.Member
	add bool
}

func (a *audPlan) changes() []change {
	out := make([]change, 0, len(a.order))
	for _, id := range a.order {
		if m, ok := a.add[id]; ok {
			out = append(out, change{m, true})
		} else if m, ok := a.rm[id]; ok {
			out = append(out, change{m, false})
		}
	}
	return out
}

// sendAudience sends changes of one segment in batches of the kind's
// member limit.
func (r *Runner) sendAudience(ctx context.Context, d *dest, seg string, cs []change, full bool) error {
	name, audience := d.cfg.Name, d.cfg.Audiences.AudienceName(seg)
	for chunk := range slices.Chunk(cs, d.maxMem) {
		c := destination.AudienceChange{Audience: audience, Full: full}
		keys := make([]string, 0, len(chunk))
		for _, ch := range chunk {
			if ch.add {
				c.Add = append(c.Add, ch.m)
				keys = append(keys, "+"+ch.m.ProfileID)
			} else {
				c.Remove = append(c.Remove, ch.m)
				keys = append(keys, "-"+ch.m.ProfileID)
			}
		}
		op := destination.OpAudience
		if full {
			op += "/full"
		}
		c.ID = batchID(name, op, audience, keys)
		if err := r.send(ctx, d, destination.Batch{Op: destination.OpAudience, Audience: &c}); err != nil {
			return err
		}
	}
	return nil
}

func marksOf(all []mark, evs []destination.Event) []mark {
	ids := map[string]bool{}
	for _, e := range evs {
		ids[e.ID] = true
	}
	var out []mark
	for _, m := range all {
		source, id, _ := cutLast(m.event)
		if ids[events.StableID("forward", source, id)] {
			out = append(out, m)
		}
	}
	return out
}

func cutLast(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// batchID is derived from the destination, the operation and the items,
// so the same items always make the same batch id.
func batchID(dest, op, audience string, keys []string) string {
	return events.StableID(append([]string{"batch", dest, op, audience}, keys...)...)
}

// send delivers one batch through the Deliverer, within the rate limit.
func (r *Runner) send(ctx context.Context, d *dest, b destination.Batch) error {
	if err := d.limit.wait(ctx); err != nil {
		return err
	}
	body, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("activation: %s: encode batch: %w", d.cfg.Name, err)
	}
	// Data also carries the batch itself, so the first attempt need not
	// decode the body it was just encoded into; a replay decodes Body.
	del := destination.Delivery{ID: batchIDOf(b), Body: body, Data: map[string]any{"destination": d.cfg.Name, "op": b.Op, "batch": b}}
	if err := r.deps.Deliverer.Deliver(ctx, d.cfg.Name, d.action, del); err != nil {
		n := b.Size()
		r.count(d, func(s *Stats) { s.Failed += int64(n) })
		r.log.ErrorContext(ctx, "activation: delivery failed", slog.String("destination", d.cfg.Name),
			slog.String("batch", del.ID), slog.String("op", b.Op), slog.Int("items", n), slog.String("error", err.Error()))
		return fmt.Errorf("activation: %s: batch %s: %w", d.cfg.Name, del.ID, err)
	}
	return nil
}

func batchIDOf(b destination.Batch) string {
	switch {
	case b.Events != nil:
		return b.Events.ID
	case b.Profiles != nil:
		return b.Profiles.ID
	case b.Audience != nil:
		return b.Audience.ID
	}
	return ""
}

// batchAction is a destination as a destination.Action: it delivers the
// destination.Batch in Delivery.Body to the kind and counts the result.
type batchAction struct {
	r *Runner
	d *dest
}

// Deliver implements destination.Action.
func (a *batchAction) Deliver(ctx context.Context, del destination.Delivery) error {
	b, ok := del.Data["batch"].(destination.Batch)
	if !ok || batchIDOf(b) != del.ID {
		b = destination.Batch{}
		if err := json.Unmarshal(del.Body, &b); err != nil {
			return fault.Invalidf("activation: %s: delivery %s is not a batch: %v", a.d.cfg.Name, del.ID, err)
		}
	}
	var res destination.Result
	var err error
	if a.d.sink.Action != nil {
		res, err = a.perItem(ctx, b)
	} else {
		res, err = a.batch(ctx, b)
	}
	if err != nil {
		return err
	}
	a.r.count(a.d, func(s *Stats) {
		s.Delivered += int64(res.Sent)
		s.Rejected += int64(len(res.Rejected))
		s.Batches++
	})
	for _, rj := range res.Rejected {
		a.r.log.WarnContext(ctx, "activation: item rejected", slog.String("destination", a.d.cfg.Name),
			slog.String("batch", del.ID), slog.String("profile_id", rj.ProfileID), slog.String("reason", rj.Reason))
	}
	return nil
}

func (a *batchAction) batch(ctx context.Context, b destination.Batch) (destination.Result, error) {
	s := a.d.sink
	switch {
	case b.Events != nil && s.Events != nil:
		return s.Events.ForwardEvents(ctx, *b.Events)
	case b.Profiles != nil && s.Profiles != nil:
		return s.Profiles.SyncProfiles(ctx, *b.Profiles)
	case b.Audience != nil && s.Audience != nil:
		return s.Audience.SyncAudience(ctx, *b.Audience)
	}
	return destination.Result{}, fault.Invalidf("activation: %s (kind %s) cannot receive a %s batch", a.d.cfg.Name, a.d.cfg.Kind, b.Op)
}

// perItem delivers each item of b to an action kind (webhook, sqs) as
// its own Delivery, whose id derives from the batch id and the item.
func (a *batchAction) perItem(ctx context.Context, b destination.Batch) (destination.Result, error) {
	items := itemsOf(b)
	for _, it := range items {
		body, err := json.Marshal(it.value)
		if err != nil {
			return destination.Result{}, fmt.Errorf("activation: encode item: %w", err)
		}
		data := map[string]any{"destination": map[string]any{"name": a.d.cfg.Name}, "op": b.Op}
		var generic map[string]any
		_ = json.Unmarshal(body, &generic)
		data["item"] = generic
		if a.d.body != nil {
			if body, err = a.d.body.Render(data); err != nil {
				return destination.Result{}, err
			}
		}
		del := destination.Delivery{ID: events.StableID(batchIDOf(b), it.key), ProfileID: it.profileID, Body: body, Data: data}
		if err := a.d.sink.Action.Deliver(ctx, del); err != nil {
			return destination.Result{}, err
		}
	}
	return destination.Result{Sent: len(items)}, nil
}

type item struct {
	key, profileID string
	value          any
}

// itemsOf lists a batch's items as action kinds receive them: an event,
// a profile, or {"audience", "action": add|remove, "member"}.
func itemsOf(b destination.Batch) []item {
	var out []item
	switch {
	case b.Events != nil:
		for _, e := range b.Events.Events {
			out = append(out, item{"e" + e.ID, e.Member.ProfileID, map[string]any{"type": "event", "event": e}})
		}
	case b.Profiles != nil:
		for _, m := range b.Profiles.Members {
			out = append(out, item{"p" + m.ProfileID, m.ProfileID, map[string]any{"type": "profile", "profile": m}})
		}
	case b.Audience != nil:
		for _, m := range b.Audience.Add {
			out = append(out, item{"+" + m.ProfileID, m.ProfileID, map[string]any{"type": "audience", "audience": b.Audience.Audience, "action": "add", "member": m}})
		}
		for _, m := range b.Audience.Remove {
			out = append(out, item{"-" + m.ProfileID, m.ProfileID, map[string]any{"type": "audience", "audience": b.Audience.Audience, "action": "remove", "member": m}})
		}
	}
	return out
}
