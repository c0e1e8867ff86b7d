package dynamo_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// TestDynamoStreamOutbox checks the outbox as AWS wires it: a profile
// written alone carries its events (one PutItem), other changes write
// outbox items without index attributes, and Outbox/Ack are refused.
func TestDynamoStreamOutbox(t *testing.T) {
	f := newFixture(t, dynamo.Options{StreamOutbox: true})
	ctx := t.Context()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	env := func(id string) events.Envelope {
		e, err := events.New(events.TypeProfileUpdated, at, map[string]any{"profile_id": "p-1"}, id)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	get := func(pk, sk string) map[string]types.AttributeValue {
		t.Helper()
		out, err := f.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{dynamo.PartitionKey: &types.AttributeValueMemberS{Value: pk}, dynamo.SortKey: &types.AttributeValueMemberS{Value: sk}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item
	}
	strs := func(it map[string]types.AttributeValue) map[string]string {
		out := map[string]string{}
		for k, v := range it {
			if s, ok := v.(*types.AttributeValueMemberS); ok {
				out[k] = s.Value
			}
		}
		return out
	}

	alone := env("alone")
	f.meter.Reset()
	err := f.store.Commit(ctx, store.Change{
		Profiles: []store.ProfileWrite{{Profile: profile.Profile{ID: "p-1", Version: 1}}},
		Outbox:   []events.Envelope{alone},
	})
	if err != nil {
		t.Fatalf("Commit(profile and event) = %v", err)
	}
	if u := f.meter.Units(); u.Transactions != 0 || u.WriteItems != 1 {
		t.Errorf("profile and event: %d transactions, %d items written; want one PutItem", u.Transactions, u.WriteItems)
	}
	envs, ok, err := dynamo.OutboxEventsFromImage(strs(get("P#p-1", "P")))
	if !ok || err != nil || len(envs) != 1 || envs[0].ID != alone.ID {
		t.Errorf("profile item carries %v (ok %v, %v); want event %s", envs, ok, err, alone.ID)
	}
	if it := get("O#"+alone.ID, "O"); it != nil {
		t.Errorf("an outbox item was written beside the embedded event")
	}
	p, err := f.store.Profile(ctx, "p-1")
	if err != nil || p.Version != 1 {
		t.Errorf("Profile(p-1) = version %d, %v; want 1", p.Version, err)
	}

	// With anything else in the change, the event is an outbox item, in
	// the transaction, without the index attributes.
	other := env("other")
	err = f.store.Commit(ctx, store.Change{
		Keys:     []string{"k-1"},
		Profiles: []store.ProfileWrite{{Profile: profile.Profile{ID: "p-1", Version: 2}, ExpectVersion: 1}},
		Outbox:   []events.Envelope{other},
	})
	if err != nil {
		t.Fatalf("Commit(key, profile and event) = %v", err)
	}
	it := get("O#"+other.ID, "O")
	if it == nil {
		t.Fatalf("no outbox item for %s", other.ID)
	}
	if _, indexed := it[dynamo.IndexPartitionKey]; indexed {
		t.Errorf("outbox item has %s; want no index attributes with StreamOutbox", dynamo.IndexPartitionKey)
	}
	if envs, _, _ := dynamo.OutboxEventsFromImage(strs(get("P#p-1", "P"))); len(envs) != 0 {
		t.Errorf("profile item still carries %d events after a write without them", len(envs))
	}
	if _, err := f.store.Outbox(ctx, 10); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("Outbox() = %v; want %v", err, fault.ErrInvalid)
	}
	if err := f.store.Ack(ctx, []string{other.ID}); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("Ack() = %v; want %v", err, fault.ErrInvalid)
	}
}
