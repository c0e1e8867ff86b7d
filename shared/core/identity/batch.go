package identity

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"iter"
	"maps"
	"math"
	"slices"
	"sort"

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
	res := newResolution(e, recs)
	byID, ids := e.identifierIndex(recs)
	res.quarantine(byID, ids)
	edges := res.candidates(byID, ids)
	sortEdges(edges, res.keys)
	u := newUnion(e, recs, res.parent)
	u.keepApart(opts.Apart, res.byKey)
	res.link(u, edges)
	res.cluster(u)
	return res
}

// newResolution starts the resolution of recs: every record its own
// cluster, and empty statistics for the engine's rules.
func newResolution(e *Engine, recs []profile.Record) *Resolution {
	n := len(recs)
	res := &Resolution{eng: e, recs: recs, keys: make([]string, n), parent: make([]int, n),
		byKey: make(map[string]int, n), adj: map[int][]step{}, quarantined: map[profile.Identifier]bool{}}
	for i := range recs {
		res.keys[i] = recs[i].Key()
		res.parent[i] = i
		res.byKey[res.keys[i]] = i
	}
	res.Stats = newStats(e)
	return res
}

// identifierIndex lists, per identifier value of a type some rule links
// on, the records holding it, and those values in a stable order.
func (e *Engine) identifierIndex(recs []profile.Record) (map[profile.Identifier][]int, []profile.Identifier) {
	byID := map[profile.Identifier][]int{}
	for i := range recs {
		for _, id := range recs[i].Identifiers {
			if _, ok := e.idRule[id.Type]; ok {
				byID[id] = append(byID[id], i)
			}
		}
	}
	ids := slices.SortedFunc(maps.Keys(byID), func(a, b profile.Identifier) int { return cmp.Compare(a.String(), b.String()) })
	return byID, ids
}

// quarantine applies placeholder detection to the identifier values:
// a quarantined value links nothing, and each of its records but one
// counts as blocked.
func (r *Resolution) quarantine(byID map[profile.Identifier][]int, ids []profile.Identifier) {
	if r.eng.ph == nil {
		return
	}
	for _, id := range ids {
		members := byID[id]
		distinct, q := r.eng.placeholder(r.recs, members)
		if !q {
			continue
		}
		r.quarantined[id] = true
		r.Stats.Quarantined = append(r.Stats.Quarantined, Quarantine{Identifier: id, Records: len(members), Distinct: distinct})
		r.Stats.Blocked[ProtectPlaceholder] += len(members) - 1
	}
}

// placeholder reports whether the value held by the records at positions
// members is a placeholder, and how many disagreeing fingerprints it was
// seen with. The fingerprints are observed in a stable order, so the
// answer does not depend on the order of the records.
func (e *Engine) placeholder(recs []profile.Record, members []int) (distinct int, quarantined bool) {
	if e.ph == nil || len(members) <= e.ph.maxDistinct {
		return 0, false
	}
	var fps [][]string
	for _, i := range members {
		if fp, ok := e.Fingerprint(recs[i]); ok {
			fps = append(fps, fp)
		}
	}
	slices.SortFunc(fps, func(a, b []string) int { return cmp.Compare(fpString(a), fpString(b)) })
	var reps [][]string
	for _, fp := range fps {
		if reps, quarantined = e.Observe(reps, fp); quarantined {
			break
		}
	}
	return len(reps), quarantined
}

// candidates returns the links the rules find: a star over the records
// sharing an identifier value (not quarantined) or a composite key, and
// the matching pairs compared within each fuzzy or weighted block.
func (r *Resolution) candidates(byID map[profile.Identifier][]int, ids []profile.Identifier) []edge {
	var edges []edge
	for _, id := range ids {
		if members := byID[id]; len(members) > 1 && !r.quarantined[id] {
			edges = r.star(edges, members, r.eng.idRule[id.Type])
		}
	}
	for _, ru := range r.eng.rules {
		switch ru.kind {
		case KindIdentifier:
		case KindComposite:
			blocks, order := ru.blocks(r.recs)
			for _, k := range order {
				if len(blocks[k]) > 1 {
					edges = r.star(edges, blocks[k], ru)
				}
			}
		default:
			edges = append(edges, r.compared(ru)...)
		}
	}
	return edges
}

// star appends to edges the exact links joining members under ru: from
// the member with the smallest record key to each other member.
func (r *Resolution) star(edges []edge, members []int, ru *rule) []edge {
	sorted := slices.Clone(members)
	sort.Slice(sorted, func(x, y int) bool { return r.keys[sorted[x]] < r.keys[sorted[y]] })
	for _, m := range sorted[1:] {
		edges = append(edges, edge{a: sorted[0], b: m, rule: ru, weight: math.Inf(1)})
	}
	return edges
}

// blocks groups the records by the rule's index keys: key value → the
// positions of the records having it, and the values in first-seen order.
func (ru *rule) blocks(recs []profile.Record) (map[string][]int, []string) {
	blocks := map[string][]int{}
	var order []string
	for i := range recs {
		for _, k := range ru.keys(&recs[i]) {
			if _, ok := blocks[k.Value]; !ok {
				order = append(order, k.Value)
			}
			blocks[k.Value] = append(blocks[k.Value], i)
		}
	}
	return blocks, order
}

// compared returns the links of a fuzzy or weighted rule: every pair of
// records sharing a block is compared once (a block larger than the
// rule's max_block_size is skipped) and the matching pairs link, with
// their match weight.
func (r *Resolution) compared(ru *rule) []edge {
	blocks, order := ru.blocks(r.recs)
	rs := r.Stats.rule(ru.name)
	isQ := func(id profile.Identifier) bool { return r.quarantined[id] }
	seen := map[[2]int]bool{}
	var edges []edge
	for _, k := range order {
		members := blocks[k]
		if len(members) > ru.maxBlock {
			rs.SkippedBlocks++
			continue
		}
		for p := range pairs(members) {
			if seen[p] {
				continue
			}
			seen[p] = true
			rs.Compared++
			if out, w := ru.evaluate(&r.recs[p[0]], &r.recs[p[1]], isQ); out.Match {
				edges = append(edges, edge{a: p[0], b: p[1], rule: ru, weight: w})
			}
		}
	}
	return edges
}

// pairs yields every pair of members, each as (smaller, larger)
// position, in the order of members.
func pairs(members []int) iter.Seq[[2]int] {
	return func(yield func([2]int) bool) {
		for x := 0; x < len(members); x++ {
			for y := x + 1; y < len(members); y++ {
				a, b := members[x], members[y]
				if !yield([2]int{min(a, b), max(a, b)}) {
					return
				}
			}
		}
	}
}

// sortEdges orients each edge from the smaller record key and orders the
// edges as they are applied: by rule order, strongest weight first, then
// by record keys.
func sortEdges(edges []edge, keys []string) {
	for i := range edges {
		if keys[edges[i].a] > keys[edges[i].b] {
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
		if c := cmp.Compare(keys[x.a], keys[y.a]); c != 0 {
			return c
		}
		return cmp.Compare(keys[x.b], keys[y.b])
	})
}

// link applies the sorted edges to u: each joins two clusters unless merge
// protection refuses it. The rule statistics, the refusals and the
// accepted links (for Explain's paths) are recorded.
func (r *Resolution) link(u *union, edges []edge) {
	linked := map[string]map[int]bool{}
	for _, ed := range edges {
		rs := r.Stats.rule(ed.rule.name)
		rs.Links++
		if linked[ed.rule.name] == nil {
			linked[ed.rule.name] = map[int]bool{}
		}
		linked[ed.rule.name][ed.a] = true
		linked[ed.rule.name][ed.b] = true
		merged, prot, detail := u.union(ed.a, ed.b)
		switch {
		case prot != "":
			r.Stats.Blocked[prot]++
			rs.Blocked++
			r.refused = append(r.refused, Refusal{A: r.keys[ed.a], B: r.keys[ed.b], Rule: ed.rule.name, Protection: prot, Detail: detail})
		case merged:
			rs.Merges++
			r.adj[ed.a] = append(r.adj[ed.a], step{to: ed.b, rule: ed.rule.name, weight: ed.weight})
			r.adj[ed.b] = append(r.adj[ed.b], step{to: ed.a, rule: ed.rule.name, weight: ed.weight})
		}
	}
	for name, recsLinked := range linked {
		r.Stats.rule(name).Records = len(recsLinked)
	}
}

// cluster names the clusters of u (ClusterID of their smallest record
// key), gives each record its cluster's id and fills the cluster
// statistics.
func (r *Resolution) cluster(u *union) {
	minKey := map[int]string{}
	size := map[int]int{}
	for i := range r.recs {
		root := u.find(i)
		if k, ok := minKey[root]; !ok || r.keys[i] < k {
			minKey[root] = r.keys[i]
		}
		size[root]++
	}
	r.ProfileIDs = make([]string, len(r.recs))
	for i := range r.recs {
		r.ProfileIDs[i] = ClusterID(minKey[u.find(i)])
	}
	sizes := make(map[string]int, len(size))
	for root, s := range size {
		sizes[ClusterID(minKey[root])] = s
	}
	r.Stats.Records = len(r.recs)
	r.Stats.setClusters(sizes)
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
