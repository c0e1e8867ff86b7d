package config

import (
	"strings"
	"testing"
	"time"
)

func TestValidateRFM(t *testing.T) {
	tests := []struct {
		name string
		rfm  string
		want []string // substrings of the error; none: valid
	}{
		{"valid", "rfm:\n  recency: last_order_at\n  frequency: orders_count\n  monetary: total_spent\n  refresh: 6h\n", nil},
		{"missing fields", "rfm:\n  recency: last_order_at\n", []string{"rfm.frequency: missing", "rfm.monetary: missing"}},
		{"bad refresh", "rfm:\n  recency: a\n  frequency: b\n  monetary: c\n  refresh: daily\n", []string{`rfm.refresh: "daily" is not a duration`}},
		{"short refresh", "rfm:\n  recency: a\n  frequency: b\n  monetary: c\n  refresh: 10s\n", []string{"rfm.refresh: 10s is too short"}},
		{"negative sample", "rfm:\n  recency: a\n  frequency: b\n  monetary: c\n  sample: -1\n", []string{"rfm.sample: -1 is negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("aurum.yaml", []byte(base+tt.rfm))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Parse = %v; want no error", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse = nil; want errors %v", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse = %v; want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestRFMDefaults(t *testing.T) {
	r := &RFM{}
	if got := r.RefreshEvery(); got != 24*time.Hour {
		t.Errorf("RefreshEvery() = %v; want 24h", got)
	}
	if got := r.SampleSize(); got != DefaultRFMSample {
		t.Errorf("SampleSize() = %d; want %d", got, DefaultRFMSample)
	}
}
