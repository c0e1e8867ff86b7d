package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/destination/webhook"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// independentSign is the documented recipe, written without the package.
func independentSign(secret, ts, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + body))
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

func TestSignMatchesRecipe(t *testing.T) {
	tests := []struct {
		name, secret, body string
		ts                 int64
	}{
		{"simple", "whsec_test", `{"a":1}`, 1767225600},
		{"empty body", "k", "", 1},
		{"unicode body", "k", `{"name":"Zoë"}`, 1767225601},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := webhook.Sign([]byte(tt.secret), tt.ts, []byte(tt.body))
			want := independentSign(tt.secret, strconv.FormatInt(tt.ts, 10), tt.body)
			if got != want {
				t.Errorf("Sign(%q, %d, %q) = %s; want %s", tt.secret, tt.ts, tt.body, got, want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1767225600, 0)
	secret := []byte("whsec_test")
	body := []byte(`{"trigger_id":"welcome"}`)
	good := webhook.Sign(secret, now.Unix(), body)
	ts := strconv.FormatInt(now.Unix(), 10)
	tests := []struct {
		name    string
		sig, ts string
		body    []byte
		secret  []byte
		ok      bool
	}{
		{"valid", good, ts, body, secret, true},
		{"valid among rotated signatures", "v1=00," + good, ts, body, secret, true},
		{"wrong secret", good, ts, body, []byte("other"), false},
		{"tampered body", good, ts, []byte(`{"trigger_id":"welcomX"}`), secret, false},
		{"other timestamp", good, strconv.FormatInt(now.Unix()-1, 10), body, secret, false},
		{"stale timestamp", webhook.Sign(secret, now.Unix()-600, body), strconv.FormatInt(now.Unix()-600, 10), body, secret, false},
		{"timestamp not a number", good, "yesterday", body, secret, false},
		{"no scheme", good[3:], ts, body, secret, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhook.Verify(tt.secret, tt.sig, tt.ts, tt.body, now, 0)
			if (err == nil) != tt.ok {
				t.Errorf("Verify(%q, %q) = %v; want ok=%v", tt.sig, tt.ts, err, tt.ok)
			}
			if err != nil && !errors.Is(err, fault.ErrUnauthorized) {
				t.Errorf("Verify error %v; want fault.ErrUnauthorized", err)
			}
		})
	}
}

func TestSend(t *testing.T) {
	secret := []byte("whsec_test")
	now := time.Unix(1767225600, 0)
	tests := []struct {
		name      string
		statuses  []int
		wantCalls int32
		wantErr   error
	}{
		{"first attempt", []int{200}, 1, nil},
		{"retries 5xx then succeeds", []int{503, 500, 204}, 3, nil},
		{"retries 429", []int{429, 200}, 2, nil},
		{"gives up after max attempts", []int{500, 500, 500, 500, 500}, 3, fault.ErrRetryable},
		{"4xx is not retried", []int{400, 200}, 1, fault.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				body, _ := io.ReadAll(r.Body)
				if err := webhook.Verify(secret, r.Header.Get("X-Aurum-Signature"), r.Header.Get("X-Aurum-Timestamp"), body, now, 0); err != nil {
					t.Errorf("attempt %d: %v", n, err)
				}
				if got := r.Header.Get("X-Aurum-Delivery"); got != "d1" {
					t.Errorf("X-Aurum-Delivery = %q; want d1", got)
				}
				if got := r.Header.Get("X-Custom"); got != "yes" {
					t.Errorf("X-Custom = %q; want yes", got)
				}
				w.WriteHeader(tt.statuses[n-1])
			}))
			defer srv.Close()
			s, err := webhook.NewSender(srv.Client(), webhook.WithClock(func() time.Time { return now }),
				webhook.WithRetry(3, time.Millisecond, time.Millisecond),
				webhook.WithSleep(func(context.Context, time.Duration) error { return nil }))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), webhook.Request{
				URL: srv.URL + "/hook?token=secret", Body: []byte(`{"x":1}`), Secret: secret,
				DeliveryID: "d1", Headers: map[string]string{"X-Custom": "yes"},
			})
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("Send made %d calls; want %d", got, tt.wantCalls)
			}
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("Send = %v; want nil", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("Send = %v; want %v", err, tt.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), "token") || strings.Contains(err.Error(), "/hook")) {
				t.Errorf("Send error %q names the URL path or query; want only the host", err)
			}
		})
	}
}
