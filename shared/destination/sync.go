package destination

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Member is a profile as a sync destination receives it: its current id,
// its identifiers as Aurum stores them (normalised: lower-case e-mail,
// E.164 phone, …) and its attributes after the destination's mapping.
type Member struct {
	ProfileID   string               `json:"profile_id"`
	Identifiers []profile.Identifier `json:"identifiers,omitempty"`
	Attributes  map[string]any       `json:"attributes,omitempty"`
}

// AudienceChange is one batch of membership changes of one audience (a
// segment) for one audience destination.
type AudienceChange struct {
	// ID is the batch's idempotency id, the same on every attempt.
	ID string `json:"id"`
	// Audience is the segment id; the destination maps it to its own
	// audience (list, user list, custom audience).
	Audience string `json:"audience"`
	// Add and Remove are the members entering and leaving.
	Add    []Member `json:"add,omitempty"`
	Remove []Member `json:"remove,omitempty"`
	// Full marks a page of a full re-sync: Add holds current members.
	Full bool `json:"full,omitempty"`
}

// Audience is a destination that keeps an audience's members in a tool
// (Google Ads Customer Match, Meta Custom Audiences, a CRM list). A
// change may be applied more than once (a retry after a crash): sending
// the same adds and removes again must leave the tool in the same state.
type Audience interface {
	SyncAudience(ctx context.Context, c AudienceChange) (Result, error)
}

// Result tells what a batch did when it was accepted as a whole or in part.
type Result struct {
	// Sent counts the members (or events) the tool accepted.
	Sent int `json:"sent"`
	// Rejected lists the items the tool refused for good (an identifier
	// it cannot use, a field out of its limits); they are not retried.
	Rejected []Rejected `json:"rejected,omitempty"`
}

// Rejected is one item a tool refused, with its reason (never PII).
type Rejected struct {
	ProfileID string `json:"profile_id"`
	Reason    string `json:"reason"`
}

// RetryError is a failure worth retrying, with the wait the receiver asked
// for (a 429's or 503's Retry-After; zero when it named none). It matches
// fault.ErrRetryable with errors.Is.
type RetryError struct {
	Err   error
	After time.Duration
}

func (e *RetryError) Error() string {
	if e.After > 0 {
		return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
	}
	return e.Err.Error()
}

// Unwrap exposes the cause and fault.ErrRetryable.
func (e *RetryError) Unwrap() []error { return []error{e.Err, fault.ErrRetryable} }

// RetryAfter returns the wait err asks for, if it is (or wraps) a
// *RetryError that names one.
func RetryAfter(err error) (time.Duration, bool) {
	var re *RetryError
	if errors.As(err, &re) && re.After > 0 {
		return re.After, true
	}
	return 0, false
}
