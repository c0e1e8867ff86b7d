package segment

import (
	"fmt"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/interpreter"

	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Var declares a variable that a Condition sees besides those of the
// segment language (profile, events, now), such as a trigger's event.
type Var struct {
	Name string
	Type *cel.Type
}

// Condition is a boolean CEL expression in the segment language, for
// other parts of Aurum (trigger conditions): the same variables, helpers,
// type checks and cost bounds as a segment expression, plus the declared
// extra variables. It is safe for concurrent use.
type Condition struct {
	prg   *program
	names []string
}

// CompileCondition compiles expr in the segment environment extended
// with vars. As for segments, the expression must yield a bool (or dyn,
// checked at evaluation), hold at most MaxExprBytes, and its worst-case
// cost estimated by the checker (maps of profile and of vars assumed to
// hold at most 1000 entries) must stay within MaxEstimatedCost; a compile
// error is a *CompileError with the line and column of each problem. At
// runtime, an evaluation is bounded by MaxEstimatedCost, because extra
// variables may hold data of any size.
func CompileCondition(expr string, vars ...Var) (*Condition, error) {
	lang, err := baseLanguage()
	if err != nil {
		return nil, err
	}
	c := &Condition{}
	if len(vars) > 0 {
		opts := make([]cel.EnvOption, 0, len(vars))
		for _, v := range vars {
			switch {
			case v.Name == "profile" || v.Name == "events" || v.Name == "now":
				return nil, fmt.Errorf("segment: condition variable %q: reserved by the segment language", v.Name)
			case v.Name == "" || v.Type == nil:
				return nil, fmt.Errorf("segment: condition variable %q: needs a name and a type", v.Name)
			}
			opts = append(opts, cel.Variable(v.Name, v.Type))
			c.names = append(c.names, v.Name)
		}
		if lang, err = lang.extend(opts...); err != nil {
			return nil, fmt.Errorf("segment: condition variables: %w", err)
		}
	}
	if c.prg, err = compileWith(lang, "", expr, costEstimator{sized: c.names}, MaxEstimatedCost); err != nil {
		return nil, err
	}
	return c, nil
}

// Eval evaluates the condition against p at now, with the values of the
// extra variables in vars (a declared variable missing from vars fails
// when the expression reads it). The profile is converted as for
// segments, with two differences: profile.segments holds p's stored
// memberships, and profile.rfm p's stored score (as of its last segment
// evaluation). A runtime error (a missing map key, a type mismatch, the
// cost limit) is returned with the result false.
func (c *Condition) Eval(p *profile.Profile, now time.Time, vars map[string]any) (bool, error) {
	st := states.Get().(*state)
	defer st.release()
	st.instants = st.prof.fill(p, st.instants[:0], true)
	st.prof.rfm.set(p.RFM)
	st.idx.reset(p.RecentEvents)
	st.at(now.UTC())
	var act interpreter.Activation = &st.act
	if len(c.names) > 0 {
		act = &varsActivation{base: &st.act, vars: vars}
	}
	return evalOne(c.prg, act)
}

// varsActivation adds a condition's extra variables to the segment
// variables.
type varsActivation struct {
	base *activation
	vars map[string]any
}

// ResolveName implements interpreter.Activation.
func (a *varsActivation) ResolveName(name string) (any, bool) {
	if v, ok := a.base.ResolveName(name); ok {
		return v, true
	}
	v, ok := a.vars[name]
	return v, ok
}

// Parent implements interpreter.Activation.
func (a *varsActivation) Parent() interpreter.Activation { return nil }
