package config

import (
	"reflect"
	"strings"
)

// Kind returns the action's kind: the YAML key of its one set field
// (webhook, event, sqs, destination), or "" unless exactly one is set. It is the name
// under which shared/destination registers the kind's implementation, so a
// new kind is a new field here and a registered destination.Kind; nothing
// lists the kinds.
func (a TriggerAction) Kind() string {
	v := reflect.ValueOf(a)
	kind := ""
	for i := range v.NumField() {
		if f := v.Field(i); f.IsZero() {
			continue
		}
		if kind != "" {
			return ""
		}
		kind, _, _ = strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
	}
	return kind
}
