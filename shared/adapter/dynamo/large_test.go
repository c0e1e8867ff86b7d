package dynamo_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

var largeBase = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// seedProfile stores profile id with n records of source "web", the last
// withEvents of them carrying one event each, and claims its identifiers
// email:<id> and anonymous_id:<id>. Records are written up to 98 items per
// change by four writers; the profile body keeps the newest
// profile.MaxRecentEvents events, as the pipeline does. (Event items cost
// DynamoDB Local far more time than record items: they share one
// partition.)
func seedProfile(t testing.TB, st store.Store, id string, n, withEvents int) profile.Profile {
	t.Helper()
	idents := []profile.Identifier{{Type: "email", Value: id + "@example.com"}, {Type: "anonymous_id", Value: id}}
	rec := func(i int) profile.Record {
		at := largeBase.Add(time.Duration(i) * time.Minute)
		r := profile.Record{
			Source: "web", ID: fmt.Sprintf("%s-r%05d", id, i), ObservedAt: at, ReceivedAt: at,
			Identifiers: idents[1:],
			Attributes:  map[string]any{"plan": "pro", "seen": i},
		}
		if i >= n-withEvents {
			r.Events = []profile.Event{{
				ID: fmt.Sprintf("%s-e%05d", id, i), Source: "web", Type: "track", Name: "Product Viewed", Timestamp: at,
				Properties: map[string]any{"sku": fmt.Sprintf("SKU-%04d", i%5000), "price": 19.99},
			}}
		}
		return r
	}
	// Changes of at most 98 items.
	var changes []store.Change
	var c store.Change
	items := 0
	for i := 0; i < n; i++ {
		r := rec(i)
		if items+1+len(r.Events) > 98 {
			changes, c, items = append(changes, c), store.Change{}, 0
		}
		c.Records = append(c.Records, store.RecordWrite{Record: r, ProfileID: id})
		items += 1 + len(r.Events)
	}
	changes = append(changes, c)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(changes); i += 4 {
				if err := st.Commit(context.Background(), changes[i]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("seed profile %s: Commit() = %v", id, err)
	}
	p := profile.Profile{
		ID: id, Version: 1, Identifiers: idents, RecordCount: n, EventCount: n,
		Sources: map[string]int{"web": n}, CreatedAt: largeBase, UpdatedAt: largeBase.Add(time.Duration(n) * time.Minute),
	}
	for i := n - 1; i >= max(0, n-min(withEvents, profile.MaxRecentEvents)); i-- {
		p.RecentEvents = append(p.RecentEvents, rec(i).Events...)
	}
	pc := store.Change{Profiles: []store.ProfileWrite{{Profile: p}}}
	for _, x := range idents {
		pc.Claims = append(pc.Claims, store.Claim{Identifier: x, ProfileID: id})
	}
	if err := st.Commit(context.Background(), pc); err != nil {
		t.Fatalf("seed profile %s: Commit(profile) = %v", id, err)
	}
	return p
}

// mergeRecord links profiles a and b through their email identifiers and
// brings a new identifier.
func mergeRecord(a, b string, i int) profile.Record {
	at := largeBase.Add(365 * 24 * time.Hour).Add(time.Duration(i) * time.Second)
	return profile.Record{
		Source: "crm", ID: fmt.Sprintf("link-%s-%s", a, b), ObservedAt: at, ReceivedAt: at,
		Identifiers: []profile.Identifier{
			{Type: "email", Value: a + "@example.com"},
			{Type: "email", Value: b + "@example.com"},
			{Type: "customer_id", Value: "C-" + a + "-" + b},
		},
		Events: []profile.Event{{ID: "link-" + a, Source: "crm", Type: "event", Name: "Account Linked", Timestamp: at}},
	}
}

func TestDynamoLargeProfileMerge(t *testing.T) {
	const large, small = 10000, 10 // records; the large profile has 500 events
	f := newFixture(t, dynamo.Options{})
	ctx := t.Context()
	// Survivors have the lowest id: the large profile is merged away into
	// a small one (its records, events and identifiers stay where they
	// are), and a small one into another as the baseline.
	seedProfile(t, f.store, "p1-large", large, 500)
	seedProfile(t, f.store, "p0-small", small, small)
	seedProfile(t, f.store, "p2-small", small, small)
	seedProfile(t, f.store, "p3-small", small, small)

	type cost struct {
		items int
		units dynamo.Units
	}
	merge := func(a, b string) cost {
		t.Helper()
		f.meter.Reset()
		res, err := ingest(ctx, f.store, mergeRecord(a, b, 0), func() string { return "unused" })
		if err != nil || res.Merged != 1 || res.ProfileID != a {
			t.Fatalf("ingest(link %s, %s) = %+v, %v; want a merge into %s", a, b, res, err, a)
		}
		u := f.meter.Units()
		if u.Transactions != 1 {
			t.Fatalf("ingest(link %s, %s) sent %d transactions; want 1", a, b, u.Transactions)
		}
		return cost{items: u.MaxTransactItems, units: u}
	}
	base := merge("p2-small", "p3-small")
	big := merge("p0-small", "p1-large")
	t.Logf("merge of two %d-record profiles: %d items, %.0f WCU, %.1f RCU", small, base.items, base.units.Write, base.units.Read)
	t.Logf("merge of a %d- and a %d-record profile: %d items, %.0f WCU, %.1f RCU", small, large, big.items, big.units.Write, big.units.Read)
	if big.items != base.items || big.items > 10 {
		t.Errorf("merge with a %d-record profile wrote %d items; want %d, as for two %d-record profiles (at most 10)",
			large, big.items, base.items, small)
	}
	if big.units.Write > base.units.Write+4 {
		t.Errorf("merge with a %d-record profile cost %.0f WCU; want about the %.0f of a small merge", large, big.units.Write, base.units.Write)
	}

	// Everything of the merged-away profile is reached through the
	// redirect.
	p, err := f.store.Profile(ctx, "p1-large")
	if err != nil || p.ID != "p0-small" || p.RecordCount != large+small+1 || len(p.RecentEvents) != profile.MaxRecentEvents {
		t.Errorf(`Profile("p1-large") = %s with %d records and %d recent events, %v; want p0-small with %d and %d`,
			p.ID, p.RecordCount, len(p.RecentEvents), err, large+small+1, profile.MaxRecentEvents)
	}
	owners, err := f.store.Owners(ctx, []profile.Identifier{{Type: "anonymous_id", Value: "p1-large"}})
	if o := owners[profile.Identifier{Type: "anonymous_id", Value: "p1-large"}]; err != nil || o != (store.Owner{Claimant: "p1-large", ProfileID: "p0-small"}) {
		t.Errorf("Owners(anonymous_id:p1-large) = %+v, %v; want claimant p1-large, profile p0-small", o, err)
	}
	if _, pid, err := f.store.Record(ctx, "web", "p1-large-r09999"); err != nil || pid != "p1-large" {
		t.Errorf(`Record("web", "p1-large-r09999") = %q, %v; want "p1-large"`, pid, err)
	}
	evs, cursor, err := f.store.Events(ctx, "p1-large", 20, "")
	if err != nil || len(evs) != 20 || cursor == "" || evs[0].ID != "link-p0-small" || evs[1].ID != "p1-large-e09999" {
		t.Errorf(`Events("p1-large", 20, "") = %d events starting %v, cursor %q, %v; want 20 starting [link-p0-small p1-large-e09999], a cursor`,
			len(evs), eventIDs(evs[:min(2, len(evs))]), cursor, err)
	}

	// The survivor's item stays far below DynamoDB's item limit.
	out, err := f.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(f.table),
		Key: map[string]types.AttributeValue{
			dynamo.PartitionKey: &types.AttributeValueMemberS{Value: "P#p0-small"},
			dynamo.SortKey:      &types.AttributeValueMemberS{Value: "P"},
		},
	})
	if err != nil || out.Item == nil {
		t.Fatalf("GetItem(survivor) = %v; want the item", err)
	}
	if n := dynamo.ItemSize(out.Item); n > 16*1024 {
		t.Errorf("survivor item is %d bytes; want at most 16 KB (bounded body)", n)
	} else {
		t.Logf("survivor item: %d bytes", n)
	}
}

func eventIDs(evs []profile.Event) []string {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}
