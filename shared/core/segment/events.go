package segment

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// eventsVal is the variable events: a profile's recent events seen at one
// instant. Its helpers only count events at or before now, so an event
// dated in the future starts counting when its time comes.
type eventsVal struct {
	idx *eventIndex
	now time.Time
}

func eventsOf(v ref.Val) *eventsVal {
	if e, ok := v.(*eventsVal); ok {
		return e
	}
	return &eventsVal{idx: &eventIndex{}}
}

// ConvertToNative implements ref.Val.
func (e *eventsVal) ConvertToNative(t reflect.Type) (any, error) {
	return nil, fmt.Errorf("events: no conversion to %v", t)
}

// ConvertToType implements ref.Val.
func (e *eventsVal) ConvertToType(t ref.Type) ref.Val {
	if t == types.TypeType {
		return eventsType
	}
	return types.NewErr("events: no conversion to %s", t.TypeName())
}

// Equal implements ref.Val.
func (e *eventsVal) Equal(o ref.Val) ref.Val { return types.Bool(e == o) }

// Type implements ref.Val.
func (e *eventsVal) Type() ref.Type { return eventsType }

// Value implements ref.Val.
func (e *eventsVal) Value() any { return e.idx }

// window returns the positions [lo, hi) of the events named name that
// count at now within window (0: any age), in the name's ascending
// timestamps. The window is half-open, (now-window, now]: an event leaves
// it exactly at its timestamp plus the window.
func (e *eventsVal) window(name string, window time.Duration) (*nameEvents, int, int) {
	ne := e.idx.byName[name]
	if ne == nil {
		return nil, 0, 0
	}
	hi := countAtOrBefore(ne.ts, e.now)
	lo := 0
	if window > 0 {
		lo = countAtOrBefore(ne.ts[:hi], e.now.Add(-window))
	}
	return ne, lo, hi
}

func (e *eventsVal) count(name string, window time.Duration) ref.Val {
	_, lo, hi := e.window(name, window)
	return types.Int(hi - lo)
}

// epoch is what last returns for a profile that never had the event.
var epoch ref.Val = types.Timestamp{Time: time.Unix(0, 0).UTC()}

// last returns the newest timestamp of an event named name at or before
// now, or the Unix epoch when there is none (so "now - last > days(90)"
// holds for a profile that never had the event).
func (e *eventsVal) last(name string) ref.Val {
	ne, _, hi := e.window(name, 0)
	if hi == 0 {
		return epoch
	}
	return types.Timestamp{Time: ne.ts[hi-1]}
}

// sum adds a numeric property over the events of the window. The window
// is found by binary search; its values are added newest first, like the
// events list, so the result does not depend on how the events are
// indexed (prefix sums would, in the last bits of a float).
func (e *eventsVal) sum(name, prop string, window time.Duration) ref.Val {
	ne, lo, hi := e.window(name, window)
	if hi == lo {
		return types.Double(0)
	}
	vals := ne.values(prop)
	var s float64
	for i := hi - 1; i >= lo; i-- {
		s += vals[i]
	}
	return types.Double(s)
}

// countAtOrBefore returns how many of the ascending instants ts are at or
// before t.
func countAtOrBefore(ts []time.Time, t time.Time) int {
	lo, hi := 0, len(ts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ts[m].After(t) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// eventIndex holds a profile's recent events by name, in ascending time
// order, built once per evaluation so that the helpers are binary searches.
type eventIndex struct {
	byName map[string]*nameEvents
	free   []*nameEvents
}

// nameEvents are the events of one name.
type nameEvents struct {
	ts     []time.Time
	events []*profile.Event
	// props caches the numeric values of a property, aligned with ts
	// (zero when absent or not a number, as profile.Number reads them).
	props map[string][]float64
}

// values returns the numeric values of prop, aligned with ts.
func (ne *nameEvents) values(prop string) []float64 {
	if v, ok := ne.props[prop]; ok {
		return v
	}
	v := make([]float64, len(ne.events))
	for i, ev := range ne.events {
		v[i], _ = profile.Number(ev.Properties[prop])
	}
	if ne.props == nil {
		ne.props = make(map[string][]float64, 2)
	}
	ne.props[prop] = v
	return v
}

// reset indexes events, reusing the index's storage.
func (x *eventIndex) reset(events []profile.Event) {
	if x.byName == nil {
		x.byName = make(map[string]*nameEvents, 8)
	}
	for _, ne := range x.byName {
		ne.ts = ne.ts[:0]
		clear(ne.events)
		ne.events = ne.events[:0]
		clear(ne.props)
		x.free = append(x.free, ne)
	}
	clear(x.byName)
	// The list is newest first: walking it backwards appends in ascending
	// order, and the insertion below only moves out-of-order events.
	for i := len(events) - 1; i >= 0; i-- {
		ev := &events[i]
		ne := x.byName[ev.Name]
		if ne == nil {
			if n := len(x.free); n > 0 {
				ne, x.free = x.free[n-1], x.free[:n-1]
			} else {
				ne = &nameEvents{}
			}
			x.byName[ev.Name] = ne
		}
		j := len(ne.ts)
		ne.ts = append(ne.ts, ev.Timestamp)
		ne.events = append(ne.events, ev)
		for ; j > 0 && ne.ts[j-1].After(ev.Timestamp); j-- {
			ne.ts[j], ne.events[j] = ne.ts[j-1], ne.events[j-1]
		}
		ne.ts[j], ne.events[j] = ev.Timestamp, ev
	}
}

// costEstimator bounds what the checker cannot know: collection sizes of
// the profile (and of the variables named in sized) and the cost of the
// events helpers.
type costEstimator struct {
	sized []string
}

// EstimateCallCost implements cost.Estimator.
func (costEstimator) EstimateCallCost(function, overloadID string, target *cost.AstNode, args []cost.AstNode) *cost.CallEstimate {
	if strings.HasPrefix(overloadID, "events_") {
		c := cost.FixedCostEstimate(profile.MaxRecentEvents)
		return cost.NewCallEstimate(c, nil)
	}
	return nil
}

// EstimateSize implements cost.Estimator: profile maps and lists are
// assumed to hold at most 1000 entries.
func (c costEstimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	if p := n.Path(); len(p) > 0 && (p[0] == "profile" || slices.Contains(c.sized, p[0])) {
		s := cost.SizeEstimate{Min: 0, Max: 1000}
		return &s
	}
	return nil
}
