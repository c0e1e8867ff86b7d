package normalize

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	errBool           = newError("bool", "want yes/no, y/n, true/false, t/f, 1/0 or on/off")
	errNumberEmpty    = newError("number", "empty")
	errNumberTooLong  = newError("number", "too long")
	errNumberSyntax   = newError("number", "not a number")
	errNumberGrouping = newError("number", "ambiguous or misplaced thousands separators")
	errNumberRange    = newError("number", "out of range")
	errIntegerEmpty   = newError("integer", "empty")
	errIntegerSyntax  = newError("integer", "not a number")
	errIntegerFrac    = newError("integer", "has a fraction")
	errIntegerRange   = newError("integer", "out of range")
	errIntegerGroup   = newError("integer", "ambiguous or misplaced thousands separators")
)

var (
	trueWords  = [...]string{"true", "t", "yes", "y", "1", "on"}
	falseWords = [...]string{"false", "f", "no", "n", "0", "off"}
)

// Bool normalizes yes/no, y/n, true/false, t/f, 1/0 and on/off, in any
// case. Anything else is an error.
func Bool(s string) (bool, error) {
	s = strings.TrimSpace(s)
	if len(s) <= 5 {
		for _, w := range trueWords {
			if strings.EqualFold(s, w) {
				return true, nil
			}
		}
		for _, w := range falseWords {
			if strings.EqualFold(s, w) {
				return false, nil
			}
		}
	}
	return false, errBool
}

// MaxSafeInteger is the largest integer a JSON number (float64) holds
// exactly; Integer rejects larger magnitudes.
const MaxSafeInteger = 1<<53 - 1

// Number parses a decimal number written with decimal separator dec ('.'
// when 0, or ','). The other of '.' and ',' , spaces (including no-break
// spaces) and apostrophes are accepted as thousands separators, but only
// in groups of three digits before the decimal separator, so "1,234.50"
// and, with dec ',', "1 234,50" are 1234.5 while "1,5" with dec '.' is an
// error rather than a guess. Currency symbols ($, €, £, ...) are ignored;
// a leading sign and an exponent (1.5e3) are accepted.
func Number(s string, dec rune) (float64, error) {
	f, err := parseNumber(s, dec)
	switch err {
	case nil:
		return f, nil
	case errIntegerEmpty:
		return 0, errNumberEmpty
	case errIntegerGroup:
		return 0, errNumberGrouping
	case errIntegerRange:
		return 0, errNumberRange
	case errNumberTooLong:
		return 0, errNumberTooLong
	}
	return 0, errNumberSyntax
}

// Integer parses s like Number and requires an integral value ("12.00" is
// 12, "12.5" an error) within ±MaxSafeInteger.
func Integer(s string, dec rune) (int64, error) {
	f, err := parseNumber(s, dec)
	if err != nil {
		if err == errNumberTooLong {
			return 0, errIntegerRange
		}
		return 0, err
	}
	if f != math.Trunc(f) {
		return 0, errIntegerFrac
	}
	if math.Abs(f) > MaxSafeInteger {
		return 0, errIntegerRange
	}
	return int64(f), nil
}

// parseNumber returns the integer-kind errors; Number maps them.
func parseNumber(s string, dec rune) (float64, error) {
	if dec == 0 {
		dec = '.'
	}
	group := byte(',')
	if dec == ',' {
		group = '.'
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errIntegerEmpty
	}
	if len(s) > 64 {
		return 0, errNumberTooLong
	}
	// buf receives the plain form: sign, digits, '.', exponent.
	var buf [72]byte
	out := buf[:0]
	const (
		stInt = iota
		stFrac
		stExp
	)
	state := stInt
	sawSign, sawDigit := false, false
	var sepKind byte // grouping separator in use: group, ' ' or '\''
	var pending byte // separator seen since the last digit
	runLen, runs := 0, 0
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		i += n
		switch {
		case r >= '0' && r <= '9':
			if pending != 0 {
				// A separator between digits: groups of three after a
				// first group of one to three digits, one kind throughout.
				if sepKind != 0 && sepKind != pending ||
					runs == 0 && runLen > 3 || runs > 0 && runLen != 3 {
					return 0, errIntegerGroup
				}
				sepKind, pending = pending, 0
				runs++
				runLen = 0
			}
			out = append(out, byte(r))
			sawDigit = true
			if state == stInt {
				runLen++
			}
		case (r == '-' || r == '+') && !sawSign && !sawDigit && state == stInt:
			sawSign = true
			if r == '-' {
				out = append(out, '-')
			}
		case unicode.Is(unicode.Sc, r) && state != stExp:
			// currency symbol: ignored
		case state == stInt && (r == rune(group) || r == '\'' || unicode.IsSpace(r)):
			k := byte(r)
			if unicode.IsSpace(r) {
				k = ' '
			}
			switch {
			case !sawDigit && k == ' ':
				// "$ 12"
			case !sawDigit:
				return 0, errIntegerSyntax
			case pending == ' ' && k == ' ':
			case pending != 0:
				return 0, errIntegerGroup
			default:
				pending = k
			}
		case r == dec && state == stInt:
			if pending != 0 || sepKind != 0 && runLen != 3 {
				return 0, errIntegerGroup
			}
			state = stFrac
			out = append(out, '.')
		case (r == 'e' || r == 'E') && sawDigit && state != stExp && sepKind == 0 && pending == 0:
			state = stExp
			out = append(out, 'e')
			if i < len(s) && (s[i] == '-' || s[i] == '+') {
				out = append(out, s[i])
				i++
			}
		default:
			if unicode.IsSpace(r) {
				// space before a trailing currency symbol: "12,50 €"
				continue
			}
			return 0, errIntegerSyntax
		}
	}
	if !sawDigit || pending != 0 && pending != ' ' {
		return 0, errIntegerSyntax
	}
	if state == stInt && sepKind != 0 && runLen != 3 {
		return 0, errIntegerGroup
	}
	f, err := strconv.ParseFloat(string(out), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, errIntegerRange
		}
		return 0, errIntegerSyntax
	}
	return f, nil
}
