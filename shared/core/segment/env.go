package segment

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
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

// language is the segment language: the CEL environment every segment
// expression compiles in, and the time analysis of each of its
// operators, both built from one operator table.
type language struct {
	env *cel.Env
	// time holds the time analysis of each operator, by function name.
	time map[string]timeAnalysis
}

// newLanguage builds the language of ops. It fails when an operator has
// no time analysis, or when a function of the environment over
// time-dependent values is not declared by ops.
func newLanguage(ops []operator) (*language, error) {
	analysed, err := analyses(ops)
	if err != nil {
		return nil, fmt.Errorf("segment: operators: %w", err)
	}
	opts := []cel.EnvOption{
		withProfileTypes(),
		cel.Variable("profile", cel.ObjectType(profileTypeName)),
		cel.Variable("events", eventsType),
		cel.Variable("now", cel.TimestampType),
		ext.Strings(),
		ext.Math(),
		cel.ParserExpressionSizeLimit(MaxExprBytes),
	}
	for _, op := range ops {
		if len(op.overloads) > 0 {
			opts = append(opts, cel.Function(op.name, op.overloads...))
		}
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("segment: build CEL environment: %w", err)
	}
	if err := covered(env, ops, analysed); err != nil {
		return nil, fmt.Errorf("segment: operators: %w", err)
	}
	return &language{env: env, time: analysed}, nil
}

// baseLanguage is the language of operatorTable, built once for every
// Evaluator and Condition.
var baseLanguage = sync.OnceValues(func() (*language, error) { return newLanguage(operatorTable) })

// extend returns the language with more declarations (variables).
func (l *language) extend(opts ...cel.EnvOption) (*language, error) {
	env, err := l.env.Extend(opts...)
	if err != nil {
		return nil, err
	}
	return &language{env: env, time: l.time}, nil
}

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
	// ast is the checked, optimised expression (Evaluator.Precompile).
	ast *cel.Ast
	// timed: the result can change with now alone.
	timed bool
	// timing is what the expression's operators contribute.
	timing
	usesEvents   bool
	usesRFM      bool
	usesSegments bool
}

// compile parses, checks and plans one expression.
//
// Configured expressions are bounded by the checker's worst-case estimate
// (MaxEstimatedCost) alone: runtime cost tracking triples evaluation time.
// Draft expressions (preview) are also bounded at runtime with MaxCost.
func compile(lang *language, id, expr string, runtimeLimit bool) (*program, error) {
	var limit uint64
	if runtimeLimit {
		limit = MaxCost
	}
	return compileWith(lang, id, expr, costEstimator{}, limit)
}

// compileWith is compile with a cost estimator and a runtime cost limit
// (0: none).
func compileWith(lang *language, id, expr string, estimator costEstimator, costLimit uint64) (*program, error) {
	env := lang.env
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
	return plan(lang, id, opt, costLimit)
}

// plan analyses a checked, optimised expression and plans its program:
// the last step of compile, and all that loading a precompiled
// expression needs (Options.Precompiled).
func plan(lang *language, id string, checked *cel.Ast, costLimit uint64) (*program, error) {
	p := &program{ast: checked}
	analyze(lang.time, checked, p)
	popts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	if costLimit > 0 {
		popts = append(popts, cel.CostLimit(costLimit))
	}
	var err error
	p.prg, err = lang.env.Program(checked, popts...)
	if err != nil {
		return nil, &CompileError{Segment: id, Issues: []Issue{{Msg: err.Error()}}}
	}
	return p, nil
}

// errNotBool is the runtime error of an expression that yields no bool.
var errNotBool = errors.New("expression did not yield a bool")
