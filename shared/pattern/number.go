package pattern

import (
	"strconv"
	"strings"
)

// EventBridge numeric matching "is limited to values between -5.0e9 and
// +5.0e9 inclusive, with 15 digits of precision, or six digits to the right
// of the decimal point". numberKey turns a JSON number literal into that
// comparable form: the value in millionths, truncated toward zero, computed
// exactly from the decimal digits (no binary floating point), so 301.8 and
// 3.018e2 compare equal and 0.1+0.2-style rounding never shows.
const (
	numberLimitMicros = 5_000_000_000 * 1_000_000
	numberRange       = "[-5.0e9, 5.0e9]"
	// fracDigits is how many decimal places comparisons keep.
	fracDigits = 6
)

// numberKey returns the value of the JSON number literal lit in millionths,
// and false when lit is not a number or lies outside [-5e9, 5e9].
func numberKey(lit string) (int64, bool) {
	neg := strings.HasPrefix(lit, "-")
	s := strings.TrimPrefix(lit, "-")
	mant, expStr, hasExp := strings.Cut(strings.ToLower(s), "e")
	exp := 0
	if hasExp {
		e, ok := parseExponent(expStr)
		if !ok {
			return 0, false
		}
		exp = e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" || !allDigits(intPart) || !allDigits(frac) {
		return 0, false
	}
	digits := intPart + frac
	// The decimal point sits after point digits of digits.
	point := len(intPart) + exp
	for digits != "" && digits[0] == '0' {
		digits = digits[1:]
		point--
	}
	if digits == "" {
		return 0, true
	}
	// Keep the digits left of the point plus fracDigits more.
	keep := point + fracDigits
	if keep <= 0 {
		// |value| < 1e-6: truncates to zero.
		return 0, true
	}
	// 5e15 millionths has 16 digits; more means out of range.
	if keep > 16 {
		return 0, false
	}
	var whole string
	rest := ""
	if keep <= len(digits) {
		whole, rest = digits[:keep], digits[keep:]
	} else {
		whole = digits + strings.Repeat("0", keep-len(digits))
	}
	v, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	if v > numberLimitMicros || (v == numberLimitMicros && strings.Trim(rest, "0") != "") {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseExponent parses a JSON exponent ("+12", "-3", "7"). Huge exponents
// are clamped: they only ever push a value out of range or to zero.
func parseExponent(s string) (int, bool) {
	sign := 1
	switch {
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	case strings.HasPrefix(s, "-"):
		sign, s = -1, s[1:]
	}
	if s == "" || !allDigits(s) {
		return 0, false
	}
	s = strings.TrimLeft(s, "0")
	if len(s) > 6 {
		return sign * 1_000_000, true
	}
	n, err := strconv.Atoi("0" + s)
	if err != nil {
		return 0, false
	}
	return sign * n, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
