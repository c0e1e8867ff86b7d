package catalog

import (
	"encoding/json"
	"strings"
	"time"
	"unicode"

	"github.com/aurum-cdp/aurum/shared/core/normalize"
)

// Inferred types of raw values, from the most to the least specific.
const (
	TypeMissing   = "missing"
	TypeBoolean   = "boolean"
	TypeInteger   = "integer"
	TypeNumber    = "number"
	TypeDate      = "date"
	TypeTimestamp = "timestamp"
	TypeEmail     = "email"
	TypePhone     = "phone"
	TypeURL       = "url"
	TypeUUID      = "uuid"
	TypeString    = "string"
	TypeObject    = "object"
	TypeArray     = "array"
)

// dateLayouts and timestampLayouts are the forms Infer recognizes. Both
// day-first and month-first slashed dates parse (02/01/2006 is either).
var (
	dateLayouts = []string{"2006-01-02", "02/01/2006", "01/02/2006", "2/1/2006", "02.01.2006", "2006/01/02", "20060102"}
	tsLayouts   = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04",
		"02.01.2006 15:04", "02/01/2006 15:04", "01/02/2006 15:04", "2006-01-02T15:04:05.000Z0700", time.RFC1123Z}
)

// Infer returns the type of one raw value as read from a source: a CSV
// string, or a decoded JSON value (json.Number, float64, bool, nil,
// map[string]any, []any). Missing placeholders ("", "null", "n/a", ...:
// normalize.IsMissing) are TypeMissing.
func Infer(v any) string {
	switch x := v.(type) {
	case nil:
		return TypeMissing
	case bool:
		return TypeBoolean
	case float64:
		if x == float64(int64(x)) {
			return TypeInteger
		}
		return TypeNumber
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return TypeInteger
		}
		return TypeNumber
	case int, int64:
		return TypeInteger
	case map[string]any:
		return TypeObject
	case []any:
		return TypeArray
	case string:
		return InferString(x)
	}
	return TypeString
}

// InferString returns the type of a string value.
func InferString(s string) string {
	s = strings.TrimSpace(s)
	if normalize.IsMissing(s) {
		return TypeMissing
	}
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "y", "n", "t", "f":
		return TypeBoolean
	}
	c := s[0]
	switch {
	case c >= '0' && c <= '9', c == '+', c == '-', c == '(', c == '.':
		if t := numeric(s); t != "" {
			return t
		}
	}
	if strings.ContainsRune(s, '@') {
		if looksEmail(s) {
			return TypeEmail
		}
		return TypeString
	}
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		return TypeURL
	}
	if len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' && isHex(strings.ReplaceAll(s, "-", "")) {
		return TypeUUID
	}
	return TypeString
}

// numeric classifies strings that start like a number: numbers, dates,
// timestamps and phone numbers; "" for anything else.
func numeric(s string) string {
	digits, other, seps := 0, 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' || r == '/' || r == ':' || r == '+':
			seps++
		default:
			other++
		}
	}
	if digits == 0 {
		return ""
	}
	if other == 0 || strings.ContainsAny(s, "TZ") {
		if len(s) >= 8 && len(s) <= 10 {
			for _, l := range dateLayouts {
				if _, err := time.Parse(l, s); err == nil {
					return TypeDate
				}
			}
		}
		if len(s) >= 16 {
			for _, l := range tsLayouts {
				if _, err := time.Parse(l, s); err == nil {
					return TypeTimestamp
				}
			}
		}
	}
	if other > 0 {
		return ""
	}
	// Phones: a leading + or 0, or separators, with 7 to 15 digits.
	if digits >= 7 && digits <= 15 && (s[0] == '+' || s[0] == '(' || (s[0] == '0' && seps == 0 && digits >= 9) ||
		strings.ContainsAny(s, " ()") || strings.Count(s, "-") >= 2) {
		return TypePhone
	}
	if isInteger(s) {
		return TypeInteger
	}
	if isDecimal(s) {
		return TypeNumber
	}
	return ""
}

func isInteger(s string) bool {
	if s[0] == '-' || s[0] == '+' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isDecimal(s string) bool {
	if s[0] == '-' || s[0] == '+' {
		s = s[1:]
	}
	whole, frac, ok := strings.Cut(s, ".")
	if !ok || (whole == "" && frac == "") {
		return false
	}
	return (whole == "" || isInteger(whole)) && (frac == "" || isInteger(frac))
}

func isHex(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.ASCII_Hex_Digit, r) {
			return false
		}
	}
	return true
}

func looksEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.ContainsAny(s, " ,;<>") &&
		!strings.HasSuffix(domain, ".") && !strings.HasPrefix(domain, ".")
}

// dominant returns the type of a field from its tally of value types: the
// most frequent non-missing type, where integers count as numbers when
// decimals are present and dates as timestamps when timestamps are.
func dominant(types map[string]int64) string {
	t := map[string]int64{}
	for k, n := range types {
		if k != TypeMissing {
			t[k] = n
		}
	}
	if t[TypeNumber] > 0 && t[TypeInteger] > 0 {
		t[TypeNumber] += t[TypeInteger]
		delete(t, TypeInteger)
	}
	if t[TypeTimestamp] > 0 && t[TypeDate] > 0 {
		t[TypeTimestamp] += t[TypeDate]
		delete(t, TypeDate)
	}
	best, bestN := TypeMissing, int64(0)
	for _, k := range []string{TypeBoolean, TypeInteger, TypeNumber, TypeDate, TypeTimestamp, TypeEmail, TypePhone,
		TypeURL, TypeUUID, TypeString, TypeObject, TypeArray} {
		if t[k] > bestN {
			best, bestN = k, t[k]
		}
	}
	return best
}
