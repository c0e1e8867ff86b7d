package dynamo_test

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// oldBody is a body as the store wrote it before encoding z1: plain JSON
// below 1 KB, DEFLATE (best speed) above.
func oldBody(t *testing.T, v any) (types.AttributeValue, string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 1024 {
		return &types.AttributeValueMemberB{Value: b}, ""
	}
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &types.AttributeValueMemberB{Value: buf.Bytes()}, "deflate"
}

// TestDynamoReadsOldBodies puts profile and record items as earlier
// versions wrote them (plain and DEFLATE bodies) and reads them back with
// Profile, Record and ScanProfiles; a profile written now is encoded z1.
func TestDynamoReadsOldBodies(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dynamo.Options{})
	ctx := context.Background()
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	mk := func(id string, events int) profile.Profile {
		p := profile.Profile{ID: id, Version: 1, CreatedAt: at, UpdatedAt: at, RecordCount: events, EventCount: events,
			Identifiers: []profile.Identifier{{Type: "email", Value: id + "@example.com"}},
			Attributes:  map[string]profile.Attribute{"country": {Value: "GB", Source: "crm", RecordID: "c1", ObservedAt: at}}}
		for i := range events {
			p.RecentEvents = append(p.RecentEvents, profile.Event{ID: id + "-" + string(rune('a'+i%26)), Source: "web", Type: "track",
				Name: "Page Viewed", Timestamp: at.Add(time.Duration(i) * time.Minute)})
		}
		return p
	}
	put := func(pk, sk string, body types.AttributeValue, enc string, extra map[string]types.AttributeValue) {
		it := map[string]types.AttributeValue{dynamo.PartitionKey: s(pk), dynamo.SortKey: s(sk), "body": body}
		if enc != "" {
			it["enc"] = s(enc)
		}
		for k, v := range extra {
			it[k] = v
		}
		if _, err := f.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: it}); err != nil {
			t.Fatalf("PutItem(%s) = %v", pk, err)
		}
	}
	want := map[string]profile.Profile{"plain": mk("plain", 1), "deflated": mk("deflated", 30)}
	for id, p := range want {
		body, enc := oldBody(t, p)
		if id == "deflated" && enc != "deflate" {
			t.Fatalf("profile %s of the test: body not deflated; the test proves nothing", id)
		}
		put("P#"+id, "P", body, enc, map[string]types.AttributeValue{"ver": n("1")})
	}
	rec := profile.Record{Source: "crm", ID: "c1", ObservedAt: at, ReceivedAt: at,
		Identifiers: []profile.Identifier{{Type: "email", Value: "plain@example.com"}}, Attributes: map[string]any{"country": "GB"}}
	body, enc := oldBody(t, rec)
	put("R#crm#c1", "R", body, enc, map[string]types.AttributeValue{"profile": s("plain")})

	for id, p := range want {
		got, err := f.store.Profile(ctx, id)
		if err != nil {
			t.Fatalf("Profile(%s) = %v", id, err)
		}
		if got.EventCount != p.EventCount || len(got.RecentEvents) != len(p.RecentEvents) || got.Attributes["country"].Value != "GB" {
			t.Errorf("Profile(%s) = %d events, %d recent, attributes %v; want %d, %d, country GB",
				id, got.EventCount, len(got.RecentEvents), got.Attributes, p.EventCount, len(p.RecentEvents))
		}
	}
	gotRec, owner, err := f.store.Record(ctx, "crm", "c1")
	if err != nil || owner != "plain" || gotRec.Attributes["country"] != "GB" {
		t.Errorf("Record(crm, c1) = %+v, %q, %v; want the record of profile plain", gotRec, owner, err)
	}
	scanned := 0
	for p, err := range f.store.ScanProfiles(ctx, dynamo.ScanOptions{}) {
		if err != nil {
			t.Fatalf("ScanProfiles: %v", err)
		}
		if _, ok := want[p.ID]; ok {
			scanned++
		}
	}
	if scanned != len(want) {
		t.Errorf("ScanProfiles found %d of the old profiles; want %d", scanned, len(want))
	}

	// A write now is encoded z1, smaller than before, and reads back.
	next := want["deflated"]
	next.Version = 2
	if err := f.store.Commit(ctx, store.Change{Profiles: []store.ProfileWrite{{Profile: next, ExpectVersion: 1}}}); err != nil {
		t.Fatalf("Commit(profile) = %v", err)
	}
	out, err := f.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.table),
		Key: map[string]types.AttributeValue{dynamo.PartitionKey: s("P#deflated"), dynamo.SortKey: s("P")}})
	if err != nil {
		t.Fatal(err)
	}
	oldB, _ := oldBody(t, next)
	newB, _ := out.Item["body"].(*types.AttributeValueMemberB)
	if e, _ := out.Item["enc"].(*types.AttributeValueMemberS); e == nil || e.Value != "z1" || newB == nil ||
		len(newB.Value) >= len(oldB.(*types.AttributeValueMemberB).Value) {
		t.Errorf("profile written now: enc %v, body of %d bytes; want z1, smaller than the %d of DEFLATE", out.Item["enc"], len(newB.Value), len(oldB.(*types.AttributeValueMemberB).Value))
	}
	if got, err := f.store.Profile(ctx, "deflated"); err != nil || got.Version != 2 || len(got.RecentEvents) != 30 {
		t.Errorf("Profile(deflated) after the write = version %d, %d recent, %v; want 2, 30", got.Version, len(got.RecentEvents), err)
	}
}
