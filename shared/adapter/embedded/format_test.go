package embedded_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// format0Copy copies testdata/format0.db into a temp folder and returns
// its path.
func format0Copy(t *testing.T) string { return fixtureCopy(t, "testdata/format0.db") }

// fixtureCopy copies a store file into a temp folder and returns its path.
func fixtureCopy(t *testing.T, fixture string) string {
	t.Helper()
	b, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "aurum.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// scanLines returns what Scan presents, one line per item.
func scanLines(t *testing.T, s *embedded.Store) []string {
	t.Helper()
	var lines []string
	err := s.Scan(t.Context(), func(bucket, key string, value []byte) error {
		lines = append(lines, fmt.Sprintf("%s %q %q", bucket, key, value))
		return nil
	})
	if err != nil {
		t.Fatalf("Scan() = %v; want nil", err)
	}
	return lines
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOpenUpgradesFormat0 opens a file written by the format 0 store: Open
// upgrades it, every read finds what was written, and Scan presents the
// very bytes format 0 stored.
func TestOpenUpgradesFormat0(t *testing.T) {
	path := format0Copy(t)
	stale := path + ".upgrade-12345" // left by an interrupted upgrade
	if err := os.WriteFile(stale, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, path, embedded.Options{NoSync: true, Now: func() time.Time { return format0At }})
	ctx := t.Context()
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(before, after) {
		t.Errorf("Open(format 0 file) left the file as it was; want it rewritten in format 1")
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stat(%s) = %v after Open; want the stale upgrade copy removed", filepath.Base(stale), err)
	}

	t.Run("scan", func(t *testing.T) {
		want, err := os.ReadFile("testdata/format0.scan")
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(scanLines(t, s), "\n") + "\n"
		if got != string(want) {
			t.Errorf("Scan() after the upgrade =\n%s\nwant (testdata/format0.scan)\n%s", got, want)
		}
	})

	changes := format0Changes()
	first := changes[0]
	live := first.Profiles[0].Profile
	rec := first.Records[0].Record
	t.Run("reads", func(t *testing.T) {
		for _, id := range []string{live.ID, "legacy-id"} {
			p, err := s.Profile(ctx, id)
			if err != nil || jsonOf(t, p) != jsonOf(t, live) {
				t.Errorf("Profile(%q) = %s, %v; want %s", id, jsonOf(t, p), err, jsonOf(t, live))
			}
		}
		r, owner, err := s.Record(ctx, rec.Source, rec.ID)
		if err != nil || owner != live.ID || jsonOf(t, r) != jsonOf(t, rec) {
			t.Errorf("Record(crm, C1) = %s, %q, %v; want %s, %q", jsonOf(t, r), owner, err, jsonOf(t, rec), live.ID)
		}
		owners, err := s.Owners(ctx, rec.Identifiers)
		want := map[profile.Identifier]store.Owner{
			rec.Identifiers[0]: {Claimant: live.ID, ProfileID: live.ID},
			rec.Identifiers[1]: {Claimant: "legacy-id", ProfileID: live.ID},
		}
		if err != nil || !maps.Equal(owners, want) {
			t.Errorf("Owners() = %v, %v; want %v", owners, err, want)
		}
		evs, _, err := s.Events(ctx, "legacy-id", 10, "")
		if err != nil || len(evs) != 2 || evs[0].ID != "e2" || evs[1].ID != "e1" {
			t.Errorf("Events(legacy-id) = %v, %v; want e2, e1", evs, err)
		}
		seen, err := s.Seen(ctx, []string{"rec/crm/C1/abc", "other"})
		if err != nil || !seen["rec/crm/C1/abc"] || seen["other"] {
			t.Errorf("Seen() = %v, %v; want only rec/crm/C1/abc", seen, err)
		}
		out, err := s.Outbox(ctx, 10)
		if err != nil || jsonOf(t, out) != jsonOf(t, first.Outbox) {
			t.Errorf("Outbox(10) = %s, %v; want %s", jsonOf(t, out), err, jsonOf(t, first.Outbox))
		}
		for _, w := range first.Items {
			it, err := s.Item(ctx, w.Item.Kind, w.Item.Key, w.Item.Sort)
			want := w.Item
			want.Version = 1
			if err != nil || jsonOf(t, it) != jsonOf(t, want) {
				t.Errorf("Item(%s) = %s, %v; want %s", w.Item.Kind, jsonOf(t, it), err, jsonOf(t, want))
			}
		}
	})

	t.Run("writes", func(t *testing.T) {
		next := live
		next.Version = 2
		err := s.Commit(ctx, store.Change{
			Profiles: []store.ProfileWrite{{Profile: next, ExpectVersion: 1}},
			Items:    []store.ItemWrite{{Op: store.ItemAdd, Item: store.Item{Kind: "id.stats", Key: "shard-1", Sort: "hist/1", N: 1}}},
		})
		if err != nil {
			t.Fatalf("Commit(profile at version 2, counter + 1) = %v; want nil", err)
		}
		it, err := s.Item(ctx, "id.stats", "shard-1", "hist/1")
		if err != nil || it.N != 8 || it.Version != 2 {
			t.Errorf("Item(id.stats) = %+v, %v; want N 8 at version 2", it, err)
		}
	})
}

// TestOpenReadsFormat1: testdata/format1.db, the upgrade of format0.db as
// this code first wrote it, still reads back whole, in place (no upgrade).
// It fails when the encoding of format 1 or its dictionary changes: a new
// encoding needs a new format number or blob tag.
func TestOpenReadsFormat1(t *testing.T) {
	path := fixtureCopy(t, "testdata/format1.db")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, path, embedded.Options{NoSync: true})
	want, err := os.ReadFile("testdata/format0.scan")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(scanLines(t, s), "\n") + "\n"; got != string(want) {
		t.Errorf("Scan() of testdata/format1.db =\n%s\nwant (testdata/format0.scan)\n%s", got, want)
	}
	again, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(info, again) {
		t.Errorf("Open(format 1 file) replaced the file; want it opened in place")
	}
	p, err := s.Profile(t.Context(), "legacy-id")
	if err != nil || p.ID != "p_0123456789abcdef01234567" {
		t.Errorf("Profile(legacy-id) = %s, %v; want p_0123456789abcdef01234567", p.ID, err)
	}
}

// TestOpenRefusesNewerFormat: a file of a format this code does not know
// is refused, with the way out in the message, and left as it was.
func TestOpenRefusesNewerFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aurum.db")
	s, err := embedded.Open(path, embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Put([]byte("format"), []byte("9")) })
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, err = embedded.Open(path, embedded.Options{NoSync: true})
	if err == nil || !strings.Contains(err.Error(), "format 9") || !strings.Contains(err.Error(), "newer aurum") {
		t.Errorf("Open(format 9 file) = %v; want an error naming format 9 and a newer aurum", err)
	}
}

// TestReopenKeepsFormat: a store written in the current format opens again
// without an upgrade (the file is not rewritten) and reads back.
func TestReopenKeepsFormat(t *testing.T) {
	path := format0Copy(t)
	s, err := embedded.Open(path, embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	want := scanLines(t, s)
	s.Close()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	s = open(t, path, embedded.Options{NoSync: true})
	if got := scanLines(t, s); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Scan() after reopening = %v; want %v", got, want)
	}
	again, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(info, again) {
		t.Errorf("reopening a format 1 file replaced it; want it opened in place")
	}
}
