package segment

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/decls"
	celops "cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// An operator is one function of the segment language, declared once:
// its CEL overloads with their runtime bindings, and its time analysis,
// what a call contributes to the instants at which a segment's result can
// next change (see timing). Both the CEL environment and the due-time
// analysis are built from operatorTable, and newLanguage refuses an
// operator without a time analysis, as well as any function of the
// environment over time-dependent values (timestamps, durations, events,
// the profile) that no operator declares.
type operator struct {
	// name is the CEL function name.
	name string
	// time is the operator's time analysis; required.
	time timeAnalysis
	// overloads declare the function with its bindings; none for a
	// function of the CEL standard library, whose time analysis alone is
	// declared here. Overload ids of helpers on events start with
	// "events_" (costEstimator bounds their cost by the events held).
	overloads []cel.FunctionOpt
}

// operatorTable is the segment language. Adding an operator is adding an
// entry (see docs/segments.md, "Adding an operator").
var operatorTable = []operator{
	{name: "days", time: constantDuration(inUnits(24 * time.Hour)), overloads: unitOverloads("days_int", 24*time.Hour)},
	{name: "hours", time: constantDuration(inUnits(time.Hour)), overloads: unitOverloads("hours_int", time.Hour)},
	{name: "count", time: eventsByName, overloads: []cel.FunctionOpt{
		cel.MemberOverload("events_count_string", []*cel.Type{eventsType, cel.StringType}, cel.IntType,
			cel.BinaryBinding(func(ev, name ref.Val) ref.Val {
				return eventsOf(ev).count(string(name.(types.String)), 0)
			})),
		cel.MemberOverload("events_count_string_duration", []*cel.Type{eventsType, cel.StringType, cel.DurationType}, cel.IntType,
			cel.FunctionBinding(func(args ...ref.Val) ref.Val {
				return eventsOf(args[0]).count(string(args[1].(types.String)), args[2].(types.Duration).Duration)
			})),
	}},
	{name: "last", time: eventsByName, overloads: []cel.FunctionOpt{
		cel.MemberOverload("events_last_string", []*cel.Type{eventsType, cel.StringType}, cel.TimestampType,
			cel.BinaryBinding(func(ev, name ref.Val) ref.Val {
				return eventsOf(ev).last(string(name.(types.String)))
			})),
	}},
	{name: "sum", time: eventsByName, overloads: []cel.FunctionOpt{
		cel.MemberOverload("events_sum_string_string_duration", []*cel.Type{eventsType, cel.StringType, cel.StringType, cel.DurationType}, cel.DoubleType,
			cel.FunctionBinding(func(args ...ref.Val) ref.Val {
				return eventsOf(args[0]).sum(string(args[1].(types.String)), string(args[2].(types.String)), args[3].(types.Duration).Duration)
			})),
		cel.MemberOverload("events_sum_string_string", []*cel.Type{eventsType, cel.StringType, cel.StringType}, cel.DoubleType,
			cel.FunctionBinding(func(args ...ref.Val) ref.Val {
				return eventsOf(args[0]).sum(string(args[1].(types.String)), string(args[2].(types.String)), 0)
			})),
	}},

	// The CEL standard library's functions over time.
	{name: "duration", time: constantDuration(parseDuration)},
	{name: "timestamp", time: instantOf},
	// Arithmetic and comparisons of instants and durations: between two
	// candidate instants their results do not change.
	{name: celops.Add, time: timeNeutral},
	{name: celops.Subtract, time: timeNeutral},
	{name: celops.Less, time: timeNeutral},
	{name: celops.LessEquals, time: timeNeutral},
	{name: celops.Greater, time: timeNeutral},
	{name: celops.GreaterEquals, time: timeNeutral},
	// Calendar accessors and conversions of instants to numbers or
	// strings change at instants no constant names.
	{name: "getFullYear", time: periodicOverTime},
	{name: "getMonth", time: periodicOverTime},
	{name: "getDate", time: periodicOverTime},
	{name: "getDayOfMonth", time: periodicOverTime},
	{name: "getDayOfWeek", time: periodicOverTime},
	{name: "getDayOfYear", time: periodicOverTime},
	{name: "getHours", time: periodicOverTime},
	{name: "getMinutes", time: periodicOverTime},
	{name: "getSeconds", time: periodicOverTime},
	{name: "getMilliseconds", time: periodicOverTime},
	{name: "int", time: periodicOverTime},
	{name: "string", time: periodicOverTime},
	// ext.Strings' format takes its arguments as list(dyn): what they
	// hold is read from the types of the expressions passed.
	{name: "format", time: periodicOverArguments},
}

// unitOverloads declares a function of an int yielding that many units.
func unitOverloads(id string, unit time.Duration) []cel.FunctionOpt {
	return []cel.FunctionOpt{cel.Overload(id, []*cel.Type{cel.IntType}, cel.DurationType,
		cel.UnaryBinding(func(v ref.Val) ref.Val { return durationOf(v, unit) }))}
}

func durationOf(v ref.Val, unit time.Duration) ref.Val {
	n, ok := v.(types.Int)
	if !ok {
		return types.MaybeNoSuchOverloadErr(v)
	}
	if n > types.Int(maxDurationUnits(unit)) || n < -types.Int(maxDurationUnits(unit)) {
		return types.NewErr("duration out of range")
	}
	return types.Duration{Duration: time.Duration(n) * unit}
}

func maxDurationUnits(unit time.Duration) int64 { return int64(1<<62) / int64(unit) }

// analyses indexes the time analyses of ops by function name. It fails
// for an operator without a time analysis or declared twice.
func analyses(ops []operator) (map[string]timeAnalysis, error) {
	out := make(map[string]timeAnalysis, len(ops))
	var errs []error
	for _, op := range ops {
		if op.time == nil {
			errs = append(errs, fmt.Errorf("operator %q declares no time analysis", op.name))
		}
		if _, dup := out[op.name]; dup {
			errs = append(errs, fmt.Errorf("operator %q is declared twice", op.name))
		}
		out[op.name] = op.time
	}
	return out, errors.Join(errs...)
}

// covered checks env against ops: an operator without overloads must be
// a function of the standard library, every function of env over
// time-dependent values must have a time analysis, and the ids of the
// overloads on events must start with "events_" (for costEstimator).
func covered(env *cel.Env, ops []operator, analysed map[string]timeAnalysis) error {
	fns := env.Functions()
	var errs []error
	for _, op := range ops {
		if _, ok := fns[op.name]; !ok && len(op.overloads) == 0 {
			errs = append(errs, fmt.Errorf("operator %q has no overloads and is not in the CEL standard library", op.name))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(fns)) {
		overloads := fns[name].OverloadDecls()
		if _, ok := analysed[name]; !ok {
			if i := slices.IndexFunc(overloads, overTime); i >= 0 {
				errs = append(errs, fmt.Errorf("function %s (overload %s) reads or yields a time-dependent value (or dyn, which may hold one) but declares no time analysis", name, overloads[i].ID()))
			}
		}
		for _, o := range overloads {
			if args := o.ArgTypes(); len(args) > 0 && args[0].IsExactType(eventsType) && !strings.HasPrefix(o.ID(), "events_") {
				errs = append(errs, fmt.Errorf("function %s: overload %s on events: its id must start with events_", name, o.ID()))
			}
		}
	}
	return errors.Join(errs...)
}

// overTime reports whether an overload reads or yields a time-dependent
// value, or reads dyn values, which may be time-dependent
// (format(list(dyn))). Yielding dyn does not count: a function of values
// that hold no instant (math.@max(int, uint)) yields none.
func overTime(o *decls.OverloadDecl) bool {
	reads := func(t *types.Type) bool { return timeDependent(t) || isDyn(t) }
	return timeDependent(o.ResultType()) || slices.ContainsFunc(o.ArgTypes(), reads)
}

// isDyn reports whether t is dyn or a collection of dyn.
func isDyn(t *types.Type) bool {
	return t.Kind() == types.DynKind || slices.ContainsFunc(t.Parameters(), isDyn)
}

// timeDependent reports whether values of type t depend on time or carry
// instants the time analysis must see: timestamps, durations, the events
// and the profile (its segments and RFM score), or collections of them.
func timeDependent(t *types.Type) bool {
	switch t.Kind() {
	case types.TimestampKind, types.DurationKind:
		return true
	case types.OpaqueKind, types.StructKind:
		if n := t.TypeName(); n == eventsType.TypeName() || n == profileTypeName || n == rfmTypeName {
			return true
		}
	}
	return slices.ContainsFunc(t.Parameters(), timeDependent)
}
