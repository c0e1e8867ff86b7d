package bus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// LogHandler returns a handler that logs each event's id, source,
// detail-type and detail size at info level. It never logs the detail,
// which can hold personal data; use WriterHandler to see whole events.
func LogHandler(logger *slog.Logger) Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, env events.Envelope) error {
		logger.InfoContext(ctx, "bus event",
			slog.String("event_id", env.ID),
			slog.String("source", env.Source),
			slog.String("detail_type", env.DetailType),
			slog.Int("detail_bytes", len(env.Detail)))
		return nil
	}
}

// WriterHandler returns a handler that writes each event, as the full
// EventBridge event JSON a target would receive, on its own line to w. It is
// meant for a terminal or a file the user chose to watch.
func (b *Bus) WriterHandler(w io.Writer) Handler {
	var mu sync.Mutex
	return func(_ context.Context, env events.Envelope) error {
		raw, err := b.EventJSON(env)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if _, err := w.Write(append(raw, '\n')); err != nil {
			return fmt.Errorf("bus: write event %s: %w", env.ID, err)
		}
		return nil
	}
}

// WebhookHandler returns a handler that POSTs the full EventBridge event
// JSON to target, as an EventBridge API destination would. Each request is
// bounded by timeout (10s if zero). A response other than 2xx is an error,
// so the bus retries it and finally dead-letters it.
func (b *Bus) WebhookHandler(client *http.Client, target string, timeout time.Duration) (Handler, error) {
	if client == nil {
		return nil, fault.Invalidf("bus: webhook: nil http client")
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fault.Invalidf("bus: webhook: target must be an absolute http(s) URL")
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	// Only the host goes into errors: paths and queries may carry tokens.
	host := u.Host
	return func(ctx context.Context, env events.Envelope) error {
		raw, err := b.EventJSON(env)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("bus: webhook %s: build request: %w", host, err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "aurum-local-bus")
		resp, err := client.Do(req)
		if err != nil {
			// *url.Error repeats the full URL; keep only its cause.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return fmt.Errorf("bus: webhook %s: event %s: %w: %w", host, env.ID, fault.ErrRetryable, err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return fmt.Errorf("bus: webhook %s: event %s: status %d: %w", host, env.ID, resp.StatusCode, fault.ErrRetryable)
		}
		return nil
	}, nil
}
