// Package normalize turns raw input values (CSV cells, JSON strings) into
// the canonical forms Aurum stores and matches on: lower-cased e-mail
// addresses, E.164 phone numbers, NFC names with a folded matching key,
// ISO dates, RFC 3339 timestamps, ISO 3166-1 alpha-2 countries, booleans and
// numbers.
//
// Every normalizer returns a *Error (which wraps fault.ErrInvalid) for a
// value it cannot normalize. Errors never contain the value itself: input
// values are often personal data and errors end up in logs and load reports.
//
// Placeholders such as "", "n/a", "null" or "unknown" are not errors but
// missing values; callers test them with IsMissing before normalizing.
//
// The functions are pure and safe for concurrent use. The parsing itself is
// delegated to well-kept libraries: net/mail and golang.org/x/net/idna for
// e-mail, github.com/nyaruka/phonenumbers for phones, golang.org/x/text for
// Unicode normalization and folding, the time package for dates and
// github.com/biter777/countries for country names.
package normalize

import (
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// Attribute kinds accepted by Value. They are the values of config.Field.Type.
const (
	KindString    = "string"
	KindName      = "name"
	KindEmail     = "email"
	KindPhone     = "phone"
	KindDate      = "date"
	KindTimestamp = "timestamp"
	KindCountry   = "country"
	KindBool      = "bool"
	KindNumber    = "number"
	KindInteger   = "integer"
)

// Identifier normalizers accepted by Identifier. They are the values of
// config.IdentifierType.Normalizer.
const (
	NormEmail  = "email"
	NormPhone  = "phone"
	NormID     = "id"
	NormLower  = "lower"
	NormDigits = "digits"
)

// Options tune the normalizers for one source or identifier type. The zero
// value is usable: no default phone region, the default date formats, no
// provider-specific e-mail rules and "." as decimal separator.
type Options struct {
	// Region is the default phone region (ISO 3166-1 alpha-2, e.g. "GB")
	// for numbers written without a country code.
	Region string
	// DateFormats are tried in order for dates and timestamps: the names
	// iso, ymd, dmy, mdy, unix, unix_ms, or raw Go layouts. Empty means
	// DefaultDateFormats.
	DateFormats []string
	// GmailDots removes dots and +tags from the local part of gmail.com and
	// googlemail.com addresses and maps googlemail.com to gmail.com.
	GmailDots bool
	// Decimal is the decimal separator of numbers: '.' (default when 0) or
	// ','. The other one is accepted as a thousands separator.
	Decimal rune
}

// Validate reports options that can never work: an unknown phone region,
// an invalid date format or decimal separator.
func (o Options) Validate() error {
	if o.Region != "" && phonenumbers.GetCountryCodeForRegion(strings.ToUpper(o.Region)) == 0 {
		return fmt.Errorf("normalize: unknown phone region %q: %w", o.Region, fault.ErrInvalid)
	}
	if err := ValidateFormats(o.DateFormats); err != nil {
		return err
	}
	switch o.Decimal {
	case 0, '.', ',':
	default:
		return fmt.Errorf("normalize: decimal separator %q: want '.' or ',': %w", o.Decimal, fault.ErrInvalid)
	}
	return nil
}

// Error reports a value that cannot be normalized. It names the kind of
// value and the reason, never the value.
type Error struct {
	// Kind is the normalizer: email, phone, name, date, ...
	Kind string
	// Reason says what is wrong ("missing domain").
	Reason string
	msg    string
}

func newError(kind, reason string) *Error {
	return &Error{Kind: kind, Reason: reason, msg: "invalid " + kind + ": " + reason}
}

// Error returns "invalid <kind>: <reason>".
func (e *Error) Error() string { return e.msg }

// Unwrap makes errors.Is(err, fault.ErrInvalid) true.
func (e *Error) Unwrap() error { return fault.ErrInvalid }

// missing holds the placeholders IsMissing recognizes, lower-case. "na" and
// "nan" are deliberately absent: NA is Namibia, Nan a given name.
var missing = [...]string{"", "n/a", "#n/a", "null", "none", "-", "--", "unknown", "undefined"}

// IsMissing reports whether s is empty or a placeholder for "no value":
// "", "n/a", "#N/A", "null", "none", "-", "--", "unknown", "undefined"
// (case-insensitive, surrounding white space ignored).
func IsMissing(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) > len("undefined") {
		return false
	}
	for _, m := range missing {
		if strings.EqualFold(s, m) {
			return true
		}
	}
	return false
}

// CheckKind reports whether kind is an attribute kind Value accepts; the
// empty kind means string.
func CheckKind(kind string) error {
	switch kind {
	case "", KindString, KindName, KindEmail, KindPhone, KindDate, KindTimestamp,
		KindCountry, KindBool, KindNumber, KindInteger:
		return nil
	}
	return fmt.Errorf("normalize: unknown type %q (want string, name, email, phone, date, timestamp, country, bool, number or integer): %w", kind, fault.ErrInvalid)
}

// CheckNormalizer reports whether name is an identifier normalizer
// Identifier accepts.
func CheckNormalizer(name string) error {
	switch name {
	case NormEmail, NormPhone, NormID, NormLower, NormDigits:
		return nil
	}
	return fmt.Errorf("normalize: unknown identifier normalizer %q (want email, phone, id, lower or digits): %w", name, fault.ErrInvalid)
}

var (
	errStringEmpty = newError("string", "empty")
	errUTF8        = newError("string", "not valid UTF-8 or contains control characters")
)

// Value normalizes raw as an attribute of the given kind and returns a JSON
// value:
//
//	string     trimmed string
//	name       display form (see Name)
//	email      see Email (no provider rules unless o.GmailDots)
//	phone      E.164 string (see Phone, region o.Region)
//	date       "2006-01-02" string (see Date)
//	timestamp  RFC 3339 string in UTC (see Timestamp)
//	country    ISO 3166-1 alpha-2 string (see Country)
//	bool       bool
//	number     float64
//	integer    float64 holding an integer (JSON numbers are float64)
//
// Callers test IsMissing first: Value treats an empty value as invalid.
func Value(kind, raw string, o Options) (any, error) {
	switch kind {
	case "", KindString:
		s := strings.TrimSpace(raw)
		if s == "" {
			return nil, errStringEmpty
		}
		if !validText(s) {
			return nil, errUTF8
		}
		return s, nil
	case KindName:
		d, _, err := Name(raw)
		if err != nil {
			return nil, err
		}
		return d, nil
	case KindEmail:
		s, err := Email(raw, o.GmailDots)
		if err != nil {
			return nil, err
		}
		return s, nil
	case KindPhone:
		s, err := Phone(raw, o.Region)
		if err != nil {
			return nil, err
		}
		return s, nil
	case KindDate:
		s, err := Date(raw, o)
		if err != nil {
			return nil, err
		}
		return s, nil
	case KindTimestamp:
		t, err := Timestamp(raw, o)
		if err != nil {
			return nil, err
		}
		return FormatTimestamp(t), nil
	case KindCountry:
		s, err := Country(raw)
		if err != nil {
			return nil, err
		}
		return s, nil
	case KindBool:
		b, err := Bool(raw)
		if err != nil {
			return nil, err
		}
		return b, nil
	case KindNumber:
		f, err := Number(raw, o.Decimal)
		if err != nil {
			return nil, err
		}
		return f, nil
	case KindInteger:
		n, err := Integer(raw, o.Decimal)
		if err != nil {
			return nil, err
		}
		return float64(n), nil
	}
	return nil, CheckKind(kind)
}

// Identifier normalizes raw with the named identifier normalizer:
//
//	email   see Email (o.GmailDots applies)
//	phone   see Phone (o.Region applies)
//	id      see ID: trimmed, inner white space collapsed, case kept
//	lower   see Lower: trimmed and lower-cased
//	digits  see Digits: ASCII digits only
func Identifier(normalizer, raw string, o Options) (string, error) {
	switch normalizer {
	case NormEmail:
		return Email(raw, o.GmailDots)
	case NormPhone:
		return Phone(raw, o.Region)
	case NormID:
		return ID(raw)
	case NormLower:
		return Lower(raw)
	case NormDigits:
		return Digits(raw)
	}
	return "", CheckNormalizer(normalizer)
}
