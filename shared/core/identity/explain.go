package identity

import "github.com/aurum-cdp/aurum/shared/model/profile"

// Explanation says why two records are or are not in one cluster.
type Explanation struct {
	A, B               string
	ProfileA, ProfileB string
	Together           bool
	// Direct compares the two records under every rule.
	Direct Decision
	// Path is the chain of links that joins them, when together.
	Path []Step
	// Refused lists links between their two clusters that merge
	// protection refused.
	Refused []Refusal
	// Quarantined lists identifiers they share that are placeholders.
	Quarantined []profile.Identifier
}

// Step is one link of a path.
type Step struct {
	From, To string
	Rule     string
	Weight   float64
}

// Explain tells why the records at positions i and j are or are not
// together.
func (r *Resolution) Explain(i, j int) Explanation {
	a, b := r.recs[i], r.recs[j]
	x := Explanation{A: r.keys[i], B: r.keys[j], ProfileA: r.ProfileIDs[i], ProfileB: r.ProfileIDs[j]}
	x.Together = x.ProfileA == x.ProfileB
	x.Direct = r.eng.Explain(a, b, r.Quarantined)
	for _, id := range a.Identifiers {
		for _, o := range b.Identifiers {
			if id == o && r.quarantined[id] {
				x.Quarantined = append(x.Quarantined, id)
			}
		}
	}
	if x.Together {
		x.Path = r.path(i, j)
	}
	for _, f := range r.refused {
		pa, pb := r.ProfileIDs[r.Index(f.A)], r.ProfileIDs[r.Index(f.B)]
		if (pa == x.ProfileA && pb == x.ProfileB) || (pa == x.ProfileB && pb == x.ProfileA) {
			x.Refused = append(x.Refused, f)
		}
	}
	return x
}

// path finds the shortest chain of accepted links from i to j.
func (r *Resolution) path(i, j int) []Step {
	if i == j {
		return nil
	}
	prev := map[int]step{i: {to: -1}}
	from := map[int]int{}
	queue := []int{i}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == j {
			break
		}
		for _, s := range r.adj[cur] {
			if _, ok := prev[s.to]; ok {
				continue
			}
			prev[s.to] = s
			from[s.to] = cur
			queue = append(queue, s.to)
		}
	}
	if _, ok := prev[j]; !ok {
		return nil
	}
	var out []Step
	for cur := j; cur != i; cur = from[cur] {
		s := prev[cur]
		out = append([]Step{{From: r.keys[from[cur]], To: r.keys[cur], Rule: s.rule, Weight: s.weight}}, out...)
	}
	return out
}
