package activation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/pattern"
)

// Handle processes one event from the bus (local mode's subscriber).
func (r *Runner) Handle(ctx context.Context, env events.Envelope) error {
	return r.HandleBatch(ctx, []events.Envelope{env})
}

// HandleBatch processes events as one unit: what they bring each
// destination is batched within the kind's limits and delivered before
// it returns (an SQS batch is acknowledged only then). An error means
// some batch was not delivered; delivering the same events again yields
// the same batches, with the same ids.
func (r *Runner) HandleBatch(ctx context.Context, envs []events.Envelope) error {
	if len(r.dests) == 0 {
		return nil
	}
	return r.handle(ctx, nil, envs)
}

// HandleFor processes one event for the named destination only (in AWS
// each destination's rule names it, so an event two destinations need
// is handled once for each).
func (r *Runner) HandleFor(ctx context.Context, name string, env events.Envelope) error {
	d, ok := r.named[name]
	if !ok {
		return fault.Invalidf("activation: no destination %q", name)
	}
	return r.handle(ctx, d, []events.Envelope{env})
}

func (r *Runner) handle(ctx context.Context, only *dest, envs []events.Envelope) error {
	w := &work{r: r, only: only, profiles: map[string]profileResult{}, plans: map[*dest]*plan{}}
	for _, env := range envs {
		if err := w.route(ctx, env); err != nil {
			return err
		}
	}
	return w.flush(ctx)
}

// work is the batches being planned for one HandleBatch.
type work struct {
	r        *Runner
	only     *dest // nil: every destination
	profiles map[string]profileResult
	plans    map[*dest]*plan
}

type profileResult struct {
	p   profile.Profile
	err error
}

// plan is what one destination receives from one HandleBatch.
type plan struct {
	events  []destination.Event
	marks   []mark // forwarded tracked events, marked once delivered
	members []destination.Member
	keys    []string // members' content keys (profile id and version)
	seen    map[string]int
	aud     map[string]*audPlan
}

type audPlan struct {
	order []string // profile ids in arrival order
	add   map[string]destination.Member
	rm    map[string]destination.Member
}

type head struct {
	ProfileID string `json:"profile_id"`
	SegmentID string `json:"segment_id"`
}

// dests are the destinations this work is for.
func (w *work) dests() []*dest {
	if w.only != nil {
		return []*dest{w.only}
	}
	return w.r.dests
}

func (w *work) plan(d *dest) *plan {
	p := w.plans[d]
	if p == nil {
		p = &plan{seen: map[string]int{}, aud: map[string]*audPlan{}}
		w.plans[d] = p
	}
	return p
}

// route adds what env brings to each destination's plan.
func (w *work) route(ctx context.Context, env events.Envelope) error {
	var h head
	if len(env.Detail) > 0 {
		if err := json.Unmarshal(env.Detail, &h); err != nil {
			return fault.Invalidf("activation: event %s: detail is not an object: %v", env.ID, err)
		}
	}
	var flat *pattern.Flat
	for _, d := range w.dests() {
		if d.aurum == nil {
			continue
		}
		if flat == nil {
			raw, err := pattern.EventJSON(env, w.r.opts.Account, w.r.opts.Region, w.r.opts.Clock)
			if err != nil {
				return fmt.Errorf("activation: %w", err)
			}
			if flat, err = pattern.Flatten(raw); err != nil {
				return fmt.Errorf("activation: %w", err)
			}
		}
		ok, err := d.aurum.MatchFlat(flat)
		if err != nil {
			return fmt.Errorf("activation: %s: %w", d.cfg.Name, err)
		}
		if ok {
			if err := w.aurumEvent(ctx, d, env, h.ProfileID); err != nil {
				return err
			}
		}
	}
	if env.Source != events.Source || h.ProfileID == "" {
		return nil
	}
	switch env.DetailType {
	case events.TypeProfileUpdated:
		var pu events.ProfileUpdated
		if err := json.Unmarshal(env.Detail, &pu); err != nil {
			return fault.Invalidf("activation: event %s: %v", env.ID, err)
		}
		return w.profileUpdated(ctx, pu)
	case events.TypeSegmentEntered, events.TypeSegmentExited:
		return w.membership(ctx, h.ProfileID, h.SegmentID, env.DetailType == events.TypeSegmentEntered)
	}
	return nil
}

// profile loads a profile once per batch. A missing one is nil, false.
func (w *work) profile(ctx context.Context, id string) (profile.Profile, bool, error) {
	res, ok := w.profiles[id]
	if !ok {
		p, err := w.r.deps.Profiles.Profile(ctx, id)
		res = profileResult{p: p, err: err}
		w.profiles[id] = res
	}
	switch {
	case res.err == nil:
		return res.p, true, nil
	case errors.Is(res.err, fault.ErrNotFound):
		return profile.Profile{}, false, nil
	}
	return profile.Profile{}, false, fmt.Errorf("activation: profile %s: %w", id, res.err)
}

// consented loads the profile and checks d's purposes; a profile missing
// or without consent is counted as skipped (n items) and not sent.
func (w *work) consented(ctx context.Context, d *dest, id string, n int) (profile.Profile, bool, error) {
	p, ok, err := w.profile(ctx, id)
	if err != nil {
		return p, false, err
	}
	if !ok {
		w.r.skip(d, "no_profile", n)
		return p, false, nil
	}
	if ok, missing := grantedAll(p, d.cfg.Purposes); !ok {
		w.r.skip(d, "consent:"+missing, n)
		return p, false, nil
	}
	return p, true, nil
}

func (w *work) aurumEvent(ctx context.Context, d *dest, env events.Envelope, profileID string) error {
	var props map[string]any
	_ = json.Unmarshal(env.Detail, &props)
	ev := profile.Event{ID: env.ID, Name: env.DetailType, Timestamp: env.Time, Properties: props}
	if profileID == "" {
		if len(d.cfg.Purposes) > 0 {
			w.r.skip(d, "no_profile", 1)
			return nil
		}
		w.plan(d).events = append(w.plan(d).events, d.event(profile.Profile{}, ev))
		return nil
	}
	p, ok, err := w.consented(ctx, d, profileID, 1)
	if err != nil || !ok {
		return err
	}
	w.plan(d).events = append(w.plan(d).events, d.event(p, ev))
	return nil
}

func (w *work) profileUpdated(ctx context.Context, pu events.ProfileUpdated) error {
	for _, d := range w.dests() {
		sync := d.cfg.Profiles != nil && d.wantsChange(pu)
		names := d.trackedNames(pu.EventNames)
		if !sync && len(names) == 0 {
			continue
		}
		p, ok, err := w.consented(ctx, d, pu.ProfileID, 1)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		pl := w.plan(d)
		if sync {
			pl.addMember(d, p)
		}
		if err := w.tracked(ctx, d, pl, p, names); err != nil {
			return err
		}
	}
	return nil
}

// wantsChange reports whether a ProfileUpdated concerns d's profile
// sync: any change, or one of its attributes (a new profile and new
// identifiers always do).
func (d *dest) wantsChange(pu events.ProfileUpdated) bool {
	if len(d.attrs) == 0 || pu.Created || len(pu.NewIdentifiers) > 0 {
		return true
	}
	return slices.ContainsFunc(pu.Changed, func(a string) bool { return d.attrs[a] })
}

// trackedNames are the names of the update's events that d forwards.
func (d *dest) trackedNames(names []string) map[string]bool {
	out := map[string]bool{}
	for _, n := range names {
		if d.anyTrack || d.tracked[n] {
			out[n] = true
		}
	}
	return out
}

// tracked adds the profile's recent events of those names that d has
// not received yet.
func (w *work) tracked(ctx context.Context, d *dest, pl *plan, p profile.Profile, names map[string]bool) error {
	for _, e := range slices.Backward(p.RecentEvents) { // oldest first
		if !names[e.Name] {
			continue
		}
		m := mark{profileID: p.ID, dest: d.cfg.Name, event: e.Source + "/" + e.ID}
		done, err := w.r.forwarded(ctx, m)
		if err != nil {
			return err
		}
		if done || slices.Contains(pl.marks, m) {
			continue
		}
		ev := d.event(p, e)
		ev.ID = events.StableID("forward", e.Source, e.ID)
		pl.events = append(pl.events, ev)
		pl.marks = append(pl.marks, m)
	}
	return nil
}

// event is e as d receives it.
func (d *dest) event(p profile.Profile, e profile.Event) destination.Event {
	data := map[string]any{"event": map[string]any{
		"id": e.ID, "name": e.Name, "timestamp": e.Timestamp, "properties": e.Properties, "source": e.Source,
	}, "destination": map[string]any{"name": d.cfg.Name}}
	props := make(map[string]any, len(e.Properties))
	for k, v := range e.Properties {
		props[k] = v
	}
	var m destination.Member
	if p.ID != "" {
		data["profile"] = profileData(p)
		m = member(p, d.profMap, nil)
	}
	for k, v := range d.eventMap.apply(data) {
		props[k] = v
	}
	return destination.Event{ID: e.ID, Name: e.Name, Time: e.Timestamp, Properties: props, Member: m}
}

func (pl *plan) addMember(d *dest, p profile.Profile) {
	m := member(p, d.profMap, nil)
	key := fmt.Sprintf("%s@%d", p.ID, p.Version)
	if i, ok := pl.seen[p.ID]; ok {
		pl.members[i], pl.keys[i] = m, key
		return
	}
	pl.seen[p.ID] = len(pl.members)
	pl.members = append(pl.members, m)
	pl.keys = append(pl.keys, key)
}

// membership adds an audience change: an entry needs consent, an exit is
// always sent (leaving a tool's audience never needs consent).
func (w *work) membership(ctx context.Context, profileID, segmentID string, entered bool) error {
	for _, d := range w.dests() {
		if !d.segments[segmentID] {
			continue
		}
		var p profile.Profile
		var ok bool
		var err error
		if entered {
			p, ok, err = w.consented(ctx, d, profileID, 1)
		} else if p, ok, err = w.profile(ctx, profileID); err == nil && !ok {
			w.r.skip(d, "no_profile", 1)
		}
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		w.plan(d).audience(segmentID).set(member(p, d.audMap, nil), entered)
	}
	return nil
}

func (pl *plan) audience(seg string) *audPlan {
	a := pl.aud[seg]
	if a == nil {
		a = &audPlan{add: map[string]destination.Member{}, rm: map[string]destination.Member{}}
		pl.aud[seg] = a
	}
	return a
}

// set records the latest change of a member: an entry then an exit in
// one batch is an exit.
func (a *audPlan) set(m destination.Member, add bool) {
	if _, ok := a.add[m.ProfileID]; !ok {
		if _, ok := a.rm[m.ProfileID]; !ok {
			a.order = append(a.order, m.ProfileID)
		}
	}
	delete(a.add, m.ProfileID)
	delete(a.rm, m.ProfileID)
	if add {
		a.add[m.ProfileID] = m
	} else {
		a.rm[m.ProfileID] = m
	}
}
