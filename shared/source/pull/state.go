package pull

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Item coordinates of a pull source's state: kind KindState, key the
// source's name, sort SortState.
const (
	KindState = "src.ckpt"
	SortState = "state"
)

// State is the stored state of one pull source.
type State struct {
	// Checkpoint is the connector's position after the last committed
	// batch; "" before the first.
	Checkpoint string `json:"checkpoint"`
	// LastOK is when the last successful run started; the next is due a
	// schedule later.
	LastOK time.Time `json:"last_ok,omitzero"`
	// LastTry is when the last run, successful or not, started.
	LastTry time.Time `json:"last_try,omitzero"`
	// More says the last run stopped at its bounds with rows waiting: the
	// source is due again at once.
	More bool `json:"more,omitempty"`
	// Lease is set while a run holds the source.
	Lease time.Time `json:"lease,omitzero"`
	// Error is the last run's failure; Failures counts the consecutive
	// failed runs. Both are cleared by a successful run.
	Error    string `json:"error,omitempty"`
	Failures int    `json:"failures,omitempty"`
	// Totals count everything read since the first run.
	Totals Counts `json:"totals"`
}

// Counts are row and record counts of a run or of a source's life.
type Counts struct {
	Batches int `json:"batches"`
	// Rows read = Accepted + Rejected.
	Rows     int `json:"rows"`
	Accepted int `json:"accepted"`
	Rejected int `json:"rejected"`
	// FieldsDropped counts the invalid optional values left out of
	// accepted rows (listed with the rejects).
	FieldsDropped int `json:"fields_dropped"`
	// Duplicates are accepted records the pipeline had committed before:
	// re-read rows.
	Duplicates int `json:"duplicates"`
	Created    int `json:"profiles_created"`
	Merges     int `json:"merges"`
}

func (c *Counts) add(o Counts) {
	c.Batches += o.Batches
	c.Rows += o.Rows
	c.Accepted += o.Accepted
	c.Rejected += o.Rejected
	c.FieldsDropped += o.FieldsDropped
	c.Duplicates += o.Duplicates
	c.Created += o.Created
	c.Merges += o.Merges
}

// LoadState reads the state of the pull source name and the version of its
// item (0 when the source never ran).
func LoadState(ctx context.Context, st Store, name string) (State, int64, error) {
	it, err := st.Item(ctx, KindState, name, SortState)
	if errors.Is(err, fault.ErrNotFound) {
		return State{}, 0, nil
	}
	if err != nil {
		return State{}, 0, fmt.Errorf("pull %s: read state: %w", name, err)
	}
	var s State
	if err := json.Unmarshal(it.Value, &s); err != nil {
		return State{}, 0, fmt.Errorf("pull %s: decode state: %w", name, err)
	}
	return s, it.Version, nil
}

// saveState writes s over the item at version (0: the item must not
// exist) and returns the new version. A concurrent writer makes it
// fault.ErrConflict.
func saveState(ctx context.Context, st Store, name string, s State, version int64) (int64, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return 0, fmt.Errorf("pull %s: encode state: %w", name, err)
	}
	w := store.ItemWrite{Op: store.ItemReplace, ExpectVersion: version,
		Item: store.Item{Kind: KindState, Key: name, Sort: SortState, Value: b}}
	if version == 0 {
		w.Op = store.ItemCreate
	}
	if err := st.Commit(ctx, store.Change{Items: []store.ItemWrite{w}}); err != nil {
		return 0, fmt.Errorf("pull %s: write state: %w", name, err)
	}
	return version + 1, nil
}

// due reports whether a source in state s is due at now.
func (r *Runner) due(s State, now time.Time) bool {
	switch {
	case s.Lease.After(now):
		return false
	case s.Failures > 0:
		return !now.Before(s.LastTry.Add(r.opts.RetryAfter))
	case s.More, s.LastOK.IsZero():
		return true
	default:
		return !now.Before(s.LastOK.Add(r.every))
	}
}
