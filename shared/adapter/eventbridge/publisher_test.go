package eventbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebsdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// fakeClient records PutEvents calls. failures maps a detail's "n" value to
// the error codes its successive attempts get ("" = success).
type fakeClient struct {
	mu       sync.Mutex
	calls    [][]types.PutEventsRequestEntry
	failures map[string][]string
	callErrs []error
	attempts map[string]int
}

func (f *fakeClient) PutEvents(_ context.Context, in *ebsdk.PutEventsInput, _ ...func(*ebsdk.Options)) (*ebsdk.PutEventsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, append([]types.PutEventsRequestEntry(nil), in.Entries...))
	if len(f.callErrs) > 0 {
		err := f.callErrs[0]
		f.callErrs = f.callErrs[1:]
		if err != nil {
			return nil, err
		}
	}
	if f.attempts == nil {
		f.attempts = map[string]int{}
	}
	out := &ebsdk.PutEventsOutput{}
	for _, e := range in.Entries {
		var d struct {
			N string `json:"n"`
		}
		_ = json.Unmarshal([]byte(aws.ToString(e.Detail)), &d)
		codes := f.failures[d.N]
		attempt := f.attempts[d.N]
		f.attempts[d.N]++
		code := ""
		if attempt < len(codes) {
			code = codes[attempt]
		}
		if code == "" {
			out.Entries = append(out.Entries, types.PutEventsResultEntry{EventId: aws.String("aws-" + d.N)})
			continue
		}
		out.FailedEntryCount++
		out.Entries = append(out.Entries, types.PutEventsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("injected")})
	}
	return out, nil
}

func (f *fakeClient) batchSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var n []int
	for _, c := range f.calls {
		n = append(n, len(c))
	}
	return n
}

func env(n string, detailBytes int) events.Envelope {
	pad := ""
	if detailBytes > 0 {
		pad = strings.Repeat("x", detailBytes)
	}
	return events.Envelope{
		ID:         "id-" + n,
		Source:     events.Source,
		DetailType: events.TypeProfileUpdated,
		Time:       time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		Detail:     json.RawMessage(fmt.Sprintf(`{"n":%q,"pad":%q}`, n, pad)),
	}
}

func newTestPublisher(t *testing.T, c API) *Publisher {
	t.Helper()
	p, err := NewPublisher(c, "aurum-bus", WithRetry(4, time.Millisecond, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	p.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	return p
}

func TestPublishBatchesByCount(t *testing.T) {
	c := &fakeClient{}
	p := newTestPublisher(t, c)
	var envs []events.Envelope
	for i := range 23 {
		envs = append(envs, env(fmt.Sprint(i), 0))
	}
	if err := p.Publish(context.Background(), envs...); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if got := fmt.Sprint(c.batchSizes()); got != "[10 10 3]" {
		t.Errorf("batch sizes = %s; want [10 10 3]", got)
	}
	e := c.calls[0][0]
	if aws.ToString(e.EventBusName) != "aurum-bus" || aws.ToString(e.Source) != "aurum" ||
		aws.ToString(e.DetailType) != events.TypeProfileUpdated || e.Time == nil || !e.Time.Equal(envs[0].Time) ||
		aws.ToString(e.Detail) != string(envs[0].Detail) {
		t.Errorf("first entry = %+v; want bus, source, detail-type, time and detail from the envelope", e)
	}
}

func TestPublishBatchesBySize(t *testing.T) {
	c := &fakeClient{}
	p := newTestPublisher(t, c)
	// Each entry is a little over 100 KiB, so only two fit in 256 KiB.
	var envs []events.Envelope
	for i := range 5 {
		envs = append(envs, env(fmt.Sprint(i), 100*1024))
	}
	if err := p.Publish(context.Background(), envs...); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if got := fmt.Sprint(c.batchSizes()); got != "[2 2 1]" {
		t.Errorf("batch sizes = %s; want [2 2 1]", got)
	}
	for i, call := range c.calls {
		total := 0
		for _, e := range call {
			total += EntrySize(e)
		}
		if total > MaxRequestSize {
			t.Errorf("call %d carries %d bytes; want at most %d", i, total, MaxRequestSize)
		}
	}
}

func TestEntrySize(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name  string
		entry types.PutEventsRequestEntry
		want  int
	}{
		{"empty", types.PutEventsRequestEntry{}, 0},
		{"time counts 14", types.PutEventsRequestEntry{Time: &now}, 14},
		{"ascii", types.PutEventsRequestEntry{Source: aws.String("aurum"), DetailType: aws.String("X"), Detail: aws.String("{}")}, 8},
		{"utf-8 bytes", types.PutEventsRequestEntry{Source: aws.String("é"), Detail: aws.String(`{"a":"€"}`)}, 2 + 11},
		{"resources", types.PutEventsRequestEntry{Resources: []string{"ab", "cde"}}, 5},
		{"bus name not counted", types.PutEventsRequestEntry{EventBusName: aws.String("bus")}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := EntrySize(tc.entry); got != tc.want {
				t.Errorf("EntrySize(%s) = %d; want %d", tc.name, got, tc.want)
			}
		})
	}
}

func TestPublishTooLarge(t *testing.T) {
	c := &fakeClient{}
	p := newTestPublisher(t, c)
	big := env("big", MaxRequestSize)
	err := p.Publish(context.Background(), env("a", 0), big, env("b", 0))
	if !errors.Is(err, fault.ErrTooLarge) {
		t.Fatalf("Publish(too large) = %v; want ErrTooLarge", err)
	}
	if !strings.Contains(err.Error(), "id-big") {
		t.Errorf("error %q does not name the event id", err)
	}
	var perr *PublishError
	if !errors.As(err, &perr) || len(perr.Failed) != 1 || perr.Failed[0].ID != "id-big" || perr.Total != 3 {
		t.Errorf("PublishError = %+v; want only id-big failed of 3", perr)
	}
	if got := fmt.Sprint(c.batchSizes()); got != "[2]" {
		t.Errorf("batch sizes = %s; want [2] (the other events still sent)", got)
	}
}

func TestPublishRetriesPartialFailures(t *testing.T) {
	c := &fakeClient{failures: map[string][]string{
		"1": {"ThrottlingException"},
		"3": {"InternalFailure", "InternalFailure"},
	}}
	p := newTestPublisher(t, c)
	var envs []events.Envelope
	for i := range 5 {
		envs = append(envs, env(fmt.Sprint(i), 0))
	}
	if err := p.Publish(context.Background(), envs...); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if got := fmt.Sprint(c.batchSizes()); got != "[5 2 1]" {
		t.Errorf("batch sizes = %s; want [5 2 1] (only failed entries resent)", got)
	}
	var resent []string
	for _, e := range c.calls[1] {
		resent = append(resent, aws.ToString(e.Detail))
	}
	if !strings.Contains(strings.Join(resent, ""), `"n":"1"`) || !strings.Contains(strings.Join(resent, ""), `"n":"3"`) {
		t.Errorf("second call resent %v; want events 1 and 3", resent)
	}
}

func TestPublishGivesUp(t *testing.T) {
	c := &fakeClient{failures: map[string][]string{
		"0": {"ThrottlingException", "ThrottlingException", "ThrottlingException", "ThrottlingException", "ThrottlingException"},
		"1": {"NotAuthorizedForSourceException"},
		"2": {"MalformedDetail"},
	}}
	p := newTestPublisher(t, c)
	err := p.Publish(context.Background(), env("0", 0), env("1", 0), env("2", 0), env("3", 0))
	var perr *PublishError
	if !errors.As(err, &perr) {
		t.Fatalf("Publish = %v; want *PublishError", err)
	}
	got := map[string]string{}
	for _, f := range perr.Failed {
		got[f.ID] = f.Code
	}
	want := map[string]string{"id-0": "ThrottlingException", "id-1": "NotAuthorizedForSourceException", "id-2": "MalformedDetail"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("failed = %v; want %v", got, want)
	}
	for _, kind := range []error{fault.ErrRetryable, fault.ErrForbidden, fault.ErrInvalid} {
		if !errors.Is(err, kind) {
			t.Errorf("errors.Is(%v, %v) = false; want true", err, kind)
		}
	}
	if c.attempts["0"] != 4 {
		t.Errorf("event 0 sent %d times; want 4 (the attempt limit)", c.attempts["0"])
	}
	if c.attempts["1"] != 1 || c.attempts["2"] != 1 {
		t.Errorf("non-retryable events sent %d and %d times; want 1 each", c.attempts["1"], c.attempts["2"])
	}
	for _, id := range []string{"id-0", "id-1", "id-2"} {
		if !strings.Contains(err.Error(), id) {
			t.Errorf("error %q does not list %s", err, id)
		}
	}
}

func TestPublishCallErrors(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Fault: smithy.FaultClient}
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException", Fault: smithy.FaultClient}
	tests := []struct {
		name      string
		callErrs  []error
		wantErr   error
		wantCalls int
	}{
		{"transient then ok", []error{errors.New("connection reset"), nil}, nil, 2},
		{"throttled then ok", []error{throttled, nil}, nil, 2},
		{"denied", []error{denied}, fault.ErrForbidden, 1},
		{"always failing", []error{throttled, throttled, throttled, throttled}, fault.ErrRetryable, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &fakeClient{callErrs: tc.callErrs}
			p := newTestPublisher(t, c)
			err := p.Publish(context.Background(), env("0", 0), env("1", 0))
			if tc.wantErr == nil && err != nil {
				t.Fatalf("Publish = %v; want nil", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Publish = %v; want %v", err, tc.wantErr)
			}
			if got := len(c.calls); got != tc.wantCalls {
				t.Errorf("PutEvents called %d times; want %d", got, tc.wantCalls)
			}
		})
	}
}

func TestPublishInvalidEnvelopes(t *testing.T) {
	c := &fakeClient{}
	p := newTestPublisher(t, c)
	bad := []events.Envelope{
		{ID: "no-source", DetailType: "X", Detail: json.RawMessage(`{}`)},
		{ID: "no-type", Source: "aurum", Detail: json.RawMessage(`{}`)},
		{ID: "array-detail", Source: "aurum", DetailType: "X", Detail: json.RawMessage(`[]`)},
		{ID: "long-type", Source: "aurum", DetailType: strings.Repeat("x", 129)},
		{Source: "aurum", DetailType: "X"},
	}
	good := events.Envelope{ID: "empty-detail", Source: "aurum", DetailType: "X"}
	err := p.Publish(context.Background(), append(bad, good)...)
	var perr *PublishError
	if !errors.As(err, &perr) || len(perr.Failed) != len(bad) || !errors.Is(err, fault.ErrInvalid) {
		t.Fatalf("Publish = %v; want %d ErrInvalid failures", err, len(bad))
	}
	if len(c.calls) != 1 || len(c.calls[0]) != 1 || aws.ToString(c.calls[0][0].Detail) != "{}" || c.calls[0][0].Time != nil {
		t.Errorf("calls = %+v; want one call with the valid event, detail {} and no time", c.calls)
	}
}

func TestPublishContextCancelled(t *testing.T) {
	c := &fakeClient{failures: map[string][]string{"0": {"InternalFailure", "InternalFailure"}}}
	p := newTestPublisher(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	p.sleep = func(context.Context, time.Duration) error {
		cancel()
		return context.Canceled
	}
	if err := p.Publish(ctx, env("0", 0)); !errors.Is(err, context.Canceled) {
		t.Errorf("Publish = %v; want context.Canceled", err)
	}
}

func TestNewPublisherErrors(t *testing.T) {
	if _, err := NewPublisher(nil, "bus"); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("NewPublisher(nil client) = %v; want ErrInvalid", err)
	}
	if _, err := NewPublisher(&fakeClient{}, ""); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("NewPublisher(empty bus) = %v; want ErrInvalid", err)
	}
}
