package normalize

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

var (
	errPhoneEmpty    = newError("phone", "empty")
	errPhoneTooLong  = newError("phone", "too long")
	errPhoneNoRegion = newError("phone", "no country code and no default region")
	errPhoneParse    = newError("phone", "not a phone number")
	errPhoneInvalid  = newError("phone", "not a valid number for its country")
)

// Phone normalizes a phone number to E.164 ("+447700900123") with
// github.com/nyaruka/phonenumbers. Numbers written without a country code
// are read in region (ISO 3166-1 alpha-2, e.g. "GB"); "+" and the "00"
// international prefix introduce a country code. Spaces, dashes, dots and
// parentheses are accepted; an extension ("x123", "ext. 123") is dropped.
// Numbers that are not valid for their country (wrong length, unassigned
// ranges) are rejected.
func Phone(s, region string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errPhoneEmpty
	}
	if len(s) > 64 {
		return "", errPhoneTooLong
	}
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if len(region) == 2 && (region[0] >= 'a' || region[1] >= 'a') {
		region = strings.ToUpper(region)
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		if region == "" && !strings.HasPrefix(s, "+") {
			return "", errPhoneNoRegion
		}
		return "", errPhoneParse
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", errPhoneInvalid
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}
