package pipeline

import (
	"context"
	"fmt"

	"github.com/aurum-cdp/aurum/shared/profile"
	"github.com/aurum-cdp/aurum/shared/store"
)

// view is a batch's read cache over the store with the batch's own pending
// changes applied on top, so record 2 of a batch sees the profile record 1
// created or merged before any of them is committed.
type view struct {
	st        Store
	owner     map[profile.Identifier]store.Owner
	unclaimed map[profile.Identifier]bool
	profiles  map[string]profile.Profile
	redirect  map[string]string
}

func newView(st Store) *view {
	return &view{
		st:        st,
		owner:     map[profile.Identifier]store.Owner{},
		unclaimed: map[profile.Identifier]bool{},
		profiles:  map[string]profile.Profile{},
		redirect:  map[string]string{},
	}
}

// resolve follows the batch's pending redirects.
func (v *view) resolve(id string) string {
	for i := 0; i < 64; i++ {
		to, ok := v.redirect[id]
		if !ok {
			return id
		}
		id = to
	}
	return id
}

func (v *view) owners(ctx context.Context, ids []profile.Identifier) (map[profile.Identifier]store.Owner, error) {
	var missing []profile.Identifier
	for _, id := range ids {
		if _, ok := v.owner[id]; !ok && !v.unclaimed[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		got, err := v.st.Owners(ctx, missing)
		if err != nil {
			return nil, fmt.Errorf("look up identifiers: %w", err)
		}
		for _, id := range missing {
			if o, ok := got[id]; ok {
				v.owner[id] = o
			} else {
				v.unclaimed[id] = true
			}
		}
	}
	out := make(map[profile.Identifier]store.Owner, len(ids))
	for _, id := range ids {
		if o, ok := v.owner[id]; ok {
			o.ProfileID = v.resolve(o.ProfileID)
			out[id] = o
		}
	}
	return out, nil
}

func (v *view) profile(ctx context.Context, id string) (profile.Profile, error) {
	id = v.resolve(id)
	if p, ok := v.profiles[id]; ok {
		return p, nil
	}
	p, err := v.st.Profile(ctx, id)
	if err != nil {
		return profile.Profile{}, err
	}
	v.profiles[p.ID] = p
	return p, nil
}

// apply records a change the batch will commit.
func (v *view) apply(ch store.Change) {
	for _, r := range ch.Redirects {
		v.redirect[r.From] = r.To
		delete(v.profiles, r.From)
	}
	for _, w := range ch.Profiles {
		v.profiles[w.Profile.ID] = w.Profile
	}
	for _, c := range ch.Claims {
		v.owner[c.Identifier] = store.Owner{Claimant: c.ProfileID, ProfileID: c.ProfileID}
		delete(v.unclaimed, c.Identifier)
	}
}
