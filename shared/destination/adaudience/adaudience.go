// Package adaudience holds what the ad-audience destinations share: the
// SHA-256 hashing every platform asks for, and the reading of an HTTP
// answer into Aurum's error kinds (a 429 or 5xx becomes a
// destination.RetryError carrying the wait the platform named).
//
// The platforms live in subpackages, each implementing
// destination.Audience: googleads (Customer Match through the Google Ads
// API's OfflineUserDataJobService) and meta (Custom Audiences through the
// Marketing API). Each normalises identifiers exactly as its platform
// documents before hashing; docs/audiences.md lists the rules and the
// limits, and what is tested against the documented contract rather than
// the live service.
package adaudience

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// SHA256 returns the lower-case hex SHA-256 of s, the form both platforms
// expect.
func SHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// RetryAfter parses a Retry-After header value (delay seconds or an HTTP
// date, RFC 9110 §10.2.3) relative to now; zero when absent or malformed.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// StatusError maps an HTTP status of a failed call to Aurum's kinds: 408,
// 429 and 5xx are a *destination.RetryError waiting after (at least what
// Retry-After says); 401 is fault.ErrUnauthorized, 403
// fault.ErrForbidden, 404 fault.ErrNotFound, 413 fault.ErrTooLarge and
// any other status fault.ErrInvalid. what names the call and reason the
// platform's error (never PII: callers pass codes, not echoed values).
func StatusError(what string, status int, reason string, after time.Duration) error {
	err := fmt.Errorf("%s: HTTP %d: %s", what, status, reason)
	switch {
	case status == http.StatusTooManyRequests, status == http.StatusRequestTimeout, status >= 500:
		return &destination.RetryError{Err: err, After: after}
	case status == http.StatusUnauthorized:
		return errors.Join(err, fault.ErrUnauthorized)
	case status == http.StatusForbidden:
		return errors.Join(err, fault.ErrForbidden)
	case status == http.StatusNotFound:
		return errors.Join(err, fault.ErrNotFound)
	case status == http.StatusRequestEntityTooLarge:
		return errors.Join(err, fault.ErrTooLarge)
	}
	return errors.Join(err, fault.ErrInvalid)
}

// TransportError wraps a failure to reach the platform (connection
// refused, timeout) as retryable, unless ctx itself ended.
func TransportError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return &destination.RetryError{Err: fmt.Errorf("%s: %w", what, err)}
}
