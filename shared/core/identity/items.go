package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// More store item kinds of identity resolution (see also ItemBlock,
// ItemLedger and ItemStats). Keys never hold identifier values: values are
// hashed (IdentifierKey).
const (
	// ItemRecords is the record index: Key is the profile id a record was
	// written under (its claimant; after a merge possibly a merged-away
	// id), Sort the record key, Value a RecordIndex (the idempotency keys
	// the record was committed with, which an erasure forgets). A
	// cluster's records are the entries under its live id and under every
	// id in Profile.MergedFrom: listing them reads one key per merged
	// profile, never a scan, and a merge rewrites nothing. Unmerge and
	// erasure (package privacy) both read it.
	ItemRecords = "id.rec"
	// ItemApart holds do-not-merge assertions between profiles: Key is a
	// profile id, Sort the id of a profile it must not merge with (both
	// directions are written). A merge copies the merged-away profile's
	// entries to the survivor; targets are resolved through redirects.
	ItemApart = "id.apart"
	// ItemAssertions lists record-level do-not-merge assertions for batch
	// resolution and later unmerges: Key AssertionsKey, Sort the time and
	// the split profile id, Value an Assertion.
	ItemAssertions = "id.dnm"
	// ItemFingerprints holds placeholder detection state per identifier
	// value: Key IdentifierKey, Sort "fp", Value a Fingerprints.
	ItemFingerprints = "id.fp"
	// ItemQuarantine lists quarantined placeholder values: Key
	// QuarantineKey, Sort IdentifierKey, Value a Quarantine.
	ItemQuarantine = "id.quarantine"
	// ItemTop ranks clusters of at least MinRanked records by size: Key
	// TopKey, Sort TopSort(size, profile id), so the largest come first.
	ItemTop = "id.top"
	// ItemMoved redirects a merged-away profile id whose records mostly
	// went to another part when its cluster was split: Key the old id,
	// Sort "to", Value a Moved. Store redirects cannot be re-pointed, so
	// ResolveID consults these first.
	ItemMoved = "id.moved"
)

// Fixed keys and sorts of the items above.
const (
	AssertionsKey  = "all"
	QuarantineKey  = "all"
	TopKey         = "all"
	FingerprintSrt = "fp"
	MovedSort      = "to"
)

// RecordIndex is the value of an ItemRecords entry.
type RecordIndex struct {
	// Keys are the idempotency keys the record was committed with.
	Keys []string `json:"keys,omitempty"`
}

// MinRanked is the smallest cluster ranked in ItemTop.
const MinRanked = 2

// Counter names in ItemStats besides the per-rule ones.
const (
	CounterRecords = "records"
	CounterSplits  = "splits"
	// CounterHistPrefix + bucket label counts the live profiles whose
	// record count falls in the bucket.
	CounterHistPrefix = "hist/"
)

// IdentifierKey is the store key of an identifier: a hash, so that no
// value (personal data) appears in keys.
func IdentifierKey(id profile.Identifier) string {
	h := sha256.Sum256([]byte(id.String()))
	return hex.EncodeToString(h[:16])
}

// Fingerprints is the placeholder detection state of one identifier
// value: the distinct fingerprints seen with it (at most max_distinct+1)
// and whether it is quarantined.
type Fingerprints struct {
	Reps        [][]string `json:"reps,omitempty"`
	Quarantined bool       `json:"quarantined,omitempty"`
}

// ObserveState adds the fingerprint of rec to st and reports whether st
// changed and whether the value is quarantined after the observation.
// A record without fingerprint attributes changes nothing.
func (e *Engine) ObserveState(st Fingerprints, rec profile.Record) (Fingerprints, bool) {
	if e.ph == nil || st.Quarantined {
		return st, false
	}
	fp, ok := e.Fingerprint(rec)
	if !ok {
		return st, false
	}
	n := len(st.Reps)
	reps, q := e.Observe(st.Reps, fp)
	st.Reps = reps
	st.Quarantined = q
	return st, q || len(reps) != n
}

// TopSort is the ItemTop sort key of a cluster: larger clusters sort
// first, ties by profile id. The size is ranked by its RankStep, so a
// cluster gets a new entry only when its size reaches the next power of
// two, not on every record; the entries of its smaller steps stay while it
// grows (deleting them would cost a write each time), and readers skip
// them and take exact sizes from the profiles (StreamStats).
func TopSort(size int, profileID string) string {
	return fmt.Sprintf("%010d/%s", 9_999_999_999-int64(RankStep(size)), profileID)
}

// TopSorts returns the sort keys of every ranking entry a cluster of size
// records may hold: one per rank step from MinRanked through
// RankStep(size). A cluster that shrinks or goes loses those above its new
// step.
func TopSorts(size int, profileID string) []string {
	var out []string
	for step := MinRanked; step <= RankStep(size) && step >= MinRanked; step *= 2 {
		out = append(out, TopSort(step, profileID))
	}
	return out
}

// RankStep is the size a cluster of n records is ranked at: the largest
// power of two not above n (n itself below 2). RankStep(m) <= RankStep(n)
// for m <= n.
func RankStep(n int) int {
	if n < 2 {
		return n
	}
	return 1 << (bits.Len(uint(n)) - 1)
}

// ParseTopSort reverses TopSort: it returns the ranked step of the size.
func ParseTopSort(s string) (int, string, error) {
	n, id, ok := strings.Cut(s, "/")
	if !ok {
		return 0, "", fmt.Errorf("identity: ranking entry %q: want size/profile", s)
	}
	v, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("identity: ranking entry %q: %w", s, err)
	}
	return int(9_999_999_999 - v), id, nil
}

// Assertion is a do-not-merge assertion made by an unmerge: the pairs of
// record keys that must not share a cluster (the withdrawn record with
// every record it was clustered with, or the two ends of a withdrawn
// link).
type Assertion struct {
	ProfileID string      `json:"profile_id"`
	Pairs     [][2]string `json:"pairs"`
	Reason    string      `json:"reason,omitempty"`
	At        string      `json:"at"`
}

// Apart is the value of an ItemApart entry.
type Apart struct {
	Reason string `json:"reason,omitempty"`
	At     string `json:"at"`
}

// Moved is the value of an ItemMoved entry.
type Moved struct {
	To string `json:"to"`
	At string `json:"at"`
}

// IDResolver reads what ResolveID needs (store.Store has it).
type IDResolver interface {
	Item(ctx context.Context, kind, key, sort string) (store.Item, error)
	Resolve(ctx context.Context, id string) (string, error)
}

// maxMovedHops bounds the split redirects ResolveID follows.
const maxMovedHops = 16

// ResolveID resolves a profile id to the live profile that holds its
// records: a merged-away id whose cluster was split goes to the part
// holding most of its records (ItemMoved), any other id follows the
// store's merge redirects.
func ResolveID(ctx context.Context, st IDResolver, id string) (string, error) {
	cur := id
	for range maxMovedHops {
		it, err := st.Item(ctx, ItemMoved, cur, MovedSort)
		if fault.Is(err, fault.ErrNotFound) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("identity: resolve profile %s: %w", id, err)
		}
		var m Moved
		if err := json.Unmarshal(it.Value, &m); err != nil {
			return "", fmt.Errorf("identity: resolve profile %s: decode split redirect: %w", id, err)
		}
		if m.To == "" || m.To == cur {
			break
		}
		cur = m.To
	}
	live, err := st.Resolve(ctx, cur)
	if err != nil {
		return "", fmt.Errorf("identity: resolve profile %s: %w", id, err)
	}
	return live, nil
}
