package catalog

import (
	"strings"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/normalize"
)

// fieldInfo is what the configuration says about one input field.
type fieldInfo struct {
	// MappedAs lists the mapping targets: "identifier:email",
	// "attribute:first_name", "event:revenue", "record_id", "observed_at".
	MappedAs []string
	// Normalizer is the normalizer of the field's first mapped use.
	Normalizer string
	// IdentType is the identifier type the field maps to, if any.
	IdentType string
	PII       bool
}

// sourceInfo describes a configured source for the catalog.
type sourceInfo struct {
	name   string
	kind   string
	fields map[string]*fieldInfo
}

// describe returns the sourceInfo of each source, in order; idents give
// the normalizers of identifier fields.
func describe(sources []config.Source, idents []config.IdentifierType) []*sourceInfo {
	norms := map[string]string{}
	for _, t := range idents {
		norms[t.Name] = t.Normalizer
	}
	out := make([]*sourceInfo, len(sources))
	for i := range sources {
		out[i] = newSourceInfo(norms, &sources[i])
	}
	return out
}

// newSourceInfo describes src; norms maps identifier types to their
// normalizers.
func newSourceInfo(norms map[string]string, src *config.Source) *sourceInfo {
	si := &sourceInfo{name: src.Name, kind: src.Kind, fields: map[string]*fieldInfo{}}
	add := func(f *config.Field, target, normalizer, ident string, pii bool) {
		if f == nil || f.Field == "" {
			return
		}
		fi := si.fields[f.Field]
		if fi == nil {
			fi = &fieldInfo{}
			si.fields[f.Field] = fi
		}
		fi.MappedAs = append(fi.MappedAs, target)
		if fi.Normalizer == "" {
			fi.Normalizer = normalizer
		}
		if fi.IdentType == "" {
			fi.IdentType = ident
		}
		fi.PII = fi.PII || pii
	}
	mp := &src.Mapping
	add(mp.RecordID, "record_id", "id", "", false)
	add(mp.ObservedAt, "observed_at", orDefault(fieldType(mp.ObservedAt), normalize.KindTimestamp), "", false)
	for i := range mp.Identifiers {
		idf := &mp.Identifiers[i]
		add(&idf.Field, "identifier:"+idf.Type, norms[idf.Type], idf.Type, true)
	}
	for name, f := range mp.Attributes {
		t := orDefault(f.Type, normalize.KindString)
		add(&f, "attribute:"+name, t, "", piiKind(t) || (!plainKind(t) && (piiName(f.Field) || piiName(name))))
	}
	if ev := mp.Event; ev != nil {
		add(&ev.Name, "event:name", normalize.KindString, "", false)
		add(ev.ID, "event:id", "id", "", false)
		add(ev.Timestamp, "event:timestamp", orDefault(fieldType(ev.Timestamp), normalize.KindTimestamp), "", false)
		for name, f := range ev.Properties {
			t := orDefault(f.Type, normalize.KindString)
			add(&f, "event:"+name, t, "", piiKind(t) || (!plainKind(t) && piiName(f.Field)))
		}
	}
	return si
}

func fieldType(f *config.Field) string {
	if f == nil {
		return ""
	}
	return f.Type
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func piiKind(kind string) bool {
	switch kind {
	case normalize.KindName, normalize.KindEmail, normalize.KindPhone:
		return true
	}
	return false
}

// plainKind reports kinds whose values say nothing about a person alone.
func plainKind(kind string) bool {
	switch kind {
	case normalize.KindBool, normalize.KindNumber, normalize.KindInteger, normalize.KindCountry, normalize.KindTimestamp:
		return true
	}
	return false
}

// piiWords flag personal fields by name, whatever their mapping.
var piiWords = []string{"name", "mail", "phone", "mobile", "tel", "address", "street", "birth", "dob", "zip", "postcode",
	"postal", "ip", "identifier", "ssn", "passport", "iban", "card", "userid", "user_id", "anonymousid", "customer"}

func piiName(field string) bool {
	f := strings.ToLower(field)
	for _, w := range piiWords {
		if w == "ip" || w == "tel" {
			// Whole segments only: "ip" and "tel" hide in "zip", "hotel".
			for _, part := range strings.FieldsFunc(f, func(r rune) bool { return r == '.' || r == '_' || r == ' ' || r == '-' }) {
				if part == w {
					return true
				}
			}
			continue
		}
		if strings.Contains(f, w) {
			return true
		}
	}
	return false
}
