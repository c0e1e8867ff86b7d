// Package fault defines Aurum's portable error kinds.
//
// Adapters (DynamoDB, bbolt, S3, HTTP) translate their own errors into these
// kinds with errors.As/errors.Is so the core and the HTTP layer can react to
// a kind without knowing which technology produced it. The HTTP status for
// each kind is decided in one place: package api.
package fault

import (
	"errors"
	"fmt"
)

// Kinds of failure. Wrap them with context:
//
//	fmt.Errorf("dynamo: claim identifier %s: %w", id, fault.ErrConflict)
var (
	// ErrNotFound: the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: an optimistic check failed (version moved, key already
	// claimed). The caller re-reads and retries.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input is malformed or breaks a rule. Not retryable.
	ErrInvalid = errors.New("invalid input")
	// ErrTooLarge: the input exceeds a size or count limit.
	ErrTooLarge = errors.New("too large")
	// ErrUnauthorized: no credentials, or credentials that do not verify.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: valid credentials without the needed scope.
	ErrForbidden = errors.New("forbidden")
	// ErrRetryable: a transient failure (throttling, timeouts); retry with backoff.
	ErrRetryable = errors.New("temporarily unavailable")
)

// Invalidf returns an ErrInvalid error with a formatted reason.
func Invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Is reports whether err is of the given kind. It is errors.Is, named for
// readability at call sites: fault.Is(err, fault.ErrConflict).
func Is(err, kind error) bool { return errors.Is(err, kind) }
