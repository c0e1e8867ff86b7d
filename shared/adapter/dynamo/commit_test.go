package dynamo_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// trackChange is what the pipeline commits for a tracked event creating
// profile pid: key, record with one event, profile, claim, outbox event.
func trackChange(key, pid string) store.Change {
	ev := profile.Event{ID: "m-" + key, Source: "web", Type: "track", Name: "Order Completed", Timestamp: t0}
	rec := profile.Record{
		Source: "web", ID: "m-" + key, ObservedAt: t0, ReceivedAt: t0,
		Identifiers: []profile.Identifier{{Type: "anonymous_id", Value: "a-" + pid}},
		Events:      []profile.Event{ev},
	}
	p := profile.Profile{ID: pid, Version: 1, Identifiers: rec.Identifiers, RecordCount: 1, EventCount: 1,
		RecentEvents: rec.Events, CreatedAt: t0, UpdatedAt: t0}
	return store.Change{
		Keys:     []string{key},
		Records:  []store.RecordWrite{{Record: rec, ProfileID: pid}},
		Profiles: []store.ProfileWrite{{Profile: p}},
		Claims:   []store.Claim{{Identifier: rec.Identifiers[0], ProfileID: pid}},
		Outbox: []events.Envelope{{ID: "ev-" + key, Source: events.Source, DetailType: events.TypeProfileUpdated,
			Time: t0, Detail: json.RawMessage(`{"version":"1"}`)}},
	}
}

// counts returns the number of events of pid and of outbox events.
func counts(t *testing.T, st store.Store, pid string) (int, int) {
	t.Helper()
	evs, _, err := st.Events(t.Context(), pid, 100, "")
	if err != nil {
		t.Fatalf("Events(%q) = %v", pid, err)
	}
	out, err := st.Outbox(t.Context(), 100)
	if err != nil {
		t.Fatalf("Outbox(100) = %v", err)
	}
	return len(evs), len(out)
}

func TestDynamoIdempotency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		second store.Change
	}{
		{"same change", trackChange("k1", "p1")},
		{"same key, other profile", func() store.Change {
			c := trackChange("k1", "p2")
			c.Records = nil // the record itself would be upserted; keep the check on the key
			return c
		}()},
		{"same key among others", func() store.Change {
			c := trackChange("k1", "p3")
			c.Keys = []string{"k0", "k1"}
			return c
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, dynamo.Options{})
			if err := f.store.Commit(t.Context(), trackChange("k1", "p1")); err != nil {
				t.Fatalf("Commit(first) = %v; want nil", err)
			}
			err := f.store.Commit(t.Context(), tt.second)
			if !errors.Is(err, fault.ErrConflict) {
				t.Errorf("Commit(second) = %v; want %v", err, fault.ErrConflict)
			}
			if evs, out := counts(t, f.store, "p1"); evs != 1 || out != 1 {
				t.Errorf("after a re-delivery: %d events, %d outbox events; want 1 and 1", evs, out)
			}
			p, err := f.store.Profile(t.Context(), "p1")
			if err != nil || p.Version != 1 || p.RecordCount != 1 {
				t.Errorf(`Profile("p1") = version %d, %d records, %v; want version 1, 1 record`, p.Version, p.RecordCount, err)
			}
			for _, other := range []string{"p2", "p3"} {
				if _, err := f.store.Profile(t.Context(), other); !errors.Is(err, fault.ErrNotFound) {
					t.Errorf("Profile(%q) = %v; want %v", other, err, fault.ErrNotFound)
				}
			}
			seen, err := f.store.Seen(t.Context(), []string{"k0", "k1"})
			if err != nil || !seen["k1"] || seen["k0"] {
				t.Errorf(`Seen("k0", "k1") = %v, %v; want only k1`, seen, err)
			}
		})
	}
}

func TestDynamoKeyExpiry(t *testing.T) {
	t.Parallel()
	now := t0
	f := newFixture(t, dynamo.Options{KeyTTL: time.Hour, Now: func() time.Time { return now }})
	if err := f.store.Commit(t.Context(), store.Change{Keys: []string{"k"}}); err != nil {
		t.Fatalf("Commit(key) = %v; want nil", err)
	}
	tests := []struct {
		after    time.Duration
		wantSeen bool
	}{
		{59 * time.Minute, true},
		{61 * time.Minute, false},
	}
	for _, tt := range tests {
		now = t0.Add(tt.after)
		seen, err := f.store.Seen(t.Context(), []string{"k"})
		if err != nil || seen["k"] != tt.wantSeen {
			t.Errorf("Seen(k) %v after commit = %v, %v; want %v", tt.after, seen["k"], err, tt.wantSeen)
		}
	}
	// Expired (DynamoDB deletes lazily): the key may be recorded again.
	if err := f.store.Commit(t.Context(), store.Change{Keys: []string{"k"}}); err != nil {
		t.Errorf("Commit(expired key) = %v; want nil", err)
	}
	if err := f.store.Commit(t.Context(), store.Change{Keys: []string{"k"}}); !errors.Is(err, fault.ErrConflict) {
		t.Errorf("Commit(key again) = %v; want %v", err, fault.ErrConflict)
	}
}

func TestDynamoCommitLimits(t *testing.T) {
	t.Parallel()
	devices := func(n int) []profile.Identifier {
		var ids []profile.Identifier
		for i := 0; i < n; i++ {
			ids = append(ids, profile.Identifier{Type: "device_id", Value: fmt.Sprint("d", i)})
		}
		return ids
	}
	claims := func(n int) store.Change {
		var c store.Change
		for _, id := range devices(n) {
			c.Claims = append(c.Claims, store.Claim{Identifier: id, ProfileID: "p"})
		}
		return c
	}
	huge := profile.Profile{ID: "p-huge", Version: 1, Attributes: map[string]profile.Attribute{}}
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 6000; i++ {
		// Random values defeat the compression of bodies: about 700 KB of
		// JSON, 500 KB compressed.
		b := make([]byte, 90)
		for j := range b {
			b[j] = byte(rnd.Uint32())
		}
		huge.Attributes[fmt.Sprint("a", i)] = profile.Attribute{Value: base64.StdEncoding.EncodeToString(b)}
	}
	tests := []struct {
		name    string
		change  store.Change
		want    error
		claimed int // device ids claimed afterwards
	}{
		{"100 items", claims(100), nil, 100},
		{"101 items", claims(101), fault.ErrTooLarge, 0},
		{"item over 400 KB", store.Change{Profiles: []store.ProfileWrite{{Profile: huge}}, Claims: claims(1).Claims}, fault.ErrTooLarge, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, dynamo.Options{})
			err := f.store.Commit(t.Context(), tt.change)
			if (tt.want == nil && err != nil) || !errors.Is(err, tt.want) {
				t.Fatalf("Commit() = %v; want %v", err, tt.want)
			}
			if u := f.meter.Units(); tt.want != nil && u.Requests != 0 {
				t.Errorf("refused change sent %d requests; want none", u.Requests)
			}
			owners, err := f.store.Owners(t.Context(), devices(101))
			if err != nil || len(owners) != tt.claimed {
				t.Errorf("Owners(101 device ids) = %d owners, %v; want %d", len(owners), err, tt.claimed)
			}
		})
	}
}

func TestDynamoEventsCursor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dynamo.Options{})
	tests := []struct {
		name   string
		limit  int
		cursor string
	}{
		{"zero limit", 0, ""},
		{"negative limit", -1, ""},
		{"not base64", 10, "!!"},
		{"not an event key", 10, "UCNw"}, // base64 of "P#p"
	}
	for _, tt := range tests {
		_, _, err := f.store.Events(t.Context(), "p", tt.limit, tt.cursor)
		if !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("%s: Events(p, %d, %q) = %v; want %v", tt.name, tt.limit, tt.cursor, err, fault.ErrInvalid)
		}
	}
}
