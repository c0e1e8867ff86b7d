// Package mapping turns one input row of a source into a normalized
// profile.Record according to the source's mapping in aurum.yaml.
package mapping

import (
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/profile"
)

// Mapper maps the rows of one source. It is safe for concurrent use.
type Mapper struct {
	src config.Source
}

// New builds the mapper of the named source.
func New(cfg *config.Config, source string) (*Mapper, error) {
	panic("mapping.New: being written")
}

// FieldError reports one field that could not be mapped.
type FieldError struct {
	// Field is the input field (CSV column or JSON path).
	Field string `json:"field"`
	// Reason says what is wrong, without echoing the value.
	Reason string `json:"reason"`
	// Fatal errors reject the whole row; others drop only the value.
	Fatal bool `json:"fatal,omitempty"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Reason }

// Map maps one row. Values are strings (CSV) or JSON values (JSONL, API).
// The record's Source is set; ID is set when the mapping names a record id.
func (m *Mapper) Map(row map[string]any) (profile.Record, []FieldError) {
	panic("mapping.Map: being written")
}
