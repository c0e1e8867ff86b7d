package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

var _ store.Eraser = (*Store)(nil)

// Erase implements store.Eraser in one read-write transaction: the
// erasure is atomic. Pending outbox events are matched by decoding each
// one, which reads the whole (small, local) outbox.
func (s *Store) Erase(ctx context.Context, e store.Erasure) (store.ErasedCounts, error) {
	var n store.ErasedCounts
	if len(e.ProfileIDs) == 0 {
		return n, fmt.Errorf("embedded: erase: %w", fault.Invalidf("no profile id"))
	}
	ids := make(map[string]bool, len(e.ProfileIDs))
	for _, id := range e.ProfileIDs {
		if err := checkID("profile id", id); err != nil {
			return n, fmt.Errorf("embedded: erase: %w", err)
		}
		ids[id] = true
	}
	for _, it := range e.Items {
		if err := checkItemName(it.Kind, it.Key, it.Sort); err != nil {
			return n, fmt.Errorf("embedded: erase: %w", err)
		}
	}
	out, err := prepare(store.Change{Outbox: e.Outbox})
	if err != nil {
		return n, fmt.Errorf("embedded: erase: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return n, fmt.Errorf("embedded: erase: %w", err)
	}
	now := s.now()
	err = s.db.Update(func(tx *bolt.Tx) error {
		n = store.ErasedCounts{}
		w := writer{tx: tx}
		w.open()
		for _, r := range e.Records {
			k := join(r.Source, r.ID)
			v := w.records.Get(k)
			if v == nil {
				continue
			}
			var rv recordValue
			if err := decodeJSON(v, &rv); err != nil {
				return fmt.Errorf("record %s/%s: decode: %w", r.Source, r.ID, err)
			}
			if !ids[rv.ProfileID] {
				continue // moved to another person since the plan was made
			}
			// Its events are indexed under rv.ProfileID, one of ids: the
			// events pass below removes them.
			if err := w.records.Delete(k); err != nil {
				return fmt.Errorf("record %s/%s: delete: %w", r.Source, r.ID, err)
			}
			n.Records++
		}
		for _, id := range e.Identifiers {
			k := identifierKey(id)
			if v := w.idents.Get(k); v == nil || !ids[unpackID(v)] {
				continue
			}
			if err := w.idents.Delete(k); err != nil {
				return fmt.Errorf("delete %s identifier: %w", id.Type, err)
			}
			n.Identifiers++
		}
		for _, k := range e.Keys {
			if w.keys.Get([]byte(k)) == nil {
				continue
			}
			if err := w.keys.Delete([]byte(k)); err != nil {
				return fmt.Errorf("delete key: %w", err)
			}
			n.Keys++
		}
		for _, id := range e.ProfileIDs {
			c, err := deletePrefix(w.events, eventPrefix(id))
			if err != nil {
				return fmt.Errorf("delete events of %s: %w", id, err)
			}
			n.Events += c
		}
		deleted, err := eraseOutbox(tx, ids)
		if err != nil {
			return err
		}
		n.Outbox = deleted
		for _, it := range e.Items {
			k := itemKey(it.Kind, it.Key, it.Sort)
			if w.items.Get(k) == nil {
				continue
			}
			iw := itemWrite{op: store.ItemDelete, key: k, item: store.Item{Kind: it.Kind, Key: it.Key, Sort: it.Sort}}
			if err := w.applyItem(iw, now); err != nil {
				return err
			}
			n.Items++
		}
		for _, id := range e.ProfileIDs {
			if _, err := deletePrefix(w.children, eventPrefix(id)); err != nil {
				return fmt.Errorf("delete merge markers of %s: %w", id, err)
			}
			if w.redirects.Get([]byte(id)) != nil {
				if err := w.redirects.Delete([]byte(id)); err != nil {
					return fmt.Errorf("delete redirect %s: %w", id, err)
				}
				n.Redirects++
			}
			if w.profiles.Get(packID(id)) != nil {
				if err := w.profiles.Delete(packID(id)); err != nil {
					return fmt.Errorf("delete profile %s: %w", id, err)
				}
				n.Profiles++
			}
		}
		return w.apply(out, now)
	})
	if err != nil {
		return store.ErasedCounts{}, fmt.Errorf("embedded: erase: %w", err)
	}
	return n, nil
}

// deletePrefix deletes every key of b that starts with prefix.
func deletePrefix(b *bolt.Bucket, prefix []byte) (int, error) {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// namedProfiles is what Erase reads of an outbox event's detail.
type namedProfiles struct {
	ProfileID string   `json:"profile_id"`
	Merged    []string `json:"merged_profile_ids"`
}

// names reports whether an event detail names one of ids.
func (d namedProfiles) names(ids map[string]bool) bool {
	if ids[d.ProfileID] {
		return true
	}
	for _, m := range d.Merged {
		if ids[m] {
			return true
		}
	}
	return false
}

// eraseOutbox deletes the pending outbox events that name one of ids.
func eraseOutbox(tx *bolt.Tx, ids map[string]bool) (int, error) {
	var gone [][]byte
	c := tx.Bucket([]byte(BucketOutbox)).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var env struct {
			ID     string          `json:"id"`
			Detail json.RawMessage `json:"detail"`
		}
		if err := decodeJSON(v, &env); err != nil {
			return 0, fmt.Errorf("decode outbox event: %w", err)
		}
		var d namedProfiles
		if json.Unmarshal(env.Detail, &d) == nil && d.names(ids) {
			gone = append(gone, []byte(env.ID))
		}
	}
	for _, id := range gone {
		if err := deleteOutbox(tx, id); err != nil {
			return 0, fmt.Errorf("delete outbox event: %w", err)
		}
	}
	return len(gone), nil
}
