package dynamo

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Read limits.
const (
	// maxHops bounds redirect chains, so that a cycle (which commits never
	// create) cannot loop forever.
	maxHops = 64
	// batchGetMax is the most keys one BatchGetItem call may carry.
	batchGetMax = 100
	// batchWriteMax is the most requests one BatchWriteItem call may carry.
	batchWriteMax = 25
	// batchAttempts bounds the retries of unprocessed batch items.
	batchAttempts = 8
)

func (s *Store) consistent() *bool { return aws.Bool(!s.opts.EventualReads) }

// ownersConsistent is the read consistency of Owners (see
// Options.EventualOwners).
func (s *Store) ownersConsistent() *bool {
	return aws.Bool(!s.opts.EventualReads && !s.opts.EventualOwners)
}

func (s *Store) get(ctx context.Context, pk, sk string) (item, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(pk, sk),
		ConsistentRead: s.consistent(),
	})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// follow reads the profile item of id and follows redirects. It returns the
// live id and its item (nil if there is no such profile).
func (s *Store) follow(ctx context.Context, id string) (string, item, error) {
	cur := id
	for hop := 0; hop <= maxHops; hop++ {
		it, err := s.get(ctx, profilePK(cur), skProfile)
		if err != nil {
			return "", nil, wrap("read profile "+cur, err)
		}
		to := getS(it, attrTo)
		if to == "" {
			return cur, it, nil
		}
		cur = to
	}
	return "", nil, fmt.Errorf("dynamo: resolve profile %s: more than %d redirects", id, maxHops)
}

// Resolve follows merge redirects from id to the live profile id. An id
// without a redirect (including an unknown one) resolves to itself.
func (s *Store) Resolve(ctx context.Context, id string) (string, error) {
	live, _, err := s.follow(ctx, id)
	return live, err
}

// Profile returns the live profile that id resolves to.
func (s *Store) Profile(ctx context.Context, id string) (profile.Profile, error) {
	live, it, err := s.follow(ctx, id)
	if err != nil {
		return profile.Profile{}, err
	}
	if it == nil {
		return profile.Profile{}, fmt.Errorf("dynamo: profile %s: %w", id, fault.ErrNotFound)
	}
	var p profile.Profile
	if err := decodeBody(it, &p); err != nil {
		return profile.Profile{}, fmt.Errorf("dynamo: decode profile %s: %w", live, err)
	}
	if v, ok := getN(it, attrVersion); ok {
		p.Version = v
	}
	return p, nil
}

// Record returns a stored source record and the profile it was written
// under.
func (s *Store) Record(ctx context.Context, source, id string) (profile.Record, string, error) {
	it, err := s.get(ctx, recordPK(source, id), skRecord)
	if err != nil {
		return profile.Record{}, "", wrap("read record "+source+"/"+id, err)
	}
	if it == nil {
		return profile.Record{}, "", fmt.Errorf("dynamo: record %s/%s: %w", source, id, fault.ErrNotFound)
	}
	var r profile.Record
	if err := decodeBody(it, &r); err != nil {
		return profile.Record{}, "", fmt.Errorf("dynamo: decode record %s/%s: %w", source, id, err)
	}
	return r, getS(it, attrProfile), nil
}

// batchGet reads items by key with BatchGetItem, at most batchGetMax keys
// per call, retrying unprocessed keys with backoff, strongly consistent
// when consistent is true. The result is keyed by partition key; missing
// items are absent.
func (s *Store) batchGet(ctx context.Context, keys []item, consistent *bool) (map[string]item, error) {
	got := make(map[string]item, len(keys))
	for start := 0; start < len(keys); start += batchGetMax {
		pending := keys[start:min(start+batchGetMax, len(keys))]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt == batchAttempts {
				return nil, fmt.Errorf("dynamo: batch get: %d keys still unprocessed after %d attempts: %w",
					len(pending), attempt, fault.ErrRetryable)
			}
			if attempt > 0 {
				if err := backoff(ctx, attempt); err != nil {
					return nil, err
				}
			}
			out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: map[string]types.KeysAndAttributes{
					s.table: {Keys: pending, ConsistentRead: consistent},
				},
			})
			if err != nil {
				return nil, wrap("batch get", err)
			}
			for _, it := range out.Responses[s.table] {
				got[getS(it, PartitionKey)] = it
			}
			pending = out.UnprocessedKeys[s.table].Keys
		}
	}
	return got, nil
}

// backoff waits before retry attempt n (n ≥ 1): 10 ms doubling, at most 1 s.
func backoff(ctx context.Context, n int) error {
	d := 10 * time.Millisecond << min(n-1, 7)
	d = min(d, time.Second)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// resolveMany follows redirects for many profile ids at once, one
// BatchGetItem per hop, with the read consistency given.
func (s *Store) resolveMany(ctx context.Context, ids []string, consistent *bool) (map[string]string, error) {
	live := make(map[string]string, len(ids))
	at := make(map[string]string, len(ids)) // start id -> current id
	for _, id := range ids {
		at[id] = id
	}
	next := map[string]string{} // id -> redirect target ("" when live)
	for hop := 0; len(at) > 0; hop++ {
		if hop > maxHops {
			return nil, fmt.Errorf("dynamo: resolve profiles: more than %d redirects", maxHops)
		}
		var keys []item
		asked := map[string]bool{}
		for _, cur := range at {
			if _, ok := next[cur]; !ok && !asked[cur] {
				asked[cur] = true
				keys = append(keys, key(profilePK(cur), skProfile))
			}
		}
		got, err := s.batchGet(ctx, keys, consistent)
		if err != nil {
			return nil, err
		}
		for cur := range asked {
			next[cur] = getS(got[profilePK(cur)], attrTo)
		}
		for start, cur := range at {
			if to := next[cur]; to != "" {
				at[start] = to
				continue
			}
			live[start] = cur
			delete(at, start)
		}
	}
	return live, nil
}

// Owners returns the claimant and live profile of each claimed identifier,
// eventually consistent with Options.EventualOwners.
func (s *Store) Owners(ctx context.Context, ids []profile.Identifier) (map[profile.Identifier]store.Owner, error) {
	owners := make(map[profile.Identifier]store.Owner, len(ids))
	keys, byPK := identifierKeys(ids)
	got, err := s.batchGet(ctx, keys, s.ownersConsistent())
	if err != nil {
		return nil, fmt.Errorf("dynamo: read identifiers: %w", err)
	}
	var claimants []string
	for _, it := range got {
		claimants = append(claimants, getS(it, attrClaimant))
	}
	live, err := s.resolveMany(ctx, claimants, s.ownersConsistent())
	if err != nil {
		return nil, err
	}
	for pk, it := range got {
		c := getS(it, attrClaimant)
		owners[byPK[pk]] = store.Owner{Claimant: c, ProfileID: live[c]}
	}
	return owners, nil
}

// identifierKeys returns the keys of the identifier items of ids, each
// once, and the identifier of each partition key.
func identifierKeys(ids []profile.Identifier) ([]item, map[string]profile.Identifier) {
	byPK := map[string]profile.Identifier{}
	var keys []item
	for _, id := range ids {
		pk := identifierPK(id)
		if _, ok := byPK[pk]; ok {
			continue
		}
		byPK[pk] = id
		keys = append(keys, key(pk, skIdentifier))
	}
	return keys, byPK
}

// Seen reports which of keys are recorded (and not expired): those map to
// true, the others are absent.
func (s *Store) Seen(ctx context.Context, keys []string) (map[string]bool, error) {
	seen := make(map[string]bool, len(keys))
	asked := map[string]bool{}
	var ks []item
	for _, k := range keys {
		if asked[k] {
			continue
		}
		asked[k] = true
		ks = append(ks, key(keyPK(k), skKey))
	}
	got, err := s.batchGet(ctx, ks, s.consistent())
	if err != nil {
		return nil, fmt.Errorf("dynamo: read idempotency keys: %w", err)
	}
	now := s.opts.Now().Unix()
	for k := range asked {
		it, ok := got[keyPK(k)]
		if !ok {
			continue
		}
		if exp, ok := getN(it, TTLAttribute); ok && exp < now {
			continue
		}
		seen[k] = true
	}
	return seen, nil
}

// Events returns the events of the live profile id resolves to and of every
// profile merged into it, newest first. The cursor is the sort key of the
// last event returned, base64-encoded: each profile partition is queried
// for events older than it and the results are merged.
func (s *Store) Events(ctx context.Context, profileID string, limit int, cursor string) ([]profile.Event, string, error) {
	if limit <= 0 {
		return nil, "", fault.Invalidf("events limit %d: want a positive number", limit)
	}
	before := ""
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !strings.HasPrefix(string(b), pfxEvent) {
			return nil, "", fault.Invalidf("malformed events cursor")
		}
		before = string(b)
	}
	live, err := s.Resolve(ctx, profileID)
	if err != nil {
		return nil, "", err
	}
	parts, err := s.mergeTree(ctx, live)
	if err != nil {
		return nil, "", err
	}
	var all []item
	more := false
	for _, p := range parts {
		its, m, err := s.queryEvents(ctx, profilePK(p), before, limit)
		if err != nil {
			return nil, "", err
		}
		all = append(all, its...)
		more = more || m
	}
	sort.Slice(all, func(i, j int) bool { return getS(all[i], SortKey) > getS(all[j], SortKey) })
	var out []profile.Event
	last := ""
	for _, it := range all {
		sk := getS(it, SortKey)
		if sk == last {
			continue // the same event written under two merged profiles
		}
		if len(out) == limit {
			more = true
			break
		}
		var e profile.Event
		if err := decodeBody(it, &e); err != nil {
			return nil, "", fmt.Errorf("dynamo: decode event of profile %s: %w", live, err)
		}
		out = append(out, e)
		last = sk
	}
	next := ""
	if more && len(out) > 0 {
		next = base64.RawURLEncoding.EncodeToString([]byte(last))
	}
	return out, next, nil
}

// mergeTree returns live and every profile merged into it, directly or
// through other merges, from the merge markers.
func (s *Store) mergeTree(ctx context.Context, live string) ([]string, error) {
	tree := []string{live}
	visited := map[string]bool{live: true}
	for i := 0; i < len(tree); i++ {
		its, err := s.queryAll(ctx, &dynamodb.QueryInput{
			TableName:              aws.String(s.table),
			KeyConditionExpression: aws.String("#pk = :pk AND begins_with(#sk, :m)"),
			ExpressionAttributeNames: map[string]string{
				"#pk": PartitionKey, "#sk": SortKey,
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(profilePK(tree[i])), ":m": str(pfxMerged),
			},
			ConsistentRead: s.consistent(),
		}, 0)
		if err != nil {
			return nil, wrap("read merges of profile "+tree[i], err)
		}
		for _, it := range its {
			from := strings.TrimPrefix(getS(it, SortKey), pfxMerged)
			if !visited[from] {
				visited[from] = true
				tree = append(tree, from)
			}
		}
	}
	return tree, nil
}

// queryEvents returns up to limit event items of partition pk older than
// before ("" for the newest), newest first, and whether there are more.
func (s *Store) queryEvents(ctx context.Context, pk, before string, limit int) ([]item, bool, error) {
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		ExpressionAttributeNames: map[string]string{"#pk": PartitionKey, "#sk": SortKey},
		ScanIndexForward:         aws.Bool(false),
		ConsistentRead:           s.consistent(),
	}
	if before == "" {
		in.KeyConditionExpression = aws.String("#pk = :pk AND begins_with(#sk, :lo)")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":pk": str(pk), ":lo": str(pfxEvent)}
	} else {
		// BETWEEN is inclusive: the cursor's own event is dropped below.
		in.KeyConditionExpression = aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{
			":pk": str(pk), ":lo": str(pfxEvent), ":hi": str(before),
		}
	}
	var out []item
	for {
		in.Limit = aws.Int32(int32(min(limit+2-len(out), 1000)))
		page, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, false, wrap("query events", err)
		}
		for _, it := range page.Items {
			if getS(it, SortKey) != before {
				out = append(out, it)
			}
		}
		if len(out) > limit {
			return out[:limit], true, nil
		}
		if page.LastEvaluatedKey == nil {
			return out, false, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// queryAll runs a query to the end, or until it has at least enough items
// (0: no limit).
func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput, enough int) ([]item, error) {
	var out []item
	for {
		page, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.LastEvaluatedKey == nil || (enough > 0 && len(out) >= enough) {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// Outbox returns up to limit pending outbox events, oldest first. It
// queries every partition of the outbox index; the index is eventually
// consistent, so an event committed a moment ago may show up on the next
// call.
func (s *Store) Outbox(ctx context.Context, limit int) ([]events.Envelope, error) {
	if s.opts.StreamOutbox {
		return nil, fault.Invalidf("dynamo: the outbox is published from the table's stream (Options.StreamOutbox); Outbox is not available")
	}
	if limit <= 0 {
		return nil, fault.Invalidf("outbox limit %d: want a positive number", limit)
	}
	now := s.opts.Now().Unix()
	var all []item
	for n := 0; n < s.opts.OutboxShards; n++ {
		its, err := s.queryAll(ctx, &dynamodb.QueryInput{
			TableName:                aws.String(s.table),
			IndexName:                aws.String(OutboxIndex),
			KeyConditionExpression:   aws.String("#g = :g"),
			ExpressionAttributeNames: map[string]string{"#g": IndexPartitionKey},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":g": str(pfxOutboxPart + strconv.Itoa(n)),
			},
			ScanIndexForward: aws.Bool(true),
			Limit:            aws.Int32(int32(min(limit, 1000))),
		}, limit)
		if err != nil {
			return nil, wrap("query outbox", err)
		}
		for _, it := range its {
			if exp, ok := getN(it, TTLAttribute); ok && exp < now {
				continue
			}
			all = append(all, it)
		}
	}
	sort.Slice(all, func(i, j int) bool { return getS(all[i], IndexSortKey) < getS(all[j], IndexSortKey) })
	all = all[:min(limit, len(all))]
	out := make([]events.Envelope, 0, len(all))
	for _, it := range all {
		var e events.Envelope
		if err := decodeBody(it, &e); err != nil {
			return nil, fmt.Errorf("dynamo: decode outbox item: %w", err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Ack deletes published events from the outbox. Unknown ids are ignored.
func (s *Store) Ack(ctx context.Context, ids []string) error {
	if s.opts.StreamOutbox {
		return fault.Invalidf("dynamo: the outbox is published from the table's stream (Options.StreamOutbox); Ack is not available")
	}
	var reqs []types.WriteRequest
	dup := map[string]bool{}
	for _, id := range ids {
		if dup[id] {
			continue
		}
		dup[id] = true
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(outboxPK(id), skOutbox)}})
	}
	return s.writeBatches(ctx, "dynamo: ack outbox", reqs)
}
