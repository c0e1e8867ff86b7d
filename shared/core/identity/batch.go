package identity

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"slices"
	"sort"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Protection names, as counted in Stats.Blocked.
const (
	ProtectMaxPerProfile = "max_per_profile"
	ProtectDoNotMerge    = "do_not_merge"
	ProtectPlaceholder   = "placeholder"
)

// BatchOptions tune Resolve.
type BatchOptions struct {
	// Apart are do-not-merge assertions: pairs of record keys
	// (source/id) that must not end up in one cluster.
	Apart [][2]string
}

// Resolution is the outcome of resolving a set of records in memory.
type Resolution struct {
	// ProfileIDs holds the cluster id of each input record, in input
	// order. The id derives from the smallest record key of the cluster,
	// so it does not depend on the order of the input.
	ProfileIDs []string
	// Stats are the match statistics of the run.
	Stats Stats

	eng         *Engine
	recs        []profile.Record
	keys        []string
	byKey       map[string]int
	parent      []int
	adj         map[int][]step
	refused     []Refusal
	quarantined map[profile.Identifier]bool
}

type step struct {
	to     int
	rule   string
	weight float64
}

// Refusal is a link that merge protection refused.
type Refusal struct {
	A, B       string // record keys
	Rule       string
	Protection string
	// Detail names the identifier type or assertion, without values.
	Detail string
}

type edge struct {
	a, b   int
	rule   *rule
	weight float64
}

// ClusterID is the id batch resolution gives the cluster whose smallest
// record key is minKey.
func ClusterID(minKey string) string {
	h := sha256.Sum256([]byte(minKey))
	return "p_" + hex.EncodeToString(h[:12])
}

// Resolve clusters recs in memory with the engine's rules: candidates come
// from identifier, composite-key and blocking indexes (never all pairs),
// links are applied rule by rule, strongest first, and merge protection
// may refuse them. The result does not depend on the order of recs.
func (e *Engine) Resolve(recs []profile.Record, opts BatchOptions) *Resolution {
	n := len(recs)
	res := &Resolution{eng: e, recs: recs, keys: make([]string, n), parent: make([]int, n), adj: map[int][]step{}, quarantined: map[profile.Identifier]bool{}}
	byKey := make(map[string]int, n)
	for i := range recs {
		res.keys[i] = recs[i].Key()
		res.parent[i] = i
		byKey[res.keys[i]] = i
	}
	res.byKey = byKey
	res.Stats = newStats(e)

	// Identifier index and placeholder detection.
	byID := map[profile.Identifier][]int{}
	for i := range recs {
		for _, id := range recs[i].Identifiers {
			if _, ok := e.idRule[id.Type]; ok {
				byID[id] = append(byID[id], i)
			}
		}
	}
	ids := make([]profile.Identifier, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b profile.Identifier) int { return cmp.Compare(a.String(), b.String()) })
	if e.ph != nil {
		for _, id := range ids {
			members := byID[id]
			if len(members) <= e.ph.maxDistinct {
				continue
			}
			var fps [][]string
			for _, i := range members {
				if fp, ok := e.Fingerprint(recs[i]); ok {
					fps = append(fps, fp)
				}
			}
			slices.SortFunc(fps, func(a, b []string) int { return cmp.Compare(fpString(a), fpString(b)) })
			var reps [][]string
			q := false
			for _, fp := range fps {
				if reps, q = e.Observe(reps, fp); q {
					break
				}
			}
			if q {
				res.quarantined[id] = true
				res.Stats.Quarantined = append(res.Stats.Quarantined, Quarantine{Identifier: id, Records: len(members), Distinct: len(reps)})
				res.Stats.Blocked[ProtectPlaceholder] += len(members) - 1
			}
		}
	}
	isQ := func(id profile.Identifier) bool { return res.quarantined[id] }

	var edges []edge
	star := func(members []int, r *rule) {
		sorted := slices.Clone(members)
		sort.Slice(sorted, func(x, y int) bool { return res.keys[sorted[x]] < res.keys[sorted[y]] })
		for _, m := range sorted[1:] {
			edges = append(edges, edge{a: sorted[0], b: m, rule: r, weight: math.Inf(1)})
		}
	}
	for _, id := range ids {
		if members := byID[id]; len(members) > 1 && !res.quarantined[id] {
			star(members, e.idRule[id.Type])
		}
	}
	for _, r := range e.rules {
		if r.kind == KindIdentifier {
			continue
		}
		blocks := map[string][]int{}
		var order []string
		for i := range recs {
			for _, k := range r.keys(&recs[i]) {
				if _, ok := blocks[k.Value]; !ok {
					order = append(order, k.Value)
				}
				blocks[k.Value] = append(blocks[k.Value], i)
			}
		}
		rs := res.Stats.rule(r.name)
		if r.kind == KindComposite {
			for _, k := range order {
				if len(blocks[k]) > 1 {
					star(blocks[k], r)
				}
			}
			continue
		}
		seen := map[[2]int]bool{}
		for _, k := range order {
			members := blocks[k]
			if len(members) > r.maxBlock {
				rs.SkippedBlocks++
				continue
			}
			for x := 0; x < len(members); x++ {
				for y := x + 1; y < len(members); y++ {
					a, b := members[x], members[y]
					if a > b {
						a, b = b, a
					}
					if seen[[2]int{a, b}] {
						continue
					}
					seen[[2]int{a, b}] = true
					rs.Compared++
					out, w := r.evaluate(&recs[a], &recs[b], isQ)
					if out.Match {
						edges = append(edges, edge{a: a, b: b, rule: r, weight: w})
					}
				}
			}
		}
	}
	for i := range edges {
		if res.keys[edges[i].a] > res.keys[edges[i].b] {
			edges[i].a, edges[i].b = edges[i].b, edges[i].a
		}
	}
	slices.SortFunc(edges, func(x, y edge) int {
		if c := cmp.Compare(x.rule.index, y.rule.index); c != 0 {
			return c
		}
		if c := cmp.Compare(y.weight, x.weight); c != 0 {
			return c
		}
		if c := cmp.Compare(res.keys[x.a], res.keys[y.a]); c != 0 {
			return c
		}
		return cmp.Compare(res.keys[x.b], res.keys[y.b])
	})

	u := newUnion(e, recs, res.parent)
	for _, a := range opts.Apart {
		i, ok1 := byKey[a[0]]
		j, ok2 := byKey[a[1]]
		if ok1 && ok2 && i != j {
			u.apart[i] = append(u.apart[i], j)
			u.apart[j] = append(u.apart[j], i)
		}
	}
	linked := map[string]map[int]bool{}
	for _, ed := range edges {
		rs := res.Stats.rule(ed.rule.name)
		rs.Links++
		if linked[ed.rule.name] == nil {
			linked[ed.rule.name] = map[int]bool{}
		}
		linked[ed.rule.name][ed.a] = true
		linked[ed.rule.name][ed.b] = true
		merged, prot, detail := u.union(ed.a, ed.b)
		switch {
		case prot != "":
			res.Stats.Blocked[prot]++
			rs.Blocked++
			res.refused = append(res.refused, Refusal{A: res.keys[ed.a], B: res.keys[ed.b], Rule: ed.rule.name, Protection: prot, Detail: detail})
		case merged:
			rs.Merges++
			res.adj[ed.a] = append(res.adj[ed.a], step{to: ed.b, rule: ed.rule.name, weight: ed.weight})
			res.adj[ed.b] = append(res.adj[ed.b], step{to: ed.a, rule: ed.rule.name, weight: ed.weight})
		}
	}
	for name, recsLinked := range linked {
		res.Stats.rule(name).Records = len(recsLinked)
	}

	// Cluster ids from the smallest member key.
	minKey := map[int]string{}
	size := map[int]int{}
	for i := range recs {
		r := u.find(i)
		if k, ok := minKey[r]; !ok || res.keys[i] < k {
			minKey[r] = res.keys[i]
		}
		size[r]++
	}
	res.ProfileIDs = make([]string, n)
	for i := range recs {
		res.ProfileIDs[i] = ClusterID(minKey[u.find(i)])
	}
	sizes := make(map[string]int, len(size))
	for r, s := range size {
		sizes[ClusterID(minKey[r])] = s
	}
	res.Stats.Records = n
	res.Stats.setClusters(sizes)
	return res
}

// union is a union-find over records that enforces merge protection.
type union struct {
	e       *Engine
	parent  []int
	members map[int][]int
	// capped holds, per root, the values of capped identifier types.
	capped map[int]map[string]map[string]bool
	apart  map[int][]int
}

func newUnion(e *Engine, recs []profile.Record, parent []int) *union {
	u := &union{e: e, parent: parent, members: map[int][]int{}, capped: map[int]map[string]map[string]bool{}, apart: map[int][]int{}}
	for i := range recs {
		u.members[i] = []int{i}
		for _, id := range recs[i].Identifiers {
			if t, ok := e.types[id.Type]; ok && t.max > 0 {
				if u.capped[i] == nil {
					u.capped[i] = map[string]map[string]bool{}
				}
				if u.capped[i][id.Type] == nil {
					u.capped[i][id.Type] = map[string]bool{}
				}
				u.capped[i][id.Type][id.Value] = true
			}
		}
	}
	return u
}

func (u *union) find(i int) int {
	for u.parent[i] != i {
		u.parent[i] = u.parent[u.parent[i]]
		i = u.parent[i]
	}
	return i
}

// union joins the clusters of a and b unless protection refuses; it
// returns whether they merged, or the protection that refused.
func (u *union) union(a, b int) (merged bool, protection, detail string) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return false, "", ""
	}
	if len(u.members[ra]) < len(u.members[rb]) {
		ra, rb = rb, ra
	}
	for _, m := range u.members[rb] {
		for _, p := range u.apart[m] {
			if u.find(p) == ra {
				return false, ProtectDoNotMerge, "do-not-merge assertion"
			}
		}
	}
	keep := map[string]bool{}
	for t, vals := range u.capped[rb] {
		info := u.e.types[t]
		n := len(u.capped[ra][t])
		for v := range vals {
			if !u.capped[ra][t][v] {
				n++
			}
		}
		if n > info.max {
			if info.onConflict != config.ConflictKeepPriority {
				return false, ProtectMaxPerProfile, t
			}
			keep[t] = true
		}
	}
	u.parent[rb] = ra
	u.members[ra] = append(u.members[ra], u.members[rb]...)
	delete(u.members, rb)
	for t, vals := range u.capped[rb] {
		if u.capped[ra] == nil {
			u.capped[ra] = map[string]map[string]bool{}
		}
		if u.capped[ra][t] == nil {
			u.capped[ra][t] = map[string]bool{}
		}
		if keep[t] {
			continue // the surviving cluster keeps its own identifiers
		}
		for v := range vals {
			u.capped[ra][t][v] = true
		}
	}
	delete(u.capped, rb)
	return true, "", ""
}

// Index returns the position of the record with key source/id, or -1.
func (r *Resolution) Index(key string) int {
	if i, ok := r.byKey[key]; ok {
		return i
	}
	return -1
}

// Quarantined reports whether id was quarantined as a placeholder.
func (r *Resolution) Quarantined(id profile.Identifier) bool { return r.quarantined[id] }
