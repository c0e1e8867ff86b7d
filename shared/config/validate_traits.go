package config

import (
	"maps"
	"slices"
	"strings"
)

// traitPrefixes are the message objects AllowedTraits filters.
var traitPrefixes = []string{"traits.", "context.traits."}

// allowedTraits checks the allowed_traits of source src at path p: api
// sources only, non-empty unique top-level names, and every mapped
// traits.<name> field among them (a mapped trait the list drops could
// never be set).
func (v *validator) allowedTraits(p string, src *Source) {
	if len(src.AllowedTraits) == 0 {
		return
	}
	tp := p + ".allowed_traits"
	if src.Kind != KindAPI {
		v.errorf(tp, "applies only to api sources")
		return
	}
	seen := make(map[string]bool, len(src.AllowedTraits))
	for j, name := range src.AllowedTraits {
		jp := indexPath(tp, j)
		switch {
		case strings.TrimSpace(name) == "":
			v.errorf(jp, "empty trait name")
		case strings.ContainsAny(name, ". \t"):
			v.errorf(jp, "%q must be a top-level trait name (no dots or spaces)", name)
		case seen[name]:
			v.errorf(jp, "%q is listed twice", name)
		}
		seen[name] = true
	}
	m := &src.Mapping
	for j := range m.Identifiers {
		v.traitField(indexPath(p+".mapping.identifiers", j)+".field", &m.Identifiers[j].Field, seen)
	}
	for _, name := range slices.Sorted(maps.Keys(m.Attributes)) {
		f := m.Attributes[name]
		v.traitField(childPath(p+".mapping.attributes", name)+".field", &f, seen)
	}
}

// traitField reports a mapped trait (field or fallback) not in allowed.
func (v *validator) traitField(p string, f *Field, allowed map[string]bool) {
	for _, field := range append([]string{f.Field}, f.Fallback...) {
		if name, ok := TraitName(field); ok && !allowed[name] {
			v.errorf(p, "maps trait %q, which allowed_traits does not list: it could never be set", name)
		}
	}
}

// TraitName returns the trait a message field path reads
// (traits.email → email, context.traits.phone → phone) and whether it
// reads one.
func TraitName(field string) (string, bool) {
	for _, pre := range traitPrefixes {
		if rest, ok := strings.CutPrefix(field, pre); ok && rest != "" {
			name, _, _ := strings.Cut(rest, ".")
			return name, true
		}
	}
	return "", false
}
