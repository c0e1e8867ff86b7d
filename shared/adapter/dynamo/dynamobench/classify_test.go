package dynamobench_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
)

// tally is what one kind of item cost.
type tally struct {
	Writes, Reads int     // items written, items (or queries) read
	WCU, RCU      float64 // units, by DynamoDB's published rules
}

// classifier wraps a dynamo.Client and attributes the request units of
// every item written or read to the item's kind (idempotency key, record,
// event, profile, claim, outbox, or the generic item's kind), by the same
// rules as dynamo.Meter.
type classifier struct {
	c  dynamo.Client
	mu sync.Mutex
	by map[string]*tally
}

var _ dynamo.Client = (*classifier)(nil)

func newClassifier(c dynamo.Client) *classifier { return &classifier{c: c, by: map[string]*tally{}} }

func (k *classifier) reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.by = map[string]*tally{}
}

func (k *classifier) snapshot() map[string]tally {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[string]tally, len(k.by))
	for n, t := range k.by {
		out[n] = *t
	}
	return out
}

func (k *classifier) add(kind string, f func(t *tally)) {
	k.mu.Lock()
	defer k.mu.Unlock()
	t := k.by[kind]
	if t == nil {
		t = &tally{}
		k.by[kind] = t
	}
	f(t)
}

// kindOf names the kind of the item with key attributes it.
func kindOf(it map[string]types.AttributeValue) string {
	pk, sk := s(it, dynamo.PartitionKey), s(it, dynamo.SortKey)
	switch {
	case strings.HasPrefix(pk, "K#"):
		return "key"
	case strings.HasPrefix(pk, "R#"):
		return "record"
	case strings.HasPrefix(pk, "ID#"):
		return "identifier"
	case strings.HasPrefix(pk, "O#"):
		return "outbox"
	case strings.HasPrefix(pk, "P#") && sk == "P":
		if _, ok := it["to"]; ok {
			return "redirect"
		}
		return "profile"
	case strings.HasPrefix(pk, "P#") && strings.HasPrefix(sk, "M#"):
		return "merge marker"
	case strings.HasPrefix(pk, "P#") && strings.HasPrefix(sk, "E#"):
		return "event"
	case strings.HasPrefix(pk, "P#"):
		return "profile partition"
	case strings.HasPrefix(pk, "I#"):
		kind, _, _ := strings.Cut(pk[2:], "#")
		return "item " + strings.NewReplacer("%23", "#", "%25", "%").Replace(kind)
	}
	return "other"
}

func s(it map[string]types.AttributeValue, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func readUnits(size int, consistent bool) float64 {
	u := float64(max(1, (size+4095)/4096))
	if !consistent {
		u /= 2
	}
	return u
}

func writeUnits(size int) float64 { return float64(max(1, (size+1023)/1024)) }

func isTrue(b *bool) bool { return b != nil && *b }

func (k *classifier) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := k.c.GetItem(ctx, in, optFns...)
	if err == nil {
		k.add(kindOf(in.Key), func(t *tally) {
			t.Reads++
			t.RCU += readUnits(dynamo.ItemSize(out.Item), isTrue(in.ConsistentRead))
		})
	}
	return out, err
}

func (k *classifier) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out, err := k.c.BatchGetItem(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	for table, ka := range in.RequestItems {
		got := map[string]int{}
		for _, it := range out.Responses[table] {
			got[s(it, dynamo.PartitionKey)+"\x00"+s(it, dynamo.SortKey)] = dynamo.ItemSize(it)
		}
		unprocessed := map[string]bool{}
		for _, key := range out.UnprocessedKeys[table].Keys {
			unprocessed[s(key, dynamo.PartitionKey)+"\x00"+s(key, dynamo.SortKey)] = true
		}
		for _, key := range ka.Keys {
			id := s(key, dynamo.PartitionKey) + "\x00" + s(key, dynamo.SortKey)
			if unprocessed[id] {
				continue
			}
			k.add(kindOf(key), func(t *tally) {
				t.Reads++
				t.RCU += readUnits(got[id], isTrue(ka.ConsistentRead))
			})
		}
	}
	return out, nil
}

func (k *classifier) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := k.c.Query(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	size := 0
	for _, it := range out.Items {
		size += dynamo.ItemSize(it)
	}
	kind := "query"
	if pk, ok := in.ExpressionAttributeValues[":pk"]; ok {
		kind = kindOf(map[string]types.AttributeValue{dynamo.PartitionKey: pk, dynamo.SortKey: &types.AttributeValueMemberS{Value: "?"}})
	}
	k.add(kind+" (query)", func(t *tally) {
		t.Reads++
		t.RCU += readUnits(size, isTrue(in.ConsistentRead) && in.IndexName == nil)
	})
	return out, nil
}

func (k *classifier) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	out, err := k.c.TransactWriteItems(ctx, in, optFns...)
	if err != nil {
		return out, err // a cancelled transaction is not part of the steady state
	}
	for _, ti := range in.TransactItems {
		var kind string
		var u float64
		switch {
		case ti.Put != nil:
			kind = kindOf(ti.Put.Item)
			u = 2*writeUnits(dynamo.ItemSize(ti.Put.Item)) + indexWrite(ti.Put.Item)
		case ti.Update != nil:
			kind = kindOf(ti.Update.Key)
			n := dynamo.ItemSize(ti.Update.Key)
			for _, v := range ti.Update.ExpressionAttributeValues {
				n += dynamo.ItemSize(map[string]types.AttributeValue{"": v})
			}
			u = 2 * writeUnits(n)
		case ti.Delete != nil:
			kind = kindOf(ti.Delete.Key)
			u = 2 * writeUnits(dynamo.ItemSize(ti.Delete.Key))
		case ti.ConditionCheck != nil:
			kind = kindOf(ti.ConditionCheck.Key) + " (check)"
		}
		k.add(kind, func(t *tally) { t.Writes++; t.WCU += u })
	}
	return out, nil
}

func indexWrite(it map[string]types.AttributeValue) float64 {
	if _, ok := it[dynamo.IndexPartitionKey]; ok {
		return writeUnits(dynamo.ItemSize(it))
	}
	return 0
}

func (k *classifier) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return k.c.BatchWriteItem(ctx, in, optFns...)
}

func (k *classifier) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := k.c.PutItem(ctx, in, optFns...)
	if err == nil {
		k.add(kindOf(in.Item), func(t *tally) {
			t.Writes++
			t.WCU += writeUnits(dynamo.ItemSize(in.Item)) + indexWrite(in.Item)
		})
	}
	return out, err
}

func (k *classifier) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out, err := k.c.UpdateItem(ctx, in, optFns...)
	if err == nil {
		k.add(kindOf(in.Key), func(t *tally) {
			n := dynamo.ItemSize(in.Key)
			for _, v := range in.ExpressionAttributeValues {
				n += dynamo.ItemSize(map[string]types.AttributeValue{"": v})
			}
			t.Writes++
			t.WCU += writeUnits(n)
		})
	}
	return out, err
}

func (k *classifier) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	out, err := k.c.DeleteItem(ctx, in, optFns...)
	if err == nil {
		k.add(kindOf(in.Key), func(t *tally) {
			t.Writes++
			t.WCU += writeUnits(dynamo.ItemSize(in.Key))
		})
	}
	return out, err
}

// table renders tallies divided by n, one kind a line, largest cost first.
func table(by map[string]tally, n float64) string {
	names := slices.Collect(maps.Keys(by))
	slices.SortFunc(names, func(a, b string) int {
		ca, cb := by[a].WCU+by[a].RCU, by[b].WCU+by[b].RCU
		switch {
		case ca > cb:
			return -1
		case ca < cb:
			return 1
		}
		return strings.Compare(a, b)
	})
	var b strings.Builder
	for _, name := range names {
		t := by[name]
		fmt.Fprintf(&b, "\n  %-28s writes %5.2f  WCU %6.2f  reads %5.2f  RCU %6.2f",
			name, float64(t.Writes)/n, t.WCU/n, float64(t.Reads)/n, t.RCU/n)
	}
	return b.String()
}
