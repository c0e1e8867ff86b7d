// Package webhook delivers signed HTTP requests: the webhook action kind
// of Aurum's triggers (Kind, registered in shared/wire/app).
//
// Each request carries a timestamp header (Unix seconds) and a signature
// header "v1=<hex>", the hex HMAC-SHA256, keyed with the shared secret, of
// the timestamp, a dot and the raw body: HMAC(secret, ts + "." + body), as
// Stripe signs its webhooks. A receiver recomputes it over the bytes it
// received, compares in constant time and rejects timestamps too far from
// its clock (Verify does all three). docs/triggers.md shows the recipe in
// several languages.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/kit/retry"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// SchemeV1 prefixes a signature of scheme version 1 (HMAC-SHA256).
const SchemeV1 = "v1="

// DefaultTolerance is how far a timestamp may be from the receiver's clock.
const DefaultTolerance = 5 * time.Minute

// Sign returns the signature header value for body sent at ts:
// "v1=" + hex(HMAC-SHA256(secret, ts + "." + body)).
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return SchemeV1 + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a received request: the timestamp header value ts must be
// within tolerance of now (DefaultTolerance if zero), and one of the
// comma-separated v1 signatures in sig must equal Sign(secret, ts, body).
// Errors wrap fault.ErrUnauthorized.
func Verify(secret []byte, sig, ts string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	t, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil {
		return fmt.Errorf("webhook: timestamp is not Unix seconds: %w", fault.ErrUnauthorized)
	}
	if d := now.Sub(time.Unix(t, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook: timestamp outside the %v tolerance: %w", tolerance, fault.ErrUnauthorized)
	}
	want := []byte(Sign(secret, t, body))
	for _, s := range strings.Split(sig, ",") {
		if hmac.Equal([]byte(strings.TrimSpace(s)), want) {
			return nil
		}
	}
	return fmt.Errorf("webhook: signature does not match: %w", fault.ErrUnauthorized)
}

// Request is one webhook delivery.
type Request struct {
	Method  string
	URL     string
	Headers map[string]string
	Body    []byte
	// Secret signs the body.
	Secret []byte
	// SignatureHeader and TimestampHeader name the headers; defaults
	// X-Aurum-Signature and X-Aurum-Timestamp.
	SignatureHeader string
	TimestampHeader string
	// DeliveryID is sent as X-Aurum-Delivery so that the receiver can
	// de-duplicate a delivery that was retried.
	DeliveryID string
	// Timeout bounds one attempt; default 10s.
	Timeout time.Duration
}

// Sender sends webhook requests with bounded retries.
type Sender struct {
	client      *http.Client
	now         func() time.Time
	maxAttempts int
	base, max   time.Duration
	sleep       func(ctx context.Context, d time.Duration) error
}

// Option configures a Sender.
type Option func(*Sender)

// WithRetry sets the number of attempts (at least 1) and the backoff
// bounds (full jitter, base doubling up to max). Default 4, 500ms, 10s.
func WithRetry(maxAttempts int, base, max time.Duration) Option {
	return func(s *Sender) {
		s.maxAttempts = max1(maxAttempts)
		s.base, s.max = base, max
	}
}

// WithClock sets the clock used for timestamps; default time.Now.
func WithClock(now func() time.Time) Option { return func(s *Sender) { s.now = now } }

// WithSleep replaces the wait between attempts (tests).
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(s *Sender) { s.sleep = sleep }
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// NewSender returns a sender using client.
func NewSender(client *http.Client, opts ...Option) (*Sender, error) {
	if client == nil {
		return nil, fault.Invalidf("webhook: nil http client")
	}
	s := &Sender{client: client, now: time.Now, maxAttempts: 4, base: 500 * time.Millisecond, max: 10 * time.Second, sleep: retry.Sleep}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Error is a delivery that failed for good.
type Error struct {
	// Host is the target's host (paths and queries may carry tokens).
	Host     string
	Attempts int
	// Status is the last HTTP status, 0 if none was received.
	Status int
	Err    error
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("webhook %s: status %d after %d attempts: %v", e.Host, e.Status, e.Attempts, e.Err)
	}
	return fmt.Sprintf("webhook %s: failed after %d attempts: %v", e.Host, e.Attempts, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Send delivers r, retrying transport errors, 408, 429 and 5xx responses
// with backoff; other 4xx responses are not retried. Every attempt is
// signed afresh with the current timestamp. The error is an *Error whose
// kind is fault.ErrRetryable (attempts ran out) or fault.ErrInvalid (the
// receiver refused the request).
func (s *Sender) Send(ctx context.Context, r Request) error {
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fault.Invalidf("webhook: target must be an absolute http(s) URL")
	}
	if len(r.Secret) == 0 {
		return fault.Invalidf("webhook %s: no signing secret", u.Host)
	}
	var last *Error
	for attempt := 1; attempt <= s.maxAttempts; attempt++ {
		if attempt > 1 {
			if err := s.sleep(ctx, retry.Backoff(s.base, s.max, attempt-1)); err != nil {
				last.Err = errors.Join(last.Err, err)
				return last
			}
		}
		status, err := s.once(ctx, u.Host, r)
		if err == nil {
			return nil
		}
		last = &Error{Host: u.Host, Attempts: attempt, Status: status, Err: err}
		if !errors.Is(err, fault.ErrRetryable) {
			return last
		}
	}
	return last
}

// once makes one attempt and returns the status received (0 if none).
func (s *Sender) once(ctx context.Context, host string, r Request) (int, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return 0, fault.Invalidf("webhook %s: build request: %v", host, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "aurum-webhook/1")
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	sigH, tsH := r.SignatureHeader, r.TimestampHeader
	if sigH == "" {
		sigH = "X-Aurum-Signature"
	}
	if tsH == "" {
		tsH = "X-Aurum-Timestamp"
	}
	ts := s.now().Unix()
	req.Header.Set(tsH, strconv.FormatInt(ts, 10))
	req.Header.Set(sigH, Sign(r.Secret, ts, r.Body))
	if r.DeliveryID != "" {
		req.Header.Set("X-Aurum-Delivery", r.DeliveryID)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		// *url.Error repeats the full URL; keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, fmt.Errorf("%w: %w", fault.ErrRetryable, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch c := resp.StatusCode; {
	case c >= 200 && c <= 299:
		return c, nil
	case c == http.StatusRequestTimeout, c == http.StatusTooManyRequests, c >= 500:
		return c, fmt.Errorf("status %d: %w", c, fault.ErrRetryable)
	default:
		return c, fmt.Errorf("status %d: %w", c, fault.ErrInvalid)
	}
}
