package dynamo_test

import (
	"testing"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// TestDynamoEventualOwners checks the read units of Owners for an
// identifier claimed by a live profile: one strongly consistent read of
// the identifier and one of the profile, halved by EventualOwners or
// EventualReads; and that the answer is the same.
func TestDynamoEventualOwners(t *testing.T) {
	id := profile.Identifier{Type: "email", Value: "ada@example.com"}
	for _, tc := range []struct {
		name string
		opts dynamo.Options
		want float64
	}{
		{"Strong", dynamo.Options{}, 2},
		{"EventualOwners", dynamo.Options{EventualOwners: true}, 1},
		{"EventualReads", dynamo.Options{EventualReads: true}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts)
			ctx := t.Context()
			err := f.store.Commit(ctx, store.Change{
				Profiles: []store.ProfileWrite{{Profile: profile.Profile{ID: "p1", Version: 1, Identifiers: []profile.Identifier{id}}}},
				Claims:   []store.Claim{{Identifier: id, ProfileID: "p1"}},
			})
			if err != nil {
				t.Fatalf("Commit() = %v", err)
			}
			f.meter.Reset()
			got, err := f.store.Owners(ctx, []profile.Identifier{id})
			if err != nil {
				t.Fatalf("Owners() = %v", err)
			}
			if o := got[id]; o.Claimant != "p1" || o.ProfileID != "p1" {
				t.Errorf("Owners()[email] = %+v; want claimant and profile p1", o)
			}
			if u := f.meter.Units(); u.Read != tc.want {
				t.Errorf("Owners() read units = %v; want %v", u.Read, tc.want)
			}
			// Seen stays strongly consistent under EventualOwners.
			f.meter.Reset()
			if _, err := f.store.Seen(ctx, []string{"k"}); err != nil {
				t.Fatalf("Seen() = %v", err)
			}
			want := 1.0
			if tc.opts.EventualReads {
				want = 0.5
			}
			if u := f.meter.Units(); u.Read != want {
				t.Errorf("Seen() read units = %v; want %v", u.Read, want)
			}
		})
	}
}
