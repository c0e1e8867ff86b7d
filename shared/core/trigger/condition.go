package trigger

import (
	"time"

	"cel.dev/cel-go/cel"

	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// eventVar is the variable a trigger's if sees besides those of the
// segment language: the causing event's detail.
var eventVar = segment.Var{Name: "event", Type: cel.MapType(cel.StringType, cel.DynType)}

// condition is a compiled if: an expression of the segment language
// (profile, events, now, days(), hours() …) plus event.
type condition struct {
	cond *segment.Condition
}

// compileCondition compiles an if; a compile error is a
// *segment.CompileError naming line and column in the expression.
func compileCondition(expr string) (*condition, error) {
	c, err := segment.CompileCondition(expr, eventVar)
	if err != nil {
		return nil, err
	}
	return &condition{cond: c}, nil
}

// eval returns whether the condition holds for p at now, with event the
// causing event's detail. An evaluation error (a missing attribute, a
// type mismatch) is returned; callers treat it as false.
func (c *condition) eval(p *profile.Profile, now time.Time, event map[string]any) (bool, error) {
	if event == nil {
		event = map[string]any{}
	}
	return c.cond.Eval(p, now, map[string]any{"event": event})
}

// ProfileValue is the view of a profile that action body templates see
// (conditions see the segment language's profile, see package segment):
//
//	id, version              string, int
//	attributes.<name>        the surviving value
//	identifiers.<type>       list of values
//	aggregates.<name>        computed aggregates
//	sources.<name>           records received per source
//	record_count, event_count
//	created_at, updated_at   timestamps
func ProfileValue(p profile.Profile) map[string]any {
	attrs := make(map[string]any, len(p.Attributes))
	for k, a := range p.Attributes {
		attrs[k] = a.Value
	}
	ids := make(map[string]any)
	for _, id := range p.Identifiers {
		l, _ := ids[id.Type].([]any)
		ids[id.Type] = append(l, id.Value)
	}
	aggs := make(map[string]any, len(p.Aggregates))
	for k, v := range p.Aggregates {
		aggs[k] = v
	}
	srcs := make(map[string]any, len(p.Sources))
	for k, n := range p.Sources {
		srcs[k] = int64(n)
	}
	return map[string]any{
		"id":           p.ID,
		"version":      p.Version,
		"attributes":   attrs,
		"identifiers":  ids,
		"aggregates":   aggs,
		"sources":      srcs,
		"record_count": int64(p.RecordCount),
		"event_count":  int64(p.EventCount),
		"created_at":   p.CreatedAt.UTC().Truncate(time.Microsecond),
		"updated_at":   p.UpdatedAt.UTC().Truncate(time.Microsecond),
	}
}
