package segment

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Item kinds (store.Item.Kind) of package segment.
//
//	seg.due     key shard            sort due time|profile id     the due-time index
//	seg.hist    key profile id       sort time|segment|entered    membership history
//	seg.count   key segment id       sort shard                   live count (ItemAdd)
//	seg.member  key segment id|shard sort profile id              members, for samples
//	seg.rfm     key thresholds       sort current                 RFM thresholds
const (
	KindDue     = "seg.due"
	KindHistory = "seg.hist"
	KindCount   = "seg.count"
	KindMember  = "seg.member"
)

// Shards is the number of shards of the due-time index, the counters and
// the member index: concurrent writers of different profiles mostly touch
// different items.
const Shards = 16

// Causes of membership transitions (SegmentEntered.Cause).
const (
	CauseChange = "change"
	CauseTime   = "time"
	CauseConfig = "config"
	CauseMerged = "merged"
)

// Shard returns the shard ("00".."15") of a profile id.
func Shard(profileID string) string {
	h := fnv.New32a()
	h.Write([]byte(profileID))
	return fmt.Sprintf("%02d", h.Sum32()%Shards)
}

// sortTimeLayout is a fixed-width UTC layout, so sort keys order by time.
const sortTimeLayout = "2006-01-02T15:04:05.000000000Z"

// SortTime formats t for a sort key.
func SortTime(t time.Time) string { return t.UTC().Format(sortTimeLayout) }

// dueSort is the sort key of a profile's due item.
func dueSort(due time.Time, profileID string) string { return SortTime(due) + "|" + profileID }

// parseDueSort splits a due item's sort key.
func parseDueSort(s string) (time.Time, string, error) {
	ts, id, ok := strings.Cut(s, "|")
	if !ok || id == "" {
		return time.Time{}, "", fmt.Errorf("due sort key %q: want time|profile", s)
	}
	t, err := time.Parse(sortTimeLayout, ts)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("due sort key %q: %w", s, err)
	}
	return t, id, nil
}

func memberKey(segmentID, shard string) string { return segmentID + "|" + shard }

// HistoryEntry is one membership transition of a profile.
type HistoryEntry struct {
	Segment string `json:"segment_id"`
	// Kind is "entered" or "exited".
	Kind string    `json:"kind"`
	At   time.Time `json:"at"`
	// Since is when the profile had entered (exits only).
	Since time.Time `json:"since,omitzero"`
	// DurationSeconds is the time in the segment (exits only).
	DurationSeconds float64 `json:"duration_seconds,omitempty"`
	Cause           string  `json:"cause"`
	ProfileVersion  int64   `json:"profile_version"`
}

// Transition names one membership change.
type Transition struct {
	Segment string
	Entered bool
	Since   time.Time
}

// Diff returns the transitions from the memberships before to after, in
// segment id order.
func Diff(before, after map[string]time.Time) []Transition {
	var out []Transition
	for _, id := range slices.Sorted(maps.Keys(after)) {
		if _, was := before[id]; !was {
			out = append(out, Transition{Segment: id, Entered: true, Since: after[id]})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(before)) {
		if _, is := after[id]; !is {
			out = append(out, Transition{Segment: id, Since: before[id]})
		}
	}
	return out
}

// transitionWrites adds to ch everything a set of transitions of one
// profile writes: history items, counters, member index items and outbox
// events.
func (e *Evaluator) transitionWrites(ch *store.Change, profileID string, version int64, ts []Transition, at time.Time, cause, mergedInto string) error {
	shard := Shard(profileID)
	for _, t := range ts {
		name := ""
		if s, ok := e.byID[t.Segment]; ok {
			name = s.Name
		}
		h := HistoryEntry{Segment: t.Segment, At: at, Cause: cause, ProfileVersion: version}
		var ev events.Envelope
		var err error
		idParts := []string{profileID, strconv.FormatInt(version, 10), t.Segment}
		if t.Entered {
			h.Kind = "entered"
			ev, err = events.New(events.TypeSegmentEntered, at, events.SegmentEntered{
				Version: events.SchemaVersion, ProfileID: profileID, SegmentID: t.Segment, SegmentName: name,
				At: at, ProfileVersion: version, Cause: cause,
			}, idParts...)
			ch.Items = append(ch.Items,
				store.ItemWrite{Op: store.ItemAdd, Item: store.Item{Kind: KindCount, Key: t.Segment, Sort: shard, N: 1}},
				store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: KindMember, Key: memberKey(t.Segment, shard), Sort: profileID,
					Value: []byte(`{"since":"` + t.Since.UTC().Format(time.RFC3339Nano) + `"}`)}},
			)
		} else {
			h.Kind = "exited"
			h.Since = t.Since
			h.DurationSeconds = at.Sub(t.Since).Seconds()
			ev, err = events.New(events.TypeSegmentExited, at, events.SegmentExited{
				Version: events.SchemaVersion, ProfileID: profileID, SegmentID: t.Segment, SegmentName: name,
				At: at, Since: t.Since, DurationSeconds: h.DurationSeconds, ProfileVersion: version,
				Cause: cause, MergedInto: mergedInto,
			}, idParts...)
			ch.Items = append(ch.Items,
				store.ItemWrite{Op: store.ItemAdd, Item: store.Item{Kind: KindCount, Key: t.Segment, Sort: shard, N: -1}},
				store.ItemWrite{Op: store.ItemDelete, Item: store.Item{Kind: KindMember, Key: memberKey(t.Segment, shard), Sort: profileID}},
			)
		}
		if err != nil {
			return fmt.Errorf("segment %s: %w", t.Segment, err)
		}
		b, err := json.Marshal(h)
		if err != nil {
			return fmt.Errorf("segment %s: encode history: %w", t.Segment, err)
		}
		ch.Items = append(ch.Items, store.ItemWrite{Op: store.ItemPut, Item: store.Item{
			Kind: KindHistory, Key: profileID, Sort: SortTime(at) + "|" + t.Segment + "|" + h.Kind, Value: b,
		}})
		ch.Outbox = append(ch.Outbox, ev)
	}
	return nil
}

// dueWrites moves a profile's due item from old to next.
func dueWrites(ch *store.Change, profileID string, old, next time.Time) {
	if old.Equal(next) {
		return
	}
	if !old.IsZero() {
		ch.Items = append(ch.Items, store.ItemWrite{Op: store.ItemDelete, Item: store.Item{Kind: KindDue, Key: Shard(profileID), Sort: dueSort(old, profileID)}})
	}
	if !next.IsZero() {
		ch.Items = append(ch.Items, store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: KindDue, Key: Shard(profileID), Sort: dueSort(next, profileID)}})
	}
}

// Apply re-evaluates p at now and adds the consequences to ch: p's new
// memberships, RFM score and due time (set on p, whose Version must
// already be the version being written), the transitions' history,
// counters, member items and events, and the move of its due item. It
// returns the transitions.
func (e *Evaluator) Apply(p *profile.Profile, now time.Time, cause string, ch *store.Change) ([]Transition, error) {
	now = now.UTC()
	m, next := e.Evaluate(p, now)
	ts := Diff(p.Segments, m.Segments)
	if err := e.transitionWrites(ch, p.ID, p.Version, ts, now, cause, ""); err != nil {
		return nil, fmt.Errorf("segment: profile %s: %w", p.ID, err)
	}
	dueWrites(ch, p.ID, p.NextEvalAt, next)
	if len(m.Segments) == 0 {
		m.Segments = nil
	}
	p.Segments = m.Segments
	p.NextEvalAt = next
	p.RFM = m.RFM
	return ts, nil
}

// Retire ends the memberships of a profile merged into another and
// removes its due item, adding the writes to ch.
func (e *Evaluator) Retire(p *profile.Profile, survivor string, now time.Time, ch *store.Change) error {
	ts := Diff(p.Segments, nil)
	if err := e.transitionWrites(ch, p.ID, p.Version, ts, now.UTC(), CauseMerged, survivor); err != nil {
		return fmt.Errorf("segment: retire profile %s: %w", p.ID, err)
	}
	dueWrites(ch, p.ID, p.NextEvalAt, time.Time{})
	return nil
}
