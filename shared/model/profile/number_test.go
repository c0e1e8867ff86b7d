package profile

import (
	"encoding/json"
	"testing"
)

func TestNumber(t *testing.T) {
	tests := []struct {
		name        string
		in          any
		want        float64
		ok, parseOK bool
	}{
		{"float64", 2.5, 2.5, true, true},
		{"int", 3, 3, true, true},
		{"int64", int64(-4), -4, true, true},
		{"json.Number", json.Number("1e3"), 1000, true, true},
		{"bad json.Number", json.Number("x"), 0, false, false},
		{"numeric string", " 42.5 ", 42.5, false, true},
		{"other string", "abc", 0, false, false},
		{"bool", true, 0, false, false},
		{"nil", nil, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := Number(tt.in); ok != tt.ok || (ok && got != tt.want) {
				t.Errorf("Number(%#v) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
			if got, ok := ParseNumber(tt.in); ok != tt.parseOK || (ok && got != tt.want) {
				t.Errorf("ParseNumber(%#v) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.parseOK)
			}
		})
	}
}
