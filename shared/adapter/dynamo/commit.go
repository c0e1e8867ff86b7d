package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// DynamoDB limits that Commit checks before sending.
const (
	// MaxTransactItems is the most items one TransactWriteItems may hold.
	MaxTransactItems = 100
	// MaxItemSize is DynamoDB's item size limit (400 KB).
	MaxItemSize = 400 * 1024
	// MaxTransactSize is the aggregate size limit of one transaction (4 MB).
	MaxTransactSize = 4 * 1024 * 1024
)

// Commit writes each change as one TransactWriteItems call (a change of a
// single item as one conditional PutItem). A change that
// needs more than MaxTransactItems items, or whose items exceed DynamoDB's
// size limits, fails with fault.ErrTooLarge and writes nothing: splitting it
// would give up its atomicity. A change that fails ends the call with a
// *store.CommitError counting the changes before it, which were written.
// A change whose call failed without an answer (a transport error the
// SDK's retries did not overcome) may have been written too: it is not
// counted. With Options.Counters, the counter adds it defers are added
// to the pending ones; a call that deferred one then sends the pending
// adds when they are due (CounterFlush), and returns the error of that
// flush, if any, after every change was written.
func (s *Store) Commit(ctx context.Context, changes ...store.Change) error {
	deferred := false
	for i, ch := range changes {
		d, err := s.commitChange(ctx, ch)
		if err != nil {
			return &store.CommitError{Applied: i, Err: fmt.Errorf("dynamo: commit change %d: %w", i, err)}
		}
		deferred = deferred || d
	}
	if deferred && s.counters.due(s.opts.Now()) {
		if err := s.FlushCounters(ctx); err != nil {
			// Every change set was written; only the counters' send failed.
			return &store.CommitError{Applied: len(changes), Err: err}
		}
	}
	return nil
}

// commitChange defers ch (Options.Counters) or sends it, after the
// pending adds of the items it names.
func (s *Store) commitChange(ctx context.Context, ch store.Change) (deferred bool, err error) {
	if s.counters == nil {
		return false, s.commitOne(ctx, ch)
	}
	if w, ok := s.counters.deferrable(ch); ok {
		if err := validate(ch); err != nil {
			return false, err
		}
		s.counters.add(w, s.opts.Now())
		return true, nil
	}
	if err := s.flushTouched(ctx, ch); err != nil {
		return false, err
	}
	return false, s.commitOne(ctx, ch)
}

// commitOne sends ch now.
func (s *Store) commitOne(ctx context.Context, ch store.Change) error {
	tx, err := s.transaction(ch)
	if err != nil {
		return err
	}
	if len(tx.items) == 0 {
		return nil
	}
	return s.send(ctx, tx)
}

// tx is a change translated to transaction items, with a description of
// each item for error messages (free of personal data).
type tx struct {
	items []types.TransactWriteItem
	what  []string
	// alts holds, for generic item writes with two forms, what is needed
	// to switch form (nil for other items).
	alts []*alt
	now  time.Time
}

// alt is a generic item write with two forms (see Store.itemWrite).
type alt struct {
	w     store.ItemWrite
	fresh bool
}

func (t *tx) put(what string, it item, cond string, names map[string]string, values map[string]types.AttributeValue, table string) {
	p := &types.Put{TableName: aws.String(table), Item: it}
	if cond != "" {
		p.ConditionExpression = aws.String(cond)
		if len(names) > 0 {
			p.ExpressionAttributeNames = names
		}
		if len(values) > 0 {
			p.ExpressionAttributeValues = values
		}
	}
	t.items = append(t.items, types.TransactWriteItem{Put: p})
	t.what = append(t.what, what)
	t.alts = append(t.alts, nil)
}

// transaction validates ch and builds its transaction items.
func (s *Store) transaction(ch store.Change) (*tx, error) {
	if err := validate(ch); err != nil {
		return nil, err
	}
	now := s.opts.Now()
	t := &tx{now: now}

	for _, k := range ch.Keys {
		it := key(keyPK(k), skKey)
		cond := "attribute_not_exists(#pk)"
		names := map[string]string{"#pk": PartitionKey}
		var values map[string]types.AttributeValue
		if s.opts.KeyTTL > 0 {
			it[TTLAttribute] = num(now.Add(s.opts.KeyTTL).Unix())
			// DynamoDB deletes expired items lazily: an expired key counts
			// as absent at once.
			cond = "attribute_not_exists(#pk) OR #ttl < :now"
			names["#ttl"] = TTLAttribute
			values = map[string]types.AttributeValue{":now": num(now.Unix())}
		}
		t.put("idempotency key already recorded", it, cond, names, values, s.table)
	}

	// Event items are keyed by profile, time and event id; the same event
	// twice in one change is written once.
	eventAt := map[[2]string]int{}
	for _, rw := range ch.Records {
		r := rw.Record
		body, enc, err := encodeBody(r)
		if err != nil {
			return nil, fmt.Errorf("encode record %s: %w", r.Key(), err)
		}
		it := key(recordPK(r.Source, r.ID), skRecord)
		it[attrProfile] = str(rw.ProfileID)
		it[attrBody] = bin(body)
		if enc != "" {
			it[attrEnc] = str(enc)
		}
		t.put("record "+r.Key(), it, "", nil, nil, s.table)
		for j, e := range r.Events {
			if e.ID == "" {
				e.ID = r.Key() + "#" + strconv.Itoa(j)
			}
			b, err := json.Marshal(e)
			if err != nil {
				return nil, fmt.Errorf("encode event %d of record %s: %w", j, r.Key(), err)
			}
			ev := key(profilePK(rw.ProfileID), eventSK(e))
			ev[attrBody] = str(string(b))
			ev[attrRecord] = str(r.Key())
			k := [2]string{rw.ProfileID, eventSK(e)}
			if i, ok := eventAt[k]; ok {
				t.items[i].Put.Item = ev
				continue
			}
			eventAt[k] = len(t.items)
			t.put("event of record "+r.Key(), ev, "", nil, nil, s.table)
		}
	}

	// A profile write with nothing but outbox events beside it carries
	// them in the profile item when the stream publishes the outbox.
	embed := s.opts.StreamOutbox && len(ch.Profiles) == 1 && len(ch.Outbox) > 0 &&
		len(ch.Keys)+len(ch.Records)+len(ch.Redirects)+len(ch.Claims)+len(ch.Items) == 0
	for _, pw := range ch.Profiles {
		p := pw.Profile
		body, enc, err := encodeBody(p)
		if err != nil {
			return nil, fmt.Errorf("encode profile %s: %w", p.ID, err)
		}
		it := key(profilePK(p.ID), skProfile)
		it[attrVersion] = num(p.Version)
		it[attrBody] = bin(body)
		if enc != "" {
			it[attrEnc] = str(enc)
		}
		if embed {
			b, err := json.Marshal(ch.Outbox)
			if err != nil {
				return nil, fmt.Errorf("encode outbox events of profile %s: %w", p.ID, err)
			}
			it[OutboxAttribute] = str(string(b))
		}
		cond, names, values := versionCheck(pw.ExpectVersion)
		t.put(fmt.Sprintf("profile %s is not at version %d", p.ID, pw.ExpectVersion), it, cond, names, values, s.table)
	}

	for _, rd := range ch.Redirects {
		at := rd.At
		if at.IsZero() {
			at = now
		}
		it := key(profilePK(rd.From), skProfile)
		it[attrVersion] = num(rd.ExpectVersion + 1)
		it[attrTo] = str(rd.To)
		it[attrAt] = str(sortableTime(at))
		cond, names, values := versionCheck(rd.ExpectVersion)
		t.put(fmt.Sprintf("profile %s is not at version %d", rd.From, rd.ExpectVersion), it, cond, names, values, s.table)
		// The marker lets Events find the partitions of merged profiles.
		m := key(profilePK(rd.To), mergedSK(rd.From))
		m[attrAt] = str(sortableTime(at))
		t.put("merge marker for "+rd.From, m, "", nil, nil, s.table)
	}

	for _, c := range ch.Claims {
		it := key(identifierPK(c.Identifier), skIdentifier)
		it[attrClaimant] = str(c.ProfileID)
		what := fmt.Sprintf("claim of a %s identifier", c.Identifier.Type)
		if c.ExpectClaimant == "" {
			t.put(what+": already claimed", it, "attribute_not_exists(#pk)",
				map[string]string{"#pk": PartitionKey}, nil, s.table)
			continue
		}
		t.put(what+": claimant changed", it, "#c = :c",
			map[string]string{"#c": attrClaimant},
			map[string]types.AttributeValue{":c": str(c.ExpectClaimant)}, s.table)
	}

	for _, e := range ch.Outbox {
		if embed {
			break
		}
		it, err := s.outboxItem(e, now)
		if err != nil {
			return nil, err
		}
		t.put("outbox event "+e.ID, it, "", nil, nil, s.table)
	}

	for _, w := range ch.Items {
		ti, what, err := s.itemWrite(w, now, false)
		if err != nil {
			return nil, err
		}
		t.items = append(t.items, ti)
		t.what = append(t.what, what)
		if twoForms(w.Op) {
			t.alts = append(t.alts, &alt{w: w})
		} else {
			t.alts = append(t.alts, nil)
		}
	}

	if len(t.items) > MaxTransactItems {
		return nil, fmt.Errorf("change needs %d items, more than the %d of one transaction: %w",
			len(t.items), MaxTransactItems, fault.ErrTooLarge)
	}
	total := 0
	for i, w := range t.items {
		n := writeSize(w)
		if n > MaxItemSize {
			return nil, fmt.Errorf("%s: item of %d bytes exceeds DynamoDB's %d: %w",
				itemName(t.what[i]), n, MaxItemSize, fault.ErrTooLarge)
		}
		total += n
	}
	if total > MaxTransactSize {
		return nil, fmt.Errorf("change of %d bytes exceeds DynamoDB's %d per transaction: %w",
			total, MaxTransactSize, fault.ErrTooLarge)
	}
	return t, nil
}

// writeSize is the size of the item a transaction item writes: exact for a
// Put, an estimate (key and new values) for an Update, the key for a
// Delete.
func writeSize(w types.TransactWriteItem) int {
	switch {
	case w.Put != nil:
		return ItemSize(w.Put.Item)
	case w.Update != nil:
		n := ItemSize(w.Update.Key)
		for _, v := range w.Update.ExpressionAttributeValues {
			n += valueSize(v)
		}
		return n
	case w.Delete != nil:
		return ItemSize(w.Delete.Key)
	}
	return 0
}

// itemName trims a failure description to the item it names.
func itemName(what string) string {
	for i := 0; i < len(what); i++ {
		if what[i] == ':' {
			return what[:i]
		}
	}
	return what
}

// versionCheck is the condition of a profile write or redirect expecting
// version v (0: the profile must not exist). A redirected profile can never
// be written again.
func versionCheck(v int64) (string, map[string]string, map[string]types.AttributeValue) {
	if v == 0 {
		return "attribute_not_exists(#pk)", map[string]string{"#pk": PartitionKey}, nil
	}
	return "#v = :v AND attribute_not_exists(#to)",
		map[string]string{"#v": attrVersion, "#to": attrTo},
		map[string]types.AttributeValue{":v": num(v)}
}

func (s *Store) outboxItem(e events.Envelope, now time.Time) (item, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode outbox event %s: %w", e.ID, err)
	}
	it := key(outboxPK(e.ID), skOutbox)
	it[attrBody] = str(string(b))
	if !s.opts.StreamOutbox {
		it[IndexPartitionKey] = str(pfxOutboxPart + strconv.Itoa(shard(e.ID, s.opts.OutboxShards)))
		it[IndexSortKey] = str(sortableTime(e.Time) + "#" + e.ID)
	}
	if s.opts.OutboxTTL > 0 {
		it[TTLAttribute] = num(now.Add(s.opts.OutboxTTL).Unix())
	}
	return it, nil
}

// shard spreads outbox items over n index partitions (FNV-1a of the id).
func shard(id string, n int) int {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}

// maxSwitches bounds how often send switches the form of generic item
// writes before giving up with fault.ErrRetryable; maxConflictRetries how
// often it retries a transaction cancelled only by a transient reason (a
// concurrent transaction on one of its items, throttling), which wrote
// nothing.
const (
	maxSwitches        = 8
	maxConflictRetries = 3
)

// send runs one transaction and maps its failure to a fault kind. A change
// of one item is a single conditional PutItem, UpdateItem or DeleteItem
// instead (sendOne), which is as atomic and costs half the write units.
//
// When only the liveness conditions of generic item writes with two forms
// failed (an item had expired, or was revived meanwhile), send switches
// those writes to their other form and tries again. A transaction
// cancelled only by transient reasons is retried a few times with backoff.
func (s *Store) send(ctx context.Context, t *tx) error {
	if len(t.items) == 1 {
		return s.sendOne(ctx, t)
	}
	transient := 0
	for attempt := 0; ; attempt++ {
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: t.items,
			// A fresh token per call: the SDK's own retries of this call
			// are idempotent, while a later Commit of the same change is
			// checked again (and conflicts on its idempotency keys).
			ClientRequestToken: aws.String(token()),
		})
		if err == nil {
			return nil
		}
		var canceled *types.TransactionCanceledException
		if !errors.As(err, &canceled) {
			return wrap("transact write", err)
		}
		failed := failedConditions(canceled)
		switchable, firm := len(failed) > 0, -1
		for _, i := range failed {
			if i >= len(t.alts) || t.alts[i] == nil {
				switchable = false
				if firm < 0 {
					firm = i
				}
			}
		}
		if switchable {
			if attempt == maxSwitches {
				return fmt.Errorf("%s: expiry raced %d times: %w", itemName(t.what[failed[0]]), attempt, fault.ErrRetryable)
			}
			for _, i := range failed {
				a := t.alts[i]
				a.fresh = !a.fresh
				ti, _, err := s.itemWrite(a.w, t.now, a.fresh)
				if err != nil {
					return err
				}
				t.items[i] = ti
			}
			continue
		}
		i, kind := cancellation(canceled)
		if kind == fault.ErrRetryable && transient < maxConflictRetries {
			transient++
			if err := backoff(ctx, transient); err != nil {
				return err
			}
			continue
		}
		if kind == fault.ErrConflict && firm >= 0 && firm < len(t.what) {
			return fmt.Errorf("%s: %w", t.what[firm], fault.ErrConflict)
		}
		if kind == fault.ErrConflict && i >= 0 && i < len(t.what) {
			return fmt.Errorf("%s: %w", t.what[i], fault.ErrConflict)
		}
		if i >= 0 && i < len(t.what) {
			return fmt.Errorf("%s: %w: %w", itemName(t.what[i]), kind, err)
		}
		return fmt.Errorf("transaction canceled: %w: %w", kind, err)
	}
}

// failedConditions returns the indexes of the items whose condition
// failed.
func failedConditions(e *types.TransactionCanceledException) []int {
	var out []int
	for i, r := range e.CancellationReasons {
		if r.Code != nil && *r.Code == "ConditionalCheckFailed" {
			out = append(out, i)
		}
	}
	return out
}

func token() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// validate enforces the Change contract: every item named at most once,
// nothing malformed.
func validate(ch store.Change) error {
	seen := map[string]bool{}
	once := func(kind, name string) error {
		k := kind + "\x00" + name
		if seen[k] {
			return fault.Invalidf("%s %s named twice in one change", kind, name)
		}
		seen[k] = true
		return nil
	}
	for _, k := range ch.Keys {
		if k == "" {
			return fault.Invalidf("empty idempotency key")
		}
		if err := once("idempotency key", k); err != nil {
			return fault.Invalidf("idempotency key named twice in one change")
		}
	}
	for _, rw := range ch.Records {
		r := rw.Record
		if r.Source == "" || r.ID == "" {
			return fault.Invalidf("record without source or id")
		}
		if rw.ProfileID == "" {
			return fault.Invalidf("record %s without profile", r.Key())
		}
		if err := once("record", r.Key()); err != nil {
			return err
		}
	}
	for _, pw := range ch.Profiles {
		p := pw.Profile
		if p.ID == "" {
			return fault.Invalidf("profile without id")
		}
		if pw.ExpectVersion < 0 || p.Version != pw.ExpectVersion+1 {
			return fault.Invalidf("profile %s: version %d does not follow expected version %d", p.ID, p.Version, pw.ExpectVersion)
		}
		if err := once("profile", p.ID); err != nil {
			return err
		}
	}
	for _, rd := range ch.Redirects {
		if rd.From == "" || rd.To == "" {
			return fault.Invalidf("redirect without from or to")
		}
		if rd.From == rd.To {
			return fault.Invalidf("redirect of profile %s to itself", rd.From)
		}
		if rd.ExpectVersion < 0 {
			return fault.Invalidf("redirect of profile %s: negative expected version", rd.From)
		}
		if err := once("profile", rd.From); err != nil {
			return err
		}
	}
	for _, c := range ch.Claims {
		if c.Identifier.Type == "" || c.Identifier.Value == "" {
			return fault.Invalidf("claim of an identifier without type or value")
		}
		if c.ProfileID == "" {
			return fault.Invalidf("claim of a %s identifier without profile", c.Identifier.Type)
		}
		if seen["identifier\x00"+c.Identifier.String()] {
			return fault.Invalidf("a %s identifier claimed twice in one change", c.Identifier.Type)
		}
		seen["identifier\x00"+c.Identifier.String()] = true
	}
	for _, e := range ch.Outbox {
		if e.ID == "" {
			return fault.Invalidf("outbox event without id")
		}
		if err := once("outbox event", e.ID); err != nil {
			return err
		}
	}
	for _, w := range ch.Items {
		if err := validItem(w.Item); err != nil {
			return err
		}
		if seen["item\x00"+itemKey(w.Item)] {
			return fault.Invalidf("item %s %s/%s named twice in one change", w.Item.Kind, w.Item.Key, w.Item.Sort)
		}
		seen["item\x00"+itemKey(w.Item)] = true
		if w.ExpectVersion < 0 {
			return fault.Invalidf("item %s/%s: negative expected version", w.Item.Kind, w.Item.Sort)
		}
	}
	return nil
}

// sendOne writes a change of one item with the single-item operation its
// form needs. A generic item write whose liveness condition failed is
// switched to its other form and sent again, as in a transaction.
func (s *Store) sendOne(ctx context.Context, t *tx) error {
	for attempt := 0; ; attempt++ {
		var err error
		switch ti := t.items[0]; {
		case ti.Put != nil:
			p := ti.Put
			_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
				TableName: p.TableName, Item: p.Item, ConditionExpression: p.ConditionExpression,
				ExpressionAttributeNames: p.ExpressionAttributeNames, ExpressionAttributeValues: p.ExpressionAttributeValues,
			})
		case ti.Update != nil:
			u := ti.Update
			_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression, ConditionExpression: u.ConditionExpression,
				ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues,
			})
		case ti.Delete != nil:
			d := ti.Delete
			_, err = s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
				TableName: d.TableName, Key: d.Key, ConditionExpression: d.ConditionExpression,
				ExpressionAttributeNames: d.ExpressionAttributeNames, ExpressionAttributeValues: d.ExpressionAttributeValues,
			})
		default:
			return fmt.Errorf("%s: %w", itemName(t.what[0]), fault.Invalidf("write without an operation"))
		}
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			if err != nil {
				return wrap(itemName(t.what[0]), err)
			}
			return nil
		}
		a := t.alts[0]
		if a == nil {
			return fmt.Errorf("%s: %w", t.what[0], fault.ErrConflict)
		}
		if attempt == maxSwitches {
			return fmt.Errorf("%s: expiry raced %d times: %w", itemName(t.what[0]), attempt, fault.ErrRetryable)
		}
		a.fresh = !a.fresh
		ti, _, err := s.itemWrite(a.w, t.now, a.fresh)
		if err != nil {
			return err
		}
		t.items[0] = ti
	}
}
