package privacy_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/core/privacy"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// notes is a Forgetter of a feature that keeps one note item per profile
// ("test.note", key profile id, sort "n") and an index item ("i"); it
// remembers the subject it was asked about.
type notes struct {
	kind    string
	section string
	fail    error
	got     *store.Subject
}

func (n *notes) Kinds() []string { return []string{n.kind} }

func (n *notes) Forget(_ context.Context, _ store.ItemStore, s store.Subject) (store.Forgotten, error) {
	if n.fail != nil {
		return store.Forgotten{}, n.fail
	}
	n.got = &s
	var out store.Forgotten
	for _, pid := range s.ProfileIDs {
		out.Items = append(out.Items, store.ItemRef{Kind: n.kind, Key: pid, Sort: "n"})
		out.Index = append(out.Index, store.ItemRef{Kind: n.kind, Key: pid, Sort: "i"})
	}
	return out, nil
}

func (n *notes) Export(_ context.Context, _ store.ItemStore, s store.Subject) (map[string]any, error) {
	return map[string]any{n.section: len(s.ProfileIDs)}, nil
}

// planned is a store that remembers the erasure it was asked for.
type planned struct {
	*embedded.Store
	plan store.Erasure
}

func (p *planned) Erase(ctx context.Context, e store.Erasure) (store.ErasedCounts, error) {
	p.plan = e
	return p.Store.Erase(ctx, e)
}

func TestEraseAsksEveryForgetter(t *testing.T) {
	w := newWorld(t, false)
	ctx := t.Context()
	recs := append(annRecords(), bobRecord())
	res, err := w.in.Ingest(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	ann, err := w.st.Profile(ctx, res.ProfileIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	bob := res.ProfileIDs[3]
	var writes []store.ItemWrite
	for _, pid := range append([]string{bob}, append(ann.MergedFrom, ann.ID)...) {
		for _, sort := range []string{"n", "i"} {
			writes = append(writes, store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: "test.note", Key: pid, Sort: sort, Value: []byte(`{}`)}})
		}
	}
	if err := w.st.Commit(ctx, store.Change{Items: writes}); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(false)
	n := &notes{kind: "test.note", section: "notes"}
	st := &planned{Store: w.st}
	svc, err := privacy.New(privacy.ConfigOf(cfg), st, append(forgetters(t, cfg), n), privacy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Erase(ctx, ann.ID); err != nil {
		t.Fatalf("Erase() = %v", err)
	}

	if n.got == nil {
		t.Fatal("the forgetter was not asked")
	}
	if want := append([]string{ann.ID}, ann.MergedFrom...); !slices.Equal(n.got.ProfileIDs, want) {
		t.Errorf("Subject.ProfileIDs = %v; want %v", n.got.ProfileIDs, want)
	}
	if n.got.Profile.ID != ann.ID || len(n.got.Records) != 3 || len(n.got.Identifiers) != 4 {
		t.Errorf("Subject = profile %s, %d records, %d identifiers; want %s, 3, 4",
			n.got.Profile.ID, len(n.got.Records), len(n.got.Identifiers), ann.ID)
	}
	for _, pid := range append([]string{ann.ID}, ann.MergedFrom...) {
		for _, sort := range []string{"n", "i"} {
			if _, err := w.st.Item(ctx, "test.note", pid, sort); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("Item(test.note %s %s) after erasure = %v; want %v", pid, sort, err, fault.ErrNotFound)
			}
		}
	}
	if _, err := w.st.Item(ctx, "test.note", bob, "n"); err != nil {
		t.Errorf("Item(test.note of bob) = %v; want it kept", err)
	}
	// Index items (the forgetter's and identity's record index) come
	// after every other item.
	isIndex := func(r store.ItemRef) bool { return r.Sort == "i" || r.Kind == "id.rec" }
	first := slices.IndexFunc(st.plan.Items, isIndex)
	if first < 0 || slices.ContainsFunc(st.plan.Items[first:], func(r store.ItemRef) bool { return !isIndex(r) }) {
		t.Errorf("erasure items = %v; want the index items last", st.plan.Items)
	}
}

func TestEraseFailingForgetter(t *testing.T) {
	w := newWorld(t, false)
	ctx := t.Context()
	res, err := w.in.Ingest(ctx, annRecords())
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(false)
	boom := errors.New("notes: unavailable")
	svc, err := privacy.New(privacy.ConfigOf(cfg), w.st, append(forgetters(t, cfg), &notes{kind: "test.note", fail: boom}), privacy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Erase(ctx, res.ProfileIDs[0]); !errors.Is(err, boom) {
		t.Fatalf("Erase() = %v; want %v", err, boom)
	}
	if _, err := w.st.Profile(ctx, res.ProfileIDs[0]); err != nil {
		t.Errorf("Profile() after a failed erasure = %v; want the profile kept for a retry", err)
	}
	if _, err := w.svc.Erase(ctx, res.ProfileIDs[0]); err != nil {
		t.Errorf("Erase() retried = %v; want nil", err)
	}
}

func TestNewRejectsDoubleClaims(t *testing.T) {
	w := newWorld(t, false)
	cfg := testConfig(false)
	_, err := privacy.New(privacy.ConfigOf(cfg), w.st, append(forgetters(t, cfg), &notes{kind: "seg.hist"}), privacy.Options{})
	if err == nil || !strings.Contains(err.Error(), "seg.hist") {
		t.Errorf("New(seg.hist claimed twice) = %v; want an error naming seg.hist", err)
	}
}

func TestExportSections(t *testing.T) {
	tests := []struct {
		name     string
		sections []string // one notes forgetter per section
		wantErr  bool
	}{
		{"one more section", []string{"notes"}, false},
		{"a core member", []string{"profile"}, true},
		{"a section of another forgetter", []string{"merges"}, true},
		{"two forgetters, one section", []string{"notes", "notes"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, false)
			ctx := t.Context()
			res, err := w.in.Ingest(ctx, annRecords())
			if err != nil {
				t.Fatal(err)
			}
			cfg := testConfig(false)
			fs := forgetters(t, cfg)
			for i, sec := range tt.sections {
				fs = append(fs, &notes{kind: "test.note" + strings.Repeat("x", i), section: sec})
			}
			svc, err := privacy.New(privacy.ConfigOf(cfg), w.st, fs, privacy.Options{})
			if err != nil {
				t.Fatal(err)
			}
			x, err := svc.Export(ctx, res.ProfileIDs[0])
			if tt.wantErr {
				if err == nil {
					t.Errorf("Export() = nil error; want one (section %v taken)", tt.sections)
				}
				return
			}
			if err != nil {
				t.Fatalf("Export() = %v", err)
			}
			b, err := json.Marshal(x)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatalf("export is not a JSON object: %v\n%s", err, b)
			}
			if string(doc["notes"]) != "2" || doc["merges"] == nil || doc["profile"] == nil {
				t.Errorf("export members notes = %s, merges %s, profile present %v; want 2, the ledger, true",
					doc["notes"], doc["merges"], doc["profile"] != nil)
			}
		})
	}
}
