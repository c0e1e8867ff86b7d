package segment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// ItemLister reads ranges of generic items.
type ItemLister interface {
	Items(ctx context.Context, kind, key, from, to string, limit int, cursor string) ([]store.Item, string, error)
}

// Count returns the live member count of one segment: the sum of its
// counter shards (one read of at most Shards items).
func Count(ctx context.Context, st ItemLister, segmentID string) (int64, error) {
	var n int64
	cursor := ""
	for {
		items, next, err := st.Items(ctx, KindCount, segmentID, "", "", Shards, cursor)
		if err != nil {
			return 0, fmt.Errorf("segment: count %s: %w", segmentID, err)
		}
		for _, it := range items {
			n += it.N
		}
		if next == "" {
			return n, nil
		}
		cursor = next
	}
}

// Counts returns the live member count of every configured segment.
func (e *Evaluator) Counts(ctx context.Context, st ItemLister) (map[string]int64, error) {
	out := make(map[string]int64, len(e.segments))
	for _, s := range e.segments {
		n, err := Count(ctx, st, s.ID)
		if err != nil {
			return nil, err
		}
		out[s.ID] = n
	}
	return out, nil
}

// Member is one member of a segment.
type Member struct {
	ProfileID string    `json:"profile_id"`
	Since     time.Time `json:"since"`
}

// Sample returns up to n members of a segment from its member index,
// walking the shards in order.
func Sample(ctx context.Context, st ItemLister, segmentID string, n int) ([]Member, error) {
	var out []Member
	for sh := 0; sh < Shards && len(out) < n; sh++ {
		items, _, err := st.Items(ctx, KindMember, memberKey(segmentID, fmt.Sprintf("%02d", sh)), "", "", n-len(out), "")
		if err != nil {
			return nil, fmt.Errorf("segment: sample %s: %w", segmentID, err)
		}
		for _, it := range items {
			var v struct {
				Since time.Time `json:"since"`
			}
			if err := json.Unmarshal(it.Value, &v); err != nil {
				return nil, fmt.Errorf("segment: sample %s: decode member: %w", segmentID, err)
			}
			out = append(out, Member{ProfileID: it.Sort, Since: v.Since})
		}
	}
	return out, nil
}

// History returns a profile's membership history, oldest first, at most
// limit entries after cursor, and the next cursor ("" when done).
func History(ctx context.Context, st ItemLister, profileID string, limit int, cursor string) ([]HistoryEntry, string, error) {
	items, next, err := st.Items(ctx, KindHistory, profileID, "", "", limit, cursor)
	if err != nil {
		return nil, "", fmt.Errorf("segment: history of %s: %w", profileID, err)
	}
	out := make([]HistoryEntry, 0, len(items))
	for _, it := range items {
		var h HistoryEntry
		if err := json.Unmarshal(it.Value, &h); err != nil {
			return nil, "", fmt.Errorf("segment: history of %s: %w", profileID, err)
		}
		out = append(out, h)
	}
	return out, next, nil
}

// Scanner is the embedded store's Scan (store/embedded.Store.Scan).
type Scanner interface {
	Scan(ctx context.Context, fn func(bucket, key string, value []byte) error) error
}

// ScanProfiles yields every live profile of an embedded store, decoding
// the documented layout of its profiles bucket (an 8-byte version, then
// the JSON profile). It reads one consistent snapshot.
func ScanProfiles(ctx context.Context, sc Scanner) iter.Seq2[*profile.Profile, error] {
	return func(yield func(*profile.Profile, error) bool) {
		stop := errors.New("stop")
		err := sc.Scan(ctx, func(bucket, key string, value []byte) error {
			if bucket != "profiles" {
				return nil
			}
			if len(value) < 8 {
				return fmt.Errorf("profile %s: corrupt value", key)
			}
			var p profile.Profile
			if err := json.Unmarshal(value[8:], &p); err != nil {
				return fmt.Errorf("profile %s: %w", key, err)
			}
			if !yield(&p, nil) {
				return stop
			}
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			yield(nil, fmt.Errorf("segment: scan profiles: %w", err))
		}
	}
}

// ReconcileRow compares one segment's live count with its membership.
type ReconcileRow struct {
	Segment string `json:"segment_id"`
	// Counted is the sum of the counter shards.
	Counted int64 `json:"counted"`
	// Members is the number of profiles whose membership holds the
	// segment.
	Members int64 `json:"members"`
	// Indexed is the number of entries in the member index.
	Indexed int64 `json:"indexed"`
	OK      bool  `json:"ok"`
}

// ReconcileReport is the outcome of Reconcile.
type ReconcileReport struct {
	Profiles int            `json:"profiles"`
	Rows     []ReconcileRow `json:"segments"`
	// OK is true when every count equals its membership.
	OK bool `json:"ok"`
}

// Reconcile proves the live counts: it walks every profile, tallies the
// memberships they hold, and compares each tally with the counter shards
// and the member index. Run it on a quiet store (or a snapshot): writes
// during the walk make counts and tallies disagree.
func (e *Evaluator) Reconcile(ctx context.Context, st ItemLister, profiles iter.Seq2[*profile.Profile, error]) (ReconcileReport, error) {
	tally := map[string]int64{}
	var rep ReconcileReport
	for p, err := range profiles {
		if err != nil {
			return rep, err
		}
		rep.Profiles++
		for id := range p.Segments {
			tally[id]++
		}
	}
	ids := make([]string, 0, len(e.segments))
	for _, s := range e.segments {
		ids = append(ids, s.ID)
	}
	for id := range tally {
		if _, ok := e.byID[id]; !ok {
			ids = append(ids, id) // memberships of a segment no longer configured
		}
	}
	slices.Sort(ids)
	rep.OK = true
	for _, id := range ids {
		n, err := Count(ctx, st, id)
		if err != nil {
			return rep, err
		}
		idx, err := countIndex(ctx, st, id)
		if err != nil {
			return rep, err
		}
		row := ReconcileRow{Segment: id, Counted: n, Members: tally[id], Indexed: idx}
		row.OK = row.Counted == row.Members && row.Indexed == row.Members
		rep.OK = rep.OK && row.OK
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

func countIndex(ctx context.Context, st ItemLister, segmentID string) (int64, error) {
	var n int64
	for sh := range Shards {
		cursor := ""
		for {
			items, next, err := st.Items(ctx, KindMember, memberKey(segmentID, fmt.Sprintf("%02d", sh)), "", "", 1000, cursor)
			if err != nil {
				return 0, fmt.Errorf("segment: member index of %s: %w", segmentID, err)
			}
			n += int64(len(items))
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return n, nil
}

// PreviewResult is the outcome of a preview.
type PreviewResult struct {
	// Count of matching profiles among those scanned.
	Count int `json:"count"`
	// Scanned profiles.
	Scanned int `json:"scanned"`
	// Sample holds up to the requested number of matching profile ids.
	Sample []string `json:"sample"`
	// Errors counts profiles whose evaluation failed (not counted).
	Errors int `json:"errors"`
	// FirstError is the first evaluation error, for the author.
	FirstError string `json:"first_error,omitempty"`
}

// Preview evaluates a draft expression over profiles at now, without
// writing anything, and returns the count of matches and a sample of
// matching ids. The expression compiles in the segments' environment and
// is bounded at runtime by MaxCost; it may refer to configured segments
// through profile.segments (their stored memberships).
func (e *Evaluator) Preview(ctx context.Context, expr string, profiles iter.Seq2[*profile.Profile, error], sampleSize int, now time.Time) (PreviewResult, error) {
	prg, err := compile(e.lang, "", expr, true)
	if err != nil {
		return PreviewResult{}, fmt.Errorf("segment: preview: %w", err)
	}
	now = now.UTC()
	res := PreviewResult{Sample: []string{}}
	for p, err := range profiles {
		if err != nil {
			return res, fmt.Errorf("segment: preview: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("segment: preview: %w", err)
		}
		res.Scanned++
		ok, err := e.evalDraft(prg, p, now)
		if err != nil {
			res.Errors++
			if res.FirstError == "" {
				res.FirstError = err.Error()
			}
			continue
		}
		if ok {
			res.Count++
			if len(res.Sample) < sampleSize {
				res.Sample = append(res.Sample, p.ID)
			}
		}
	}
	return res, nil
}

// Check compiles an expression in the segments' environment and returns
// its compile error, if any (for editors and the preview endpoint).
func (e *Evaluator) Check(expr string) error {
	_, err := compile(e.lang, "", expr, true)
	return err
}
