package apicall

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"Mon, 07 Dec 2026 10:00:30 GMT", 30 * time.Second},
		{"Mon, 07 Dec 2026 09:00:00 GMT", 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := RetryAfter(tt.in, now); got != tt.want {
				t.Errorf("RetryAfter(%q) = %v; want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestDoStatuses(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    map[string]string
		body      string
		retryable bool
		after     time.Duration
		kind      error
	}{
		{"2xx", 200, nil, `{}`, false, 0, nil},
		{"429 with Retry-After", 429, map[string]string{"Retry-After": "7"}, ``, true, 7 * time.Second, fault.ErrRetryable},
		{"503", 503, nil, ``, true, 0, fault.ErrRetryable},
		{"400", 400, nil, `{"message":"bad field for ann@example.com"}`, false, 0, fault.ErrInvalid},
		{"401", 401, nil, ``, false, 0, fault.ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if got := r.Header.Get("Content-Type"); got != "application/json" {
					t.Errorf("Content-Type = %q; want application/json", got)
				}
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			_, err := Client{HTTP: srv.Client()}.Do(context.Background(), Request{Method: "POST", URL: srv.URL, Body: map[string]int{"a": 1}})
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("Do() error = %v; want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.kind) {
				t.Fatalf("Do() error = %v; want %v", err, tt.kind)
			}
			if got, _ := destination.RetryAfter(err); got != tt.after {
				t.Errorf("RetryAfter(Do()) = %v; want %v", got, tt.after)
			}
			var se *StatusError
			if errors.As(err, &se) && se.Message != "" && contains(se.Message, "ann@example.com") {
				t.Errorf("StatusError message %q carries an e-mail address", se.Message)
			}
		})
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
