package config

import (
	"strings"
	"testing"
)

func TestValidateConsentAttributes(t *testing.T) {
	tests := []struct {
		name string
		attr string
		want string // "" for valid
	}{
		{"bool purpose", `consent.email: {field: Opt-in, type: bool}`, ""},
		{"underscored purpose", `consent.marketing_and_analytics: {field: MA, type: bool}`, ""},
		{"not a bool", `consent.email: {field: Opt-in}`, `11:24: sources[0].mapping.attributes["consent.email"].type: "" for a consent attribute; expected bool`},
		{"purpose form", `consent.E-mail: {field: Opt-in, type: bool}`, `11:25: sources[0].mapping.attributes["consent.E-mail"]: consent purpose "E-mail": expected lower-case letters, digits and _`},
		{"empty purpose", `"consent.": {field: Opt-in, type: bool}`, `consent purpose "": expected`},
		{"other dotted names untouched", `prefs.email: {field: Opt-in}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base + "    mapping:\n      attributes:\n        " + tt.attr + "\n"
			got := problems(t, in)
			if tt.want == "" {
				if len(got) != 0 {
					t.Errorf("problems(%s) = %q; want none", tt.attr, got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0], tt.want) {
				t.Errorf("problems(%s) = %q; want one containing %q", tt.attr, got, tt.want)
			}
		})
	}
}

func TestValidateConsentSurvivorship(t *testing.T) {
	in := base + "golden:\n  survivorship:\n    attributes:\n      consent.email: source_priority\n      plan: longest\n"
	got := problems(t, in)
	if len(got) != 1 || !strings.Contains(got[0], `golden.survivorship.attributes["consent.email"]: consent attributes keep the latest observation`) {
		t.Errorf("problems = %q; want one refusing a strategy for consent.email", got)
	}
}
