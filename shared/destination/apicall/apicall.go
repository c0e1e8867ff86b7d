// Package apicall sends the JSON requests of the HTTP destination presets
// and maps the answers the way every preset needs: 429 and 5xx (and a
// failed connection) are a destination.RetryError carrying the
// Retry-After the server asked for; other 4xx are a *StatusError the
// preset turns into rejected items or a permanent failure.
package apicall

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// maxBody bounds how much of an answer is read.
const maxBody = 4 << 20

// Request is one call.
type Request struct {
	Method string
	URL    string
	Header http.Header
	// Body is encoded as JSON unless it is a []byte; nil sends none.
	Body any
}

// Response is a 2xx answer, or the answer of a *StatusError.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// StatusError is a 4xx answer other than 429: the request will not
// succeed as it is.
type StatusError struct {
	Response
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
}

// Is maps 401 and 403 to fault.ErrUnauthorized and fault.ErrForbidden,
// the others to fault.ErrInvalid.
func (e *StatusError) Is(target error) bool {
	switch e.Status {
	case http.StatusUnauthorized:
		return target == fault.ErrUnauthorized
	case http.StatusForbidden:
		return target == fault.ErrForbidden
	}
	return target == fault.ErrInvalid
}

// Client sends requests.
type Client struct {
	HTTP  *http.Client
	Clock func() time.Time
}

// Do sends r. A 2xx answer is returned; 429, 5xx and transport failures
// are a *destination.RetryError; other statuses a *StatusError (with the
// response).
func (c Client) Do(ctx context.Context, r Request) (Response, error) {
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return Response{}, fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(enc)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return Response{}, fmt.Errorf("build request: %w", err)
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Response{}, ctx.Err()
		}
		return Response{}, &destination.RetryError{Err: fmt.Errorf("%s %s: %w", r.Method, req.URL.Path, err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return Response{}, &destination.RetryError{Err: fmt.Errorf("%s %s: read answer: %w", r.Method, req.URL.Path, err)}
	}
	out := Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return out, nil
	case s == http.StatusTooManyRequests || s >= 500:
		return out, &destination.RetryError{
			Err:   fmt.Errorf("%s %s: HTTP %d", r.Method, req.URL.Path, s),
			After: RetryAfter(resp.Header.Get("Retry-After"), c.now()),
		}
	}
	return out, &StatusError{Response: out, Message: summary(b)}
}

func (c Client) now() time.Time {
	if c.Clock != nil {
		return c.Clock()
	}
	return time.Now()
}

// RetryAfter parses a Retry-After value: delay seconds or an HTTP date
// (RFC 9110 section 10.2.3). Anything else, or a date past, is zero.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// emailLike matches what could be an e-mail address in an answer.
var emailLike = regexp.MustCompile(`[^\s@"'<>,;:]+@[^\s@"'<>,;:]+`)

// summary is the start of an error answer, on one line. Vendors' error
// messages name fields and codes; the presets pass them on as reasons,
// with anything that looks like an e-mail address redacted (no PII in
// logs).
func summary(b []byte) string {
	s := emailLike.ReplaceAllString(strings.Join(strings.Fields(string(b)), " "), "<redacted>")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		return "no body"
	}
	return s
}

// Credential is a destination's credential, resolved by reference on
// each call (a rotated secret is picked up).
type Credential struct {
	Ref     *config.SecretRef
	Secrets destination.SecretResolver
}

// NewCredential checks that the destination names a credential and that
// secrets can be resolved.
func NewCredential(ref *config.SecretRef, secrets destination.SecretResolver) (Credential, error) {
	switch {
	case ref == nil:
		return Credential{}, fmt.Errorf("credential: missing; name the API key or token with env, ssm or secrets_manager")
	case secrets == nil:
		return Credential{}, fmt.Errorf("credential: no secret resolver configured")
	}
	return Credential{Ref: ref, Secrets: secrets}, nil
}

// Get resolves the credential.
func (c Credential) Get(ctx context.Context) (string, error) {
	v, err := c.Secrets.Resolve(ctx, *c.Ref)
	if err != nil {
		return "", fmt.Errorf("resolve credential: %w", err)
	}
	return v, nil
}

// String renders a mapped value as the string most tool fields take:
// strings as they are, numbers and booleans formatted, nil as "".
func String(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}

// BaseURL is the destination's url, or def, without a trailing slash.
func BaseURL(url, def string) string {
	if url == "" {
		url = def
	}
	return strings.TrimSuffix(url, "/")
}
