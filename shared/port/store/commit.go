package store

import "errors"

// CommitError is the error of a Commit that stopped before its last change
// set: the first Applied change sets were written by this call, the one at
// index Applied was not (Err says why: fault.ErrConflict, fault.ErrInvalid,
// a transport error ...), nor any after it. Callers that must know which of
// their change sets this call wrote — which idempotency keys it took, as
// opposed to keys a concurrent writer took first — read it with Applied.
type CommitError struct {
	Applied int
	Err     error
}

func (e *CommitError) Error() string { return e.Err.Error() }

// Unwrap returns the failure of the change set at index Applied.
func (e *CommitError) Unwrap() error { return e.Err }

// Applied returns how many of the n change sets given to a Commit that
// returned err that call wrote: n for a nil error, CommitError.Applied for
// a *CommitError in err's chain, and 0 for any other error (nothing is
// claimed that the store did not report).
func Applied(err error, n int) int {
	if err == nil {
		return n
	}
	var ce *CommitError
	if errors.As(err, &ce) {
		return min(max(ce.Applied, 0), n)
	}
	return 0
}
