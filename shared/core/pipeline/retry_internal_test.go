package pipeline

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// step is what one commit of record changes does in a scriptedStore:
// apply the first apply change sets (all of them when err is nil), then
// fail with err.
type step struct {
	apply int
	err   error
}

// scriptedStore is a fakeStore whose commits of record changes follow a
// script (then succeed); a change set applied records its keys.
type scriptedStore struct {
	*fakeStore
	script  []step
	commits int
}

func (s *scriptedStore) Commit(_ context.Context, changes ...store.Change) error {
	if len(changes) == 0 || len(changes[0].Keys) == 0 {
		return nil // the identity counters
	}
	st := step{apply: len(changes)}
	if s.commits < len(s.script) {
		st = s.script[s.commits]
	}
	s.commits++
	if st.err == nil {
		st.apply = len(changes)
	}
	for _, c := range changes[:min(st.apply, len(changes))] {
		for _, k := range c.Keys {
			s.seen[k] = true
		}
	}
	if st.err == nil {
		return nil
	}
	return &store.CommitError{Applied: st.apply, Err: st.err}
}

func TestIngestRetry(t *testing.T) {
	conflict := fmt.Errorf("claim: %w", fault.ErrConflict)
	busy := fmt.Errorf("throttled: %w", fault.ErrRetryable)
	tests := []struct {
		name      string
		maxStalls int
		script    []step
		wantErr   error
		accepted  int
		commits   int
	}{
		{"stalls below the bound", 3, []step{{0, conflict}, {0, conflict}}, nil, 4, 3},
		// Giving up on contention tells the caller to retry later: the
		// records are valid (an HTTP client sees 503, not 409).
		{"stalls up to the bound", 3, []step{{0, conflict}, {0, conflict}, {0, conflict}}, fault.ErrRetryable, 0, 3},
		{"progress resets the bound", 2, []step{{1, conflict}, {0, conflict}, {1, conflict}, {0, conflict}, {1, conflict}, {0, conflict}}, nil, 4, 7},
		{"transient failures are retried", 3, []step{{1, busy}, {0, busy}}, nil, 4, 3},
		{"an invalid change is not retried", 5, []step{{1, fault.Invalidf("bad")}}, fault.ErrInvalid, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &scriptedStore{fakeStore: newFakeStore(), script: tt.script}
			p := New(stepConfig(), st, Options{Clock: func() time.Time { return st0 }, MaxStalls: tt.maxStalls})
			var recs []profile.Record
			for i := range 4 {
				recs = append(recs, profile.Record{Source: "web", ID: fmt.Sprintf("m%d", i), Identifiers: idents(fmt.Sprintf("email:u%d@example.com", i))})
			}
			res, err := p.Ingest(context.Background(), recs)
			if (err == nil) != (tt.wantErr == nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("Ingest() = %v; want %v", err, tt.wantErr)
			}
			if errors.Is(err, fault.ErrConflict) {
				t.Errorf("Ingest() = %v; want no conflict kind (valid records never conflict for the caller)", err)
			}
			if res.Accepted != tt.accepted || st.commits != tt.commits {
				t.Errorf("Ingest() accepted %d in %d commits; want %d in %d", res.Accepted, st.commits, tt.accepted, tt.commits)
			}
		})
	}
}
