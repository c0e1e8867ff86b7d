package golden

import (
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Aggregate values in Profile.Aggregates: count, sum, min and max are
// float64 (JSON numbers), counts and sums added in exact decimal
// (money.go); first and last are RFC 3339 timestamps in UTC.

// aggregate folds evs into p's aggregates and returns
// "aggregates.<name>" for each aggregate that changed.
func (r Rules) aggregate(p *profile.Profile, evs []profile.Event) (changed []string) {
	if len(r.Aggregates) == 0 || len(evs) == 0 {
		return nil
	}
	for _, a := range r.Aggregates {
		var part any
		for _, e := range evs {
			if a.Event != "" && e.Name != a.Event {
				continue
			}
			v, ok := eventValue(a, e)
			if !ok {
				continue
			}
			part = combine(a.Function, part, v)
		}
		if part == nil {
			continue
		}
		if p.Aggregates == nil {
			p.Aggregates = map[string]any{}
		}
		cur := p.Aggregates[a.Name]
		next := combine(a.Function, cur, part)
		if !equalValue(cur, next) {
			p.Aggregates[a.Name] = next
			changed = append(changed, "aggregates."+a.Name)
		}
	}
	return changed
}

// mergeAggregates combines src's aggregates into dst's.
func (r Rules) mergeAggregates(dst *profile.Profile, src map[string]any) (changed []string) {
	for _, a := range r.Aggregates {
		v, ok := src[a.Name]
		if !ok || v == nil {
			continue
		}
		if dst.Aggregates == nil {
			dst.Aggregates = map[string]any{}
		}
		cur := dst.Aggregates[a.Name]
		next := combine(a.Function, cur, v)
		if !equalValue(cur, next) {
			dst.Aggregates[a.Name] = next
			changed = append(changed, "aggregates."+a.Name)
		}
	}
	return changed
}

// eventValue is what one event contributes to aggregate a.
func eventValue(a config.Aggregate, e profile.Event) (any, bool) {
	switch a.Function {
	case config.AggCount:
		if a.Property != "" {
			if v, ok := e.Properties[a.Property]; !ok || v == nil {
				return nil, false
			}
		}
		return 1.0, true
	case config.AggFirst, config.AggLast:
		if e.Timestamp.IsZero() {
			return nil, false
		}
		return e.Timestamp.UTC().Format(time.RFC3339Nano), true
	default:
		f, ok := profile.ParseNumber(e.Properties[a.Property])
		return f, ok
	}
}

// combine folds v into the aggregate value cur (nil: none yet).
func combine(fn string, cur, v any) any {
	if cur == nil {
		return v
	}
	switch fn {
	case config.AggCount, config.AggSum:
		x, _ := profile.ParseNumber(cur)
		y, _ := profile.ParseNumber(v)
		return addExact(x, y)
	case config.AggMin, config.AggMax:
		x, okX := profile.ParseNumber(cur)
		y, okY := profile.ParseNumber(v)
		if !okX {
			return v
		}
		if !okY || (fn == config.AggMin) == (x <= y) {
			return x
		}
		return y
	case config.AggFirst, config.AggLast:
		x, errX := time.Parse(time.RFC3339Nano, text(cur))
		y, errY := time.Parse(time.RFC3339Nano, text(v))
		switch {
		case errX != nil:
			return v
		case errY != nil:
			return cur
		case (fn == config.AggFirst) == !y.Before(x):
			return cur
		}
		return v
	}
	return cur
}

func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return canonical(x)
	}
}

// compareValues orders two attribute values: numbers numerically, strings
// (ISO dates included) lexically; values of different kinds compare equal.
func compareValues(a, b any) int {
	if x, ok := profile.ParseNumber(a); ok {
		if y, ok := profile.ParseNumber(b); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	sa, okA := a.(string)
	sb, okB := b.(string)
	if okA && okB {
		return strings.Compare(sa, sb)
	}
	return 0
}
