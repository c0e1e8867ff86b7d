package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// AppendAttribute marks an appended event item: it holds the record the
// event came with (JSON, without its events), which the fold applies to
// the profile. The fold function's stream filter selects inserts that
// carry it.
const AppendAttribute = "app"

var _ store.Appender = (*Store)(nil)

// Claimants implements store.Appender: one eventually consistent
// BatchGetItem of the identifier items (half a read unit each), without
// following redirects.
func (s *Store) Claimants(ctx context.Context, ids []profile.Identifier) (map[profile.Identifier]string, error) {
	keys, byPK := identifierKeys(ids)
	got, err := s.batchGet(ctx, keys, aws.Bool(false))
	if err != nil {
		return nil, fmt.Errorf("dynamo: read identifiers: %w", err)
	}
	out := make(map[profile.Identifier]string, len(got))
	for pk, it := range got {
		if c := getS(it, attrClaimant); c != "" {
			out[byPK[pk]] = c
		}
	}
	return out, nil
}

// appendRecord is what an appended event item keeps of its record besides
// the event: the fold needs the source, id, identifiers, attributes and
// times to apply it.
type appendRecord struct {
	Source      string               `json:"source"`
	ID          string               `json:"id"`
	Identifiers []profile.Identifier `json:"identifiers,omitempty"`
	Attributes  map[string]any       `json:"attributes,omitempty"`
	ObservedAt  string               `json:"observed_at,omitempty"`
	ReceivedAt  string               `json:"received_at,omitempty"`
}

// appendWorkers bounds the PutItem calls Append runs at once.
const appendWorkers = 8

// Append implements store.Appender: each append is one PutItem of the
// event item P#<profile>/E#<time>#<event id> (the item Commit writes for
// the same event), conditioned on the item not existing, so the event item
// is its own idempotency key. An item of up to 1 KB costs one write unit.
// Up to appendWorkers appends are sent at once; on an error, written
// reports the appends known to be written.
func (s *Store) Append(ctx context.Context, apps []store.Append) ([]bool, error) {
	written := make([]bool, len(apps))
	items := make([]item, len(apps))
	for i, a := range apps {
		it, err := appendItem(a)
		if err != nil {
			return written, fmt.Errorf("dynamo: append %d: %w", i, err)
		}
		if n := ItemSize(it); n > MaxItemSize {
			return written, fmt.Errorf("dynamo: append record %s: item of %d bytes exceeds DynamoDB's %d: %w",
				a.Record.Key(), n, MaxItemSize, fault.ErrTooLarge)
		}
		items[i] = it
	}
	errs := make([]error, len(apps))
	sem := make(chan struct{}, appendWorkers)
	var wg sync.WaitGroup
	for i := range apps {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
				TableName:                aws.String(s.table),
				Item:                     items[i],
				ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
				ExpressionAttributeNames: map[string]string{"#pk": PartitionKey},
			})
			var ccf *types.ConditionalCheckFailedException
			switch {
			case errors.As(err, &ccf):
				// the same event is stored: a re-delivery
			case err != nil:
				errs[i] = wrap("append record "+apps[i].Record.Key(), err)
			default:
				written[i] = true
			}
		}()
	}
	wg.Wait()
	return written, errors.Join(errs...)
}

// Discard implements store.Appender with BatchWriteItem deletes of the
// records' event items (named as Commit and Append name them).
func (s *Store) Discard(ctx context.Context, apps []store.Appended) error {
	keys := make([]item, 0, len(apps))
	for _, a := range apps {
		for j, e := range a.Record.Events {
			if e.ID == "" {
				e.ID = a.Record.Key() + "#" + strconv.Itoa(j)
			}
			keys = append(keys, key(profilePK(a.ProfileID), eventSK(e)))
		}
	}
	if err := s.batchDelete(ctx, keys); err != nil {
		return fmt.Errorf("dynamo: discard %d appended events: %w", len(apps), err)
	}
	return nil
}

func appendItem(a store.Append) (item, error) {
	r := a.Record
	if a.ProfileID == "" || r.Source == "" || r.ID == "" {
		return nil, fault.Invalidf("append without profile, source or id")
	}
	if len(r.Events) != 1 {
		return nil, fault.Invalidf("append of record %s: %d events, want 1", r.Key(), len(r.Events))
	}
	e := r.Events[0]
	if e.ID == "" {
		e.ID = r.Key() + "#0" // as Commit names it
	}
	body, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode event of record %s: %w", r.Key(), err)
	}
	ar := appendRecord{Source: r.Source, ID: r.ID, Identifiers: r.Identifiers, Attributes: r.Attributes}
	if !r.ObservedAt.IsZero() {
		ar.ObservedAt = sortableTime(r.ObservedAt)
	}
	if !r.ReceivedAt.IsZero() {
		ar.ReceivedAt = sortableTime(r.ReceivedAt)
	}
	rb, err := json.Marshal(ar)
	if err != nil {
		return nil, fmt.Errorf("encode record %s: %w", r.Key(), err)
	}
	it := key(profilePK(a.ProfileID), eventSK(e))
	it[attrBody] = str(string(body))
	it[attrRecord] = str(r.Key())
	it[AppendAttribute] = str(string(rb))
	return it, nil
}

// AppendedFromImage decodes an appended event item as the table's stream
// delivers it, given the string attributes of the record's new image and
// the record's sequence number. ok is false when the image is not an
// appended event item; an item that does not decode is an ErrInvalid
// error.
func AppendedFromImage(strs map[string]string, seq string) (a store.Appended, ok bool, err error) {
	pk, sk, rb := strs[PartitionKey], strs[SortKey], strs[AppendAttribute]
	if !strings.HasPrefix(pk, pfxProfile) || !strings.HasPrefix(sk, pfxEvent) || rb == "" {
		return store.Appended{}, false, nil
	}
	var ar appendRecord
	if err := json.Unmarshal([]byte(rb), &ar); err != nil {
		return store.Appended{}, true, fault.Invalidf("dynamo: appended item %s %s: record: %v", pk, sk, err)
	}
	var e profile.Event
	if err := json.Unmarshal([]byte(strs[attrBody]), &e); err != nil {
		return store.Appended{}, true, fault.Invalidf("dynamo: appended item %s %s: event: %v", pk, sk, err)
	}
	if ar.Source == "" || ar.ID == "" {
		return store.Appended{}, true, fault.Invalidf("dynamo: appended item %s %s: record without source or id", pk, sk)
	}
	if !allDigits(seq) {
		return store.Appended{}, true, fault.Invalidf("dynamo: appended item %s %s: sequence number %q is not a decimal number", pk, sk, seq)
	}
	r := profile.Record{Source: ar.Source, ID: ar.ID, Identifiers: ar.Identifiers, Attributes: ar.Attributes, Events: []profile.Event{e}}
	if r.ObservedAt, err = parseSortable(ar.ObservedAt); err != nil {
		return store.Appended{}, true, fault.Invalidf("dynamo: appended item %s %s: observed_at: %v", pk, sk, err)
	}
	if r.ReceivedAt, err = parseSortable(ar.ReceivedAt); err != nil {
		return store.Appended{}, true, fault.Invalidf("dynamo: appended item %s %s: received_at: %v", pk, sk, err)
	}
	return store.Appended{ProfileID: strings.TrimPrefix(pk, pfxProfile), Record: r, Seq: seq}, true, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// AppendedRecords implements store.Appender: a strongly consistent Query
// of the profile's event items that carry AppendAttribute (the read
// covers every event item of the partition), then one BatchGetItem per
// 100 records to leave out those that have a record item.
func (s *Store) AppendedRecords(ctx context.Context, profileID string) ([]profile.Record, error) {
	var recs []profile.Record
	var start map[string]types.AttributeValue
	for {
		out, err := s.client.Query(ctx, &dynamodb.QueryInput{
			TableName:                aws.String(s.table),
			KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :e)"),
			FilterExpression:         aws.String("attribute_exists(#app)"),
			ExpressionAttributeNames: map[string]string{"#pk": PartitionKey, "#sk": SortKey, "#app": AppendAttribute},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(profilePK(profileID)), ":e": str(pfxEvent),
			},
			ConsistentRead:    aws.Bool(true),
			ExclusiveStartKey: start,
		})
		if err != nil {
			return nil, wrap("read appended events of profile "+profileID, err)
		}
		for _, it := range out.Items {
			strs := map[string]string{}
			for k, v := range it {
				if sv, ok := v.(*types.AttributeValueMemberS); ok {
					strs[k] = sv.Value
				}
			}
			a, ok, err := AppendedFromImage(strs, "0")
			if !ok || err != nil {
				continue // not an appended item, or one the fold skips too
			}
			recs = append(recs, a.Record)
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		start = out.LastEvaluatedKey
	}
	keys := make([]item, len(recs))
	for i, r := range recs {
		keys[i] = key(recordPK(r.Source, r.ID), skRecord)
	}
	stored, err := s.batchGet(ctx, keys, aws.Bool(true))
	if err != nil {
		return nil, fmt.Errorf("dynamo: read records of appended events: %w", err)
	}
	kept := recs[:0]
	for _, r := range recs {
		if _, ok := stored[recordPK(r.Source, r.ID)]; !ok {
			kept = append(kept, r)
		}
	}
	return kept, nil
}
