package catalog

import (
	"strings"
	"unicode/utf8"
)

// Mask hides a personal value while keeping its shape recognizable:
// emails become j***@g***.com, phones +44******23, other values their
// first character and a run of stars (J***). Masked values carry no
// more than three characters of the original.
func Mask(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if local, domain, ok := strings.Cut(s, "@"); ok {
		out := first(local) + "***@"
		label, tld, ok := cutLast(domain, ".")
		if !ok {
			return out + first(domain) + "***"
		}
		return out + first(label) + "***." + tld
	}
	if t := InferString(s); t == TypePhone || t == TypeInteger {
		digits := 0
		for i := 0; i < len(s); i++ {
			if s[i] >= '0' && s[i] <= '9' {
				digits++
			}
		}
		if digits >= 6 {
			var b strings.Builder
			seen := 0
			for i := 0; i < len(s); i++ {
				c := s[i]
				if c < '0' || c > '9' {
					if c == '+' {
						b.WriteByte(c)
					}
					continue
				}
				seen++
				if seen <= 2 || seen > digits-2 {
					b.WriteByte(c)
				} else {
					b.WriteByte('*')
				}
			}
			return b.String()
		}
	}
	return first(s) + "***"
}

func first(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || n == 0 {
		return ""
	}
	return string(r)
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// Placeholder reports whether a normalized identifier value looks like a
// stand-in rather than a real value: a run of one repeated digit
// (+440000000000), a counting sequence (1234567890), or an email whose
// local part or domain is a known filler (test@, noreply@, @example.com).
// Such values are shown in clear: they identify nobody.
func Placeholder(value string) bool {
	v := strings.ToLower(strings.TrimSpace(value))
	if v == "" {
		return false
	}
	if local, domain, ok := strings.Cut(v, "@"); ok {
		switch strings.TrimRight(local, "0123456789") {
		case "test", "none", "null", "na", "n/a", "unknown", "noemail", "no-email", "noreply", "no-reply",
			"donotreply", "do-not-reply", "nobody", "asdf", "xxx", "abc", "a", "x", "email", "info", "dummy", "fake":
			return true
		}
		switch domain {
		case "example.com", "example.org", "example.net", "test.com", "none.com", "noemail.com", "email.com", "domain.com":
			return true
		}
		return repeated(local, 3)
	}
	switch v {
	case "unknown", "null", "none", "n/a", "na", "-", "0", "1", "x", "xxx", "test", "123", "1234", "12345", "123456":
		return true
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, v)
	if len(digits) >= 6 {
		if strings.Contains(digits, "000000") || strings.Contains(digits, "999999") || strings.Contains(digits, "111111") ||
			strings.Contains(digits, "5555555") || strings.Contains(digits, "1234567") || strings.Contains(digits, "9876543") {
			return true
		}
	}
	return len(v) >= 4 && repeated(v, len(v))
}

// repeated reports whether s starts with n copies of one character.
func repeated(s string, n int) bool {
	if len(s) < n || n == 0 {
		return false
	}
	for i := 1; i < n; i++ {
		if s[i] != s[0] {
			return false
		}
	}
	return true
}
