package dynamo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/adapter/dynamo/dynamotest"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// BenchmarkDynamoIngest reports the DynamoDB request units one ingested
// record costs through this package's resolution routine (see
// merge_test.go), counted by dynamo.Meter from the requests sent: WCU/event
// and RCU/event (strongly consistent reads), items/commit, and the on-demand
// cost in USD per million events at us-east-1 list prices.
func BenchmarkDynamoIngest(b *testing.B) {
	parent := b
	track := func(i int, ids ...profile.Identifier) profile.Record {
		at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
		return profile.Record{
			Source: "web", ID: fmt.Sprintf("msg-%08d", i), ObservedAt: at, ReceivedAt: at, Identifiers: ids,
			Events: []profile.Event{{ID: fmt.Sprintf("msg-%08d", i), Source: "web", Type: "track", Name: "Product Viewed", Timestamp: at,
				Properties: map[string]any{"sku": "SKU-1234", "price": 19.99, "currency": "EUR"}}},
		}
	}
	anon := func(s string) profile.Identifier { return profile.Identifier{Type: "anonymous_id", Value: s} }
	email := func(s string) profile.Identifier { return profile.Identifier{Type: "email", Value: s + "@example.com"} }

	scenarios := []struct {
		name  string
		setup func(b *testing.B, f *fixture) // once
		// prepare runs untimed and unmetered before record i; then the
		// record it returns is ingested, timed and metered.
		prepare func(b *testing.B, f *fixture, i int) profile.Record
	}{
		{name: "KnownProfile", setup: func(b *testing.B, f *fixture) {
			mustIngest(b, f, track(-1, anon("known")))
		}, prepare: func(b *testing.B, f *fixture, i int) profile.Record {
			return track(i, anon("known"))
		}},
		{name: "NewProfile", prepare: func(b *testing.B, f *fixture, i int) profile.Record {
			return track(i, anon(fmt.Sprint("new-", i)))
		}},
		{name: "MergeSmall", prepare: func(b *testing.B, f *fixture, i int) profile.Record {
			mustIngest(b, f, track(3*i+1_000_000, anon(fmt.Sprint("a-", i)), email(fmt.Sprint("a-", i))))
			mustIngest(b, f, track(3*i+1_000_001, anon(fmt.Sprint("b-", i)), email(fmt.Sprint("b-", i))))
			return track(3*i+1_000_002, email(fmt.Sprint("a-", i)), email(fmt.Sprint("b-", i)))
		}},
		{name: "Merge10Into10000", setup: func(b *testing.B, f *fixture) {
			seedProfile(b, f.store, "a-large", 10000, 500)
		}, prepare: func(b *testing.B, f *fixture, i int) profile.Record {
			id := fmt.Sprintf("b-small-%06d", i)
			seedProfile(b, f.store, id, 10, 10)
			return mergeRecord("a-large", id, i)
		}},
	}
	for _, sc := range scenarios {
		// The testing package runs a sub-benchmark several times (b.N = 1
		// first): the fixture and its setup are made once, and record
		// numbers go on across runs.
		var f *fixture
		next := 0
		b.Run(sc.name, func(b *testing.B) {
			if f == nil {
				f = benchFixture(b, parent)
				if sc.setup != nil {
					sc.setup(b, f)
				}
			}
			var sum dynamo.Units
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				rec := sc.prepare(b, f, next)
				next++
				f.meter.Reset()
				b.StartTimer()
				mustIngest(b, f, rec)
				b.StopTimer()
				u := f.meter.Units()
				sum.Read += u.Read
				sum.Write += u.Write
				sum.WriteItems += u.WriteItems
				sum.Transactions += u.Transactions
				b.StartTimer()
			}
			n := float64(b.N)
			b.ReportMetric(sum.Write/n, "WCU/event")
			b.ReportMetric(sum.Read/n, "RCU/event")
			b.ReportMetric(float64(sum.WriteItems)/n, "items/event")
			b.ReportMetric((sum.Write*dynamo.PriceWriteUnit+sum.Read*dynamo.PriceReadUnit)/n*1e6, "USD/Mevents")
		})
	}
}

// benchFixture is newFixture for a sub-benchmark whose table must outlive
// one run of it: the table is deleted when parent ends.
func benchFixture(b, parent *testing.B) *fixture {
	b.Helper()
	c := dynamotest.Client(b)
	table := dynamotest.TableName(b)
	if err := dynamo.CreateTable(b.Context(), c, table); err != nil {
		b.Fatalf("CreateTable() = %v", err)
	}
	parent.Cleanup(func() {
		_, _ = c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	m := dynamo.NewMeter(c)
	return &fixture{client: c, meter: m, table: table, store: dynamo.New(m, table, dynamo.Options{})}
}

func mustIngest(b *testing.B, f *fixture, rec profile.Record) {
	b.Helper()
	if _, err := ingest(b.Context(), f.store, rec, newID(rec)); err != nil {
		b.Fatalf("ingest(%s) = %v", rec.Key(), err)
	}
}

// newID names a new profile after its first record.
func newID(rec profile.Record) func() string {
	return func() string { return "p-" + rec.ID }
}
