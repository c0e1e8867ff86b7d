package adaudience

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

func TestSHA256(t *testing.T) {
	// The X Ads API documentation's example: sha256("adsapi").
	if got, want := SHA256("adsapi"), "49e0be2aeccfb51a8dee4c945c8a70a9ac500cf6f5cb08112575f74db9b1470d"; got != want {
		t.Errorf("SHA256(adsapi) = %s; want %s", got, want)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name, in string
		want     time.Duration
	}{
		{"seconds", "120", 2 * time.Minute},
		{"http date", "Mon, 07 Dec 2026 10:00:45 GMT", 45 * time.Second},
		{"date passed", "Mon, 07 Dec 2026 09:00:00 GMT", 0},
		{"negative", "-5", 0},
		{"garbage", "soon", 0},
		{"absent", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := RetryAfter(c.in, now); got != c.want {
				t.Errorf("RetryAfter(%q) = %v; want %v", c.in, got, c.want)
			}
		})
	}
}

func TestStatusError(t *testing.T) {
	cases := []struct {
		status int
		kind   error
	}{
		{429, fault.ErrRetryable}, {408, fault.ErrRetryable}, {500, fault.ErrRetryable}, {503, fault.ErrRetryable},
		{401, fault.ErrUnauthorized}, {403, fault.ErrForbidden}, {404, fault.ErrNotFound}, {413, fault.ErrTooLarge}, {400, fault.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(strconv.Itoa(c.status), func(t *testing.T) {
			err := StatusError("x", c.status, "r", 3*time.Second)
			if !errors.Is(err, c.kind) {
				t.Errorf("StatusError(%d) = %v; want kind %v", c.status, err, c.kind)
			}
			d, ok := destination.RetryAfter(err)
			if retry := c.kind == fault.ErrRetryable; ok != retry || (retry && d != 3*time.Second) {
				t.Errorf("RetryAfter(StatusError(%d)) = %v, %v; want %v", c.status, d, ok, retry)
			}
		})
	}
}
