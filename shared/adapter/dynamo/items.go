package dynamo

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Generic items (store.Item) live in partitions of their own:
//
//	pk = I#<kind>#<key>   sk = <sort>
//
// with attributes value (B), n (N), ver (N), exp (N, the expiry in Unix
// nanoseconds, which conditions compare with the store's clock) and ttl (N,
// the expiry in epoch seconds, rounded up, for DynamoDB's TTL). An item
// whose expiry is not after the store's clock counts as missing, whether or
// not DynamoDB has deleted it yet.
const (
	pfxItem   = "I#"
	attrValue = "value"
	attrN     = "n"
	attrExp   = "exp"
	// MaxItemValue is the largest store.Item value accepted (64 KiB).
	MaxItemValue = 64 * 1024
)

func itemPK(kind, key string) string { return pfxItem + esc(kind) + "#" + key }

func ttlOf(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// validItem checks the naming rules of store.Item.
func validItem(it store.Item) error {
	for _, part := range []struct{ name, v string }{{"kind", it.Kind}, {"key", it.Key}, {"sort", it.Sort}} {
		if part.v == "" || strings.ContainsRune(part.v, 0) {
			return fault.Invalidf("item %s must be non-empty and hold no NUL byte", part.name)
		}
	}
	if len(it.Value) > MaxItemValue {
		return fmt.Errorf("item %s/%s: value of %d bytes exceeds %d: %w", it.Kind, it.Sort, len(it.Value), MaxItemValue, fault.ErrTooLarge)
	}
	if !it.Expires.IsZero() && (it.Expires.Year() < 1678 || it.Expires.Year() > 2261) {
		return fault.Invalidf("item %s/%s: expiry out of range", it.Kind, it.Sort)
	}
	return nil
}

// Conditions on an item's liveness at :now (Unix nanoseconds).
const (
	condLive    = "(attribute_not_exists(#exp) OR #exp > :now)"
	condExpired = "#exp <= :now"
)

// itemWrite translates one store.ItemWrite into a transaction item.
//
// ItemPut and ItemAdd have two forms, because a stored item past its
// expiry counts as missing (a Put over it starts at version 1, an Add at
// Item.N) and no update expression can branch on that. The usual form
// updates the item if it is absent or live; the fresh form replaces it if
// it has expired. Commit sends the usual form and switches an item whose
// condition failed to the other form (see send).
func (s *Store) itemWrite(w store.ItemWrite, now time.Time, fresh bool) (types.TransactWriteItem, string, error) {
	it := w.Item
	k := key(itemPK(it.Kind, it.Key), it.Sort)
	what := fmt.Sprintf("item %s %s/%s", it.Kind, it.Key, it.Sort)
	nowN := num(now.UnixNano())

	// full is the whole item at version 1, for a Put.
	full := func() item {
		f := key(itemPK(it.Kind, it.Key), it.Sort)
		f[attrVersion] = num(1)
		f[attrN] = num(it.N)
		if len(it.Value) > 0 {
			f[attrValue] = bin(it.Value)
		}
		if !it.Expires.IsZero() {
			f[attrExp] = num(it.Expires.UnixNano())
			f[TTLAttribute] = num(ttlOf(it.Expires))
		}
		return f
	}
	put := func(cond string) types.TransactWriteItem {
		names := map[string]string{"#exp": attrExp}
		if strings.Contains(cond, "#pk") {
			names["#pk"] = PartitionKey
		}
		return types.TransactWriteItem{Put: &types.Put{
			TableName:                 aws.String(s.table),
			Item:                      full(),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": nowN},
		}}
	}
	// update sets the payload and the version (an expression) under cond;
	// with add, N is added and empty Value and Expires keep what is stored.
	update := func(version, cond string, add bool, extra map[string]types.AttributeValue) types.TransactWriteItem {
		names := map[string]string{"#v": attrVersion, "#n": attrN, "#exp": attrExp}
		values := map[string]types.AttributeValue{":now": nowN, ":n": num(it.N)}
		for k, v := range extra {
			values[k] = v
		}
		sets := []string{"#v = " + version}
		var removes []string
		if len(it.Value) > 0 {
			names["#val"] = attrValue
			sets = append(sets, "#val = :val")
			values[":val"] = bin(it.Value)
		} else if !add {
			names["#val"] = attrValue
			removes = append(removes, "#val")
		}
		if !it.Expires.IsZero() {
			names["#ttl"] = TTLAttribute
			sets = append(sets, "#exp = :exp", "#ttl = :ttl")
			values[":exp"] = num(it.Expires.UnixNano())
			values[":ttl"] = num(ttlOf(it.Expires))
		} else if !add {
			names["#ttl"] = TTLAttribute
			removes = append(removes, "#exp", "#ttl")
		}
		if add {
			sets = append(sets, "#n = if_not_exists(#n, :zero) + :n")
			values[":zero"] = num(0)
		} else {
			sets = append(sets, "#n = :n")
		}
		expr := "SET " + strings.Join(sets, ", ")
		if len(removes) > 0 {
			expr += " REMOVE " + strings.Join(removes, ", ")
		}
		if strings.Contains(cond, "#pk") {
			names["#pk"] = PartitionKey
		}
		return types.TransactWriteItem{Update: &types.Update{
			TableName:                 aws.String(s.table),
			Key:                       k,
			UpdateExpression:          aws.String(expr),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		}}
	}
	one := map[string]types.AttributeValue{":one": num(1), ":zero": num(0)}

	switch w.Op {
	case store.ItemPut:
		if fresh {
			return put(condExpired), what, nil
		}
		return update("if_not_exists(#v, :zero) + :one", condLive, false, one), what, nil
	case store.ItemAdd:
		if fresh {
			return put(condExpired), what, nil
		}
		return update("if_not_exists(#v, :zero) + :one", condLive, true, one), what, nil
	case store.ItemCreate:
		return put("attribute_not_exists(#pk) OR " + condExpired), what + " already exists", nil
	case store.ItemReplace:
		cond := "attribute_exists(#pk) AND " + condLive
		if w.ExpectVersion > 0 {
			ev := map[string]types.AttributeValue{":ev": num(w.ExpectVersion), ":one": num(1)}
			return update(":ev + :one", cond+" AND #v = :ev", false, ev), what + " is missing or not at the expected version", nil
		}
		return update("#v + :one", cond, false, map[string]types.AttributeValue{":one": num(1)}), what + " is missing", nil
	case store.ItemDelete:
		d := &types.Delete{TableName: aws.String(s.table), Key: k}
		if w.ExpectVersion > 0 {
			d.ConditionExpression = aws.String("#v = :ev AND " + condLive)
			d.ExpressionAttributeNames = map[string]string{"#v": attrVersion, "#exp": attrExp}
			d.ExpressionAttributeValues = map[string]types.AttributeValue{":ev": num(w.ExpectVersion), ":now": nowN}
		}
		return types.TransactWriteItem{Delete: d}, what + " is missing or not at the expected version", nil
	}
	return types.TransactWriteItem{}, "", fault.Invalidf("item %s/%s: unknown operation %d", it.Kind, it.Sort, w.Op)
}

// twoForms reports whether op has a fresh form (see itemWrite).
func twoForms(op store.ItemOp) bool { return op == store.ItemPut || op == store.ItemAdd }

// decodeItem turns a DynamoDB item into a store.Item.
func decodeItem(kind, key string, it item) (store.Item, error) {
	out := store.Item{Kind: kind, Key: key, Sort: getS(it, SortKey)}
	if v, ok := it[attrValue].(*types.AttributeValueMemberB); ok {
		out.Value = v.Value
	}
	out.N, _ = getN(it, attrN)
	out.Version, _ = getN(it, attrVersion)
	if e, ok := getN(it, attrExp); ok {
		out.Expires = time.Unix(0, e).UTC()
	}
	return out, nil
}

// expired reports whether it is past its expiry at now.
func expired(it store.Item, now time.Time) bool {
	return !it.Expires.IsZero() && !now.Before(it.Expires)
}

// Item returns one generic item. An item whose expiry is not after the
// store's clock is fault.ErrNotFound, even before DynamoDB deletes it.
func (s *Store) Item(ctx context.Context, kind, key, sort string) (store.Item, error) {
	if err := validItem(store.Item{Kind: kind, Key: key, Sort: sort}); err != nil {
		return store.Item{}, fmt.Errorf("dynamo: item: %w", err)
	}
	it, err := s.get(ctx, itemPK(kind, key), sort)
	if err != nil {
		return store.Item{}, wrap("read item "+kind+"/"+sort, err)
	}
	if it == nil {
		return store.Item{}, fmt.Errorf("dynamo: item %s %s/%s: %w", kind, key, sort, fault.ErrNotFound)
	}
	x, err := decodeItem(kind, key, it)
	if err != nil {
		return store.Item{}, err
	}
	if expired(x, s.opts.Now()) {
		return store.Item{}, fmt.Errorf("dynamo: item %s %s/%s: expired: %w", kind, key, sort, fault.ErrNotFound)
	}
	return x, nil
}

// Items returns the items of (kind, key) with sort keys in [from, to), in
// ascending order, with a Query on their partition, leaving out expired
// items. The cursor is the last sort key returned, base64-encoded; it is
// returned only when another item follows.
func (s *Store) Items(ctx context.Context, kind, key, from, to string, limit int, cursor string) ([]store.Item, string, error) {
	if limit <= 0 {
		return nil, "", fault.Invalidf("items limit %d: want a positive number", limit)
	}
	if err := validItem(store.Item{Kind: kind, Key: key, Sort: "x"}); err != nil {
		return nil, "", fmt.Errorf("dynamo: items: %w", err)
	}
	after := ""
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || len(b) == 0 {
			return nil, "", fault.Invalidf("malformed items cursor")
		}
		after = string(b)
	}
	// The lower bound is from (inclusive) or after (exclusive), whichever
	// is higher; the upper bound to is exclusive.
	lo, loIncl := from, true
	if after != "" && after >= from {
		lo, loIncl = after, false
	}
	if to != "" && lo != "" && lo >= to {
		return nil, "", nil
	}
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		ExpressionAttributeNames: map[string]string{"#pk": PartitionKey, "#sk": SortKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(itemPK(kind, key)),
		},
		ConsistentRead: s.consistent(),
	}
	cond := "#pk = :pk"
	switch {
	case lo != "" && to != "":
		cond += " AND #sk BETWEEN :lo AND :hi" // bounds dropped below when exclusive
		in.ExpressionAttributeValues[":lo"], in.ExpressionAttributeValues[":hi"] = str(lo), str(to)
	case lo != "" && loIncl:
		cond += " AND #sk >= :lo"
		in.ExpressionAttributeValues[":lo"] = str(lo)
	case lo != "":
		cond += " AND #sk > :lo"
		in.ExpressionAttributeValues[":lo"] = str(lo)
	case to != "":
		cond += " AND #sk < :hi"
		in.ExpressionAttributeValues[":hi"] = str(to)
	}
	in.KeyConditionExpression = aws.String(cond)
	if lo == "" && to == "" {
		delete(in.ExpressionAttributeNames, "#sk")
	}

	now := s.opts.Now()
	var out []store.Item
	more := false
	for {
		in.Limit = aws.Int32(int32(min(max(limit+1-len(out), 2), 1000)))
		page, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, "", wrap("query items "+kind, err)
		}
		for _, it := range page.Items {
			sk := getS(it, SortKey)
			if (!loIncl && sk == lo) || (to != "" && sk >= to) {
				continue
			}
			x, err := decodeItem(kind, key, it)
			if err != nil {
				return nil, "", err
			}
			if expired(x, now) {
				continue
			}
			if len(out) == limit {
				more = true
				break
			}
			out = append(out, x)
		}
		if more || page.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	next := ""
	if more && len(out) > 0 {
		next = base64.RawURLEncoding.EncodeToString([]byte(out[len(out)-1].Sort))
	}
	return out, next, nil
}

// itemKey names an item for the once-per-change rule.
func itemKey(it store.Item) string {
	return it.Kind + "\x00" + it.Key + "\x00" + it.Sort
}
