package api

import (
	"maps"
	"slices"

	"github.com/aurum-cdp/aurum/shared/core/mapping"
)

// reasonTraitNotAllowed is the warning of a trait a source's
// allowed_traits does not list.
const reasonTraitNotAllowed = "not in the source's allowed_traits; dropped"

// traitFilter keeps the traits a source allows (config
// Source.AllowedTraits); nil allows every trait.
type traitFilter map[string]bool

func newTraitFilter(allowed []string) traitFilter {
	if len(allowed) == 0 {
		return nil
	}
	f := make(traitFilter, len(allowed))
	for _, name := range allowed {
		f[name] = true
	}
	return f
}

// apply returns row with the traits and context.traits keys f does not
// allow removed (row itself is not changed) and a warning per removed key.
func (f traitFilter) apply(row map[string]any) (map[string]any, []mapping.FieldError) {
	if f == nil {
		return row, nil
	}
	var warns []mapping.FieldError
	out := row
	if t, ok := row["traits"].(map[string]any); ok {
		if kept, dropped := f.keep(t, "traits."); dropped != nil {
			out = maps.Clone(row)
			out["traits"] = kept
			warns = append(warns, dropped...)
		}
	}
	if c, ok := row["context"].(map[string]any); ok {
		if t, ok := c["traits"].(map[string]any); ok {
			if kept, dropped := f.keep(t, "context.traits."); dropped != nil {
				if len(warns) == 0 {
					out = maps.Clone(row)
				}
				c = maps.Clone(c)
				c["traits"] = kept
				out["context"] = c
				warns = append(warns, dropped...)
			}
		}
	}
	return out, warns
}

// keep returns the allowed keys of traits and a warning per other key,
// in key order (nil when every key is allowed).
func (f traitFilter) keep(traits map[string]any, prefix string) (map[string]any, []mapping.FieldError) {
	var dropped []mapping.FieldError
	kept := make(map[string]any, len(traits))
	for _, k := range slices.Sorted(maps.Keys(traits)) {
		if f[k] {
			kept[k] = traits[k]
			continue
		}
		dropped = append(dropped, mapping.FieldError{Field: prefix + k, Reason: reasonTraitNotAllowed})
	}
	return kept, dropped
}
