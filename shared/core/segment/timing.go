package segment

import (
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// timing is what the operators of an expression contribute to its time
// analysis: the instants, shifted by the durations, are the candidate
// instants at which the result can change (see Evaluator.next).
type timing struct {
	// periodic: the expression uses now in a way the candidate-instant
	// analysis does not cover (calendar accessors, computed durations);
	// it is re-evaluated every Recheck.
	periodic bool
	// durations are the constant durations in the expression.
	durations []time.Duration
	// instants are the constant timestamps in the expression.
	instants []time.Time
	// eventNames are the event names the helpers read; allEvents is
	// set when a name is not a constant.
	eventNames []string
	allEvents  bool
}

// call is one call of an operator in a checked, folded expression.
type call struct {
	ast.CallExpr
	// overloads are the ids of the overloads the checker found for the
	// call (several when an argument is dyn); none when it recorded no
	// reference.
	overloads []string
}

// timeAnalysis records in t what call c contributes to the time
// analysis of its expression.
type timeAnalysis func(c call, t *timing)

// timeNeutral adds nothing: the call's result changes only where its
// arguments do (comparisons and arithmetic of instants and durations).
func timeNeutral(call, *timing) {}

// constantDuration adds the duration a constant argument denotes (read by
// parse); a duration computed from data makes the expression periodic.
// Constant folding turns days(30) into duration("2592000s"): the analysis
// of days and hours matters for arguments that are not constants.
func constantDuration(parse func(ref.Val) (time.Duration, bool)) timeAnalysis {
	return func(c call, t *timing) {
		if args := c.Args(); len(args) == 1 && args[0].Kind() == ast.LiteralKind {
			if d, ok := parse(args[0].AsLiteral()); ok {
				t.durations = append(t.durations, d)
				return
			}
		}
		t.periodic = true
	}
}

// inUnits reads an int literal as a number of units.
func inUnits(unit time.Duration) func(ref.Val) (time.Duration, bool) {
	return func(v ref.Val) (time.Duration, bool) {
		n, ok := v.(types.Int)
		return time.Duration(n) * unit, ok
	}
}

// parseDuration reads a duration string literal ("720h").
func parseDuration(v ref.Val) (time.Duration, bool) {
	s, ok := v.(types.String)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(string(s))
	return d, err == nil
}

// constantInstant adds the instant of an RFC 3339 string literal.
func constantInstant(c call, t *timing) {
	args := c.Args()
	if len(args) != 1 || args[0].Kind() != ast.LiteralKind {
		return
	}
	if s, ok := args[0].AsLiteral().(types.String); ok {
		if ts, err := time.Parse(time.RFC3339Nano, string(s)); err == nil {
			t.instants = append(t.instants, ts)
		}
	}
}

// eventsByName adds the event name a helper on events reads (its first
// argument): the timestamps of those events are candidate instants. A
// name that is not a constant makes every event's timestamp one.
func eventsByName(c call, t *timing) {
	args := c.Args()
	if !c.IsMemberFunction() || len(args) == 0 {
		return
	}
	if args[0].Kind() == ast.LiteralKind {
		if s, ok := args[0].AsLiteral().(types.String); ok {
			t.eventNames = append(t.eventNames, string(s))
			return
		}
	}
	t.allEvents = true
}

// periodicOverTime makes the expression periodic when the call reads an
// instant or a duration (calendar accessors, conversions to numbers or
// strings): its result may change at instants no constant names.
func periodicOverTime(c call, t *timing) {
	if len(c.overloads) == 0 {
		t.periodic = true
		return
	}
	for _, id := range c.overloads {
		if strings.HasPrefix(id, "timestamp_") || strings.Contains(id, "_timestamp") ||
			strings.HasPrefix(id, "duration_") || strings.Contains(id, "_duration") {
			t.periodic = true
		}
	}
}

// analyze records what the time analysis needs from a checked, folded
// expression: whether it reads now (directly or through events), the
// profile's memberships or RFM score, and what each call contributes
// according to its operator's time analysis (in ops, by function name).
func analyze(ops map[string]timeAnalysis, a *cel.Ast, p *program) {
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
			// By type, not by name: a comprehension may bind the
			// profile to another variable.
			if t := native.GetType(s.Operand().ID()); t != nil && t.TypeName() == profileTypeName {
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
			c := call{CallExpr: e.AsCall()}
			if an, ok := ops[c.FunctionName()]; ok {
				if r, ok := refs[e.ID()]; ok {
					c.overloads = r.OverloadIDs
				}
				an(c, &p.timing)
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
	slices.SortFunc(p.instants, func(a, b time.Time) int { return a.Compare(b) })
	slices.Sort(p.eventNames)
	p.eventNames = slices.Compact(p.eventNames)
}
