package events

import "time"

// ProfileSplit is the detail of a ProfileSplit event: records were moved
// out of a profile into new profiles (an unmerge).
type ProfileSplit struct {
	Version   string `json:"version"`
	ProfileID string `json:"profile_id"`
	// ProfileVersion is the profile's version after the split.
	ProfileVersion int64 `json:"profile_version"`
	// NewProfileIDs are the profiles created by the split.
	NewProfileIDs []string `json:"new_profile_ids"`
	// Reason says why the profile was split (a rule change, an operator).
	Reason string `json:"reason,omitempty"`
}

// ProfileDeleted is the detail of a ProfileDeleted event: a profile was
// erased (for example on a GDPR request). It carries no personal data.
type ProfileDeleted struct {
	Version   string `json:"version"`
	ProfileID string `json:"profile_id"`
	// Reason says why the profile was deleted: erasure, retention, ...
	Reason string `json:"reason,omitempty"`
}

// TriggerFired is the detail of a TriggerFired event: a trigger's
// conditions held for a profile and its actions ran.
type TriggerFired struct {
	Version   string `json:"version"`
	TriggerID string `json:"trigger_id"`
	ProfileID string `json:"profile_id"`
	// FiringID is stable for (trigger, profile, cause); it is also the
	// event's event_id and the webhook's delivery id.
	FiringID string `json:"firing_id"`
	// Cause is the event that made the trigger fire.
	Cause Cause `json:"cause"`
	// FiredAt is when the trigger fired (after its delay, if any).
	FiredAt time.Time `json:"fired_at"`
}

// Cause names the event behind a firing.
type Cause struct {
	// EventID is the cause's stable id (its detail.event_id).
	EventID    string    `json:"event_id"`
	Source     string    `json:"source"`
	DetailType string    `json:"detail_type"`
	Time       time.Time `json:"time"`
}
