package normalize

import (
	"net/mail"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

var (
	errEmailEmpty   = newError("email", "empty")
	errEmailTooLong = newError("email", "too long")
	errEmailSyntax  = newError("email", "not an address")
	errEmailForm    = newError("email", "display names, comments, quotes and angle brackets are not allowed")
	errEmailLocal   = newError("email", "local part empty or too long")
	errEmailDomain  = newError("email", "invalid domain")
	errEmailNoDot   = newError("email", "domain has no dot")
)

// Email normalizes one bare e-mail address: white space is trimmed, the
// syntax is checked with net/mail, the address is lower-cased (local part
// included) and the domain is converted to its ASCII (IDNA "xn--") form.
// Display names ("Ann <ann@example.com>"), comments, quoted local parts,
// angle brackets, several addresses, domains without a dot and domain
// literals are rejected.
//
// With gmailDots, addresses at gmail.com and googlemail.com lose the dots
// and the +tag of their local part and googlemail.com becomes gmail.com:
// "A.Nn+promo@GoogleMail.com" → "ann@gmail.com".
func Email(s string, gmailDots bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errEmailEmpty
	}
	if len(s) > 254 {
		return "", errEmailTooLong
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", errEmailSyntax
	}
	if a.Name != "" || a.Address != s {
		return "", errEmailForm
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if local == "" || len(local) > 64 {
		return "", errEmailLocal
	}
	domain, err = emailDomain(domain)
	if err != nil {
		return "", err
	}
	local = lowerNFC(local)
	if gmailDots && (domain == "gmail.com" || domain == "googlemail.com") {
		if i := strings.IndexByte(local, '+'); i >= 0 {
			local = local[:i]
		}
		local = strings.ReplaceAll(local, ".", "")
		if local == "" {
			return "", errEmailLocal
		}
		domain = "gmail.com"
	}
	return local + "@" + domain, nil
}

// emailDomain validates a domain and returns it lower-case in ASCII form.
func emailDomain(d string) (string, error) {
	if d == "" || len(d) > 253 {
		return "", errEmailDomain
	}
	ascii := true
	for i := 0; i < len(d); i++ {
		if d[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		d = strings.ToLower(d)
	} else {
		var err error
		if d, err = idna.Lookup.ToASCII(d); err != nil {
			return "", errEmailDomain
		}
	}
	if !strings.Contains(d, ".") {
		return "", errEmailNoDot
	}
	if len(d) > 253 {
		return "", errEmailDomain
	}
	// Host name rules (letters, digits, hyphens; labels of 1..63 bytes, not
	// starting or ending with a hyphen) and a top-level domain that is not
	// all digits.
	allDigits := true
	labelLen := 0
	for i := 0; i <= len(d); i++ {
		if i == len(d) || d[i] == '.' {
			if labelLen == 0 || labelLen > 63 || d[i-1] == '-' {
				return "", errEmailDomain
			}
			if i == len(d) && allDigits {
				return "", errEmailDomain
			}
			labelLen = 0
			allDigits = true
			continue
		}
		c := d[i]
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'z':
			allDigits = false
		case c == '-' && labelLen > 0:
			allDigits = false
		default:
			return "", errEmailDomain
		}
		labelLen++
	}
	return d, nil
}

// lowerNFC lower-cases s and, when it is not ASCII, composes it (NFC).
func lowerNFC(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return norm.NFC.String(strings.ToLower(s))
		}
	}
	return strings.ToLower(s)
}
