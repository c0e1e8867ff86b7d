package config

import "github.com/invopop/jsonschema"

// JSONSchemaExtend requires exactly one way of starting a trigger.
func (TriggerWhen) JSONSchemaExtend(s *jsonschema.Schema) {
	for _, k := range []string{"segment_entered", "segment_exited", "event", "attribute_changed"} {
		s.OneOf = append(s.OneOf, &jsonschema.Schema{Required: []string{k}})
	}
}

// JSONSchemaExtend requires exactly one action per entry.
func (TriggerAction) JSONSchemaExtend(s *jsonschema.Schema) {
	for _, k := range []string{"webhook", "event", "sqs", "destination"} {
		s.OneOf = append(s.OneOf, &jsonschema.Schema{Required: []string{k}})
	}
}
