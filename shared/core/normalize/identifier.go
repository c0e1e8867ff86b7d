package normalize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxIdentifierLen bounds identifier values in bytes: they are store keys.
const MaxIdentifierLen = 512

var (
	errIDEmpty     = newError("id", "empty")
	errIDTooLong   = newError("id", "too long")
	errIDText      = newError("id", "not valid UTF-8 or contains control characters")
	errDigitsNone  = newError("digits", "no digits")
	errDigitsLong  = newError("digits", "too long")
	errLowerEmpty  = newError("lower", "empty")
	errLowerTooLng = newError("lower", "too long")
	errLowerText   = newError("lower", "not valid UTF-8 or contains control characters")
)

// ID normalizes an opaque identifier (customer or CRM id, device id): white
// space is trimmed and inner runs of white space collapse to one space;
// case is kept. "  C-1001 " → "C-1001".
func ID(s string) (string, error) {
	s = collapseSpaces(s)
	switch {
	case s == "":
		return "", errIDEmpty
	case len(s) > MaxIdentifierLen:
		return "", errIDTooLong
	case !cleanText(s):
		return "", errIDText
	}
	return s, nil
}

// Lower normalizes a case-insensitive identifier: trimmed and lower-cased.
// " AbC-9 " → "abc-9".
func Lower(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errLowerEmpty
	case len(s) > MaxIdentifierLen:
		return "", errLowerTooLng
	case !cleanText(s):
		return "", errLowerText
	}
	return strings.ToLower(s), nil
}

// Digits keeps the ASCII digits of s and fails when there are none.
// "0044-123 456" → "0044123456".
func Digits(s string) (string, error) {
	d := keepDigits(s)
	switch {
	case d == "":
		return "", errDigitsNone
	case len(d) > MaxIdentifierLen:
		return "", errDigitsLong
	}
	return d, nil
}

// keepDigits returns the ASCII digits of s, without allocating when s is
// only digits.
func keepDigits(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	if n == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(n)
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// collapseSpaces trims s and replaces every inner run of white space with
// one space. It does not allocate when s is already collapsed.
func collapseSpaces(s string) string {
	s = strings.TrimSpace(s)
	clean := true
	prevSpace := false
	for _, r := range s {
		sp := unicode.IsSpace(r)
		if sp && (r != ' ' || prevSpace) {
			clean = false
			break
		}
		prevSpace = sp
	}
	if clean {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// cleanText reports whether s is valid UTF-8 without control characters.
func cleanText(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || unicode.IsControl(r) {
			return false
		}
		i += n
	}
	return true
}

// validText reports whether s is valid UTF-8 whose only control characters
// are tab, newline and carriage return (free text).
func validText(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return false
		}
		i += n
	}
	return true
}
