package trigger

import (
	"fmt"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"

	"github.com/aurum-cdp/aurum/shared/profile"
)

// conditionEnv declares the variables a trigger's if sees: profile (see
// ProfileValue) and event (the causing event's detail).
//
// TODO(segments): switch to the CEL environment of package segment once it
// exists, so that segments and triggers share one vocabulary.
func conditionEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("profile", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
	)
}

// condition is a compiled if.
type condition struct {
	prg cel.Program
}

func compileCondition(env *cel.Env, expr string) (*condition, error) {
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, fmt.Errorf("does not compile: %w", iss.Err())
	}
	if t := ast.OutputType(); !t.IsExactType(types.BoolType) && !t.IsExactType(types.DynType) {
		return nil, fmt.Errorf("is of type %s; expected a bool condition", t)
	}
	prg, err := env.Program(ast, cel.InterruptCheckFrequency(100), cel.CostLimit(1_000_000))
	if err != nil {
		return nil, fmt.Errorf("does not build: %w", err)
	}
	return &condition{prg: prg}, nil
}

// eval returns whether the condition holds. An evaluation error (a missing
// attribute, a type mismatch) is returned; callers treat it as false.
func (c *condition) eval(prof, event map[string]any) (bool, error) {
	if event == nil {
		event = map[string]any{}
	}
	out, _, err := c.prg.Eval(map[string]any{"profile": prof, "event": event})
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("evaluated to %s, not a bool", out.Type())
	}
	return b, nil
}

// ProfileValue is the view of a profile that conditions and templates
// see:
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
