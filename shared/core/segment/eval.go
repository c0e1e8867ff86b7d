package segment

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Defaults of the time analysis.
const (
	// DefaultRecheck is how often a profile is re-evaluated when one of
	// its segments uses now in a way the analysis cannot follow.
	DefaultRecheck = time.Hour
	// DefaultHorizon is how far ahead the time analysis looks; a profile
	// whose segments may change later is re-evaluated at the horizon.
	DefaultHorizon = 400 * 24 * time.Hour
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
	lang     *language
	segments []*Segment
	byID     map[string]*Segment
	timed    []int // indexes of timed segments
	// readsSegments: some expression reads profile.segments, so the
	// evaluation keeps it current segment by segment.
	readsSegments bool
	// readsEpochs: some timed expression reads ints of the profile as
	// Unix seconds, so load collects them.
	readsEpochs bool
	recheck     time.Duration
	horizon     time.Duration
	rfm         atomic.Pointer[rfmModel]
	rfmCfg      *config.RFM
}

// Options tune an Evaluator.
type Options struct {
	// Recheck is the re-evaluation period of segments the time analysis
	// cannot follow; default DefaultRecheck.
	Recheck time.Duration
	// Horizon bounds how far ahead the time analysis looks; default
	// DefaultHorizon.
	Horizon time.Duration
	// Precompiled holds expressions compiled ahead of time (aurum
	// compile, at build): a segment whose expression it holds unchanged
	// skips parsing, checking and optimisation. Nil compiles everything.
	Precompiled *Precompiled
}

// New compiles segments, with the RFM model of rfm (nil: none). Every
// expression is type-checked; the error lists every segment that does not
// compile (a *CompileError each, joined with errors.Join).
func New(segments []config.Segment, rfm *config.RFM, opts Options) (*Evaluator, error) {
	lang, err := baseLanguage()
	if err != nil {
		return nil, err
	}
	return newEvaluator(lang, segments, rfm, opts)
}

// newEvaluator is New in the language lang.
func newEvaluator(lang *language, segments []config.Segment, rfm *config.RFM, opts Options) (*Evaluator, error) {
	e := &Evaluator{lang: lang, byID: map[string]*Segment{}, recheck: opts.Recheck, rfmCfg: rfm}
	if e.recheck <= 0 {
		e.recheck = DefaultRecheck
	}
	e.horizon = opts.Horizon
	if e.horizon <= 0 {
		e.horizon = DefaultHorizon
	}
	var errs []error
	for _, s := range segments {
		if _, dup := e.byID[s.ID]; dup {
			errs = append(errs, fmt.Errorf("segment %q: duplicate id", s.ID))
			continue
		}
		p, err := opts.Precompiled.program(lang, s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		seg := &Segment{Segment: s, prg: p}
		if p.timed {
			e.timed = append(e.timed, len(e.segments))
		}
		e.readsSegments = e.readsSegments || p.usesSegments
		e.readsEpochs = e.readsEpochs || (p.timed && p.epochs)
		e.segments = append(e.segments, seg)
		e.byID[s.ID] = seg
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("segment: compile: %w", errors.Join(errs...))
	}
	if rfm != nil {
		e.rfm.Store(&rfmModel{cfg: *rfm})
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
	st := e.load(p)
	defer st.release()
	m := e.evaluate(st, p, now)
	return m, e.next(st, m, now)
}

// memberships is Evaluate without the time analysis.
func (e *Evaluator) memberships(p *profile.Profile, now time.Time) Membership {
	st := e.load(p)
	defer st.release()
	return e.evaluate(st, p, now.UTC())
}

// state is one profile converted for evaluation, with the buffers the
// evaluation reuses. States are pooled: a profile is converted once per
// evaluation and every segment (and every candidate instant) reads the
// same conversion.
type state struct {
	prof   *celProfile
	idx    eventIndex
	events eventsVal
	act    activation
	model  *rfmModel
	rfm    rfmInput
	// instants are the profile's own timestamps: creation, update, and
	// the timestamps among its attributes and aggregates.
	instants []time.Time
	// epochs are the ints among its attributes and aggregates read as
	// Unix seconds, when an expression needs them (timing.epochs).
	epochs []time.Time
	cands  []time.Time
	buf    []time.Time
	// since holds the evaluation's membership per segment (zero: not a
	// member).
	since []time.Time
	// frame wraps act for the configured programs, which track no cost:
	// one frame serves every evaluation of the state.
	frame *interpreter.ExecutionFrame
}

var states = sync.Pool{New: func() any {
	st := &state{prof: newCELProfile()}
	st.events.idx = &st.idx
	st.act.profile = st.prof
	st.act.events = &st.events
	// NewExecutionFrame fails only for an input that is no activation;
	// without a frame, evaluations fall back to the activation.
	st.frame, _ = interpreter.NewExecutionFrame(&st.act)
	return st
}}

// input is what the configured programs evaluate against.
func (st *state) input() interpreter.Activation {
	if st.frame != nil {
		return st.frame
	}
	return &st.act
}

// load converts p into a pooled state. profile.segments is filled only
// when an expression reads it.
func (e *Evaluator) load(p *profile.Profile) *state {
	st := states.Get().(*state)
	st.instants = append(st.instants[:0], p.CreatedAt, p.UpdatedAt)
	st.instants = st.prof.fill(p, st.instants, e.readsSegments)
	slices.SortFunc(st.instants, func(a, b time.Time) int { return a.Compare(b) })
	st.epochs = st.epochs[:0]
	if e.readsEpochs {
		st.epochs = st.prof.epochs(st.epochs)
		slices.SortFunc(st.epochs, func(a, b time.Time) int { return a.Compare(b) })
	}
	st.idx.reset(p.RecentEvents)
	st.model = e.rfm.Load()
	st.rfm = st.model.input(p)
	return st
}

// release returns st to the pool.
func (st *state) release() {
	st.idx.reset(nil)
	st.model = nil
	states.Put(st)
}

// at sets the evaluation instant.
func (st *state) at(t time.Time) {
	st.events.now = t
	st.act.now = types.Timestamp{Time: t}
}

// evaluate computes the memberships at now.
func (e *Evaluator) evaluate(st *state, p *profile.Profile, now time.Time) Membership {
	var m Membership
	if s, ok := st.model.scoreOf(st.rfm, now); ok {
		m.RFM = &s
	}
	st.prof.rfm.set(m.RFM)
	st.at(now)
	st.since = slices.Grow(st.since[:0], len(e.segments))[:len(e.segments)]
	members := 0
	for i, s := range e.segments {
		ok, err := evalOne(s.prg, st.input())
		if err != nil {
			if m.Errors == nil {
				m.Errors = map[string]error{}
			}
			m.Errors[s.ID] = err
		}
		if !ok {
			st.since[i] = time.Time{}
			if e.readsSegments {
				delete(st.prof.segments, s.ID)
			}
			continue
		}
		members++
		since, was := p.Segments[s.ID]
		if !was {
			since = now
			if e.readsSegments {
				// Stayed segments are in the map since load.
				st.prof.segments[s.ID] = st.act.now
			}
		}
		st.since[i] = since
	}
	m.Segments = make(map[string]time.Time, members)
	for i, since := range st.since {
		if !since.IsZero() {
			m.Segments[e.segments[i].ID] = since
		}
	}
	return m
}

// next finds the first instant after now at which a timed segment's result
// differs from its result at now: it tries the candidate instants — every
// timestamp of the profile and its events, the constant instants of the
// expressions and, for expressions with timing.epochs, the profile's ints
// as Unix seconds, shifted by the constant durations of the expressions
// and their chained sums (both ways; see chainedShifts) and by the RFM
// recency thresholds — in order, at the instant and one nanosecond after
// it. Candidates later than the best
// instant found so far, or beyond the horizon, are not tried: when a
// segment has candidates beyond the horizon and no change before it, the
// horizon is the next instant (the profile is analysed again then).
func (e *Evaluator) next(st *state, m Membership, now time.Time) time.Time {
	if len(e.timed) == 0 {
		return time.Time{}
	}
	// Candidate evaluations see the memberships at now: drop the ids of
	// segments no longer configured.
	if e.readsSegments && len(st.prof.segments) != len(m.Segments) {
		for id := range st.prof.segments {
			if _, ok := m.Segments[id]; !ok {
				delete(st.prof.segments, id)
			}
		}
	}
	best := now.Add(e.horizon)
	bestIsHorizon := true
	periodic := false
	for _, i := range e.timed {
		s := e.segments[i]
		if s.prg.periodic {
			periodic = true
		}
		cands, beyond := st.candidates(s.prg, m, now, best)
		if beyond && bestIsHorizon {
			// Something may change after the horizon: look again then.
			bestIsHorizon = false
		}
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
			if c.After(now) && st.resultAt(s, c) != cur {
				found = c
				break
			}
			if c1 := c.Add(time.Nanosecond); c1.Before(best) && st.resultAt(s, c1) != cur {
				found = c1
				break
			}
		}
		if found.IsZero() && len(cands) > maxCandidates {
			found = limit[len(limit)-1]
		}
		if !found.IsZero() && found.Before(best) {
			best = found
			bestIsHorizon = false
		}
	}
	if periodic {
		if r := now.Add(e.recheck); bestIsHorizon || r.Before(best) {
			best = r
			bestIsHorizon = false
		}
	}
	if bestIsHorizon {
		// Nothing can change within the horizon, nor after it.
		return time.Time{}
	}
	return best
}

// resultAt evaluates one segment at instant t, with the memberships at
// the evaluation time.
func (st *state) resultAt(s *Segment, t time.Time) bool {
	if s.prg.usesRFM {
		if r, ok := st.model.scoreOf(st.rfm, t); ok {
			st.prof.rfm.set(&r)
		} else {
			st.prof.rfm.set(nil)
		}
	}
	st.at(t)
	ok, _ := evalOne(s.prg, st.input())
	return ok
}

// candidates returns the sorted candidate instants of one segment that lie
// at or after now and before bound, and whether some lie at or after the
// bound. The slice is reused by the next call. Every source of instants is
// sorted, so each shift by a duration selects its range by binary search:
// the work is proportional to the candidates returned.
func (st *state) candidates(prg *program, m Membership, now, bound time.Time) ([]time.Time, bool) {
	out := st.cands[:0]
	beyond := false
	with := func(ts []time.Time) {
		out, beyond = shifted(out, ts, 0, now, bound, beyond)
		for _, d := range prg.durations {
			out, beyond = shifted(out, ts, d, now, bound, beyond)
			out, beyond = shifted(out, ts, -d, now, bound, beyond)
		}
	}
	with(st.instants)
	with(prg.instants)
	if prg.epochs {
		with(st.epochs)
	}
	if prg.usesSegments {
		with(st.sinces(m))
	}
	if prg.usesEvents {
		if prg.allEvents {
			with(st.allEvents())
		} else {
			for _, name := range prg.eventNames {
				if ne := st.idx.byName[name]; ne != nil {
					with(ne.ts)
				}
			}
		}
	}
	if prg.usesRFM && st.rfm.ok {
		ts := st.model.instants(st.rfm)
		out, beyond = shifted(out, ts[:], 0, now, bound, beyond)
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	out = slices.CompactFunc(out, func(a, b time.Time) bool { return a.Equal(b) })
	st.cands = out
	return out, beyond
}

// shifted appends to out the instants t+shift, for t in the ascending ts,
// that lie in [now, bound), and reports whether some lie at or after the
// bound. An instant equal to now still matters: the result may change one
// nanosecond after it.
func shifted(out, ts []time.Time, shift time.Duration, now, bound time.Time, beyond bool) ([]time.Time, bool) {
	lo := countBefore(ts, now.Add(-shift))
	hi := lo + countBefore(ts[lo:], bound.Add(-shift))
	for _, t := range ts[lo:hi] {
		out = append(out, t.Add(shift))
	}
	return out, beyond || hi < len(ts)
}

// countBefore returns how many of the ascending instants ts are before t.
func countBefore(ts []time.Time, t time.Time) int {
	lo, hi := 0, len(ts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ts[m].Before(t) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// sinces returns the since-times of m, ascending.
func (st *state) sinces(m Membership) []time.Time {
	st.buf = st.buf[:0]
	for _, t := range m.Segments {
		st.buf = append(st.buf, t)
	}
	slices.SortFunc(st.buf, func(a, b time.Time) int { return a.Compare(b) })
	return st.buf
}

// allEvents returns every event timestamp, ascending.
func (st *state) allEvents() []time.Time {
	st.buf = st.buf[:0]
	for _, ne := range st.idx.byName {
		st.buf = append(st.buf, ne.ts...)
	}
	slices.SortFunc(st.buf, func(a, b time.Time) int { return a.Compare(b) })
	return st.buf
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
	now     ref.Val
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

// evalDraft evaluates one draft program against p at now, with p's stored
// memberships and its RFM score at now.
func (e *Evaluator) evalDraft(prg *program, p *profile.Profile, now time.Time) (bool, error) {
	st := e.load(p)
	defer st.release()
	if !e.readsSegments {
		for id, since := range p.Segments {
			st.prof.segments[id] = types.Timestamp{Time: since}
		}
	}
	if s, ok := st.model.scoreOf(st.rfm, now); ok {
		st.prof.rfm.set(&s)
	}
	st.at(now)
	return evalOne(prg, &st.act)
}
