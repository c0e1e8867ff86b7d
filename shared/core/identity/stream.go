package identity

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Store item kinds the pipeline writes for identity resolution.
const (
	// ItemBlock indexes records by composite or blocking key: Key is
	// BlockKey(k), Sort the record key, Value an Indexed.
	ItemBlock = "id.block"
	// ItemLedger records merges: Key is the surviving profile id, Sort
	// the merge time and the merged profile id, Value a LedgerEntry.
	ItemLedger = "id.ledger"
	// ItemStats holds counters: Key is a shard, Sort a counter name
	// ("rule/<name>/links", "rule/<name>/merges", "blocked/<protection>").
	ItemStats = "id.stats"
)

// StatShards is how many shards the statistics counters are spread over,
// so that concurrent writers rarely touch one item.
const StatShards = 8

// Indexed is what the block index keeps of a record: enough to compare
// it with a newcomer, and the profile it joined.
type Indexed struct {
	Record    profile.Record `json:"record"`
	ProfileID string         `json:"profile_id"`
}

// LedgerEntry is one merge in the ledger.
type LedgerEntry struct {
	Survivor string `json:"survivor"`
	// Merged is the profile merged away; empty for a split.
	Merged string `json:"merged,omitempty"`
	// Split lists the profiles an unmerge created out of Survivor.
	Split []string `json:"split,omitempty"`
	// Withdrawn names what an unmerge withdrew (a record key, or two
	// record keys joined by " -- ").
	Withdrawn   string   `json:"withdrawn,omitempty"`
	Rule        string   `json:"rule"`
	Identifiers []string `json:"identifiers,omitempty"`
	Record      string   `json:"record"`
	At          string   `json:"at"`
}

// BlockKey is the store key of an index key: a hash, so that no value
// (personal data) appears in keys.
func BlockKey(k Key) string {
	h := sha256.Sum256([]byte(k.String()))
	return hex.EncodeToString(h[:16])
}

// CompareOn evaluates only the rule of key k on a and b, for candidates
// found through k.
func (e *Engine) CompareOn(k Key, a, b profile.Record) RuleResult {
	for _, r := range e.rules {
		if r.name == k.Rule {
			res, _ := r.evaluate(&a, &b, nil)
			return res
		}
	}
	return RuleResult{Rule: k.Rule, Reason: "unknown rule"}
}

// BlockLimit is the largest block of k's rule that is still compared.
func (e *Engine) BlockLimit(k Key) int {
	for _, r := range e.rules {
		if r.name == k.Rule {
			return r.maxBlock
		}
	}
	return DefaultMaxBlockSize
}

// Compact returns the parts of rec that the rules compare: source, id,
// identifiers and the attributes used by composite keys, blocking keys
// and comparisons.
func (e *Engine) Compact(rec profile.Record) profile.Record {
	out := profile.Record{Source: rec.Source, ID: rec.ID, Identifiers: rec.Identifiers}
	for _, r := range e.rules {
		var names []string
		names = append(names, r.attrs...)
		for _, parts := range r.blocking {
			for _, p := range parts {
				names = append(names, p.Attribute)
			}
		}
		for _, c := range r.cmps {
			names = append(names, c.attr)
		}
		for _, n := range names {
			if v, ok := rec.Attributes[n]; ok {
				if out.Attributes == nil {
					out.Attributes = map[string]any{}
				}
				out.Attributes[n] = v
			}
		}
	}
	return out
}

// Capped returns the identifier cap of type t (0: none) and its conflict
// policy.
func (e *Engine) Capped(t string) (int, string) {
	info := e.types[t]
	return info.max, info.onConflict
}

// Priority returns the priority of identifier type t (0 is the highest;
// an undeclared type ranks after every declared one).
func (e *Engine) Priority(t string) int {
	if info, ok := e.types[t]; ok {
		return info.priority
	}
	return len(e.types)
}

// KeepPriority reports whether any identifier type resolves cap conflicts
// with keep_priority.
func (e *Engine) KeepPriority() bool {
	for _, info := range e.types {
		if info.max > 0 && info.onConflict == config.ConflictKeepPriority {
			return true
		}
	}
	return false
}
