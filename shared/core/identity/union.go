package identity

import (
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

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
	if u.apartFrom(rb, ra) {
		return false, ProtectDoNotMerge, "do-not-merge assertion"
	}
	keep, t := u.overCap(ra, rb)
	if t != "" {
		return false, ProtectMaxPerProfile, t
	}
	u.join(ra, rb, keep)
	return true, "", ""
}

// apartFrom reports whether a member of cluster rb must not merge with
// cluster ra.
func (u *union) apartFrom(rb, ra int) bool {
	for _, m := range u.members[rb] {
		for _, p := range u.apart[m] {
			if u.find(p) == ra {
				return true
			}
		}
	}
	return false
}

// overCap checks the capped identifier types of clusters ra and rb
// together: it returns a type over its cap that refuses the merge, or the
// keep_priority types over their cap (ra keeps its own identifiers of
// those).
func (u *union) overCap(ra, rb int) (keep map[string]bool, refused string) {
	keep = map[string]bool{}
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
				return nil, t
			}
			keep[t] = true
		}
	}
	return keep, ""
}

// join merges cluster rb into ra, with rb's capped identifier values but
// those of the types in keep.
func (u *union) join(ra, rb int, keep map[string]bool) {
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
}

// keepApart records do-not-merge assertions: pairs of record keys (unknown
// keys and a record paired with itself are ignored).
func (u *union) keepApart(pairs [][2]string, byKey map[string]int) {
	for _, a := range pairs {
		i, ok1 := byKey[a[0]]
		j, ok2 := byKey[a[1]]
		if ok1 && ok2 && i != j {
			u.apart[i] = append(u.apart[i], j)
			u.apart[j] = append(u.apart[j], i)
		}
	}
}
