package normalize

import (
	"fmt"
	"strings"

	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// Transform names: string operations that run before a normalizer, in the
// order a field lists them.
const (
	TransformTrim              = "trim"
	TransformLower             = "lower"
	TransformUpper             = "upper"
	TransformCollapseSpaces    = "collapse_spaces"
	TransformDigits            = "digits"
	TransformStripLeadingZeros = "strip_leading_zeros"
	TransformNullIfEmpty       = "null_if_empty"
)

// TransformFunc returns the named transform:
//
//	trim                 remove surrounding white space
//	lower, upper         change case (Unicode)
//	collapse_spaces      trim, and collapse inner white space to one space
//	digits               keep ASCII digits only (may leave "")
//	strip_leading_zeros  trim, then drop leading zeros ("000" → "0")
//	null_if_empty        "" when s is only white space (a missing value)
//
// Callers resolve transforms once (when a mapping is built) and apply the
// functions per value.
func TransformFunc(name string) (func(string) string, error) {
	switch name {
	case TransformTrim:
		return strings.TrimSpace, nil
	case TransformLower:
		return strings.ToLower, nil
	case TransformUpper:
		return strings.ToUpper, nil
	case TransformCollapseSpaces:
		return collapseSpaces, nil
	case TransformDigits:
		return keepDigits, nil
	case TransformStripLeadingZeros:
		return stripLeadingZeros, nil
	case TransformNullIfEmpty:
		return nullIfEmpty, nil
	}
	return nil, fmt.Errorf("normalize: unknown transform %q (want trim, lower, upper, collapse_spaces, digits, strip_leading_zeros or null_if_empty): %w", name, fault.ErrInvalid)
}

// Transform applies the named transform to s.
func Transform(name, s string) (string, error) {
	f, err := TransformFunc(name)
	if err != nil {
		return "", err
	}
	return f(s), nil
}

func stripLeadingZeros(s string) string {
	s = strings.TrimSpace(s)
	t := strings.TrimLeft(s, "0")
	if len(t) < len(s) && (t == "" || t[0] < '0' || t[0] > '9') {
		// Keep one zero before a non-digit: "000" → "0", "00.5" → "0.5".
		return s[len(s)-len(t)-1:]
	}
	return t
}

func nullIfEmpty(s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return s
}
