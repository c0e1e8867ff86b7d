package embedded_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
	"github.com/aurum-cdp/aurum/shared/port/store/storetest"
)

func open(t testing.TB, path string, opts embedded.Options) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%q) = %v; want nil error", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newStore(t testing.TB) *embedded.Store {
	return open(t, filepath.Join(t.TempDir(), "nested", "dir", "aurum.db"), embedded.Options{NoSync: true, Timeout: time.Second})
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store { return newStore(t) },
		Reopen: func(t *testing.T, s store.Store) store.Store {
			path := s.(*embedded.Store).Path()
			if err := s.Close(); err != nil {
				t.Fatalf("Close() = %v; want nil", err)
			}
			return open(t, path, embedded.Options{NoSync: true, Timeout: time.Second})
		},
		NewWithClock: func(t *testing.T, now func() time.Time) store.Store {
			return open(t, filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true, Timeout: time.Second, Now: now})
		},
	})
}

func TestOpenLocked(t *testing.T) {
	s := newStore(t)
	_, err := embedded.Open(s.Path(), embedded.Options{Timeout: 50 * time.Millisecond})
	if !errors.Is(err, fault.ErrRetryable) {
		t.Errorf("Open(locked file) = %v; want %v", err, fault.ErrRetryable)
	}
}

func TestOutboxEqualTimesKeepInsertionOrder(t *testing.T) {
	s := newStore(t)
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	env := func(id string) events.Envelope {
		return events.Envelope{ID: id, Source: events.Source, DetailType: events.TypeProfileUpdated, Time: at, Detail: json.RawMessage(`{}`)}
	}
	ctx := t.Context()
	if err := s.Commit(ctx, store.Change{Outbox: []events.Envelope{env("z"), env("a")}}, store.Change{Outbox: []events.Envelope{env("m")}}); err != nil {
		t.Fatalf("Commit() = %v; want nil", err)
	}
	if err := s.Commit(ctx, store.Change{Outbox: []events.Envelope{env("b")}}); err != nil {
		t.Fatalf("Commit() = %v; want nil", err)
	}
	got, err := s.Outbox(ctx, 10)
	if err != nil {
		t.Fatalf("Outbox(10) = %v; want nil error", err)
	}
	var ids []string
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	if want := []string{"z", "a", "m", "b"}; !slices.Equal(ids, want) {
		t.Errorf("Outbox(10) = %v; want %v", ids, want)
	}
}

func TestRedirectCycleConflicts(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	p := func(id string) store.ProfileWrite {
		return store.ProfileWrite{Profile: profile.Profile{ID: id, Version: 1}}
	}
	if err := s.Commit(ctx, store.Change{Profiles: []store.ProfileWrite{p("a"), p("b"), p("c")}}); err != nil {
		t.Fatalf("Commit(create) = %v; want nil", err)
	}
	// b → a is stored; a → b would close a cycle, and so would a pair of
	// redirects inside one change.
	if err := s.Commit(ctx, store.Change{Redirects: []store.Redirect{{From: "b", To: "a", ExpectVersion: 1}}}); err != nil {
		t.Fatalf("Commit(b → a) = %v; want nil", err)
	}
	tests := []struct {
		name string
		rs   []store.Redirect
	}{
		{"against stored", []store.Redirect{{From: "a", To: "b", ExpectVersion: 1}}},
		{"within change", []store.Redirect{{From: "a", To: "c", ExpectVersion: 1}, {From: "c", To: "a", ExpectVersion: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Commit(ctx, store.Change{Redirects: tt.rs})
			if !errors.Is(err, fault.ErrConflict) {
				t.Errorf("Commit(%v) = %v; want %v", tt.rs, err, fault.ErrConflict)
			}
			for id, want := range map[string]string{"a": "a", "b": "a", "c": "c"} {
				if got, err := s.Resolve(ctx, id); err != nil || got != want {
					t.Errorf("Resolve(%q) = %q, %v; want %q, nil", id, got, err, want)
				}
			}
		})
	}
}

func TestRecordUpsertReindexesEvents(t *testing.T) {
	// The events of a record's previous version leave the index when the
	// record is rewritten, even if their timestamps or profile changed.
	ev := func(id string, sec int64) profile.Event {
		return profile.Event{ID: id, Source: "web", Type: "track", Timestamp: time.Unix(sec, 0).UTC()}
	}
	put := func(t *testing.T, s *embedded.Store, pid string, evs ...profile.Event) {
		t.Helper()
		rec := profile.Record{Source: "web", ID: "r1", Events: evs}
		if err := s.Commit(t.Context(), store.Change{Records: []store.RecordWrite{{Record: rec, ProfileID: pid}}}); err != nil {
			t.Fatalf("Commit(record r1 under %s) = %v; want nil", pid, err)
		}
	}
	ids := func(t *testing.T, s *embedded.Store, pid string) []string {
		t.Helper()
		evs, _, err := s.Events(t.Context(), pid, 100, "")
		if err != nil {
			t.Fatalf("Events(%q) = %v; want nil error", pid, err)
		}
		var out []string
		for _, e := range evs {
			out = append(out, fmt.Sprintf("%s@%d", e.ID, e.Timestamp.Unix()))
		}
		return out
	}
	tests := []struct {
		name    string
		second  []profile.Event
		pid     string
		wantNew []string
	}{
		{"timestamp corrected", []profile.Event{ev("e1", 150), ev("e2", 200)}, "p1", []string{"e2@200", "e1@150"}},
		{"event dropped", []profile.Event{ev("e2", 200)}, "p1", []string{"e2@200"}},
		{"moved to another profile", []profile.Event{ev("e1", 100), ev("e2", 200)}, "p2", []string{"e2@200", "e1@100"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			put(t, s, "p1", ev("e1", 100), ev("e2", 200))
			put(t, s, tt.pid, tt.second...)
			if got := ids(t, s, tt.pid); !slices.Equal(got, tt.wantNew) {
				t.Errorf("Events(%q) = %v; want %v", tt.pid, got, tt.wantNew)
			}
			if tt.pid != "p1" {
				if got := ids(t, s, "p1"); len(got) != 0 {
					t.Errorf("Events(%q) = %v; want none", "p1", got)
				}
			}
			st, err := s.Stats(t.Context())
			if err != nil || st.Events != len(tt.wantNew) {
				t.Errorf("Stats().Events = %d, %v; want %d, nil", st.Events, err, len(tt.wantNew))
			}
		})
	}
}

func TestEventsRejectsBadInput(t *testing.T) {
	s := newStore(t)
	tests := []struct {
		name   string
		limit  int
		cursor string
	}{
		{"zero limit", 0, ""},
		{"negative limit", -1, ""},
		{"cursor not base64", 10, "!!"},
		{"cursor too short", 10, "AAAA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.Events(t.Context(), "p", tt.limit, tt.cursor)
			if !errors.Is(err, fault.ErrInvalid) {
				t.Errorf("Events(%q, %d, %q) = %v; want %v", "p", tt.limit, tt.cursor, err, fault.ErrInvalid)
			}
		})
	}
}

func TestStatsAndScan(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	rec := profile.Record{
		Source: "crm", ID: "r1", Identifiers: []profile.Identifier{{Type: "email", Value: "ann@example.com"}},
		Events: []profile.Event{{ID: "e1", Source: "crm", Type: "event", Timestamp: time.Unix(100, 0)}, {ID: "e2", Source: "crm", Type: "event", Timestamp: time.Unix(200, 0)}},
	}
	err := s.Commit(ctx, store.Change{
		Keys:      []string{"k1", "k2"},
		Records:   []store.RecordWrite{{Record: rec, ProfileID: "p1"}},
		Profiles:  []store.ProfileWrite{{Profile: profile.Profile{ID: "p1", Version: 1}}, {Profile: profile.Profile{ID: "p2", Version: 1}}, {Profile: profile.Profile{ID: "p3", Version: 1}}},
		Claims:    []store.Claim{{Identifier: rec.Identifiers[0], ProfileID: "p1"}},
		Outbox:    []events.Envelope{{ID: "ev1", Detail: json.RawMessage(`{}`)}},
		Redirects: nil,
	}, store.Change{Redirects: []store.Redirect{{From: "p3", To: "p2", ExpectVersion: 1}}})
	if err != nil {
		t.Fatalf("Commit() = %v; want nil", err)
	}
	got, err := s.Stats(ctx)
	if err != nil {
		t.Fatalf("Stats() = %v; want nil error", err)
	}
	want := embedded.Stats{Profiles: 2, Redirects: 1, Identifiers: 1, Records: 1, Events: 2, Keys: 2, Outbox: 1}
	if got != want {
		t.Errorf("Stats() = %+v; want %+v", got, want)
	}

	// Scan sees every item, the identifier value included, and nothing else.
	counts := map[string]int{}
	found := false
	err = s.Scan(ctx, func(bucket, key string, value []byte) error {
		counts[bucket]++
		if bytes.Contains([]byte(key), []byte("ann@example.com")) || bytes.Contains(value, []byte("ann@example.com")) {
			found = true
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Scan() = %v; want nil error", err)
	}
	wantCounts := map[string]int{
		embedded.BucketProfiles: 2, embedded.BucketRedirects: 1, embedded.BucketChildren: 1,
		embedded.BucketIdentifiers: 1, embedded.BucketRecords: 1, embedded.BucketEvents: 2,
		embedded.BucketKeys: 2, embedded.BucketOutbox: 1, embedded.BucketOutboxIDs: 1,
	}
	for b, n := range wantCounts {
		if counts[b] != n {
			t.Errorf("Scan() saw %d items in %s; want %d", counts[b], b, n)
		}
	}
	if len(counts) != len(wantCounts) {
		t.Errorf("Scan() saw buckets %v; want %v", counts, wantCounts)
	}
	if !found {
		t.Errorf("Scan() never saw the stored identifier value; want it in the identifiers and records buckets")
	}

	stop := errors.New("stop")
	if err := s.Scan(ctx, func(string, string, []byte) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Scan(fn failing) = %v; want %v", err, stop)
	}
}

func TestCommitCancelled(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.Commit(ctx, store.Change{Keys: []string{"k"}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Commit(cancelled) = %v; want %v", err, context.Canceled)
	}
	seen, err := s.Seen(t.Context(), []string{"k"})
	if err != nil || seen["k"] {
		t.Errorf("Seen(k) = %v, %v; want false, nil", seen, err)
	}
}

// benchChange is one record with two identifiers and an event, its new
// profile, claims and outbox event: the shape of a typical ingested row.
func benchChange(i int) store.Change {
	id := fmt.Sprintf("p%08d", i)
	at := time.Unix(int64(i), 0).UTC()
	ids := []profile.Identifier{{Type: "email", Value: id + "@example.com"}, {Type: "customer_id", Value: "C" + id}}
	rec := profile.Record{
		Source: "crm", ID: id, ObservedAt: at, ReceivedAt: at, Identifiers: ids,
		Attributes: map[string]any{"first_name": "Ann", "plan": "pro", "seats": 3.0},
		Events:     []profile.Event{{ID: "o" + id, Source: "crm", Type: "event", Name: "Order Completed", Timestamp: at, Properties: map[string]any{"total": 42.5}}},
	}
	p := profile.Profile{
		ID: id, Version: 1, Identifiers: ids, RecordCount: 1, EventCount: 1, CreatedAt: at, UpdatedAt: at,
		Attributes: map[string]profile.Attribute{
			"first_name": {Value: "Ann", Source: "crm", RecordID: id, ObservedAt: at},
			"plan":       {Value: "pro", Source: "crm", RecordID: id, ObservedAt: at},
		},
		RecentEvents: rec.Events,
	}
	return store.Change{
		Keys:     []string{"crm/" + id},
		Records:  []store.RecordWrite{{Record: rec, ProfileID: id}},
		Profiles: []store.ProfileWrite{{Profile: p}},
		Claims:   []store.Claim{{Identifier: ids[0], ProfileID: id}, {Identifier: ids[1], ProfileID: id}},
		Outbox:   []events.Envelope{{ID: "u" + id, Source: events.Source, DetailType: events.TypeProfileUpdated, Time: at, Detail: json.RawMessage(`{"version":"1"}`)}},
	}
}

func benchmarkCommit(b *testing.B, batch int) {
	for _, sync := range []bool{false, true} {
		name := "nosync"
		if sync {
			name = "sync"
		}
		b.Run(name, func(b *testing.B) {
			s := open(b, filepath.Join(b.TempDir(), "bench.db"), embedded.Options{NoSync: !sync})
			ctx := context.Background()
			changes := make([]store.Change, batch)
			n := 0
			for b.Loop() {
				for j := range changes {
					changes[j] = benchChange(n)
					n++
				}
				if err := s.Commit(ctx, changes...); err != nil {
					b.Fatalf("Commit() = %v; want nil", err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/change")
		})
	}
}

// BenchmarkCommit commits one typical change per call.
func BenchmarkCommit(b *testing.B) { benchmarkCommit(b, 1) }

// BenchmarkCommitBatch commits 500 typical changes per call, as bulk
// ingestion does.
func BenchmarkCommitBatch(b *testing.B) { benchmarkCommit(b, 500) }

// TestCommitLargeBatchStopsAtFirstInvalid: a batch large enough to be
// encoded on several cores still commits exactly the change sets before
// the first invalid one.
func TestCommitLargeBatchStopsAtFirstInvalid(t *testing.T) {
	for _, bad := range []int{0, 57, 199} {
		t.Run(fmt.Sprint(bad), func(t *testing.T) {
			s := newStore(t)
			ctx := t.Context()
			changes := make([]store.Change, 200)
			keys := make([]string, len(changes))
			for i := range changes {
				keys[i] = fmt.Sprintf("k%03d", i)
				changes[i] = store.Change{Keys: []string{keys[i]}}
			}
			changes[bad].Keys = []string{""}
			err := s.Commit(ctx, changes...)
			if !errors.Is(err, fault.ErrInvalid) || !strings.Contains(err.Error(), fmt.Sprintf("change %d:", bad)) {
				t.Fatalf("Commit(200 changes, #%d invalid) = %v; want %v naming change %d", bad, err, fault.ErrInvalid, bad)
			}
			seen, err := s.Seen(ctx, keys)
			if err != nil {
				t.Fatal(err)
			}
			for i, k := range keys {
				if want := i < bad; seen[k] != want {
					t.Errorf("Seen(%s) = %v; want %v", k, seen[k], want)
				}
			}
		})
	}
}
