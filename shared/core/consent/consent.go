// Package consent is what a profile says about the purposes its person
// agreed to (marketing e-mail, advertising, analytics, …) and the one
// check every destination makes before sending: Allowed.
//
// Consent is kept in the golden record as attributes named
// "consent.<purpose>" whose value is a boolean (true: granted, false:
// withdrawn), so it travels with everything attributes already have:
// provenance (source, record id, observation time), merges, the GDPR
// export (profile and records) and erasure. Survivorship of these
// attributes is fixed (package golden): the latest observation wins,
// compared on golden.ObservedAt (a client clock cannot date a grant
// past the server's by more than golden.MaxFutureSkew), and on equal
// times a withdrawal wins over a grant.
//
// Consent arrives three ways, all as ordinary records: Segment's
// context.consent.categoryPreferences on any tracking call (FromSegment),
// a file or webhook mapping whose attribute is named consent.<purpose>
// (type bool), and the API (PUT /v1/profiles/{id}/consent, Record).
// docs/consent.md describes them.
package consent

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Prefix starts the name of every consent attribute.
const Prefix = "consent."

// Source is the record source of consent set through the API.
const Source = "consent"

// MaxPurposes bounds the purposes of one observation (a Segment
// message's categories, one API call).
const MaxPurposes = 50

// IsAttribute reports whether an attribute name holds consent.
func IsAttribute(name string) bool { return strings.HasPrefix(name, Prefix) }

// Attribute returns the attribute name of a purpose.
func Attribute(purpose string) string { return Prefix + purpose }

// Purpose normalises a purpose or category name: lower case, each run of
// characters other than a-z and 0-9 becomes one "_", none at either end
// ("Marketing and Analytics" → "marketing_and_analytics"). It reports
// false for a name that normalises to nothing or to more than 64
// characters.
func Purpose(name string) (string, bool) {
	var b strings.Builder
	gap := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if gap && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			gap = false
			continue
		}
		gap = true
	}
	s := b.String()
	return s, s != "" && len(s) <= 64
}

// State is the surviving consent of one purpose on a profile.
type State struct {
	Purpose    string    `json:"purpose"`
	Granted    bool      `json:"granted"`
	Source     string    `json:"source"`
	RecordID   string    `json:"record_id"`
	ObservedAt time.Time `json:"observed_at"`
}

// Of returns p's consent, one State per purpose, sorted by purpose. A
// consent attribute whose value is not a boolean counts as not granted.
func Of(p profile.Profile) []State {
	var out []State
	for name, a := range p.Attributes {
		if !IsAttribute(name) {
			continue
		}
		granted, _ := a.Value.(bool)
		out = append(out, State{Purpose: strings.TrimPrefix(name, Prefix), Granted: granted, Source: a.Source, RecordID: a.RecordID, ObservedAt: a.ObservedAt})
	}
	slices.SortFunc(out, func(a, b State) int { return strings.Compare(a.Purpose, b.Purpose) })
	return out
}

// Allowed reports whether p has granted every one of purposes. Every
// purpose a destination declares is required: a purpose the profile has
// no consent for (never observed) is not allowed, as is one withdrawn or
// holding a non-boolean value. No purposes at all: allowed.
func Allowed(p profile.Profile, purposes []string) bool {
	for _, purpose := range purposes {
		if v, _ := p.Attributes[Attribute(purpose)].Value.(bool); !v {
			return false
		}
	}
	return true
}

// Missing returns the purposes of purposes p has not granted, in order
// (what a skipped delivery is counted under).
func Missing(p profile.Profile, purposes []string) []string {
	var out []string
	for _, purpose := range purposes {
		if v, _ := p.Attributes[Attribute(purpose)].Value.(bool); !v {
			out = append(out, purpose)
		}
	}
	return out
}

// Warning is a consent value that was not taken, with its field.
type Warning struct {
	Field  string
	Reason string
}

// FromSegment returns the consent attributes of a Segment message: each
// category of context.consent.categoryPreferences (Segment's Consent
// Management object, e.g. {"Advertising": true, "Analytics": false})
// becomes consent.<purpose> with its boolean. Values that are not
// booleans, and names that do not normalise, are left out with a
// warning.
func FromSegment(row map[string]any) (map[string]any, []Warning) {
	c, _ := row["context"].(map[string]any)
	cons, _ := c["consent"].(map[string]any)
	prefs, ok := cons["categoryPreferences"]
	if !ok || prefs == nil {
		return nil, nil
	}
	const field = "context.consent.categoryPreferences"
	m, ok := prefs.(map[string]any)
	if !ok {
		return nil, []Warning{{field, "must be an object of category → boolean"}}
	}
	return Values(field, m)
}

// Values turns purpose → boolean pairs into consent attributes; field
// names them in warnings.
func Values(field string, m map[string]any) (map[string]any, []Warning) {
	out := map[string]any{}
	var warns []Warning
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		f := field + "." + name
		purpose, ok := Purpose(name)
		switch {
		case !ok:
			warns = append(warns, Warning{f, "not a purpose name (letters and digits, at most 64)"})
			continue
		case len(out) >= MaxPurposes:
			warns = append(warns, Warning{f, fmt.Sprintf("more than %d purposes", MaxPurposes)})
			continue
		}
		v, isBool := m[name].(bool)
		if !isBool {
			warns = append(warns, Warning{f, "must be true (granted) or false (withdrawn)"})
			continue
		}
		out[Attribute(purpose)] = v
	}
	if len(out) == 0 {
		return nil, warns
	}
	return out, warns
}

// Record builds the record of a consent observation made through the API
// for the profile p: source Source, the profile's identifiers (so that
// identity resolution routes it to p), the purposes' attributes,
// observed at observed (the server's clock when the caller names no
// time). id makes a retried call a no-op; receivedAt bounds observed
// (golden.ObservedAt).
func Record(p profile.Profile, id string, purposes map[string]bool, observed, receivedAt time.Time) profile.Record {
	attrs := make(map[string]any, len(purposes))
	for purpose, v := range purposes {
		attrs[Attribute(purpose)] = v
	}
	return profile.Record{
		Source: Source, ID: id, ObservedAt: observed.UTC(), ReceivedAt: receivedAt.UTC(),
		Identifiers: slices.Clone(p.Identifiers), Attributes: attrs, Location: "api:consent",
	}
}
