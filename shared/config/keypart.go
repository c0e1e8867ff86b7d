package config

import (
	"fmt"
	"strconv"
	"strings"
)

// KeyPart is one parsed part of a blocking key: an attribute, or a
// function of one (soundex(last_name_key), prefix(postcode, 3)).
type KeyPart struct {
	// Func is the function name, "" for the attribute's value itself.
	Func string
	// Attribute is the attribute the part reads.
	Attribute string
	// N is the length argument of prefix and suffix.
	N int
}

// keyFuncs maps the blocking-key functions to whether they take a length.
var keyFuncs = map[string]bool{
	"soundex": false, "prefix": true, "suffix": true, "year": false,
	"digits": false, "first_token": false, "last_token": false, "sorted_tokens": false,
}

// ParseKeyPart parses a blocking-key part: an attribute name, or
// fn(attribute) or fn(attribute, n) for prefix and suffix.
func ParseKeyPart(s string) (KeyPart, error) {
	s = strings.TrimSpace(s)
	open := strings.IndexByte(s, '(')
	if open < 0 {
		if s == "" || strings.ContainsAny(s, "(), ") {
			return KeyPart{}, fmt.Errorf("%q is not an attribute name or fn(attribute)", s)
		}
		return KeyPart{Attribute: s}, nil
	}
	if !strings.HasSuffix(s, ")") {
		return KeyPart{}, fmt.Errorf("%q: missing closing parenthesis (in a [flow, list] quote a part holding a comma: \"prefix(postcode, 3)\")", s)
	}
	fn := strings.TrimSpace(s[:open])
	takesN, ok := keyFuncs[fn]
	if !ok {
		return KeyPart{}, fmt.Errorf("%q: unknown function %q; expected soundex, prefix, suffix, year, digits, first_token, last_token or sorted_tokens", s, fn)
	}
	args := strings.Split(s[open+1:len(s)-1], ",")
	for i := range args {
		args[i] = strings.TrimSpace(args[i])
	}
	want := 1
	if takesN {
		want = 2
	}
	if len(args) != want || args[0] == "" {
		return KeyPart{}, fmt.Errorf("%q: %s takes %d argument(s)", s, fn, want)
	}
	p := KeyPart{Func: fn, Attribute: args[0]}
	if takesN {
		n, err := strconv.Atoi(args[1])
		if err != nil || n <= 0 {
			return KeyPart{}, fmt.Errorf("%q: the length must be a positive integer", s)
		}
		p.N = n
	}
	return p, nil
}

// CheckKeyPart reports whether s is a valid blocking-key part.
func CheckKeyPart(s string) error {
	_, err := ParseKeyPart(s)
	return err
}
