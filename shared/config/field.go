package config

// plainField has Field's layout without its methods, so decoding into it
// does not recurse into Field.UnmarshalYAML.
type plainField Field

// UnmarshalYAML accepts the shorthand: a plain string means
// {field: <that string>}. A mapping is decoded as usual, by the same
// decoder, so strict mode still rejects unknown keys inside it.
func (f *Field) UnmarshalYAML(unmarshal func(any) error) error {
	var raw any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	if s, ok := raw.(string); ok {
		*f = Field{Field: s}
		return nil
	}
	var p plainField
	if err := unmarshal(&p); err != nil {
		return err
	}
	*f = Field(p)
	return nil
}

// UnmarshalYAML decodes {type: email, field: "E-mail", ...}. It is needed
// because the embedded Field's UnmarshalYAML would otherwise be promoted,
// and because both IdentifierField and Field have a key named type: here
// it names the identifier type, and Field.Type stays empty.
func (f *IdentifierField) UnmarshalYAML(unmarshal func(any) error) error {
	var raw struct {
		Type  string     `yaml:"type"`
		Field plainField `yaml:",inline"`
	}
	if err := unmarshal(&raw); err != nil {
		return err
	}
	raw.Field.Type = ""
	*f = IdentifierField{Type: raw.Type, Field: Field(raw.Field)}
	return nil
}
