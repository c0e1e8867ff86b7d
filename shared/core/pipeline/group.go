package pipeline

import (
	"context"
	"fmt"
	"slices"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// group picks, from the matched profiles in order, those the record may
// join together: a profile whose identifiers would exceed a cap, or that a
// do-not-merge assertion keeps from the group, is left out (its link is
// dropped and counted as blocked). With keep_priority, a record whose own
// unclaimed identifier of a capped type outranks all its links and would
// exceed the cap starts a new profile instead (the group is empty).
func (p *Pipeline) group(ctx context.Context, v *view, rec profile.Record, profiles []profile.Profile, owners map[profile.Identifier]store.Owner, prio map[string]int, rules map[string]string, stats map[string]int64) ([]profile.Profile, error) {
	g := newGrouping()
	for _, pr := range profiles {
		theirs, err := p.liveApart(ctx, v, pr.ID)
		if err != nil {
			return nil, err
		}
		if prot := g.refuses(p, pr, theirs); prot != "" {
			stats["blocked/"+prot]++
			stats["rule/"+rules[pr.ID]+"/blocked"]++
			continue
		}
		g.add(pr, theirs)
	}
	if len(g.members) == 0 || !p.resolver.KeepPriority() || !p.outranked(rec, g.ids, owners, prio[g.members[0].ID]) {
		return g.members, nil
	}
	for _, m := range g.members {
		stats["blocked/"+identity.ProtectMaxPerProfile]++
		stats["rule/"+rules[m.ID]+"/blocked"]++
	}
	return nil, nil
}

// grouping is the group of profiles a record joins, while group builds
// it.
type grouping struct {
	members []profile.Profile
	// ids are the members' identifiers.
	ids []profile.Identifier
	// in marks the members; apart the live ids they must not merge with.
	in    map[string]bool
	apart map[string]bool
}

func newGrouping() *grouping {
	return &grouping{in: map[string]bool{}, apart: map[string]bool{}}
}

// refuses returns the protection that keeps profile pr, which must not
// merge with the live ids theirs, out of the group, or "". The first
// profile is always admitted.
func (g *grouping) refuses(p *Pipeline, pr profile.Profile, theirs []string) string {
	if len(g.members) == 0 {
		return ""
	}
	if p.overCap(g.ids, pr.Identifiers) != "" {
		return identity.ProtectMaxPerProfile
	}
	if g.apart[pr.ID] || slices.ContainsFunc(theirs, func(a string) bool { return g.in[a] }) {
		return identity.ProtectDoNotMerge
	}
	return ""
}

// add admits pr, which must not merge with the live ids theirs.
func (g *grouping) add(pr profile.Profile, theirs []string) {
	g.members = append(g.members, pr)
	g.ids = append(g.ids, pr.Identifiers...)
	g.in[pr.ID] = true
	for _, a := range theirs {
		g.apart[a] = true
	}
}

// outranked reports, for keep_priority, whether the record holds an
// unclaimed identifier of a capped keep_priority type that outranks the
// best link priority and would exceed its cap in a profile holding
// groupIDs: the record then starts a profile of its own.
func (p *Pipeline) outranked(rec profile.Record, groupIDs []profile.Identifier, owners map[profile.Identifier]store.Owner, best int) bool {
	for _, id := range rec.Identifiers {
		if _, claimed := owners[id]; claimed {
			continue
		}
		if limit, policy := p.resolver.Capped(id.Type); limit == 0 || policy != config.ConflictKeepPriority {
			continue
		}
		if p.resolver.Priority(id.Type) >= best || slices.Contains(groupIDs, id) || p.overCap(groupIDs, []profile.Identifier{id}) == "" {
			continue
		}
		return true
	}
	return false
}

// liveApart returns the live ids of the profiles profile id must not merge
// with.
func (p *Pipeline) liveApart(ctx context.Context, v *view, id string) ([]string, error) {
	raw, err := v.apartOf(ctx, id)
	if err != nil || len(raw) == 0 {
		return nil, err
	}
	out := make([]string, 0, len(raw))
	for _, a := range raw {
		pr, err := v.profile(ctx, a)
		if fault.Is(err, fault.ErrNotFound) {
			continue // erased
		}
		if err != nil {
			return nil, fmt.Errorf("resolve do-not-merge target: %w", err)
		}
		out = append(out, pr.ID)
	}
	return out, nil
}
