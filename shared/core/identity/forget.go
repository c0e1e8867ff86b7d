package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Forgetter is identity resolution's part of an erasure and an export
// (store.Forgetter): the record index, the merge ledger, block index
// entries, placeholder state, rankings, do-not-merge entries and split
// redirects of a person. Statistics counters (ItemStats) and the
// quarantine list (ItemQuarantine: shared placeholder values, which
// identify nobody and must stay quarantined) are claimed and kept.
type Forgetter struct {
	eng *Engine
}

// NewForgetter returns the Forgetter of the engine's items; the engine
// computes the block keys of the person's records.
func NewForgetter(eng *Engine) *Forgetter { return &Forgetter{eng: eng} }

var _ store.Forgetter = (*Forgetter)(nil)

// Kinds implements store.Forgetter.
func (f *Forgetter) Kinds() []string {
	return []string{ItemRecords, ItemLedger, ItemBlock, ItemStats, ItemApart, ItemAssertions,
		ItemFingerprints, ItemQuarantine, ItemTop, ItemMoved}
}

// Forget implements store.Forgetter. It first rewrites the do-not-merge
// assertions that name the person's records (side work: the list is
// shared); the record index entries go last (Forgotten.Index).
func (f *Forgetter) Forget(ctx context.Context, st store.ItemStore, s store.Subject) (store.Forgotten, error) {
	var out store.Forgotten
	add := func(kind, key, sort string) {
		if key != "" && sort != "" {
			out.Items = append(out.Items, store.ItemRef{Kind: kind, Key: key, Sort: sort})
		}
	}
	dropped, err := f.forgetAssertions(ctx, st, s)
	if err != nil {
		return out, err
	}
	out.Items = append(out.Items, dropped...)
	for _, r := range s.Records {
		for _, k := range f.eng.Keys(r) {
			add(ItemBlock, BlockKey(k), r.Key())
		}
	}
	for _, id := range s.Identifiers {
		add(ItemFingerprints, IdentifierKey(id), FingerprintSrt)
	}
	for _, pid := range s.ProfileIDs {
		ledger, err := store.AllItems(ctx, st, ItemLedger, pid)
		if err != nil {
			return out, fmt.Errorf("identity: forget %s: %w", pid, err)
		}
		out.Items = append(out.Items, store.Refs(ledger)...)
		add(ItemMoved, pid, MovedSort)
		apart, err := store.AllItems(ctx, st, ItemApart, pid)
		if err != nil {
			return out, fmt.Errorf("identity: forget %s: %w", pid, err)
		}
		for _, it := range apart {
			add(it.Kind, it.Key, it.Sort)
			add(it.Kind, it.Sort, it.Key) // the other direction
		}
		index, err := store.AllItems(ctx, st, ItemRecords, pid)
		if err != nil {
			return out, fmt.Errorf("identity: forget %s: %w", pid, err)
		}
		out.Index = append(out.Index, store.Refs(index)...)
	}
	for _, sort := range TopSorts(s.Profile.RecordCount, s.Profile.ID) {
		add(ItemTop, TopKey, sort)
	}
	return out, nil
}

// forgetAssertions removes the person's records from the do-not-merge
// assertions (ItemAssertions): a pair that names one of them protects
// nothing any more. Assertions left without pairs are returned, to be
// deleted with the erasure; the others are rewritten here, with version
// checks, without those pairs and without the person's profile id (the
// sort key keeps the opaque id of the split profile).
func (f *Forgetter) forgetAssertions(ctx context.Context, st store.ItemStore, s store.Subject) ([]store.ItemRef, error) {
	if len(s.Records) == 0 {
		return nil, nil
	}
	erased := map[string]bool{}
	for _, r := range s.Records {
		erased[r.Key()] = true
	}
	const attempts = 8
	for attempt := 1; ; attempt++ {
		dropped, err := f.forgetAssertionsOnce(ctx, st, s, erased)
		if err == nil || !errors.Is(err, fault.ErrConflict) || attempt == attempts {
			return dropped, err
		}
	}
}

func (f *Forgetter) forgetAssertionsOnce(ctx context.Context, st store.ItemStore, s store.Subject, erased map[string]bool) ([]store.ItemRef, error) {
	its, err := store.AllItems(ctx, st, ItemAssertions, AssertionsKey)
	if err != nil {
		return nil, fmt.Errorf("identity: forget assertions: %w", err)
	}
	var dropped []store.ItemRef
	var writes []store.ItemWrite
	for _, it := range its {
		var a Assertion
		if err := json.Unmarshal(it.Value, &a); err != nil {
			return nil, fmt.Errorf("identity: forget assertions: decode %s: %w", it.Sort, err)
		}
		kept := slices.DeleteFunc(slices.Clone(a.Pairs), func(p [2]string) bool { return erased[p[0]] || erased[p[1]] })
		named := s.Holds(a.ProfileID)
		switch {
		case len(kept) == 0 && (len(a.Pairs) > 0 || named):
			dropped = append(dropped, store.ItemRef{Kind: it.Kind, Key: it.Key, Sort: it.Sort})
		case len(kept) < len(a.Pairs) || named:
			a.Pairs = kept
			if named {
				a.ProfileID = ""
			}
			b, err := json.Marshal(a)
			if err != nil {
				return nil, fmt.Errorf("identity: forget assertions: encode %s: %w", it.Sort, err)
			}
			writes = append(writes, store.ItemWrite{Op: store.ItemReplace, ExpectVersion: it.Version,
				Item: store.Item{Kind: it.Kind, Key: it.Key, Sort: it.Sort, Value: b}})
		}
	}
	for start := 0; start < len(writes); start += maxForgetWrites {
		ch := store.Change{Items: writes[start:min(start+maxForgetWrites, len(writes))]}
		if err := st.Commit(ctx, ch); err != nil {
			return nil, fmt.Errorf("identity: forget assertions: %w", err)
		}
	}
	return dropped, nil
}

// maxForgetWrites bounds the item writes of one change of an erasure's
// side work.
const maxForgetWrites = 50

// Export implements store.Forgetter: "merges" lists the merge ledger
// entries of the person's profiles.
func (f *Forgetter) Export(ctx context.Context, st store.ItemStore, s store.Subject) (map[string]any, error) {
	merges := []json.RawMessage{}
	for _, pid := range s.ProfileIDs {
		ledger, err := store.AllItems(ctx, st, ItemLedger, pid)
		if err != nil {
			return nil, fmt.Errorf("identity: export %s: %w", pid, err)
		}
		for _, it := range ledger {
			if json.Valid(it.Value) {
				merges = append(merges, it.Value)
			}
		}
	}
	return map[string]any{"merges": merges}, nil
}
