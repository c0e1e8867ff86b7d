package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

var _ store.Eraser = (*Store)(nil)

// eraseChunk is how many conditional deletes one transaction carries.
const eraseChunk = 25

// Erase implements store.Eraser. It is not atomic: it reads what exists,
// then deletes in this order — records, identifier claims, idempotency
// keys, pending outbox events, generic items, the events and merge markers
// under each profile, and last the profile and redirect items — and
// finally records e.Outbox. Records and claims are deleted with a
// condition on the profile they were seen under, so a concurrent move is
// left alone. Pending outbox events are found by querying the outbox
// index with a filter on the profile ids: its cost grows with the events
// still in the outbox (at most OutboxTTL old).
func (s *Store) Erase(ctx context.Context, e store.Erasure) (store.ErasedCounts, error) {
	var n store.ErasedCounts
	if len(e.ProfileIDs) == 0 {
		return n, fmt.Errorf("dynamo: erase: %w", fault.Invalidf("no profile id"))
	}
	ids := make(map[string]bool, len(e.ProfileIDs))
	for _, id := range e.ProfileIDs {
		if id == "" {
			return n, fmt.Errorf("dynamo: erase: %w", fault.Invalidf("empty profile id"))
		}
		ids[id] = true
	}
	for _, it := range e.Items {
		if err := validItem(store.Item{Kind: it.Kind, Key: it.Key, Sort: it.Sort}); err != nil {
			return n, fmt.Errorf("dynamo: erase: %w", err)
		}
	}

	// Records and claims: read, keep those of the person, delete on the
	// condition that they still are.
	var recKeys []item
	for _, r := range e.Records {
		if r.Source == "" || r.ID == "" {
			continue
		}
		recKeys = append(recKeys, key(recordPK(r.Source, r.ID), skRecord))
	}
	c, err := s.eraseOwned(ctx, recKeys, attrProfile, ids)
	if err != nil {
		return n, fmt.Errorf("dynamo: erase records: %w", err)
	}
	n.Records = c
	var idKeys []item
	for _, id := range e.Identifiers {
		if id.Type == "" || id.Value == "" {
			continue
		}
		idKeys = append(idKeys, key(identifierPK(id), skIdentifier))
	}
	if n.Identifiers, err = s.eraseOwned(ctx, idKeys, attrClaimant, ids); err != nil {
		return n, fmt.Errorf("dynamo: erase identifiers: %w", err)
	}

	var kKeys []item
	for _, k := range e.Keys {
		if k != "" {
			kKeys = append(kKeys, key(keyPK(k), skKey))
		}
	}
	if n.Keys, err = s.deleteExisting(ctx, kKeys); err != nil {
		return n, fmt.Errorf("dynamo: erase keys: %w", err)
	}

	outbox, err := s.outboxNaming(ctx, ids)
	if err != nil {
		return n, fmt.Errorf("dynamo: erase outbox: %w", err)
	}
	if err := s.batchDelete(ctx, outbox); err != nil {
		return n, fmt.Errorf("dynamo: erase outbox: %w", err)
	}
	n.Outbox = len(outbox)

	var itKeys []item
	for _, it := range e.Items {
		itKeys = append(itKeys, key(itemPK(it.Kind, it.Key), it.Sort))
	}
	if n.Items, err = s.deleteExisting(ctx, itKeys); err != nil {
		return n, fmt.Errorf("dynamo: erase items: %w", err)
	}

	// Everything under each profile partition, the profile items last.
	var last []item
	for _, id := range e.ProfileIDs {
		its, err := s.queryAll(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": PartitionKey},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(profilePK(id))},
			ConsistentRead:            aws.Bool(true),
		}, 0)
		if err != nil {
			return n, wrap("erase: read profile "+id, err)
		}
		var del []item
		for _, it := range its {
			sk := getS(it, SortKey)
			k := key(profilePK(id), sk)
			switch {
			case sk == skProfile && getS(it, attrTo) != "":
				n.Redirects++
				last = append(last, k)
			case sk == skProfile:
				n.Profiles++
				last = append(last, k)
			case strings.HasPrefix(sk, pfxEvent):
				n.Events++
				del = append(del, k)
			default:
				del = append(del, k)
			}
		}
		if err := s.batchDelete(ctx, del); err != nil {
			return n, fmt.Errorf("dynamo: erase profile %s: %w", id, err)
		}
	}
	if err := s.batchDelete(ctx, last); err != nil {
		return n, fmt.Errorf("dynamo: erase profiles: %w", err)
	}

	now := s.opts.Now()
	for _, ev := range e.Outbox {
		it, err := s.outboxItem(ev, now)
		if err != nil {
			return n, fmt.Errorf("dynamo: erase: %w", err)
		}
		if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it}); err != nil {
			return n, wrap("erase: record outbox event "+ev.ID, err)
		}
	}
	return n, nil
}

// eraseOwned deletes the items at keys whose attribute attr names one of
// ids, each on the condition that it still does. It returns how many it
// deleted.
func (s *Store) eraseOwned(ctx context.Context, keys []item, attr string, ids map[string]bool) (int, error) {
	got, err := s.getMany(ctx, keys)
	if err != nil {
		return 0, err
	}
	var dels []types.TransactWriteItem
	for _, k := range keys {
		it, ok := got[itemKeyOf(k)]
		if !ok {
			continue
		}
		owner := getS(it, attr)
		if !ids[owner] {
			continue
		}
		dels = append(dels, types.TransactWriteItem{Delete: &types.Delete{
			TableName:                 aws.String(s.table),
			Key:                       k,
			ConditionExpression:       aws.String("#a = :a"),
			ExpressionAttributeNames:  map[string]string{"#a": attr},
			ExpressionAttributeValues: map[string]types.AttributeValue{":a": str(owner)},
		}})
	}
	deleted := 0
	for start := 0; start < len(dels); start += eraseChunk {
		chunk := dels[start:min(start+eraseChunk, len(dels))]
		err := s.transactDeletes(ctx, chunk)
		if err == nil {
			deleted += len(chunk)
			continue
		}
		if !errors.Is(err, fault.ErrConflict) {
			return deleted, err
		}
		// One of them moved meanwhile: delete one by one, skipping it.
		for _, d := range chunk {
			err := s.transactDeletes(ctx, []types.TransactWriteItem{d})
			switch {
			case err == nil:
				deleted++
			case errors.Is(err, fault.ErrConflict):
			default:
				return deleted, err
			}
		}
	}
	return deleted, nil
}

func (s *Store) transactDeletes(ctx context.Context, items []types.TransactWriteItem) error {
	for attempt := 0; ; attempt++ {
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		kind := Kind(err)
		if kind == fault.ErrRetryable && attempt < batchAttempts {
			if err := backoff(ctx, attempt+1); err != nil {
				return err
			}
			continue
		}
		if kind != nil {
			return fmt.Errorf("delete: %w: %v", kind, err)
		}
		return wrap("delete", err)
	}
}

// deleteExisting deletes the items at keys that exist and returns how
// many there were.
func (s *Store) deleteExisting(ctx context.Context, keys []item) (int, error) {
	got, err := s.getMany(ctx, keys)
	if err != nil {
		return 0, err
	}
	var del []item
	seen := map[string]bool{}
	for _, k := range keys {
		ik := itemKeyOf(k)
		if _, ok := got[ik]; ok && !seen[ik] {
			seen[ik] = true
			del = append(del, k)
		}
	}
	return len(del), s.batchDelete(ctx, del)
}

// itemKeyOf joins an item's partition and sort keys.
func itemKeyOf(it item) string { return getS(it, PartitionKey) + "\x00" + getS(it, SortKey) }

// getMany reads items by key (consistently), keyed by itemKeyOf.
func (s *Store) getMany(ctx context.Context, keys []item) (map[string]item, error) {
	got := make(map[string]item, len(keys))
	uniq := make([]item, 0, len(keys))
	seen := map[string]bool{}
	for _, k := range keys {
		if ik := itemKeyOf(k); !seen[ik] {
			seen[ik] = true
			uniq = append(uniq, k)
		}
	}
	for start := 0; start < len(uniq); start += batchGetMax {
		pending := uniq[start:min(start+batchGetMax, len(uniq))]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt == batchAttempts {
				return nil, fmt.Errorf("batch get: %d keys still unprocessed: %w", len(pending), fault.ErrRetryable)
			}
			if attempt > 0 {
				if err := backoff(ctx, attempt); err != nil {
					return nil, err
				}
			}
			out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: map[string]types.KeysAndAttributes{s.table: {Keys: pending, ConsistentRead: aws.Bool(true)}},
			})
			if err != nil {
				return nil, wrap("batch get", err)
			}
			for _, it := range out.Responses[s.table] {
				got[itemKeyOf(it)] = it
			}
			pending = out.UnprocessedKeys[s.table].Keys
		}
	}
	return got, nil
}

// batchDelete deletes items by key with BatchWriteItem.
func (s *Store) batchDelete(ctx context.Context, keys []item) error {
	reqs := make([]types.WriteRequest, 0, len(keys))
	for _, k := range keys {
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(getS(k, PartitionKey), getS(k, SortKey))}})
	}
	return s.writeBatches(ctx, "batch delete", reqs)
}

// writeBatches sends write requests with BatchWriteItem, 25 at a time,
// re-sending unprocessed ones with backoff a bounded number of times.
func (s *Store) writeBatches(ctx context.Context, op string, reqs []types.WriteRequest) error {
	for start := 0; start < len(reqs); start += batchWriteMax {
		pending := reqs[start:min(start+batchWriteMax, len(reqs))]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt == batchAttempts {
				return fmt.Errorf("%s: %d writes still unprocessed: %w", op, len(pending), fault.ErrRetryable)
			}
			if attempt > 0 {
				if err := backoff(ctx, attempt); err != nil {
					return err
				}
			}
			out, err := s.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{s.table: pending},
			})
			if err != nil {
				return wrap(op, err)
			}
			pending = out.UnprocessedItems[s.table]
		}
	}
	return nil
}

// outboxNaming returns the keys of the outbox items whose event detail
// names one of ids.
func (s *Store) outboxNaming(ctx context.Context, ids map[string]bool) ([]item, error) {
	var conds []string
	values := map[string]types.AttributeValue{}
	i := 0
	for id := range ids {
		v := ":p" + strconv.Itoa(i)
		conds = append(conds, "contains(#b, "+v+")")
		values[v] = str(id)
		i++
	}
	var out []item
	for n := 0; n < s.opts.OutboxShards; n++ {
		vals := map[string]types.AttributeValue{":g": str(pfxOutboxPart + strconv.Itoa(n))}
		for k, v := range values {
			vals[k] = v
		}
		its, err := s.queryAll(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			IndexName:                 aws.String(OutboxIndex),
			KeyConditionExpression:    aws.String("#g = :g"),
			FilterExpression:          aws.String(strings.Join(conds, " OR ")),
			ExpressionAttributeNames:  map[string]string{"#g": IndexPartitionKey, "#b": attrBody},
			ExpressionAttributeValues: vals,
		}, 0)
		if err != nil {
			return nil, wrap("query outbox", err)
		}
		for _, it := range its {
			var env struct {
				Detail json.RawMessage `json:"detail"`
			}
			if err := decodeBody(it, &env); err != nil {
				return nil, fmt.Errorf("decode outbox item: %w", err)
			}
			var d struct {
				ProfileID string   `json:"profile_id"`
				Merged    []string `json:"merged_profile_ids"`
			}
			if json.Unmarshal(env.Detail, &d) != nil {
				continue
			}
			match := ids[d.ProfileID]
			for _, m := range d.Merged {
				match = match || ids[m]
			}
			if match {
				out = append(out, key(getS(it, PartitionKey), getS(it, SortKey)))
			}
		}
	}
	return out, nil
}
