package segment

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/profile"
)

// Defaults of the time analysis.
const (
	// DefaultRecheck is how often a profile is re-evaluated when one of
	// its segments uses now in a way the analysis cannot follow.
	DefaultRecheck = time.Hour
	// maxCandidates bounds the instants tried per segment and profile;
	// when more remain, the profile is re-evaluated at the last one tried.
	maxCandidates = 256
)

// Segment is one compiled segment.
type Segment struct {
	config.Segment
	prg *program
}

// Timed reports whether the segment's result can change with time alone.
func (s *Segment) Timed() bool { return s.prg.timed }

// Evaluator evaluates the configured segments. It is compiled once (per
// cold start) and safe for concurrent use.
type Evaluator struct {
	env      *cel.Env
	segments []*Segment
	byID     map[string]*Segment
	timed    []int // indexes of timed segments
	recheck  time.Duration
	rfm      atomic.Pointer[rfmModel]
	rfmCfg   *config.RFM
}

// Options tune an Evaluator.
type Options struct {
	// Recheck is the re-evaluation period of segments the time analysis
	// cannot follow; default DefaultRecheck.
	Recheck time.Duration
}

// New compiles the segments of cfg. Every expression is type-checked; the
// error lists every segment that does not compile (a *CompileError each,
// joined with errors.Join).
func New(cfg *config.Config, opts Options) (*Evaluator, error) {
	env, err := newEnv()
	if err != nil {
		return nil, err
	}
	e := &Evaluator{env: env, byID: map[string]*Segment{}, recheck: opts.Recheck, rfmCfg: cfg.RFM}
	if e.recheck <= 0 {
		e.recheck = DefaultRecheck
	}
	var errs []error
	for _, s := range cfg.Segments {
		if _, dup := e.byID[s.ID]; dup {
			errs = append(errs, fmt.Errorf("segment %q: duplicate id", s.ID))
			continue
		}
		p, err := compile(env, s.ID, s.Expr, false)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		seg := &Segment{Segment: s, prg: p}
		if p.timed {
			e.timed = append(e.timed, len(e.segments))
		}
		e.segments = append(e.segments, seg)
		e.byID[s.ID] = seg
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("segment: compile: %w", errors.Join(errs...))
	}
	if cfg.RFM != nil {
		e.rfm.Store(&rfmModel{cfg: *cfg.RFM})
	}
	return e, nil
}

// Segments returns the compiled segments in configuration order.
func (e *Evaluator) Segments() []*Segment { return e.segments }

// Segment returns the segment with the given id.
func (e *Evaluator) Segment(id string) (*Segment, bool) {
	s, ok := e.byID[id]
	return s, ok
}

// Membership is the outcome of evaluating every segment against a profile.
type Membership struct {
	// Segments maps the ids of the segments the profile is in to the time
	// it entered them: kept from the profile for segments it stays in,
	// the evaluation time for segments it enters.
	Segments map[string]time.Time
	// Errors holds the segments whose evaluation failed (a missing
	// attribute, a type mismatch, the cost limit): the profile is not a
	// member of them.
	Errors map[string]error
	// RFM is the profile's score at the evaluation time; nil without an
	// RFM model or without a recency value.
	RFM *profile.RFM
}

// Evaluate evaluates every segment against p at now. Segments are
// evaluated in configuration order, and profile.segments reflects the
// segments evaluated before, so a segment may refer to earlier ones.
//
// It also returns the next instant after now at which the memberships can
// change without any change to p — zero when no segment depends on time.
// See docs/segments.md for the method and its limits.
func (e *Evaluator) Evaluate(p *profile.Profile, now time.Time) (Membership, time.Time) {
	now = now.UTC()
	m, v, model := e.evaluate(p, now)
	return m, e.next(p, v, m, model, now)
}

// evaluate computes the memberships at now.
func (e *Evaluator) evaluate(p *profile.Profile, now time.Time) (Membership, *view, *rfmModel) {
	v := newView(p)
	m := Membership{Segments: make(map[string]time.Time, len(e.segments))}
	model := e.rfm.Load()
	m.RFM = model.score(p, now)
	v.setRFM(m.RFM)
	for id, since := range p.Segments {
		v.p.Segments[id] = since
	}
	act := &activation{profile: &v.p, events: &eventsVal{list: p.RecentEvents, now: now}, now: types.Timestamp{Time: now}}
	for _, s := range e.segments {
		ok, err := evalOne(s.prg, act)
		if err != nil {
			if m.Errors == nil {
				m.Errors = map[string]error{}
			}
			m.Errors[s.ID] = err
		}
		if ok {
			since, was := p.Segments[s.ID]
			if !was {
				since = now
			}
			m.Segments[s.ID] = since
			v.p.Segments[s.ID] = since
		} else {
			delete(v.p.Segments, s.ID)
		}
	}
	return m, v, model
}

// next finds the first instant after now at which a timed segment's result
// differs from its result at now: it tries the candidate instants — every
// timestamp of the profile and its events, and the constant instants of
// the expressions, shifted by the constant durations of the expressions
// (both ways) and by the RFM recency thresholds — in order, at the
// instant and one nanosecond after it.
func (e *Evaluator) next(p *profile.Profile, v *view, m Membership, model *rfmModel, now time.Time) time.Time {
	if len(e.timed) == 0 {
		return time.Time{}
	}
	var best time.Time
	periodic := false
	base := v.instants(p)
	// Candidate evaluations see the memberships at now.
	v.p.Segments = m.Segments
	for _, i := range e.timed {
		s := e.segments[i]
		if s.prg.periodic {
			periodic = true
		}
		cands := candidates(base, p, s.prg, m, model, now, best)
		if len(cands) == 0 {
			continue
		}
		_, cur := m.Segments[s.ID]
		limit := cands
		if len(limit) > maxCandidates {
			limit = limit[:maxCandidates]
		}
		found := time.Time{}
		for _, c := range limit {
			if c.After(now) && e.resultAt(s, p, v, model, c) != cur {
				found = c
				break
			}
			if c1 := c.Add(time.Nanosecond); e.resultAt(s, p, v, model, c1) != cur {
				found = c1
				break
			}
		}
		if found.IsZero() && len(cands) > maxCandidates {
			found = limit[len(limit)-1]
		}
		if !found.IsZero() && (best.IsZero() || found.Before(best)) {
			best = found
		}
	}
	if periodic {
		if r := now.Add(e.recheck); best.IsZero() || r.Before(best) {
			best = r
		}
	}
	return best
}

// resultAt evaluates one segment at instant t, with the memberships of m.
func (e *Evaluator) resultAt(s *Segment, p *profile.Profile, v *view, model *rfmModel, t time.Time) bool {
	if s.prg.usesRFM {
		v.setRFM(model.score(p, t))
	}
	act := &activation{profile: &v.p, events: &eventsVal{list: p.RecentEvents, now: t}, now: types.Timestamp{Time: t}}
	ok, _ := evalOne(s.prg, act)
	return ok
}

// candidates returns the sorted candidate instants of one segment that lie
// at or after now (and before bound, when set).
func candidates(base []time.Time, p *profile.Profile, prg *program, m Membership, model *rfmModel, now, bound time.Time) []time.Time {
	ts := slices.Clone(base)
	ts = append(ts, prg.instants...)
	if prg.usesSegments {
		for _, since := range m.Segments {
			ts = append(ts, since)
		}
	}
	if prg.usesEvents {
		for i := range p.RecentEvents {
			ev := &p.RecentEvents[i]
			if prg.allEvents || slices.Contains(prg.eventNames, ev.Name) {
				ts = append(ts, ev.Timestamp)
			}
		}
	}
	var out []time.Time
	add := func(t time.Time) {
		// An instant equal to now still matters: the result may change
		// one nanosecond after it.
		if !t.Before(now) && (bound.IsZero() || t.Before(bound)) {
			out = append(out, t)
		}
	}
	for _, t := range ts {
		add(t)
		for _, d := range prg.durations {
			add(t.Add(d))
			add(t.Add(-d))
		}
	}
	if prg.usesRFM {
		for _, t := range model.instants(p) {
			add(t)
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return slices.CompactFunc(out, func(a, b time.Time) bool { return a.Equal(b) })
}

// evalOne runs one program; a runtime error or a non-bool result counts as
// not a member.
func evalOne(prg *program, act interpreter.Activation) (bool, error) {
	out, _, err := prg.prg.Eval(act)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, errNotBool
	}
	return bool(b), nil
}

// activation resolves the three variables without a map.
type activation struct {
	profile *celProfile
	events  *eventsVal
	now     types.Timestamp
}

// ResolveName implements interpreter.Activation.
func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "profile":
		return a.profile, true
	case "events":
		return a.events, true
	case "now":
		return a.now, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a *activation) Parent() interpreter.Activation { return nil }

// view is a profile converted once for evaluation.
type view struct {
	p celProfile
}

func newView(p *profile.Profile) *view {
	v := &view{p: celProfile{
		ID:          p.ID,
		Attributes:  make(map[string]any, len(p.Attributes)),
		Identifiers: make(map[string][]string),
		Aggregates:  make(map[string]any, len(p.Aggregates)),
		Segments:    make(map[string]time.Time, len(p.Segments)),
		Sources:     make(map[string]int64, len(p.Sources)),
		EventCount:  int64(p.EventCount),
		RecordCount: int64(p.RecordCount),
		CreatedAt:   p.CreatedAt,
		UpdatedAt:   p.UpdatedAt,
	}}
	for k, a := range p.Attributes {
		v.p.Attributes[k] = celValue(a.Value)
	}
	for k, a := range p.Aggregates {
		v.p.Aggregates[k] = celValue(a)
	}
	for _, id := range p.Identifiers {
		v.p.Identifiers[id.Type] = append(v.p.Identifiers[id.Type], id.Value)
	}
	for k, n := range p.Sources {
		v.p.Sources[k] = int64(n)
	}
	return v
}

func (v *view) setRFM(r *profile.RFM) {
	if r == nil {
		v.p.RFM = celRFM{}
		return
	}
	v.p.RFM = celRFM{R: int64(r.R), F: int64(r.F), M: int64(r.M), Label: r.Label}
}

// instants returns the timestamps of the profile's attributes and
// aggregates and its creation and update times.
func (v *view) instants(p *profile.Profile) []time.Time {
	ts := []time.Time{p.CreatedAt, p.UpdatedAt}
	for _, x := range v.p.Attributes {
		if t, ok := x.(time.Time); ok {
			ts = append(ts, t)
		}
	}
	for _, x := range v.p.Aggregates {
		if t, ok := x.(time.Time); ok {
			ts = append(ts, t)
		}
	}
	return ts
}

// celValue exposes an RFC 3339 timestamp string as a time.Time (a CEL
// timestamp); other values are unchanged.
func celValue(x any) any {
	s, ok := x.(string)
	if !ok || !looksLikeTimestamp(s) {
		return x
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return x
	}
	return t
}

// looksLikeTimestamp is a cheap pre-check for RFC 3339: 2006-01-02T15:04:05…
func looksLikeTimestamp(s string) bool {
	return len(s) >= 20 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == 't') && s[13] == ':'
}

func tsOf(t time.Time) types.Timestamp { return types.Timestamp{Time: t} }
