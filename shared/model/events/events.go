// Package events defines the events Aurum publishes (ProfileUpdated,
// ProfilesMerged, SegmentEntered, ...) and the envelope they travel in from
// the transactional outbox to the bus.
//
// The envelope maps one to one onto an EventBridge entry: Source, DetailType
// and Detail. Every detail carries a schema version ("version": "1"); event
// ids are derived from what caused the event, so a re-delivered input yields
// the same id and subscribers can de-duplicate on it.
package events

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Source is the EventBridge "source" of every event Aurum publishes.
const Source = "aurum"

// SchemaVersion is the version carried in every detail.
const SchemaVersion = "1"

// Detail types.
const (
	TypeProfileUpdated = "ProfileUpdated"
	TypeProfilesMerged = "ProfilesMerged"
	TypeProfileSplit   = "ProfileSplit"
	TypeProfileDeleted = "ProfileDeleted"
	TypeSegmentEntered = "SegmentEntered"
	TypeSegmentExited  = "SegmentExited"
	TypeTriggerFired   = "TriggerFired"
)

// Envelope is one event on its way from the outbox to the bus.
type Envelope struct {
	// ID is stable for the change that caused the event.
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       time.Time       `json:"time"`
	Detail     json.RawMessage `json:"detail"`
}

// New builds an envelope whose id is derived from idParts (for example the
// profile id and version), so the same change always yields the same id.
// The id is also written into the detail as "event_id".
func New(detailType string, at time.Time, detail any, idParts ...string) (Envelope, error) {
	b, err := json.Marshal(detail)
	if err != nil {
		return Envelope{}, fmt.Errorf("events: encode %s detail: %w", detailType, err)
	}
	id := StableID(append([]string{detailType}, idParts...)...)
	// EventBridge assigns its own envelope id on PutEvents, so the stable id
	// also travels inside the detail, where subscribers de-duplicate on it.
	if len(b) < 2 || b[0] != '{' {
		return Envelope{}, fmt.Errorf("events: %s detail must be a JSON object", detailType)
	}
	rest := b[1:]
	if string(rest) != "}" {
		rest = append([]byte(","), rest...)
	}
	b = append([]byte(`{"event_id":"`+id+`"`), rest...)
	return Envelope{
		ID:         id,
		Source:     Source,
		DetailType: detailType,
		Time:       at.UTC(),
		Detail:     b,
	}, nil
}

// StableID hashes parts into a 32-hex-digit id.
func StableID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:16])
}

// ProfileUpdated is the detail of a ProfileUpdated event.
type ProfileUpdated struct {
	Version   string `json:"version"`
	ProfileID string `json:"profile_id"`
	// ProfileVersion is the profile's version after the change.
	ProfileVersion int64 `json:"profile_version"`
	Created        bool  `json:"created"`
	// Changed lists the attribute names whose surviving value changed.
	Changed []string `json:"changed_attributes,omitempty"`
	// NewIdentifiers lists identifiers added to the profile, as type:value.
	NewIdentifiers []string `json:"new_identifiers,omitempty"`
	// Sources that contributed to this change.
	Sources []string `json:"sources,omitempty"`
	// EventNames are the names of events the change added.
	EventNames []string `json:"event_names,omitempty"`
}

// ProfilesMerged is the detail of a ProfilesMerged event.
type ProfilesMerged struct {
	Version   string `json:"version"`
	ProfileID string `json:"profile_id"`
	// Merged are the ids merged into ProfileID; they now redirect to it.
	Merged []string `json:"merged_profile_ids"`
	// Rule names the match rule that caused the merge.
	Rule string `json:"rule"`
	// Identifiers are the shared identifiers (type:value) that linked them.
	Identifiers []string `json:"identifiers,omitempty"`
	// RecordKey is the record (source/id) whose arrival caused the merge.
	RecordKey string `json:"record"`
}

// SegmentEntered is the detail of a SegmentEntered event: a profile became
// a member of a segment.
type SegmentEntered struct {
	Version     string `json:"version"`
	ProfileID   string `json:"profile_id"`
	SegmentID   string `json:"segment_id"`
	SegmentName string `json:"segment_name,omitempty"`
	// At is when the profile entered the segment.
	At time.Time `json:"at"`
	// ProfileVersion is the profile's version after the change.
	ProfileVersion int64 `json:"profile_version"`
	// Cause is what made the membership change: "change" (new data),
	// "time" (a window closed or opened) or "config" (a re-evaluation
	// after the segment definitions changed).
	Cause string `json:"cause"`
}

// SegmentExited is the detail of a SegmentExited event: a profile stopped
// being a member of a segment.
type SegmentExited struct {
	Version     string `json:"version"`
	ProfileID   string `json:"profile_id"`
	SegmentID   string `json:"segment_id"`
	SegmentName string `json:"segment_name,omitempty"`
	// At is when the profile left the segment.
	At time.Time `json:"at"`
	// Since is when the profile had entered the segment.
	Since time.Time `json:"since"`
	// DurationSeconds is the time spent in the segment.
	DurationSeconds float64 `json:"duration_seconds"`
	// ProfileVersion is the profile's version after the change.
	ProfileVersion int64 `json:"profile_version"`
	// Cause is "change", "time", "config" or "merged" (the profile was
	// merged into MergedInto and its memberships ended with it).
	Cause      string `json:"cause"`
	MergedInto string `json:"merged_into,omitempty"`
}
