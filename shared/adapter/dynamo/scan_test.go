package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

func TestDynamoScanProfiles(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dynamo.Options{})
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var want []string
	var ch store.Change
	for i := range 30 {
		id := fmt.Sprintf("p%02d", i)
		p := profile.Profile{ID: id, Version: 1, CreatedAt: now, UpdatedAt: now,
			Identifiers: []profile.Identifier{{Type: "email", Value: id + "@example.com"}},
			Attributes:  map[string]profile.Attribute{"country": {Value: "GB"}}}
		ch.Profiles = append(ch.Profiles, store.ProfileWrite{Profile: p})
		ch.Claims = append(ch.Claims, store.Claim{Identifier: p.Identifiers[0], ProfileID: id})
		want = append(want, id)
	}
	if err := f.store.Commit(ctx, ch); err != nil {
		t.Fatalf("Commit(profiles) = %v", err)
	}
	// p00 is merged into p01: its item becomes a redirect, not a profile.
	if err := f.store.Commit(ctx, store.Change{Redirects: []store.Redirect{{From: "p00", To: "p01", ExpectVersion: 1, At: now}}}); err != nil {
		t.Fatalf("Commit(redirect) = %v", err)
	}
	want = want[1:]
	f.meter.Reset()

	tests := []struct {
		name  string
		store *dynamo.Store
		opts  dynamo.ScanOptions
	}{
		{"one segment, metered", f.store, dynamo.ScanOptions{}},
		{"small pages", dynamo.New(f.client, f.table, dynamo.Options{}), dynamo.ScanOptions{PageSize: 7}},
		{"parallel segments", dynamo.New(f.client, f.table, dynamo.Options{}), dynamo.ScanOptions{Segments: 4, PageSize: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for p, err := range tt.store.ScanProfiles(ctx, tt.opts) {
				if err != nil {
					t.Fatalf("ScanProfiles: %v", err)
				}
				if p.Version != 1 || p.Attributes["country"].Value != "GB" {
					t.Errorf("profile %s = version %d, attributes %v; want version 1, country GB", p.ID, p.Version, p.Attributes)
				}
				got = append(got, p.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("ScanProfiles(%+v) = %v; want %v", tt.opts, got, want)
			}
		})
	}
	t.Run("stop early", func(t *testing.T) {
		n := 0
		for _, err := range f.store.ScanProfiles(ctx, dynamo.ScanOptions{Segments: 3, PageSize: 2}) {
			if err != nil {
				t.Fatalf("ScanProfiles: %v", err)
			}
			if n++; n == 5 {
				break
			}
		}
		if n != 5 {
			t.Errorf("read %d profiles; want to stop at 5", n)
		}
	})
	if u := f.meter.Units(); u.Read <= 0 {
		t.Errorf("meter read units = %v; want the metered scans counted", u.Read)
	}
}
