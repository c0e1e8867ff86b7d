package destination_test

import (
	"errors"
	"testing"

	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

func TestTemplate(t *testing.T) {
	data := map[string]any{"profile": map[string]any{"id": "p1", "attributes": map[string]any{"email": `ann"@example.com`}}}
	tests := []struct {
		name, tpl, want string
		wantErr         error
	}{
		{"json values", `{"id": {{json .profile.id}}, "email": {{json .profile.attributes.email}}}`, `{"id": "p1", "email": "ann\"@example.com"}`, nil},
		{"missing key is null", `{"x": {{json .profile.attributes.phone}}}`, `{"x": null}`, nil},
		{"not json", `hello {{.profile.id}}`, "", fault.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := destination.ParseTemplate(tt.tpl)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tpl.Render(data)
			if string(got) != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("Render(%s) = %s, %v; want %s, %v", tt.tpl, got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := destination.ParseTemplate("{{"); err == nil {
		t.Error(`ParseTemplate("{{") = nil error; want a parse error`)
	}
}
