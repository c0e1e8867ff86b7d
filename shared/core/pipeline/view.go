package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/aurum-cdp/aurum/shared/core/identity"

	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// view is a batch's read cache over the store with the batch's own pending
// changes applied on top, so record 2 of a batch sees the profile record 1
// created or merged before any of them is committed.
type view struct {
	st        Store
	limit     func(identity.Key) int
	owner     map[profile.Identifier]store.Owner
	unclaimed map[profile.Identifier]bool
	profiles  map[string]profile.Profile
	redirect  map[string]string
	// blocks caches block-index entries by store key, sort key → entry;
	// pending holds the batch's own entries for blocks not read yet.
	blocks  map[string]map[string]identity.Indexed
	pending map[string]map[string]identity.Indexed
	// fps caches placeholder detection state by identifier key.
	fps map[string]fpEntry
	// apart caches do-not-merge entries by profile id; pendingApart holds
	// the batch's own entries for profiles not read yet.
	apart        map[string][]string
	pendingApart map[string][]string
}

// fpEntry is an identifier value's placeholder state and the version of
// its item (0: no item yet).
type fpEntry struct {
	state   identity.Fingerprints
	version int64
}

func newView(st Store, limit func(identity.Key) int) *view {
	return &view{
		st:        st,
		limit:     limit,
		owner:     map[profile.Identifier]store.Owner{},
		unclaimed: map[profile.Identifier]bool{},
		profiles:  map[string]profile.Profile{},
		redirect:  map[string]string{},
		blocks:    map[string]map[string]identity.Indexed{},
		pending:   map[string]map[string]identity.Indexed{},
		fps:       map[string]fpEntry{},
		apart:     map[string][]string{},

		pendingApart: map[string][]string{},
	}
}

// fingerprints returns the placeholder state of the identifier with store
// key k.
func (v *view) fingerprints(ctx context.Context, k string) (fpEntry, error) {
	if e, ok := v.fps[k]; ok {
		return e, nil
	}
	items, _, err := v.st.Items(ctx, identity.ItemFingerprints, k, "", "", 1, "")
	if err != nil {
		return fpEntry{}, fmt.Errorf("read placeholder state: %w", err)
	}
	var e fpEntry
	if len(items) > 0 {
		if err := json.Unmarshal(items[0].Value, &e.state); err != nil {
			return fpEntry{}, fmt.Errorf("decode placeholder state: %w", err)
		}
		e.version = items[0].Version
	}
	v.fps[k] = e
	return e, nil
}

// maxApartRead bounds the do-not-merge entries read for one profile.
const maxApartRead = 1000

// apartOf returns the profile ids profile id must not merge with, as
// written (follow redirects before comparing).
func (v *view) apartOf(ctx context.Context, id string) ([]string, error) {
	if a, ok := v.apart[id]; ok {
		return a, nil
	}
	items, _, err := v.st.Items(ctx, identity.ItemApart, id, "", "", maxApartRead, "")
	if err != nil {
		return nil, fmt.Errorf("read do-not-merge assertions: %w", err)
	}
	var out []string
	for _, it := range items {
		out = append(out, it.Sort)
	}
	for _, o := range v.pendingApart[id] {
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	delete(v.pendingApart, id)
	v.apart[id] = out
	return out, nil
}

// maxBlockRead bounds how many entries of one block are read: one more
// than any rule compares, so an oversized block is recognized.
const maxBlockRead = 5000

// block returns the records indexed under k, in record-key order.
func (v *view) block(ctx context.Context, k identity.Key) ([]identity.Indexed, error) {
	bk := identity.BlockKey(k)
	m, ok := v.blocks[bk]
	if !ok {
		m = map[string]identity.Indexed{}
		limit := min(maxBlockRead, 1+v.limit(k))
		cursor := ""
		for {
			items, next, err := v.st.Items(ctx, identity.ItemBlock, bk, "", "", limit-len(m), cursor)
			if err != nil {
				return nil, fmt.Errorf("read block index: %w", err)
			}
			for _, it := range items {
				var ix identity.Indexed
				if err := json.Unmarshal(it.Value, &ix); err != nil {
					return nil, fmt.Errorf("decode block index entry: %w", err)
				}
				m[it.Sort] = ix
			}
			if next == "" || len(m) >= limit {
				break
			}
			cursor = next
		}
		for s, ix := range v.pending[bk] {
			m[s] = ix
		}
		delete(v.pending, bk)
		v.blocks[bk] = m
	}
	out := make([]identity.Indexed, 0, len(m))
	for _, s := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[s])
	}
	return out, nil
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
	for _, w := range ch.Items {
		switch w.Item.Kind {
		case identity.ItemFingerprints:
			var st identity.Fingerprints
			if err := json.Unmarshal(w.Item.Value, &st); err == nil {
				v.fps[w.Item.Key] = fpEntry{state: st, version: w.ExpectVersion + 1}
			}
			continue
		case identity.ItemApart:
			if a, ok := v.apart[w.Item.Key]; ok {
				if !slices.Contains(a, w.Item.Sort) {
					v.apart[w.Item.Key] = append(a, w.Item.Sort)
				}
			} else {
				v.pendingApart[w.Item.Key] = append(v.pendingApart[w.Item.Key], w.Item.Sort)
			}
			continue
		case identity.ItemBlock:
		default:
			continue
		}
		m, ok := v.blocks[w.Item.Key]
		if !ok {
			if m, ok = v.pending[w.Item.Key]; !ok {
				m = map[string]identity.Indexed{}
				v.pending[w.Item.Key] = m
			}
		}
		var ix identity.Indexed
		if err := json.Unmarshal(w.Item.Value, &ix); err == nil {
			m[w.Item.Sort] = ix
		}
	}
	for _, c := range ch.Claims {
		v.owner[c.Identifier] = store.Owner{Claimant: c.ProfileID, ProfileID: c.ProfileID}
		delete(v.unclaimed, c.Identifier)
	}
}
