package segment

import (
	"maps"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	celops "cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/overloads"
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
	// epochs: the expression reads an int attribute or aggregate as Unix
	// seconds (timestamp(profile.attributes.x)); those instants of the
	// profile are candidates too.
	epochs bool
	// eventNames are the event names the helpers read; allEvents is
	// set when a name is not a constant.
	eventNames []string
	allEvents  bool
}

// call is one call of an operator in a checked, folded expression.
type call struct {
	ast.CallExpr
	// expr is the call in the expression: it and its descendants carry
	// their checked types.
	expr ast.NavigableExpr
	// overloads are the ids of the overloads the checker found for the
	// call (several when an argument is dyn); none when it recorded no
	// reference.
	overloads []string
}

// args returns the call's arguments (not its target), with their types.
func (c call) args() []ast.NavigableExpr {
	ch := c.expr.Children()
	if c.IsMemberFunction() {
		return ch[1:]
	}
	return ch
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

// instantOf is the analysis of timestamp(x). A constant x adds its
// instant (an RFC 3339 string; folding turns timestamp(n) into one); an
// instant x is its own value. A value of profile.attributes or
// profile.aggregates is one of the profile's instants: RFC 3339 strings
// are among them already, and ints (Unix seconds) are added (epochs).
// Any other x — a string or a number computed from data — yields an
// instant no candidate names, so the expression is periodic: a
// conservative due time (the hourly recheck), not an exact one.
func instantOf(c call, t *timing) {
	args := c.args()
	if len(args) != 1 {
		return
	}
	switch x := args[0]; {
	case x.Kind() == ast.LiteralKind:
		constantInstant(x.AsLiteral(), t)
	case len(c.overloads) == 1 && c.overloads[0] == overloads.TimestampToTimestamp:
		// An instant already: its own analysis covers it.
	case !profileValue(x):
		t.periodic = true
	case len(c.overloads) == 0 || slices.Contains(c.overloads, overloads.IntToTimestamp):
		t.epochs = true
	}
}

// constantInstant adds the instant of a literal: an RFC 3339 string or
// Unix seconds.
func constantInstant(v ref.Val, t *timing) {
	switch x := v.(type) {
	case types.String:
		if ts, err := time.Parse(time.RFC3339Nano, string(x)); err == nil {
			t.instants = append(t.instants, ts)
		}
	case types.Int:
		t.instants = append(t.instants, time.Unix(int64(x), 0).UTC())
	}
}

// profileValue reports whether e reads a value of profile.attributes or
// profile.aggregates (by field or by key).
func profileValue(e ast.NavigableExpr) bool {
	var m ast.NavigableExpr
	switch e.Kind() {
	case ast.SelectKind:
		m = e.Children()[0]
	case ast.CallKind:
		if e.AsCall().FunctionName() != celops.Index {
			return false
		}
		m = e.Children()[0]
	default:
		return false
	}
	if m.Kind() != ast.SelectKind {
		return false
	}
	field := m.AsSelect().FieldName()
	operand := m.Children()[0].Type()
	return operand != nil && operand.TypeName() == profileTypeName && (field == "attributes" || field == "aggregates")
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

// periodicOverArguments makes the expression periodic when an argument
// may hold an instant or a duration, by the types of its
// sub-expressions: for functions whose signature hides them behind dyn,
// such as ext.Strings' format(list(dyn)), which turns an instant into a
// string that changes at instants no constant names.
func periodicOverArguments(c call, t *timing) {
	if len(ast.MatchDescendants(c.expr, func(e ast.NavigableExpr) bool { return holdsTime(e.Type()) })) > 0 {
		t.periodic = true
	}
}

// holdsTime reports whether values of type t are or hold instants or
// durations.
func holdsTime(t *types.Type) bool {
	if t == nil {
		return false
	}
	switch t.Kind() {
	case types.TimestampKind, types.DurationKind:
		return true
	}
	return slices.ContainsFunc(t.Parameters(), holdsTime)
}

// maxChainedShifts bounds the shifts chainedShifts adds for one group
// (every signed sum of four distinct durations); past it, the expression
// is periodic.
const maxChainedShifts = 40

// A shiftGroup is a node of an expression whose value does not depend on
// time by its type (a comparison, say) with its descendants reached
// through nodes whose values are, or may hold, instants and durations:
// the instants and durations that combine in one sum.
type shiftGroup struct {
	// durations are the constant durations of the group, repeated as
	// often as they occur.
	durations []time.Duration
	// variables counts the durations named by variables (of
	// comprehensions, or of conditions): not constants.
	variables int
}

// chainedShifts adds to t the sums and differences of the durations that
// combine in one group: now + days(1) + days(2) > t changes at t - 3d,
// which no single duration reaches. Every signed sum of a subset of the
// group's durations is added, so conditionals and lists of durations are
// covered too. A group that combines a duration named by a variable (of
// a comprehension) with another duration, or more durations than
// maxChainedShifts allows, makes the expression periodic (a conservative
// due time).
func chainedShifts(root ast.NavigableExpr, t *timing) {
	var g shiftGroup
	g.walk(root, t)
	g.addTo(t)
}

// walk adds e and its descendants to g; a descendant whose value cannot
// hold an instant or a duration starts a group of its own.
func (g *shiftGroup) walk(e ast.NavigableExpr, t *timing) {
	if d, ok := literalDuration(e); ok {
		g.durations = append(g.durations, d)
		return
	}
	if e.Kind() == ast.IdentKind && e.Type() != nil && e.Type().Kind() == types.DurationKind {
		g.variables++
	}
	for _, child := range e.Children() {
		if mayHoldTime(child.Type()) {
			g.walk(child, t)
			continue
		}
		var sub shiftGroup
		sub.walk(child, t)
		sub.addTo(t)
	}
}

// addTo adds the group's sums of two durations or more to t.
func (g *shiftGroup) addTo(t *timing) {
	if len(g.durations)+g.variables < 2 {
		return
	}
	if g.variables > 0 {
		t.periodic = true
		return
	}
	sums := map[time.Duration]bool{0: true}
	for _, d := range g.durations {
		for _, s := range slices.Collect(maps.Keys(sums)) {
			for _, x := range [2]time.Duration{d, -d} {
				if sum, ok := add(s, x); ok {
					sums[sum] = true
				}
			}
		}
		if len(sums) > 2*maxChainedShifts+1 {
			t.periodic = true
			return
		}
	}
	for s := range sums {
		if s > 0 {
			t.durations = append(t.durations, s)
		}
	}
}

// add returns a+b, and false when the sum overflows.
func add(a, b time.Duration) (time.Duration, bool) {
	c := a + b
	return c, (c > a) == (b > 0)
}

// literalDuration reads the constant duration a folded expression
// spells: duration("…").
func literalDuration(e ast.NavigableExpr) (time.Duration, bool) {
	if e.Kind() != ast.CallKind || e.AsCall().FunctionName() != "duration" {
		return 0, false
	}
	args := e.AsCall().Args()
	if len(args) != 1 || args[0].Kind() != ast.LiteralKind {
		return 0, false
	}
	return parseDuration(args[0].AsLiteral())
}

// mayHoldTime reports whether values of type t may be or hold instants or
// durations: dyn (and unknown) types may.
func mayHoldTime(t *types.Type) bool {
	if t == nil {
		return true
	}
	switch t.Kind() {
	case types.TimestampKind, types.DurationKind, types.DynKind, types.AnyKind, types.TypeParamKind:
		return true
	}
	return slices.ContainsFunc(t.Parameters(), mayHoldTime)
}

// analyze records what the time analysis needs from a checked, folded
// expression: whether it reads now (directly or through events), the
// profile's memberships or RFM score, and what each call contributes
// according to its operator's time analysis (in ops, by function name).
func analyze(ops map[string]timeAnalysis, a *cel.Ast, p *program) {
	native := a.NativeRep()
	refs := native.ReferenceMap()
	usesNow := false
	root := ast.NavigateAST(native)
	for _, e := range ast.MatchDescendants(root, ast.AllMatcher()) {
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
			c := call{CallExpr: e.AsCall(), expr: e}
			if an, ok := ops[c.FunctionName()]; ok {
				if r, ok := refs[e.ID()]; ok {
					c.overloads = r.OverloadIDs
				}
				an(c, &p.timing)
			}
		}
	}
	chainedShifts(root, &p.timing)
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
