package profile

import "testing"

func TestSeqAfter(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"2", "1", true},
		{"1", "2", false},
		{"1", "1", false},
		{"10", "9", true},
		{"9", "10", false},
		{"100000000000000000000002", "99999999999999999999999", true},
		{"1", "", true},
		{"", "", false},
		{"", "1", false},
		{"0010", "9", true},
	} {
		if got := SeqAfter(tt.a, tt.b); got != tt.want {
			t.Errorf("SeqAfter(%q, %q) = %v; want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
