package identity

import (
	"strings"

	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// placeholderAgree is the name similarity at which two records' attributes
// are taken to describe the same person.
const placeholderAgree = 0.8

// Fingerprint returns the attributes of rec that placeholder detection
// compares, or false when placeholder detection is off or rec has none of
// them.
func (e *Engine) Fingerprint(rec profile.Record) ([]string, bool) {
	if e.ph == nil {
		return nil, false
	}
	fp := make([]string, len(e.ph.attrs))
	any := false
	for i, a := range e.ph.attrs {
		fp[i] = attr(&rec, a)
		any = any || fp[i] != ""
	}
	return fp, any
}

// PlaceholderDetection reports whether placeholder detection is on.
func (e *Engine) PlaceholderDetection() bool { return e.ph != nil }

// Observe adds the fingerprint fp of a record holding an identifier value
// to reps, the value's distinct fingerprints so far (at most
// max_distinct+1 are kept), and reports whether the value is now a
// placeholder: seen with more than max_distinct fingerprints that
// disagree with each other.
func (e *Engine) Observe(reps [][]string, fp []string) ([][]string, bool) {
	if e.ph == nil {
		return reps, false
	}
	for _, r := range reps {
		if agree(r, fp) {
			return reps, len(reps) > e.ph.maxDistinct
		}
	}
	if len(reps) <= e.ph.maxDistinct {
		reps = append(reps, fp)
	}
	return reps, len(reps) > e.ph.maxDistinct
}

// agree reports whether two fingerprints may describe one person: every
// attribute present in both is similar.
func agree(a, b []string) bool {
	shared := 0
	for i := range a {
		if i >= len(b) || a[i] == "" || b[i] == "" {
			continue
		}
		shared++
		if Name(a[i], b[i]) < placeholderAgree {
			return false
		}
	}
	return shared > 0
}

func fpString(fp []string) string { return strings.Join(fp, "\x1f") }
