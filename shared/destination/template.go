package destination

import (
	"bytes"
	"encoding/json"
	"text/template"

	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// Template is a parsed body template (see Templated).
type Template struct{ t *template.Template }

// ParseTemplate parses a body template. Besides text/template's builtins
// it offers json, which writes a value as JSON:
// {"email": {{json .profile.attributes.email}}}. Missing keys are empty.
func ParseTemplate(s string) (*Template, error) {
	t, err := template.New("body").Option("missingkey=zero").Funcs(template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
	}).Parse(s)
	if err != nil {
		return nil, err
	}
	return &Template{t: t}, nil
}

// Render executes the template over data; the result must be JSON.
// Errors are fault.ErrInvalid.
func (t *Template) Render(data map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	if err := t.t.Execute(&buf, data); err != nil {
		return nil, fault.Invalidf("body template: %v", err)
	}
	if !json.Valid(buf.Bytes()) {
		return nil, fault.Invalidf("body template did not produce JSON (use {{json ...}} for values)")
	}
	return buf.Bytes(), nil
}
