package identity

import (
	"fmt"
	"math"
	"slices"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Score is the outcome of one comparison of a fuzzy or weighted rule.
type Score struct {
	Attribute string `json:"attribute"`
	Method    string `json:"method"`
	// Missing is set when either record lacks the attribute.
	Missing    bool    `json:"missing,omitempty"`
	Similarity float64 `json:"similarity"`
	// Pass (fuzzy) says whether the comparison reached its threshold.
	Pass bool `json:"pass,omitempty"`
	// Weight (weighted) is the match weight of the level reached.
	Weight float64 `json:"weight,omitempty"`
}

// RuleResult says whether one rule matches two records, and why.
type RuleResult struct {
	Rule  string `json:"rule"`
	Kind  string `json:"kind"`
	Match bool   `json:"match"`
	// Reason explains the outcome in words, without values.
	Reason string  `json:"reason"`
	Scores []Score `json:"scores,omitempty"`
	// Weight (weighted) is the total match weight.
	Weight float64 `json:"weight,omitempty"`
}

// Decision is the outcome of comparing two records under all rules.
type Decision struct {
	// Match is set when a rule matches; Rule names the first one.
	Match bool   `json:"match"`
	Rule  string `json:"rule,omitempty"`
	// Weight orders links of one rule (weighted: the match weight;
	// fuzzy: the mean similarity; exact: +Inf).
	Weight float64 `json:"weight"`
	// Results holds one entry per rule evaluated, in rule order.
	Results []RuleResult `json:"results"`
}

// Compare decides whether a and b match: rules are tried in order and the
// first that matches decides. quarantined, when not nil, reports
// identifier values that no longer link. Fuzzy and weighted rules only
// compare records that share one of the rule's blocking keys.
func (e *Engine) Compare(a, b profile.Record, quarantined func(profile.Identifier) bool) Decision {
	return e.compare(&a, &b, quarantined, false)
}

// Explain is Compare evaluating every rule, for people.
func (e *Engine) Explain(a, b profile.Record, quarantined func(profile.Identifier) bool) Decision {
	return e.compare(&a, &b, quarantined, true)
}

func (e *Engine) compare(a, b *profile.Record, quarantined func(profile.Identifier) bool, all bool) Decision {
	var d Decision
	for _, r := range e.rules {
		res, w := r.evaluate(a, b, quarantined)
		d.Results = append(d.Results, res)
		if res.Match && !d.Match {
			d.Match, d.Rule, d.Weight = true, r.name, w
			if !all {
				break
			}
		}
	}
	return d
}

// evaluate evaluates only rule r (for candidates found through r's
// keys) and returns the link weight of a match: +Inf for exact rules.
func (r *rule) evaluate(a, b *profile.Record, quarantined func(profile.Identifier) bool) (RuleResult, float64) {
	res := RuleResult{Rule: r.name, Kind: r.kind}
	switch {
	case r.kind == KindIdentifier:
		return r.evaluateIdentifiers(res, a, b, quarantined)
	case r.kind == KindComposite:
		return r.evaluateComposite(res, a, b)
	case !r.shareBlock(a, b):
		res.Reason = "no shared blocking key: not compared"
		return res, 0
	}
	return r.evaluateScores(res, a, b)
}

// evaluateIdentifiers matches records sharing an identifier of the rule's
// types that is not quarantined.
func (r *rule) evaluateIdentifiers(res RuleResult, a, b *profile.Record, quarantined func(profile.Identifier) bool) (RuleResult, float64) {
	for _, id := range a.Identifiers {
		if !slices.Contains(r.idTypes, id.Type) || !slices.Contains(b.Identifiers, id) {
			continue
		}
		if quarantined != nil && quarantined(id) {
			res.Reason = fmt.Sprintf("share a %s, but that value is quarantined as a placeholder", id.Type)
			continue
		}
		res.Match = true
		res.Reason = "share a " + id.Type
		return res, math.Inf(1)
	}
	if res.Reason == "" {
		res.Reason = "no shared identifier of type " + joinTypes(r.idTypes)
	}
	return res, 0
}

// evaluateComposite matches records with equal composite keys.
func (r *rule) evaluateComposite(res RuleResult, a, b *profile.Record) (RuleResult, float64) {
	ka, okA := r.compositeKey(a)
	kb, okB := r.compositeKey(b)
	switch {
	case !okA || !okB:
		res.Reason = "a key attribute is missing"
	case ka == kb:
		res.Match, res.Reason = true, "equal composite key"
		return res, math.Inf(1)
	default:
		res.Reason = "composite keys differ"
	}
	return res, 0
}

// evaluateScores runs the comparisons of a fuzzy rule (enough must reach
// their threshold; the weight is the mean similarity) or a weighted one
// (the summed match weight must reach the threshold).
func (r *rule) evaluateScores(res RuleResult, a, b *profile.Record) (RuleResult, float64) {
	agree := 0
	var total float64
	for _, c := range r.cmps {
		s := c.score(a, b)
		if r.kind == KindFuzzy {
			if s.Pass {
				agree++
			}
			total += s.Similarity
		} else {
			total += s.Weight
		}
		res.Scores = append(res.Scores, s)
	}
	if r.kind == KindFuzzy {
		res.Match = agree >= r.minAgree
		res.Reason = fmt.Sprintf("%d of %d comparisons reach their threshold; %d needed", agree, len(r.cmps), r.minAgree)
		return res, total / float64(len(r.cmps))
	}
	res.Weight = total
	res.Match = total >= r.threshold
	res.Reason = fmt.Sprintf("match weight %.2f, threshold %.2f", total, r.threshold)
	return res, total
}

func joinTypes(ts []string) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += " or "
		}
		s += t
	}
	return s
}

func (r *rule) shareBlock(a, b *profile.Record) bool {
	for _, parts := range r.blocking {
		ka, okA := blockKey(a, parts)
		kb, okB := blockKey(b, parts)
		if okA && okB && ka == kb {
			return true
		}
	}
	return false
}

func (c *comparator) score(a, b *profile.Record) Score {
	s := Score{Attribute: c.attr, Method: c.method}
	va, vb := attr(a, c.attr), attr(b, c.attr)
	if va == "" || vb == "" {
		s.Missing = true
		s.Pass = c.optional
		return s
	}
	s.Similarity = similarity(c.method, va, vb, c.tolerance)
	s.Pass = s.Similarity >= c.threshold
	if len(c.levels) > 0 {
		s.Weight = c.elseWeight
		for _, l := range c.levels {
			if s.Similarity >= l.min {
				s.Weight = l.weight
				break
			}
		}
	}
	return s
}

func similarity(method, a, b string, tolerance float64) float64 {
	switch method {
	case config.CompareJaroWinkler:
		return JaroWinkler(a, b)
	case config.CompareLevenshtein:
		return Levenshtein(a, b)
	case config.CompareDamerau:
		return Damerau(a, b)
	case config.CompareName:
		return Name(a, b)
	case config.CompareToken:
		return Token(a, b)
	case config.CompareDate:
		return Date(a, b)
	case config.CompareNumber:
		return Number(a, b, tolerance)
	default:
		return Exact(a, b)
	}
}
