package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/pattern"
)

// recorder is a handler that records what it receives and fails on demand.
type recorder struct {
	mu    sync.Mutex
	got   []string
	fails map[string]int // event id -> failures left
}

func (r *recorder) handle(_ context.Context, env events.Envelope) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, env.ID)
	if r.fails[env.ID] > 0 {
		r.fails[env.ID]--
		return fmt.Errorf("injected failure for %s", env.ID)
	}
	return nil
}

func (r *recorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func envelope(t *testing.T, id, detailType, detail string) events.Envelope {
	t.Helper()
	return events.Envelope{
		ID:         id,
		Source:     events.Source,
		DetailType: detailType,
		Time:       time.Date(2026, 3, 1, 10, 15, 0, 0, time.UTC),
		Detail:     json.RawMessage(detail),
	}
}

func mustPattern(t *testing.T, s string) *pattern.Pattern {
	t.Helper()
	p, err := pattern.Parse([]byte(s))
	if err != nil {
		t.Fatalf("pattern.Parse(%s): %v", s, err)
	}
	return p
}

func newTestBus(t *testing.T, opts ...Option) *Bus {
	t.Helper()
	opts = append([]Option{WithRetry(3, time.Millisecond, 2*time.Millisecond)}, opts...)
	b := New(nil, opts...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

func flush(t *testing.T, b *Bus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func TestBusRoutesByPattern(t *testing.T) {
	b := newTestBus(t)
	var entered, vip, all recorder
	subs := []struct {
		name    string
		pattern *pattern.Pattern
		rec     *recorder
	}{
		{"entered", mustPattern(t, `{"source":["aurum"],"detail-type":["SegmentEntered"]}`), &entered},
		{"vip", mustPattern(t, `{"detail":{"segment":[{"prefix":"vip-"}]}}`), &vip},
		{"all", nil, &all},
	}
	for _, s := range subs {
		if err := b.Subscribe(s.name, s.pattern, s.rec.handle); err != nil {
			t.Fatalf("Subscribe(%s): %v", s.name, err)
		}
	}
	err := b.Publish(context.Background(),
		envelope(t, "e1", events.TypeSegmentEntered, `{"segment":"vip-gold"}`),
		envelope(t, "e2", events.TypeSegmentExited, `{"segment":"vip-gold"}`),
		envelope(t, "e3", events.TypeSegmentEntered, `{"segment":"churn"}`),
		envelope(t, "e4", events.TypeProfileUpdated, `{}`),
	)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	flush(t, b)
	for _, tc := range []struct {
		name string
		rec  *recorder
		want []string
	}{
		{"entered", &entered, []string{"e1", "e3"}},
		{"vip", &vip, []string{"e1", "e2"}},
		{"all", &all, []string{"e1", "e2", "e3", "e4"}},
	} {
		if got := tc.rec.ids(); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("subscriber %s received %v; want %v", tc.name, got, tc.want)
		}
	}
}

func TestBusMatchesFullEventShape(t *testing.T) {
	b := newTestBus(t, WithRegion("eu-west-1"))
	var rec recorder
	// A pattern written for an AWS rule on metadata fields.
	p := mustPattern(t, `{"version":["0"],"id":["e1"],"account":["000000000000"],"region":["eu-west-1"],"time":[{"prefix":"2026-03-01T10:15"}],"resources":[{"exists":false}]}`)
	if err := b.Subscribe("meta", p, rec.handle); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), envelope(t, "e1", events.TypeProfileUpdated, `{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	flush(t, b)
	if got := rec.ids(); len(got) != 1 {
		t.Errorf("metadata pattern received %v; want [e1]", got)
	}
}

func TestEventJSON(t *testing.T) {
	env := envelope(t, "e1", events.TypeSegmentEntered, `{"segment":"vip"}`)
	env.Time = time.Date(2026, 3, 1, 11, 15, 7, 123456789, time.FixedZone("CET", 3600))
	got, err := pattern.EventJSON(env, LocalAccount, "local", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":"0","id":"e1","detail-type":"SegmentEntered","source":"aurum","account":"000000000000","time":"2026-03-01T10:15:07Z","region":"local","resources":[],"detail":{"segment":"vip"}}`
	if string(got) != want {
		t.Errorf("EventJSON = %s; want %s", got, want)
	}
	if err := pattern.ValidateEvent(got); err != nil {
		t.Errorf("pattern.ValidateEvent(EventJSON) = %v; want nil", err)
	}

	env.Detail = nil
	env.Time = time.Time{}
	now := func() time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) }
	got, err = pattern.EventJSON(env, "123", "r", now)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte(`"time":"2030-01-02T03:04:05Z"`)) || !bytes.Contains(got, []byte(`"detail":{}`)) {
		t.Errorf("EventJSON(zero time, no detail) = %s; want the clock's time and detail {}", got)
	}
}

func TestBusRejectsInvalidEnvelopes(t *testing.T) {
	b := newTestBus(t)
	var rec recorder
	if err := b.Subscribe("all", nil, rec.handle); err != nil {
		t.Fatal(err)
	}
	good := envelope(t, "ok", events.TypeProfileUpdated, `{}`)
	tests := []struct {
		name string
		env  events.Envelope
		want string
	}{
		{"no id", events.Envelope{Source: "aurum", DetailType: "X"}, "without id"},
		{"no source", events.Envelope{ID: "a", DetailType: "X"}, "empty source"},
		{"no detail type", events.Envelope{ID: "a", Source: "aurum"}, "empty detail-type"},
		{"detail array", events.Envelope{ID: "a", Source: "aurum", DetailType: "X", Detail: json.RawMessage(`[1]`)}, "not a JSON object"},
		{"detail invalid", events.Envelope{ID: "a", Source: "aurum", DetailType: "X", Detail: json.RawMessage(`{`)}, "not a JSON object"},
		{"detail null", events.Envelope{ID: "a", Source: "aurum", DetailType: "X", Detail: json.RawMessage(`null`)}, "not a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := b.Publish(context.Background(), good, tc.env)
			if !errors.Is(err, fault.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Publish(%+v) error = %v; want ErrInvalid containing %q", tc.env, err, tc.want)
			}
		})
	}
	flush(t, b)
	if got := rec.ids(); len(got) != 0 {
		t.Errorf("after rejected batches the subscriber received %v; want nothing", got)
	}
}

func TestBusRetriesInOrder(t *testing.T) {
	b := newTestBus(t)
	rec := &recorder{fails: map[string]int{"e1": 2}}
	if err := b.Subscribe("flaky", nil, rec.handle); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(),
		envelope(t, "e1", "T", `{}`), envelope(t, "e2", "T", `{}`)); err != nil {
		t.Fatal(err)
	}
	flush(t, b)
	want := "e1,e1,e1,e2"
	if got := strings.Join(rec.ids(), ","); got != want {
		t.Errorf("delivery attempts = %s; want %s (retries before the next event)", got, want)
	}
	if dl := b.DeadLetters(); len(dl) != 0 {
		t.Errorf("DeadLetters() = %v; want none", dl)
	}
}

func TestBusDeadLetters(t *testing.T) {
	b := newTestBus(t)
	rec := &recorder{fails: map[string]int{"bad": 100}}
	if err := b.Subscribe("flaky", nil, rec.handle); err != nil {
		t.Fatal(err)
	}
	panicky := func(context.Context, events.Envelope) error { panic("boom") }
	if err := b.Subscribe("panicky", mustPattern(t, `{"id":["bad"]}`), panicky); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(),
		envelope(t, "bad", "T", `{}`), envelope(t, "good", "T", `{}`)); err != nil {
		t.Fatal(err)
	}
	flush(t, b)
	if got := strings.Join(rec.ids(), ","); got != "bad,bad,bad,good" {
		t.Errorf("delivery attempts = %s; want bad,bad,bad,good", got)
	}
	dl := b.DeadLetters()
	if len(dl) != 2 {
		t.Fatalf("DeadLetters() = %+v; want 2 entries", dl)
	}
	bySub := map[string]DeadLetter{}
	for _, d := range dl {
		bySub[d.Subscriber] = d
	}
	if d := bySub["flaky"]; d.Envelope.ID != "bad" || d.Attempts != 3 || d.Err == nil || !strings.Contains(d.Err.Error(), "injected failure") {
		t.Errorf("flaky dead letter = %+v; want event bad after 3 attempts with the handler error", d)
	}
	if d := bySub["panicky"]; d.Attempts != 3 || d.Err == nil || !strings.Contains(d.Err.Error(), "panicked") {
		t.Errorf("panicky dead letter = %+v; want 3 attempts and a panic error", d)
	}
}

func TestBusSubscribeErrors(t *testing.T) {
	b := newTestBus(t)
	noop := func(context.Context, events.Envelope) error { return nil }
	if err := b.Subscribe("a", nil, noop); err != nil {
		t.Fatal(err)
	}
	if err := b.Subscribe("a", nil, noop); !errors.Is(err, fault.ErrConflict) {
		t.Errorf("Subscribe(duplicate) = %v; want ErrConflict", err)
	}
	if err := b.Subscribe("", nil, noop); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("Subscribe(empty name) = %v; want ErrInvalid", err)
	}
	if err := b.Subscribe("b", nil, nil); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("Subscribe(nil handler) = %v; want ErrInvalid", err)
	}
}

func TestBusCloseDrains(t *testing.T) {
	b := New(nil, WithRetry(1, 0, 0))
	var rec recorder
	slow := func(ctx context.Context, env events.Envelope) error {
		time.Sleep(5 * time.Millisecond)
		return rec.handle(ctx, env)
	}
	if err := b.Subscribe("slow", nil, slow); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := b.Publish(context.Background(), envelope(t, fmt.Sprint("e", i), "T", `{}`)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := len(rec.ids()); got != 5 {
		t.Errorf("after Close the subscriber had received %d events; want 5", got)
	}
	if err := b.Publish(context.Background(), envelope(t, "late", "T", `{}`)); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close = %v; want ErrClosed", err)
	}
	if err := b.Subscribe("late", nil, slow); !errors.Is(err, ErrClosed) {
		t.Errorf("Subscribe after Close = %v; want ErrClosed", err)
	}
	if err := b.Close(ctx); err != nil {
		t.Errorf("second Close = %v; want nil", err)
	}
}

func TestBusCloseTimeoutCancelsHandlers(t *testing.T) {
	b := New(nil, WithRetry(5, time.Millisecond, time.Millisecond))
	started := make(chan struct{}, 1)
	blocking := func(ctx context.Context, env events.Envelope) error {
		select {
		case started <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return ctx.Err()
	}
	if err := b.Subscribe("blocking", nil, blocking); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(),
		envelope(t, "e1", "T", `{}`), envelope(t, "e2", "T", `{}`)); err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := b.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v; want context.DeadlineExceeded", err)
	}
	dl := b.DeadLetters()
	if len(dl) != 2 {
		t.Fatalf("DeadLetters() = %+v; want both events", dl)
	}
	for _, d := range dl {
		if !errors.Is(d.Err, ErrClosed) {
			t.Errorf("dead letter %s error = %v; want ErrClosed", d.Envelope.ID, d.Err)
		}
	}
}

func TestBusPublishCancelledContext(t *testing.T) {
	b := newTestBus(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Publish(ctx, envelope(t, "e1", "T", `{}`)); !errors.Is(err, context.Canceled) {
		t.Errorf("Publish(cancelled ctx) = %v; want context.Canceled", err)
	}
}

func TestWebhookHandler(t *testing.T) {
	type hit struct {
		contentType string
		body        map[string]any
	}
	var mu sync.Mutex
	var hits []hit
	fail := 1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		mu.Lock()
		defer mu.Unlock()
		hits = append(hits, hit{r.Header.Get("Content-Type"), body})
		if fail > 0 {
			fail--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	b := newTestBus(t)
	h, err := b.WebhookHandler(srv.Client(), srv.URL+"/hook?token=secret", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Subscribe("webhook", mustPattern(t, `{"detail-type":["SegmentEntered"]}`), h); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), envelope(t, "e1", events.TypeSegmentEntered, `{"segment":"vip"}`)); err != nil {
		t.Fatal(err)
	}
	flush(t, b)
	mu.Lock()
	defer mu.Unlock()
	if len(hits) != 2 {
		t.Fatalf("webhook received %d requests; want 2 (one 503, one retry)", len(hits))
	}
	last := hits[1]
	if last.contentType != "application/json" {
		t.Errorf("Content-Type = %q; want application/json", last.contentType)
	}
	detail, _ := last.body["detail"].(map[string]any)
	if last.body["id"] != "e1" || last.body["detail-type"] != "SegmentEntered" || last.body["account"] != LocalAccount || detail["segment"] != "vip" {
		t.Errorf("webhook body = %v; want the full EventBridge event of e1", last.body)
	}
	if dl := b.DeadLetters(); len(dl) != 0 {
		t.Errorf("DeadLetters() = %v; want none", dl)
	}
}

func TestWebhookHandlerErrors(t *testing.T) {
	b := newTestBus(t)
	for _, target := range []string{"", "ftp://x/y", "/relative", "http://"} {
		if _, err := b.WebhookHandler(http.DefaultClient, target, 0); !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("WebhookHandler(%q) error = %v; want ErrInvalid", target, err)
		}
	}
	if _, err := b.WebhookHandler(nil, "http://localhost/x", 0); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("WebhookHandler(nil client) error = %v; want ErrInvalid", err)
	}

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer slow.Close()
	h, err := b.WebhookHandler(slow.Client(), slow.URL+"/path-secret", 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	err = h(context.Background(), envelope(t, "e1", "T", `{}`))
	if !errors.Is(err, fault.ErrRetryable) {
		t.Errorf("webhook timeout error = %v; want ErrRetryable", err)
	}
	if err != nil && strings.Contains(err.Error(), "path-secret") {
		t.Errorf("webhook error %q contains the URL path", err)
	}
}

func TestWriterHandler(t *testing.T) {
	b := newTestBus(t)
	var buf bytes.Buffer
	h := b.WriterHandler(&buf)
	for _, id := range []string{"e1", "e2"} {
		if err := h(context.Background(), envelope(t, id, "T", `{"k":"v"}`)); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("WriterHandler wrote %q; want 2 lines", buf.String())
	}
	for _, line := range lines {
		if err := pattern.ValidateEvent([]byte(line)); err != nil {
			t.Errorf("line %s is not a full event: %v", line, err)
		}
	}
}

func TestLogHandlerOmitsDetail(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	h := LogHandler(logger)
	if err := h(context.Background(), envelope(t, "e1", "T", `{"email":"someone@example.com"}`)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, `"event_id":"e1"`) {
		t.Errorf("log line %s lacks the event id", out)
	}
	if strings.Contains(out, "someone@example.com") {
		t.Errorf("log line %s contains detail content", out)
	}
}
