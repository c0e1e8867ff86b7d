package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// wrongMerge ingests two people and a record that wrongly bridges them
// (web/c has Ann's email and Bob's phone), then one more of Bob's records.
// It returns the merged profile's id and Bob's merged-away id.
func wrongMerge(t *testing.T, p *pipeline.Pipeline, st store.Store) (string, string) {
	t.Helper()
	ann := ingest(t, p, rec("crm", "a", t0, "email:ann@x.com", "phone:+447700900001"))
	bob := ingest(t, p, rec("shop", "b", t0.Add(time.Hour), "email:bob@x.com", "phone:+447700900002"))
	if res := ingest(t, p, rec("web", "c", t0.Add(2*time.Hour), "email:ann@x.com", "phone:+447700900002")); res.Merges != 1 {
		t.Fatalf("bridging record merged %d profiles; want 1", res.Merges)
	}
	ingest(t, p, rec("shop", "d", t0.Add(3*time.Hour), "email:bob@x.com"))
	live, err := st.Resolve(context.Background(), bob.ProfileIDs[0])
	if err != nil || live != ann.ProfileIDs[0] {
		t.Fatalf("Resolve(bob) = %q, %v; want Ann's profile %s", live, err, ann.ProfileIDs[0])
	}
	return ann.ProfileIDs[0], bob.ProfileIDs[0]
}

func TestUnmergeWithdrawLink(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	p := newPipeline(st)
	survivor, bobID := wrongMerge(t, p, st)

	sp, err := p.Unmerge(ctx, bobID, pipeline.Withdrawal{Link: [2]string{"web/c", "shop/b"}, Reason: "test"})
	if err != nil {
		t.Fatalf("Unmerge: %v", err)
	}
	if len(sp.Parts) != 2 || sp.ProfileID != survivor || sp.Parts[0].ProfileID != survivor || !sp.Parts[1].Created {
		t.Fatalf("Unmerge = %+v; want two parts, the first keeping %s", sp, survivor)
	}
	if got, want := fmt.Sprint(sp.Parts[0].Records, sp.Parts[1].Records), "[crm/a web/c] [shop/b shop/d]"; got != want {
		t.Errorf("parts = %s; want %s", got, want)
	}
	bob := sp.Parts[1].ProfileID

	t.Run("golden records rebuilt", func(t *testing.T) {
		for _, tt := range []struct {
			id      string
			records int
			has     string
			hasNot  string
		}{
			{survivor, 2, "email:ann@x.com", "email:bob@x.com"},
			{bob, 2, "email:bob@x.com", "email:ann@x.com"},
		} {
			pr, err := st.Profile(ctx, tt.id)
			if err != nil {
				t.Fatalf("Profile(%s): %v", tt.id, err)
			}
			var ids []string
			for _, id := range pr.Identifiers {
				ids = append(ids, id.String())
			}
			if pr.RecordCount != tt.records || !slices.Contains(ids, tt.has) || slices.Contains(ids, tt.hasNot) {
				t.Errorf("Profile(%s) = %d records, identifiers %v; want %d records with %s and without %s", tt.id, pr.RecordCount, ids, tt.records, tt.has, tt.hasNot)
			}
		}
	})
	t.Run("claims and records re-pointed", func(t *testing.T) {
		id, _ := profile.ParseIdentifier("email:bob@x.com")
		owners, err := st.Owners(ctx, []profile.Identifier{id})
		if err != nil || owners[id].ProfileID != bob {
			t.Errorf("Owners(bob's email) = %+v, %v; want %s", owners[id], err, bob)
		}
		_, pid, err := st.Record(ctx, "shop", "b")
		if err != nil || pid != bob {
			t.Errorf("Record(shop/b) profile = %q, %v; want %s", pid, err, bob)
		}
	})
	t.Run("old id resolves to the part holding its records", func(t *testing.T) {
		got, err := identity.ResolveID(ctx, st, bobID)
		if err != nil || got != bob {
			t.Errorf("ResolveID(%s) = %q, %v; want %s", bobID, got, err, bob)
		}
		got, err = identity.ResolveID(ctx, st, survivor)
		if err != nil || got != survivor {
			t.Errorf("ResolveID(%s) = %q, %v; want itself", survivor, got, err)
		}
	})
	t.Run("ProfileSplit emitted", func(t *testing.T) {
		var found []events.ProfileSplit
		for _, e := range outbox(t, st) {
			if e.DetailType == events.TypeProfileSplit {
				var d events.ProfileSplit
				if err := json.Unmarshal(e.Detail, &d); err != nil {
					t.Fatal(err)
				}
				found = append(found, d)
			}
		}
		if len(found) != 1 || found[0].ProfileID != survivor || fmt.Sprint(found[0].NewProfileIDs) != fmt.Sprint([]string{bob}) {
			t.Errorf("ProfileSplit events = %+v; want one for %s creating %s", found, survivor, bob)
		}
	})
	t.Run("assertion honoured on re-ingest", func(t *testing.T) {
		// The same records again change nothing.
		res := ingest(t, p, rec("crm", "a", t0, "email:ann@x.com", "phone:+447700900001"), rec("shop", "b", t0.Add(time.Hour), "email:bob@x.com", "phone:+447700900002"))
		if res.Duplicates != 2 {
			t.Errorf("re-delivered records: %+v; want 2 duplicates", res)
		}
		// A corrected copy of the withdrawn link's record and a new
		// record bridging both parts do not merge them again.
		c2 := rec("web", "c", t0.Add(4*time.Hour), "email:ann@x.com", "phone:+447700900002")
		c2.Attributes["note"] = "corrected"
		res = ingest(t, p, c2, rec("web", "e", t0.Add(5*time.Hour), "email:ann@x.com", "email:bob@x.com"))
		if res.Merges != 0 {
			t.Errorf("re-ingest merged %d profiles; want the do-not-merge assertion to refuse", res.Merges)
		}
		for _, id := range []string{survivor, bob} {
			if live, err := st.Resolve(ctx, id); err != nil || live != id {
				t.Errorf("Resolve(%s) = %q, %v; want it live", id, live, err)
			}
		}
		s := streamStats(t, st)
		if s.Blocked[identity.ProtectDoNotMerge] == 0 || s.Splits != 1 {
			t.Errorf("stats blocked %v, splits %d; want do_not_merge counted and 1 split", s.Blocked, s.Splits)
		}
	})
	t.Run("batch honours the assertion", func(t *testing.T) {
		pairs, err := pipeline.Assertions(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		eng, err := identity.New(testConfig.Identifiers, &testConfig.Identity)
		if err != nil {
			t.Fatal(err)
		}
		recs := []profile.Record{
			rec("crm", "a", t0, "email:ann@x.com", "phone:+447700900001"),
			rec("shop", "b", t0, "email:bob@x.com", "phone:+447700900002"),
			rec("web", "c", t0, "email:ann@x.com", "phone:+447700900002"),
		}
		res := eng.Resolve(recs, identity.BatchOptions{Apart: pairs})
		if res.ProfileIDs[1] == res.ProfileIDs[2] {
			t.Errorf("batch put shop/b with web/c despite the assertion %v", pairs)
		}
	})
	checkHistogram(t, st)
}

func TestUnmergeWithdrawRecord(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	p := newPipeline(st)
	survivor, _ := wrongMerge(t, p, st)
	sp, err := p.Unmerge(ctx, survivor, pipeline.Withdrawal{Record: "web/c"})
	if err != nil {
		t.Fatalf("Unmerge: %v", err)
	}
	var parts []string
	for _, part := range sp.Parts {
		parts = append(parts, fmt.Sprint(part.Records))
	}
	slices.Sort(parts[1:])
	if got, want := fmt.Sprint(parts), "[[crm/a] [shop/b shop/d] [web/c]]"; got != want {
		t.Errorf("parts = %s; want %s", got, want)
	}
	checkHistogram(t, st)

	for _, tt := range []struct {
		name string
		id   string
		w    pipeline.Withdrawal
		kind error
	}{
		{"record not in profile", survivor, pipeline.Withdrawal{Record: "web/zz"}, fault.ErrInvalid},
		{"nothing to withdraw", survivor, pipeline.Withdrawal{}, fault.ErrInvalid},
		{"single record", survivor, pipeline.Withdrawal{Record: "crm/a"}, fault.ErrInvalid},
		{"unknown profile", "p_missing", pipeline.Withdrawal{Record: "crm/a"}, fault.ErrNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := p.Unmerge(ctx, tt.id, tt.w); !fault.Is(err, tt.kind) {
				t.Errorf("Unmerge(%s, %+v) = %v; want %v", tt.id, tt.w, err, tt.kind)
			}
		})
	}
}

func TestStreamingPlaceholderQuarantine(t *testing.T) {
	ctx := context.Background()
	cfg := *testConfig
	cfg.Identity.Placeholders = &config.Placeholders{Attributes: []string{"first_name", "last_name"}, MaxDistinct: 2}
	st := openStore(t)
	p := pipeline.New(pipeline.ConfigOf(&cfg), st, pipeline.Options{Clock: func() time.Time { return t0 }})
	named := func(r profile.Record, first, last string) profile.Record {
		r.Attributes = map[string]any{"first_name": first, "last_name": last}
		return r
	}
	res := ingest(t, p,
		named(rec("crm", "a", t0, "phone:+440000"), "Ann", "Lee"),
		named(rec("crm", "a2", t0, "phone:+440000"), "Anne", "Lee"), // the same person: agrees
		named(rec("crm", "b", t0, "phone:+440000"), "Bob", "Marsh"),
		named(rec("crm", "c", t0, "phone:+440000"), "Cyd", "Okafor"),
		named(rec("crm", "d", t0, "phone:+440000", "email:d@x.com"), "Dan", "Zhu"),
		rec("shop", "e", t0, "email:d@x.com"),
	)
	ids := res.ProfileIDs
	if ids[0] != ids[1] {
		t.Errorf("one person's records on a shared phone were not merged: %v", ids)
	}
	for i, k := range []string{"c", "d"} {
		if ids[3+i] == ids[0] {
			t.Errorf("crm/%s joined Ann's profile through a placeholder phone", k)
		}
	}
	if ids[4] != ids[5] {
		t.Errorf("shop/e did not join crm/d by email: %v", ids)
	}
	s := streamStats(t, st)
	if len(s.Quarantined) != 1 || s.Quarantined[0].Identifier.Value != "+440000" || s.Quarantined[0].Distinct != 3 {
		t.Errorf("quarantined = %+v; want the phone with 3 distinct names", s.Quarantined)
	}
	if s.Blocked[identity.ProtectPlaceholder] != 2 {
		t.Errorf("blocked placeholder = %d; want 2 (crm/c, crm/d)", s.Blocked[identity.ProtectPlaceholder])
	}
	_ = ctx
}

func TestStreamingKeepPriority(t *testing.T) {
	ctx := context.Background()
	cfg := *testConfig
	cfg.Identifiers = []config.IdentifierType{
		{Name: "customer_id", Normalizer: "id", MaxPerProfile: 1, OnConflict: config.ConflictKeepPriority},
		{Name: "email", Normalizer: "email"},
		{Name: "phone", Normalizer: "phone"},
	}
	st := openStore(t)
	p := pipeline.New(pipeline.ConfigOf(&cfg), st, pipeline.Options{Clock: func() time.Time { return t0 }})
	first := ingest(t, p, rec("crm", "1", t0, "customer_id:C1", "email:a@x.com"), rec("crm", "2", t0, "customer_id:C2", "email:b@x.com"))
	for _, tt := range []struct {
		name    string
		r       profile.Record
		want    string // profile the record must land in; "" for a new one
		created int
	}{
		{"higher-priority link kept", rec("shop", "3", t0, "email:a@x.com", "customer_id:C2"), first.ProfileIDs[1], 0},
		{"own higher-priority identifier starts a new profile", rec("shop", "4", t0, "email:a@x.com", "customer_id:C3"), "", 1},
		{"lower-priority identifier dropped", rec("shop", "5", t0, "customer_id:C1", "email:new@x.com"), first.ProfileIDs[0], 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := ingest(t, p, tt.r)
			if res.Merges != 0 || res.Created != tt.created || (tt.want != "" && res.ProfileIDs[0] != tt.want) {
				t.Errorf("Ingest(%s) = %+v; want profile %q, %d created, no merge", tt.r.Key(), res, tt.want, tt.created)
			}
			pr, err := st.Profile(ctx, res.ProfileIDs[0])
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, id := range pr.Identifiers {
				if id.Type == "customer_id" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("profile holds %d customer ids; want 1", n)
			}
		})
	}
}

func TestStreamingHistogramMatchesStore(t *testing.T) {
	st := openStore(t)
	p := pipeline.New(pipeline.ConfigOf(fuzzyConfig()), st, pipeline.Options{Clock: func() time.Time { return t0 }})
	recs := fuzzyPeople(12, 9)
	// Some people get extra records so the clusters differ in size.
	for i := range 5 {
		for j := range i {
			r := recs[3*i+1]
			r.ID = fmt.Sprintf("extra-%d-%d", i, j)
			recs = append(recs, r)
		}
	}
	for len(recs) > 0 {
		n := min(len(recs), 7)
		ingest(t, p, recs[:n]...)
		recs = recs[n:]
	}
	checkHistogram(t, st)
}

func streamStats(t *testing.T, st store.Store) identity.Stats {
	t.Helper()
	fc := fuzzyConfig()
	eng, err := identity.New(fc.Identifiers, &fc.Identity)
	if err != nil {
		t.Fatal(err)
	}
	s, err := eng.StreamStats(context.Background(), st)
	if err != nil {
		t.Fatalf("StreamStats: %v", err)
	}
	return s
}

// checkHistogram compares the streaming histogram and ranking with the
// sizes of the profiles found by walking the store.
func checkHistogram(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	es := st.(*embedded.Store)
	var ids []string
	err := es.Scan(ctx, func(bucket, key string, _ []byte) error {
		if bucket == embedded.BucketProfiles {
			ids = append(ids, key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := identity.HistogramBuckets()
	var sizes []identity.ClusterSize
	for _, id := range ids {
		pr, err := st.Profile(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want[identity.BucketOf(pr.RecordCount)].Clusters++
		if pr.RecordCount >= identity.MinRanked {
			sizes = append(sizes, identity.ClusterSize{ProfileID: pr.ID, Records: pr.RecordCount})
		}
	}
	slices.SortFunc(sizes, func(a, b identity.ClusterSize) int {
		if a.Records != b.Records {
			return b.Records - a.Records
		}
		if a.ProfileID < b.ProfileID {
			return -1
		}
		return 1
	})
	sizes = sizes[:min(len(sizes), identity.MaxLargest)]
	got := streamStats(t, st)
	if fmt.Sprint(got.Histogram) != fmt.Sprint(want) {
		t.Errorf("streaming histogram = %v; walking the store gives %v", got.Histogram, want)
	}
	if got.Clusters != len(ids) {
		t.Errorf("streaming clusters = %d; store holds %d profiles", got.Clusters, len(ids))
	}
	if fmt.Sprint(got.Largest) != fmt.Sprint(sizes) {
		t.Errorf("streaming largest = %v; walking the store gives %v", got.Largest, sizes)
	}
}

// countingStore counts the change sets of each Commit.
type countingStore struct {
	*embedded.Store
	commits []int
}

func (c *countingStore) Commit(ctx context.Context, changes ...store.Change) error {
	c.commits = append(c.commits, len(changes))
	return c.Store.Commit(ctx, changes...)
}

// TestUnmergeLargeCluster splits a cluster whose record moves exceed one
// change set (pipeline.MaxSplitWrites): they commit together in several,
// and every record ends up in its part.
func TestUnmergeLargeCluster(t *testing.T) {
	ctx := context.Background()
	inner := openStore(t).(*embedded.Store)
	st := &countingStore{Store: inner}
	p := pipeline.New(pipeline.ConfigOf(testConfig), st, pipeline.Options{Clock: func() time.Time { return t0 }})
	const n = 60
	var recs []profile.Record
	for i := range n {
		recs = append(recs, rec("shop", fmt.Sprintf("ann%02d", i), t0, "email:ann@x.com", fmt.Sprintf("phone:+4411%04d", i)))
		recs = append(recs, rec("shop", fmt.Sprintf("bob%02d", i), t0.Add(time.Hour), "email:bob@x.com", fmt.Sprintf("phone:+4422%04d", i)))
	}
	ingest(t, p, recs...)
	bridge := ingest(t, p, rec("web", "bridge", t0.Add(2*time.Hour), "email:ann@x.com", "email:bob@x.com"))
	st.commits = nil
	sp, err := p.Unmerge(ctx, bridge.ProfileIDs[0], pipeline.Withdrawal{Link: [2]string{"web/bridge", "shop/bob00"}})
	if err != nil {
		t.Fatalf("Unmerge: %v", err)
	}
	if len(st.commits) != 1 || st.commits[0] < 2 {
		t.Errorf("Unmerge committed %v change sets; want one commit of several (%d records move)", st.commits, n)
	}
	if len(sp.Parts) != 2 || min(len(sp.Parts[0].Records), len(sp.Parts[1].Records)) != n || len(sp.Parts[0].Records)+len(sp.Parts[1].Records) != 2*n+1 {
		t.Fatalf("Unmerge = %+v; want Ann's and Bob's %d records apart, the bridge with one of them", sp.Parts, n)
	}
	for _, k := range sp.Parts[1].Records {
		src, id, _ := strings.Cut(k, "/")
		if _, pid, err := st.Record(ctx, src, id); err != nil || pid != sp.Parts[1].ProfileID {
			t.Errorf("Record(%s) profile = %q, %v; want the new part %s", k, pid, err, sp.Parts[1].ProfileID)
		}
	}
	checkHistogram(t, inner)
}
