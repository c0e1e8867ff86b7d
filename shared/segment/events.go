package segment

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"cel.dev/cel-go/cel"

	"github.com/aurum-cdp/aurum/shared/profile"
)

// eventsVal is the variable events: a profile's recent events seen at one
// instant. Its helpers only count events at or before now, so an event
// dated in the future starts counting when its time comes.
type eventsVal struct {
	list []profile.Event // newest first
	now  time.Time
}

func eventsOf(v ref.Val) *eventsVal {
	if e, ok := v.(*eventsVal); ok {
		return e
	}
	return &eventsVal{}
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
func (e *eventsVal) Value() any { return e.list }

// in reports whether ev counts at now within window (0: any age). The
// window is half-open, (now-window, now]: an event leaves it exactly at
// its timestamp plus the window.
func (e *eventsVal) in(ev *profile.Event, window time.Duration) bool {
	if ev.Timestamp.After(e.now) {
		return false
	}
	return window <= 0 || ev.Timestamp.After(e.now.Add(-window))
}

func (e *eventsVal) count(name string, window time.Duration) ref.Val {
	n := 0
	for i := range e.list {
		if e.list[i].Name == name && e.in(&e.list[i], window) {
			n++
		}
	}
	return types.Int(n)
}

// last returns the newest timestamp of an event named name at or before
// now, or the Unix epoch when there is none (so "now - last > days(90)"
// holds for a profile that never had the event).
func (e *eventsVal) last(name string) ref.Val {
	var t time.Time
	for i := range e.list {
		if e.list[i].Name == name && e.in(&e.list[i], 0) && e.list[i].Timestamp.After(t) {
			t = e.list[i].Timestamp
		}
	}
	if t.IsZero() {
		t = time.Unix(0, 0).UTC()
	}
	return types.Timestamp{Time: t}
}

func (e *eventsVal) sum(name, prop string, window time.Duration) ref.Val {
	var s float64
	for i := range e.list {
		if e.list[i].Name != name || !e.in(&e.list[i], window) {
			continue
		}
		switch v := e.list[i].Properties[prop].(type) {
		case float64:
			s += v
		case int:
			s += float64(v)
		case int64:
			s += float64(v)
		}
	}
	return types.Double(s)
}

// costEstimator bounds what the checker cannot know: collection sizes of
// the profile and the cost of the events helpers.
type costEstimator struct{}

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
func (costEstimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	if p := n.Path(); len(p) > 0 && p[0] == "profile" {
		s := cost.SizeEstimate{Min: 0, Max: 1000}
		return &s
	}
	return nil
}

// analyze records what the time analysis needs from a checked, folded
// expression: whether it reads now (directly or through events), the
// constant durations and instants, the event names, and uses that the
// candidate-instant analysis does not cover.
func analyze(a *cel.Ast, p *program) {
	native := a.NativeRep()
	refs := native.ReferenceMap()
	usesNow := false
	ast.PostOrderVisit(native.Expr(), ast.NewExprVisitor(func(e ast.Expr) {
		switch e.Kind() {
		case ast.IdentKind:
			switch e.AsIdent() {
			case "now":
				usesNow = true
			case "events":
				p.usesEvents = true
			}
		case ast.SelectKind:
			s := e.AsSelect()
			if s.Operand().Kind() == ast.IdentKind && s.Operand().AsIdent() == "profile" {
				switch s.FieldName() {
				case "segments":
					// Memberships carry since times and change with
					// the segments they name.
					p.usesSegments = true
				case "rfm":
					// Recency scores decay with time.
					p.usesRFM = true
				}
			}
		case ast.CallKind:
			c := e.AsCall()
			args := c.Args()
			switch c.FunctionName() {
			case "duration", "days", "hours":
				if len(args) == 1 && args[0].Kind() == ast.LiteralKind {
					if d, ok := literalDuration(c.FunctionName(), args[0].AsLiteral()); ok {
						p.durations = append(p.durations, d)
						return
					}
				}
				p.periodic = true
			case "timestamp":
				if len(args) == 1 && args[0].Kind() == ast.LiteralKind {
					if s, ok := args[0].AsLiteral().(types.String); ok {
						if t, err := time.Parse(time.RFC3339Nano, string(s)); err == nil {
							p.instants = append(p.instants, t)
						}
					}
				}
			case "count", "last", "sum":
				if c.IsMemberFunction() && len(args) >= 1 {
					if args[0].Kind() == ast.LiteralKind {
						if s, ok := args[0].AsLiteral().(types.String); ok {
							p.eventNames = append(p.eventNames, string(s))
							return
						}
					}
					p.allEvents = true
				}
			case "getFullYear", "getMonth", "getDate", "getDayOfMonth", "getDayOfWeek",
				"getDayOfYear", "getHours", "getMinutes", "getSeconds", "getMilliseconds", "int", "string", "double":
				// Calendar arithmetic and conversions of instants: the
				// result may change at instants no constant names.
				if r, ok := refs[e.ID()]; ok && len(r.OverloadIDs) > 0 {
					for _, id := range r.OverloadIDs {
						if strings.HasPrefix(id, "timestamp_") || strings.Contains(id, "_timestamp") ||
							strings.HasPrefix(id, "duration_") || strings.Contains(id, "_duration") {
							p.periodic = true
						}
					}
				} else {
					p.periodic = true
				}
			}
		}
	}))
	if p.usesEvents {
		usesNow = true
	}
	if usesNow || p.usesSegments || p.usesRFM {
		p.timed = true
	} else {
		p.periodic = false
	}
	slices.Sort(p.durations)
	p.durations = slices.Compact(p.durations)
	slices.Sort(p.eventNames)
	p.eventNames = slices.Compact(p.eventNames)
}

func literalDuration(fn string, v ref.Val) (time.Duration, bool) {
	switch fn {
	case "duration":
		s, ok := v.(types.String)
		if !ok {
			return 0, false
		}
		d, err := time.ParseDuration(string(s))
		return d, err == nil
	case "days", "hours":
		n, ok := v.(types.Int)
		if !ok {
			return 0, false
		}
		unit := 24 * time.Hour
		if fn == "hours" {
			unit = time.Hour
		}
		return time.Duration(n) * unit, true
	}
	return 0, false
}
