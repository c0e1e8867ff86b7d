package segment

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
)

// Limits on segment expressions, checked when they are compiled.
const (
	// MaxExprBytes bounds the source size of one expression.
	MaxExprBytes = 4096
	// MaxCost bounds the runtime cost of one evaluation of a draft
	// expression (preview), in CEL cost units: a field access or a
	// comparison costs 1.
	MaxCost = 100_000
	// MaxEstimatedCost bounds the worst-case cost the checker estimates
	// for an expression; larger expressions are rejected at load.
	MaxEstimatedCost = 1_000_000
)

// newEnv builds the CEL environment every segment expression compiles in.
func newEnv() (*cel.Env, error) {
	env, err := cel.NewEnv(
		withProfileTypes(),
		cel.Variable("profile", cel.ObjectType(profileTypeName)),
		cel.Variable("events", eventsType),
		cel.Variable("now", cel.TimestampType),
		ext.Strings(),
		ext.Math(),
		cel.ParserExpressionSizeLimit(MaxExprBytes),
		cel.Function("days",
			cel.Overload("days_int", []*cel.Type{cel.IntType}, cel.DurationType,
				cel.UnaryBinding(func(v ref.Val) ref.Val { return durationOf(v, 24*time.Hour) }))),
		cel.Function("hours",
			cel.Overload("hours_int", []*cel.Type{cel.IntType}, cel.DurationType,
				cel.UnaryBinding(func(v ref.Val) ref.Val { return durationOf(v, time.Hour) }))),
		cel.Function("count",
			cel.MemberOverload("events_count_string", []*cel.Type{eventsType, cel.StringType}, cel.IntType,
				cel.BinaryBinding(func(ev, name ref.Val) ref.Val {
					return eventsOf(ev).count(string(name.(types.String)), 0)
				})),
			cel.MemberOverload("events_count_string_duration", []*cel.Type{eventsType, cel.StringType, cel.DurationType}, cel.IntType,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					return eventsOf(args[0]).count(string(args[1].(types.String)), args[2].(types.Duration).Duration)
				}))),
		cel.Function("last",
			cel.MemberOverload("events_last_string", []*cel.Type{eventsType, cel.StringType}, cel.TimestampType,
				cel.BinaryBinding(func(ev, name ref.Val) ref.Val {
					return eventsOf(ev).last(string(name.(types.String)))
				}))),
		cel.Function("sum",
			cel.MemberOverload("events_sum_string_string_duration", []*cel.Type{eventsType, cel.StringType, cel.StringType, cel.DurationType}, cel.DoubleType,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					return eventsOf(args[0]).sum(string(args[1].(types.String)), string(args[2].(types.String)), args[3].(types.Duration).Duration)
				})),
			cel.MemberOverload("events_sum_string_string", []*cel.Type{eventsType, cel.StringType, cel.StringType}, cel.DoubleType,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					return eventsOf(args[0]).sum(string(args[1].(types.String)), string(args[2].(types.String)), 0)
				}))),
	)
	if err != nil {
		return nil, fmt.Errorf("segment: build CEL environment: %w", err)
	}
	return env, nil
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

// CompileError is a segment expression that does not compile: the
// segment, and each problem at its line and column in the expression.
type CompileError struct {
	Segment string
	Issues  []Issue
}

// Issue is one problem in an expression, at a 1-based line and column.
type Issue struct {
	Line, Column int
	Msg          string
}

func (e *CompileError) Error() string {
	var b strings.Builder
	for i, is := range e.Issues {
		if i > 0 {
			b.WriteString("; ")
		}
		if is.Line > 0 {
			fmt.Fprintf(&b, "%d:%d: ", is.Line, is.Column)
		}
		b.WriteString(is.Msg)
	}
	if e.Segment == "" {
		return "expression: " + b.String()
	}
	return fmt.Sprintf("segment %q: expr: %s", e.Segment, b.String())
}

func compileError(id string, iss *cel.Issues) error {
	ce := &CompileError{Segment: id}
	for _, e := range iss.Errors() {
		line, col := e.Location.Line(), e.Location.Column()
		if line > 0 {
			col++
		}
		ce.Issues = append(ce.Issues, Issue{Line: line, Column: col, Msg: e.Message})
	}
	if len(ce.Issues) == 0 {
		ce.Issues = []Issue{{Msg: iss.String()}}
	}
	return ce
}

// program is one compiled expression with what its time analysis needs.
type program struct {
	prg cel.Program
	// timed: the result can change with now alone.
	timed bool
	// periodic: the expression uses now in a way the candidate-instant
	// analysis does not cover (calendar accessors, computed durations);
	// it is re-evaluated every RecheckEvery.
	periodic bool
	// durations are the constant durations in the expression.
	durations []time.Duration
	// instants are the constant timestamps in the expression.
	instants []time.Time
	// eventNames are the event names the helpers read; allEvents is
	// set when a name is not a constant.
	eventNames   []string
	allEvents    bool
	usesEvents   bool
	usesRFM      bool
	usesSegments bool
}

// compile parses, checks and plans one expression.
//
// Configured expressions are bounded by the checker's worst-case estimate
// (MaxEstimatedCost) alone: runtime cost tracking triples evaluation time.
// Draft expressions (preview) are also bounded at runtime with MaxCost.
func compile(env *cel.Env, id, expr string, runtimeLimit bool) (*program, error) {
	var limit uint64
	if runtimeLimit {
		limit = MaxCost
	}
	return compileWith(env, id, expr, costEstimator{}, limit)
}

// compileWith is compile with a cost estimator and a runtime cost limit
// (0: none).
func compileWith(env *cel.Env, id, expr string, estimator costEstimator, costLimit uint64) (*program, error) {
	if len(expr) > MaxExprBytes {
		return nil, &CompileError{Segment: id, Issues: []Issue{{Msg: fmt.Sprintf("expression is %d bytes; at most %d allowed", len(expr), MaxExprBytes)}}}
	}
	checked, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, compileError(id, iss)
	}
	if !checked.OutputType().IsExactType(cel.BoolType) && !checked.OutputType().IsExactType(cel.DynType) {
		return nil, &CompileError{Segment: id, Issues: []Issue{{Msg: fmt.Sprintf("expression yields %s; want bool", checked.OutputType())}}}
	}
	est, err := env.EstimateCost(checked, estimator)
	if err != nil {
		return nil, &CompileError{Segment: id, Issues: []Issue{{Msg: "estimate cost: " + err.Error()}}}
	}
	if est.Max > MaxEstimatedCost {
		return nil, &CompileError{Segment: id, Issues: []Issue{{Msg: fmt.Sprintf("expression too costly: worst case %d cost units, at most %d allowed", est.Max, MaxEstimatedCost)}}}
	}
	folder, err := cel.NewConstantFoldingOptimizer()
	if err != nil {
		return nil, fmt.Errorf("segment %q: %w", id, err)
	}
	so, err := cel.NewStaticOptimizer(folder)
	if err != nil {
		return nil, fmt.Errorf("segment %q: %w", id, err)
	}
	opt, iss := so.Optimize(env, checked)
	if iss.Err() != nil {
		return nil, compileError(id, iss)
	}
	p := &program{}
	analyze(opt, p)
	popts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	if costLimit > 0 {
		popts = append(popts, cel.CostLimit(costLimit))
	}
	p.prg, err = env.Program(opt, popts...)
	if err != nil {
		return nil, &CompileError{Segment: id, Issues: []Issue{{Msg: err.Error()}}}
	}
	return p, nil
}

// errNotBool is the runtime error of an expression that yields no bool.
var errNotBool = errors.New("expression did not yield a bool")
