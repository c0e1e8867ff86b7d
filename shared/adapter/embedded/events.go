package embedded

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/base64"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Events implements store.Store. It merges, newest first, the event
// streams of the live profile id resolves to and of every profile merged
// into it (transitively). The cursor is the sort key of the last event
// returned; events sharing a sort key (the same event indexed under two
// merged profiles) are returned once.
func (s *Store) Events(ctx context.Context, profileID string, limit int, cursor string) ([]profile.Event, string, error) {
	if limit <= 0 {
		return nil, "", fmt.Errorf("embedded: events of %s: limit %d: %w", profileID, limit, fault.ErrInvalid)
	}
	after, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("embedded: events of %s: %w", profileID, err)
	}
	var (
		out  []profile.Event
		next string
	)
	err = s.view(ctx, func(tx *bolt.Tx) error {
		live, err := resolve(tx, profileID)
		if err != nil {
			return err
		}
		members := mergedInto(tx, live)
		b := tx.Bucket([]byte(BucketEvents))
		h := make(streams, 0, len(members))
		for _, m := range members {
			st := &stream{c: b.Cursor(), prefix: eventPrefix(m)}
			st.seek(after)
			if st.k != nil {
				h = append(h, st)
			}
		}
		heap.Init(&h)
		last := after
		for h.Len() > 0 {
			st := h[0]
			if sk := st.sortKey(); last == nil || !bytes.Equal(sk, last) {
				if len(out) == limit {
					next = encodeCursor(last)
					break
				}
				var e profile.Event
				if err := decodeJSON(st.v, &e); err != nil {
					return fmt.Errorf("decode event: %w", err)
				}
				out = append(out, e)
				last = append(last[:0:0], sk...)
			}
			if st.next() {
				heap.Fix(&h, 0)
			} else {
				heap.Pop(&h)
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("embedded: events of %s: %w", profileID, err)
	}
	return out, next, nil
}

// mergedInto returns id and every profile merged into it, transitively.
func mergedInto(tx *bolt.Tx, id string) []string {
	members := []string{id}
	seen := map[string]bool{id: true}
	c := tx.Bucket([]byte(BucketChildren)).Cursor()
	for i := 0; i < len(members); i++ {
		prefix := eventPrefix(members[i]) // "id 0", the children prefix too
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if child := string(k[len(prefix):]); !seen[child] {
				seen[child] = true
				members = append(members, child)
			}
		}
	}
	return members
}

func encodeCursor(sortKey []byte) string { return base64.RawURLEncoding.EncodeToString(sortKey) }

func decodeCursor(cursor string) ([]byte, error) {
	if cursor == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) < timeLen {
		return nil, fault.Invalidf("malformed cursor")
	}
	return b, nil
}

// stream iterates one profile's events; k and v are the current item.
type stream struct {
	c      *bolt.Cursor
	prefix []byte
	k, v   []byte
}

// seek positions the stream at its first event with a sort key of at least
// after (nil: the first event).
func (s *stream) seek(after []byte) {
	s.k, s.v = s.c.Seek(append(append([]byte(nil), s.prefix...), after...))
	s.clip()
}

// next advances the stream and reports whether it has an item.
func (s *stream) next() bool {
	s.k, s.v = s.c.Next()
	s.clip()
	return s.k != nil
}

func (s *stream) clip() {
	if s.k != nil && !bytes.HasPrefix(s.k, s.prefix) {
		s.k, s.v = nil, nil
	}
}

func (s *stream) sortKey() []byte { return s.k[len(s.prefix):] }

// streams is a min-heap of streams by current sort key.
type streams []*stream

func (h streams) Len() int           { return len(h) }
func (h streams) Less(i, j int) bool { return bytes.Compare(h[i].sortKey(), h[j].sortKey()) < 0 }
func (h streams) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *streams) Push(x any)        { *h = append(*h, x.(*stream)) }
func (h *streams) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
