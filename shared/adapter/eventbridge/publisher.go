// Package eventbridge publishes Aurum's events to an Amazon EventBridge bus
// with PutEvents.
//
// Publisher batches envelopes within the service limits (10 entries and
// 256 KiB per request, sizes counted the way EventBridge counts them),
// retries entries that failed with a retryable error code (InternalFailure,
// ThrottlingException) with exponential backoff and full jitter, and reports
// the ids of events it could not publish in a *PublishError.
//
// The client is injected. Build it with config.LoadDefaultConfig and
// eventbridge.NewFromConfig: the SDK then honours the standard endpoint
// overrides (AWS_ENDPOINT_URL_EVENTBRIDGE, AWS_ENDPOINT_URL), so the same
// code runs against LocalStack.
package eventbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	ebsdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/aurum-cdp/aurum/shared/kit/retry"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// PutEvents limits.
const (
	// MaxEntries is the most entries one PutEvents request may carry.
	MaxEntries = 10
	// MaxRequestSize is the most bytes the entries of one request may add up
	// to, counted by EntrySize.
	MaxRequestSize = 256 * 1024
	// timeEntrySize is what EventBridge counts for a Time parameter.
	timeEntrySize = 14
	// maxDetailTypeLen is the longest DetailType EventBridge accepts.
	maxDetailTypeLen = 128
)

// API is the part of the EventBridge client the publisher uses.
type API interface {
	PutEvents(ctx context.Context, in *ebsdk.PutEventsInput, optFns ...func(*ebsdk.Options)) (*ebsdk.PutEventsOutput, error)
}

// Publisher publishes envelopes to one event bus.
type Publisher struct {
	client      API
	bus         string
	maxAttempts int
	baseDelay   time.Duration
	maxDelay    time.Duration
	// sleep waits d or until ctx ends; replaced in tests.
	sleep func(ctx context.Context, d time.Duration) error
}

// Option configures a Publisher.
type Option func(*Publisher)

// WithRetry sets how many times an entry is sent at most (at least 1) and
// the exponential backoff between attempts: base doubles per attempt up to
// max, with full jitter. The default is 5 attempts, 100ms, 5s.
func WithRetry(maxAttempts int, base, max time.Duration) Option {
	return func(p *Publisher) {
		p.maxAttempts = max1(maxAttempts)
		p.baseDelay = base
		p.maxDelay = max
	}
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// NewPublisher returns a publisher that sends to busName (a name or ARN).
func NewPublisher(client API, busName string, opts ...Option) (*Publisher, error) {
	if client == nil {
		return nil, fault.Invalidf("eventbridge: nil client")
	}
	if busName == "" {
		return nil, fault.Invalidf("eventbridge: empty event bus name")
	}
	p := &Publisher{
		client:      client,
		bus:         busName,
		maxAttempts: 5,
		baseDelay:   100 * time.Millisecond,
		maxDelay:    5 * time.Second,
		sleep:       retry.Sleep,
	}
	for _, opt := range opts {
		opt(p)
	}
	return p, nil
}

// Failure is one event the publisher could not publish.
type Failure struct {
	ID string
	// Code is EventBridge's error code for the entry, or empty when the
	// entry was never accepted for sending (too large, invalid) or the
	// whole request failed.
	Code    string
	Message string
	// Kind is the fault kind: fault.ErrTooLarge, fault.ErrInvalid,
	// fault.ErrForbidden or fault.ErrRetryable.
	Kind error
}

// PublishError lists the events of one Publish call that were not
// published. errors.Is reports the fault kinds of its failures.
type PublishError struct {
	Failed []Failure
	// Total is how many envelopes the Publish call was given.
	Total int
}

func (e *PublishError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "eventbridge: %d of %d events not published:", len(e.Failed), e.Total)
	for i, f := range e.Failed {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %s (%s)", f.ID, f.reason())
	}
	return b.String()
}

func (f Failure) reason() string {
	if f.Code != "" {
		return f.Code
	}
	if f.Message != "" {
		return f.Message
	}
	return f.Kind.Error()
}

// Unwrap returns the distinct fault kinds of the failures.
func (e *PublishError) Unwrap() []error {
	var kinds []error
	for _, f := range e.Failed {
		if f.Kind != nil && !containsErr(kinds, f.Kind) {
			kinds = append(kinds, f.Kind)
		}
	}
	return kinds
}

func containsErr(list []error, err error) bool {
	for _, e := range list {
		if e == err {
			return true
		}
	}
	return false
}

// EntrySize is the size EventBridge counts for an entry: 14 bytes for Time
// if set, plus the UTF-8 lengths of Source, DetailType, Detail and each
// resource.
func EntrySize(e types.PutEventsRequestEntry) int {
	n := 0
	if e.Time != nil {
		n += timeEntrySize
	}
	for _, s := range []*string{e.Source, e.DetailType, e.Detail} {
		if s != nil {
			n += len(*s)
		}
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// pending is an entry waiting to be sent, with the id of its envelope.
type pending struct {
	id    string
	entry types.PutEventsRequestEntry
	size  int
}

// Publish sends the envelopes to the bus in as few PutEvents requests as
// the limits allow. Entries that fail with a retryable code are sent again
// with backoff. It returns nil when every event was accepted, a
// *PublishError naming the events that were not, or ctx's error if ctx
// ends first. Events larger than 256 KiB fail with fault.ErrTooLarge
// without stopping the others.
func (p *Publisher) Publish(ctx context.Context, envs ...events.Envelope) error {
	perr := &PublishError{Total: len(envs)}
	var batch []pending
	batchSize := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		failed, err := p.sendWithRetry(ctx, batch)
		perr.Failed = append(perr.Failed, failed...)
		batch, batchSize = nil, 0
		return err
	}
	for _, env := range envs {
		pe, fail := p.entry(env)
		if fail != nil {
			perr.Failed = append(perr.Failed, *fail)
			continue
		}
		if len(batch) == MaxEntries || batchSize+pe.size > MaxRequestSize {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, pe)
		batchSize += pe.size
	}
	if err := flush(); err != nil {
		return err
	}
	if len(perr.Failed) > 0 {
		return perr
	}
	return nil
}

// entry turns an envelope into a PutEvents entry, or explains why it
// cannot be sent.
func (p *Publisher) entry(env events.Envelope) (pending, *Failure) {
	invalid := func(msg string) (pending, *Failure) {
		return pending{}, &Failure{ID: env.ID, Message: msg, Kind: fault.ErrInvalid}
	}
	switch {
	case env.ID == "":
		return invalid("event without id")
	case env.Source == "":
		return invalid("empty source")
	case env.DetailType == "":
		return invalid("empty detail-type")
	case utf8.RuneCountInString(env.DetailType) > maxDetailTypeLen:
		return invalid(fmt.Sprintf("detail-type longer than %d characters", maxDetailTypeLen))
	}
	detail := string(env.Detail)
	if detail == "" {
		detail = "{}"
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(detail), &obj); err != nil || obj == nil {
		return invalid("detail is not a JSON object")
	}
	e := types.PutEventsRequestEntry{
		EventBusName: &p.bus,
		Source:       &env.Source,
		DetailType:   &env.DetailType,
		Detail:       &detail,
	}
	if !env.Time.IsZero() {
		t := env.Time.UTC()
		e.Time = &t
	}
	size := EntrySize(e)
	if size > MaxRequestSize {
		return pending{}, &Failure{
			ID:      env.ID,
			Message: fmt.Sprintf("entry is %d bytes, more than the %d allowed", size, MaxRequestSize),
			Kind:    fault.ErrTooLarge,
		}
	}
	return pending{id: env.ID, entry: e, size: size}, nil
}

// sendWithRetry sends one batch, resending entries that failed with a
// retryable code. It returns the entries that finally failed, and an error
// only when ctx ended.
func (p *Publisher) sendWithRetry(ctx context.Context, batch []pending) ([]Failure, error) {
	var failed []Failure
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return failed, fmt.Errorf("eventbridge: publish: %w", err)
		}
		again, final := p.send(ctx, batch)
		failed = append(failed, final...)
		if len(again) == 0 {
			return failed, nil
		}
		if attempt >= p.maxAttempts {
			return append(failed, again...), nil
		}
		if err := p.sleep(ctx, retry.Backoff(p.baseDelay, p.maxDelay, attempt)); err != nil {
			return failed, fmt.Errorf("eventbridge: publish: %w", err)
		}
		next := batch[:0:0]
		for _, f := range again {
			for _, pe := range batch {
				if pe.id == f.ID {
					next = append(next, pe)
					break
				}
			}
		}
		batch = next
	}
}

// send makes one PutEvents call. It splits the outcome into entries worth
// retrying and entries that failed for good, both as Failures.
func (p *Publisher) send(ctx context.Context, batch []pending) (retry, final []Failure) {
	in := &ebsdk.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, len(batch))}
	for i, pe := range batch {
		in.Entries[i] = pe.entry
	}
	out, err := p.client.PutEvents(ctx, in)
	if err != nil {
		code, kind := classifyCallError(err)
		for _, pe := range batch {
			f := Failure{ID: pe.id, Code: code, Message: err.Error(), Kind: kind}
			if kind == fault.ErrRetryable {
				retry = append(retry, f)
			} else {
				final = append(final, f)
			}
		}
		return retry, final
	}
	if out == nil || len(out.Entries) != len(batch) {
		// The response must have one result per entry; without that we
		// cannot tell which entries landed, so retry them all (subscribers
		// de-duplicate on the event id).
		for _, pe := range batch {
			retry = append(retry, Failure{ID: pe.id, Message: "PutEvents returned a result count that does not match the request", Kind: fault.ErrRetryable})
		}
		return retry, nil
	}
	if out.FailedEntryCount == 0 {
		ok := true
		for _, r := range out.Entries {
			if r.ErrorCode != nil {
				ok = false
				break
			}
		}
		if ok {
			return nil, nil
		}
	}
	for i, r := range out.Entries {
		if r.ErrorCode == nil || *r.ErrorCode == "" {
			continue
		}
		code := *r.ErrorCode
		msg := ""
		if r.ErrorMessage != nil {
			msg = *r.ErrorMessage
		}
		f := Failure{ID: batch[i].id, Code: code, Message: msg, Kind: entryErrorKind(code)}
		if f.Kind == fault.ErrRetryable {
			retry = append(retry, f)
		} else {
			final = append(final, f)
		}
	}
	return retry, final
}

// entryErrorKind maps a PutEvents entry error code to a fault kind. The
// codes EventBridge documents as retryable are InternalFailure and
// ThrottlingException; an unknown code is treated as retryable too, since a
// duplicate is harmless (ids are stable) and a lost event is not.
func entryErrorKind(code string) error {
	switch code {
	case "AccessDeniedException", "NotAuthorizedForSourceException", "NotAuthorizedForDetailTypeException":
		return fault.ErrForbidden
	case "InvalidAccountIdException", "InvalidArgument", "MalformedDetail", "RedactionFailure":
		return fault.ErrInvalid
	}
	return fault.ErrRetryable
}

// classifyCallError maps an error of the whole PutEvents call (after the
// SDK's own retries) to the service's error code and a fault kind.
func classifyCallError(err error) (string, error) {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code := apiErr.ErrorCode()
		switch code {
		case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException":
			return code, fault.ErrForbidden
		case "ResourceNotFoundException":
			return code, fault.ErrNotFound
		case "ValidationException":
			return code, fault.ErrInvalid
		}
		if apiErr.ErrorFault() == smithy.FaultClient && code != "ThrottlingException" {
			return code, fault.ErrInvalid
		}
		return code, fault.ErrRetryable
	}
	// Transport errors (timeouts, refused connections) are transient.
	return "", fault.ErrRetryable
}
