package dynamo

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// ItemSize returns the size of an item as DynamoDB counts it for limits
// and capacity units: per attribute, the name's UTF-8 length plus the
// value's size (strings and binaries: their length; numbers: one byte per
// two significant digits plus one; booleans and nulls: one byte; lists and
// maps: three bytes plus their elements, one byte each plus the element,
// with map keys counted like names; sets: their elements).
func ItemSize(it map[string]types.AttributeValue) int {
	n := 0
	for name, v := range it {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch a := v.(type) {
	case *types.AttributeValueMemberS:
		return len(a.Value)
	case *types.AttributeValueMemberN:
		return numberSize(a.Value)
	case *types.AttributeValueMemberB:
		return len(a.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range a.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range a.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range a.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range a.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range a.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

// numberSize is 1 byte per two significant digits, plus 1.
func numberSize(s string) int {
	s = strings.TrimLeft(s, "+-")
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	s = strings.Replace(s, ".", "", 1)
	s = strings.Trim(s, "0")
	return (len(s)+1)/2 + 1
}

// Units counts DynamoDB request units.
type Units struct {
	// Read and Write are computed from the requests sent and the items
	// they returned, by DynamoDB's published rules: a strongly consistent
	// read is one unit per 4 KB of each item (eventually consistent: half;
	// a Query rounds the sum of its items, not each item), a write one unit
	// per KB; transactional writes count double; writing an item that has
	// index keys adds the index write. Approximations: an overwrite is
	// charged on the new item (DynamoDB charges the larger of old and new),
	// a delete on one unit, and an update on its key and new values.
	Read, Write float64
	// ReportedRead and ReportedWrite are what DynamoDB returned as
	// ConsumedCapacity (ReturnConsumedCapacity TOTAL). DynamoDB Local
	// under-reports transactions.
	ReportedRead, ReportedWrite float64
	// Requests is the number of calls sent.
	Requests int
	// WriteItems is the number of items written or deleted.
	WriteItems int
	// Transactions is the number of TransactWriteItems calls, and
	// MaxTransactItems the most items one of them carried.
	Transactions, MaxTransactItems int
}

// Meter wraps a client and counts the request units of the calls that go
// through it, so tests and benchmarks can report units per ingested event.
// It asks DynamoDB for ConsumedCapacity on every call to cross-check. It is
// safe for concurrent use.
type Meter struct {
	c  Client
	mu sync.Mutex
	u  Units
}

var _ Client = (*Meter)(nil)

// NewMeter returns a Meter around c.
func NewMeter(c Client) *Meter { return &Meter{c: c} }

// Units returns the units counted so far.
func (m *Meter) Units() Units {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.u
}

// Reset sets the counts to zero.
func (m *Meter) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.u = Units{}
}

func (m *Meter) add(f func(u *Units)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.u.Requests++
	f(&m.u)
}

// reached reports whether a call got an answer from DynamoDB (which then
// charged for it, even when a condition failed).
func reached(err error) bool {
	var api smithy.APIError
	return err == nil || errors.As(err, &api)
}

func readUnits(size int, consistent bool) float64 {
	u := float64(max(1, (size+4095)/4096))
	if !consistent {
		u /= 2
	}
	return u
}

func writeUnits(size int) float64 { return float64(max(1, (size+1023)/1024)) }

// indexWrite is the extra write an item with index keys causes.
func indexWrite(it map[string]types.AttributeValue) float64 {
	if _, ok := it[IndexPartitionKey]; ok {
		return writeUnits(ItemSize(it))
	}
	return 0
}

func isTrue(b *bool) bool { return b != nil && *b }

func consumed(c *types.ConsumedCapacity) float64 {
	if c == nil || c.CapacityUnits == nil {
		return 0
	}
	return *c.CapacityUnits
}

// GetItem implements Client.
func (m *Meter) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	cp := *in
	cp.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.c.GetItem(ctx, &cp, optFns...)
	if err != nil {
		return out, err
	}
	m.add(func(u *Units) {
		u.Read += readUnits(ItemSize(out.Item), isTrue(in.ConsistentRead))
		u.ReportedRead += consumed(out.ConsumedCapacity)
	})
	return out, nil
}

// BatchGetItem implements Client. A key asked for but not found costs the
// minimum read, as for GetItem.
func (m *Meter) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	cp := *in
	cp.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.c.BatchGetItem(ctx, &cp, optFns...)
	if err != nil {
		return out, err
	}
	m.add(func(u *Units) {
		for table, ka := range in.RequestItems {
			strong := isTrue(ka.ConsistentRead)
			got := out.Responses[table]
			for _, it := range got {
				u.Read += readUnits(ItemSize(it), strong)
			}
			missing := len(ka.Keys) - len(got) - len(out.UnprocessedKeys[table].Keys)
			u.Read += float64(max(0, missing)) * readUnits(0, strong)
		}
		for _, c := range out.ConsumedCapacity {
			u.ReportedRead += consumed(&c)
		}
	})
	return out, nil
}

// Query implements Client. Index queries are eventually consistent.
func (m *Meter) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	cp := *in
	cp.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.c.Query(ctx, &cp, optFns...)
	if err != nil {
		return out, err
	}
	m.add(func(u *Units) {
		size := 0
		for _, it := range out.Items {
			size += ItemSize(it)
		}
		u.Read += readUnits(size, isTrue(in.ConsistentRead) && in.IndexName == nil)
		u.ReportedRead += consumed(out.ConsumedCapacity)
	})
	return out, nil
}

// TransactWriteItems implements Client: every item counts double.
func (m *Meter) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	cp := *in
	cp.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.c.TransactWriteItems(ctx, &cp, optFns...)
	if !reached(err) {
		return out, err
	}
	m.add(func(u *Units) {
		u.Transactions++
		u.MaxTransactItems = max(u.MaxTransactItems, len(in.TransactItems))
		for _, ti := range in.TransactItems {
			u.WriteItems++
			switch {
			case ti.Put != nil:
				u.Write += 2*writeUnits(ItemSize(ti.Put.Item)) + indexWrite(ti.Put.Item)
			default:
				u.Write += 2 * writeUnits(writeSize(ti))
			}
		}
		if out != nil {
			for _, c := range out.ConsumedCapacity {
				u.ReportedWrite += consumed(&c)
			}
		}
	})
	return out, err
}

// BatchWriteItem implements Client. Unprocessed requests are not counted.
func (m *Meter) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	cp := *in
	cp.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.c.BatchWriteItem(ctx, &cp, optFns...)
	if err != nil {
		return out, err
	}
	m.add(func(u *Units) {
		for table, reqs := range in.RequestItems {
			for _, r := range reqs[:max(0, len(reqs)-len(out.UnprocessedItems[table]))] {
				u.WriteItems++
				switch {
				case r.PutRequest != nil:
					u.Write += writeUnits(ItemSize(r.PutRequest.Item)) + indexWrite(r.PutRequest.Item)
				case r.DeleteRequest != nil:
					u.Write++
					if strings.HasPrefix(getS(r.DeleteRequest.Key, PartitionKey), pfxOutbox) {
						u.Write++ // the outbox index entry goes too
					}
				}
			}
		}
		for _, c := range out.ConsumedCapacity {
			u.ReportedWrite += consumed(&c)
		}
	})
	return out, nil
}

// PutItem implements Client.
func (m *Meter) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	cp := *in
	cp.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.c.PutItem(ctx, &cp, optFns...)
	if !reached(err) {
		return out, err
	}
	m.add(func(u *Units) {
		u.WriteItems++
		u.Write += writeUnits(ItemSize(in.Item)) + indexWrite(in.Item)
		if out != nil {
			u.ReportedWrite += consumed(out.ConsumedCapacity)
		}
	})
	return out, err
}

// On-demand list prices in USD per request unit (us-east-1, Standard table
// class, after the November 2024 price cut: $0.625 per million write
// request units, $0.125 per million read request units). Check the AWS
// price list before relying on them.
const (
	PriceWriteUnit = 0.625 / 1e6
	PriceReadUnit  = 0.125 / 1e6
)

// UpdateItem implements Client. The item's size is estimated from its key
// and the values written (DynamoDB bills the larger of the item before and
// after the update).
func (m *Meter) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	cp := *in
	cp.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.c.UpdateItem(ctx, &cp, optFns...)
	if !reached(err) {
		return out, err
	}
	m.add(func(u *Units) {
		u.WriteItems++
		u.Write += writeUnits(writeSize(types.TransactWriteItem{Update: &types.Update{Key: in.Key, ExpressionAttributeValues: in.ExpressionAttributeValues}}))
		if out != nil {
			u.ReportedWrite += consumed(out.ConsumedCapacity)
		}
	})
	return out, err
}

// DeleteItem implements Client, counting the size of the key (DynamoDB
// bills the deleted item's size, at least one unit).
func (m *Meter) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	cp := *in
	cp.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.c.DeleteItem(ctx, &cp, optFns...)
	if !reached(err) {
		return out, err
	}
	m.add(func(u *Units) {
		u.WriteItems++
		u.Write += writeUnits(ItemSize(in.Key))
		if out != nil {
			u.ReportedWrite += consumed(out.ConsumedCapacity)
		}
	})
	return out, err
}
