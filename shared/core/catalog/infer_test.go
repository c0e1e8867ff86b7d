package catalog

import (
	"encoding/json"
	"testing"
)

func TestInfer(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"empty", "", TypeMissing},
		{"null placeholder", "N/A", TypeMissing},
		{"nil", nil, TypeMissing},
		{"bool word", "Yes", TypeBoolean},
		{"bool json", true, TypeBoolean},
		{"integer", "42", TypeInteger},
		{"negative decimal", "-3.50", TypeNumber},
		{"json integer", json.Number("7"), TypeInteger},
		{"json decimal", json.Number("7.5"), TypeNumber},
		{"float", 2.5, TypeNumber},
		{"iso date", "1990-02-01", TypeDate},
		{"dmy date", "31/01/1990", TypeDate},
		{"dotted date", "01.02.1990", TypeDate},
		{"rfc3339", "2024-06-01T10:00:00Z", TypeTimestamp},
		{"german timestamp", "01.06.2024 10:30", TypeTimestamp},
		{"email", "Ann.Lee@Example.com", TypeEmail},
		{"not email", "a @ b", TypeString},
		{"uk phone", "07700 900123", TypePhone},
		{"e164", "+447700900123", TypePhone},
		{"zeros phone", "0000000000", TypePhone},
		{"us phone", "(555) 010-9999", TypePhone},
		{"long number", "4111111111111111", TypeInteger},
		{"url", "https://aurum.example/x", TypeURL},
		{"uuid", "123e4567-e89b-12d3-a456-426614174000", TypeUUID},
		{"text", "Leeds", TypeString},
		{"object", map[string]any{"a": 1.0}, TypeObject},
		{"array", []any{1.0}, TypeArray},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Infer(tc.in); got != tc.want {
				t.Errorf("Infer(%v) = %s; want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestDominant(t *testing.T) {
	tests := []struct {
		name  string
		types map[string]int64
		want  string
	}{
		{"only missing", map[string]int64{TypeMissing: 5}, TypeMissing},
		{"integers and decimals", map[string]int64{TypeInteger: 5, TypeNumber: 1, TypeString: 5}, TypeNumber},
		{"dates and timestamps", map[string]int64{TypeDate: 2, TypeTimestamp: 1, TypeString: 2}, TypeTimestamp},
		{"mostly emails", map[string]int64{TypeEmail: 9, TypeString: 1, TypeMissing: 20}, TypeEmail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := dominant(tc.types); got != tc.want {
				t.Errorf("dominant(%v) = %s; want %s", tc.types, got, tc.want)
			}
		})
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"john.smith@gmail.com", "j***@g***.com"},
		{"+447700900123", "+44********23"},
		{"07700 900123", "07*******23"},
		{"Zoë", "Z***"},
		{"C-1001", "C***"},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := Mask(tc.in); got != tc.want {
				t.Errorf("Mask(%q) = %q; want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestPlaceholder(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"+440000000000", true},
		{"+15555555555", true},
		{"1234567890", true},
		{"test@test.com", true},
		{"noreply@shop.fr", true},
		{"x@example.com", true},
		{"aaaa@mail.com", true},
		{"0000", true},
		{"+447700900123", false},
		{"zoe.dubois@gmail.com", false},
		{"C-1001", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := Placeholder(tc.in); got != tc.want {
				t.Errorf("Placeholder(%q) = %v; want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestTopK(t *testing.T) {
	tk := NewTopK(3)
	for i, k := range []string{"a", "b", "a", "c", "a", "d", "b", "a"} {
		_ = i
		tk.Add(k, k, 1)
	}
	got := tk.List()
	if len(got) != 3 || got[0].Key != "a" || got[0].Count != 4 || got[0].Err != 0 {
		t.Errorf("List() = %+v; want a×4 first, exact", got)
	}
	merged := mergeCounted(got, []Counted{{Key: "a", Count: 2}, {Key: "z", Count: 9}}, 3)
	if merged[0].Key != "z" || merged[1].Key != "a" || merged[1].Count != 6 {
		t.Errorf("mergeCounted = %+v; want z×9, a×6", merged)
	}
}
