package config

// Source returns the source with the given name.
func (c *Config) Source(name string) (*Source, bool) {
	for i := range c.Sources {
		if c.Sources[i].Name == name {
			return &c.Sources[i], true
		}
	}
	return nil, false
}

// IdentifierType returns the identifier type with the given name.
func (c *Config) IdentifierType(name string) (*IdentifierType, bool) {
	for i := range c.Identifiers {
		if c.Identifiers[i].Name == name {
			return &c.Identifiers[i], true
		}
	}
	return nil, false
}

// IdentifierPriority returns the index of the named identifier type in
// Identifiers: 0 is the highest priority. It returns -1 for a type that is
// not declared.
func (c *Config) IdentifierPriority(name string) int {
	for i := range c.Identifiers {
		if c.Identifiers[i].Name == name {
			return i
		}
	}
	return -1
}

// SourcesOfKind returns the sources of the given kind (KindFile, KindAPI,
// KindWebhook or KindBus), in declaration order.
func (c *Config) SourcesOfKind(kind string) []*Source {
	var out []*Source
	for i := range c.Sources {
		if c.Sources[i].Kind == kind {
			out = append(out, &c.Sources[i])
		}
	}
	return out
}
