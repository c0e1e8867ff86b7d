package normalize

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// Date format names (config date_formats and field formats). Any other
// string is a Go time layout ("02.01.2006 15:04").
const (
	FormatISO    = "iso"     // RFC 3339 / ISO 8601: 2024-03-04, 2024-03-04T10:00:00.5+01:00, 2024-03-04 10:00:00
	FormatYMD    = "ymd"     // 2024-03-04, 2024/3/4, 2024.03.04 (optional time 15:04[:05])
	FormatDMY    = "dmy"     // 04/03/2024, 4-3-2024, 04.03.2024 (optional time), and month names
	FormatMDY    = "mdy"     // 03/04/2024, 3-4-2024, 03.04.2024 (optional time), and month names
	FormatUnix   = "unix"    // seconds since 1970, optionally with a fraction: 1709546400
	FormatUnixMS = "unix_ms" // milliseconds since 1970: 1709546400000
)

// DefaultDateFormats are tried when Options.DateFormats is empty. An
// ambiguous date such as 03/04/2024 is therefore read day first (4 March).
var DefaultDateFormats = []string{FormatISO, FormatYMD, FormatDMY}

// Dates and timestamps outside these years are rejected: they are typos or
// wrongly guessed units, not facts about customers.
const (
	MinYear = 1900
	MaxYear = 2200
)

var (
	errDateEmpty   = newError("date", "empty")
	errDateTooLong = newError("date", "too long")
	errDateFormat  = newError("date", "does not match the configured date formats")
	errDateRange   = newError("date", "year outside 1900..2200")
	errTimeEmpty   = newError("timestamp", "empty")
	errTimeTooLong = newError("timestamp", "too long")
	errTimeFormat  = newError("timestamp", "does not match the configured date formats")
	errTimeRange   = newError("timestamp", "year outside 1900..2200")
)

// layout is one Go layout of a named format with a cheap shape check that
// spares time.Parse (and its error allocation) on values that cannot match.
type layout struct {
	layout string
	// sep is the date separator the value must contain (0: none).
	sep byte
	// yearFirst: the value starts with four digits; else with a digit
	// followed by sep within two bytes. Ignored when text is set.
	yearFirst bool
	// text: the layout has a month or weekday name.
	text bool
	// clock: the layout has a time of day (and the value needs a ':').
	clock bool
}

func numeric(sep byte, yearFirst bool, layouts ...string) []layout {
	out := make([]layout, len(layouts))
	for i, l := range layouts {
		out[i] = layout{layout: l, sep: sep, yearFirst: yearFirst, clock: strings.Contains(l, ":")}
	}
	return out
}

func texts(layouts ...string) []layout {
	out := make([]layout, len(layouts))
	for i, l := range layouts {
		out[i] = layout{layout: l, text: true, clock: strings.Contains(l, ":")}
	}
	return out
}

// Month-name layouts are unambiguous; dmy and mdy both accept them.
var textLayouts = texts(
	"2 Jan 2006", "2 January 2006", "Jan 2, 2006", "January 2, 2006",
	"Jan 2 2006", "January 2 2006", "2-Jan-2006", "Mon, 2 Jan 2006",
	"Monday, January 2, 2006", "Monday, 2 January 2006",
	"Mon, 2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05", "Jan 2, 2006 15:04:05",
)

var formats = map[string][]layout{
	FormatISO: numeric('-', true,
		"2006-01-02",
		"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05",
		"2006-01-02T15:04Z07:00", "2006-01-02T15:04",
		"2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05Z0700", "2006-01-02 15:04:05",
		"2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05 Z07:00", "2006-01-02 15:04",
	),
	FormatYMD: append(append(numeric('-', true,
		"2006-1-2", "2006-1-2 15:04:05", "2006-1-2 15:04"),
		numeric('/', true, "2006/1/2", "2006/1/2 15:04:05", "2006/1/2 15:04")...),
		numeric('.', true, "2006.1.2", "2006.1.2 15:04:05", "2006.1.2 15:04")...),
	FormatDMY: append(append(append(numeric('/', false,
		"2/1/2006", "2/1/2006 15:04:05", "2/1/2006 15:04"),
		numeric('-', false, "2-1-2006", "2-1-2006 15:04:05", "2-1-2006 15:04")...),
		numeric('.', false, "2.1.2006", "2.1.2006 15:04:05", "2.1.2006 15:04")...),
		textLayouts...),
	FormatMDY: append(append(append(numeric('/', false,
		"1/2/2006", "1/2/2006 15:04:05", "1/2/2006 15:04"),
		numeric('-', false, "1-2-2006", "1-2-2006 15:04:05", "1-2-2006 15:04")...),
		numeric('.', false, "1.2.2006", "1.2.2006 15:04:05", "1.2.2006 15:04")...),
		textLayouts...),
}

// ValidateFormats reports date formats that are neither a known name nor
// a usable Go layout (one that formats and parses back a date).
func ValidateFormats(fs []string) error {
	ref := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, f := range fs {
		if _, ok := formats[f]; ok || f == FormatUnix || f == FormatUnixMS {
			continue
		}
		s := ref.Format(f)
		t, err := time.Parse(f, s)
		if s == f || err != nil || t.Year() != 2024 {
			return fmt.Errorf("normalize: date format %q: want iso, ymd, dmy, mdy, unix, unix_ms or a Go layout with a year such as 02.01.2006: %w", f, fault.ErrInvalid)
		}
	}
	return nil
}

// Timestamp parses s with the formats of o (DefaultDateFormats when none)
// tried in order, and returns it in UTC. Values without a zone are taken
// as UTC. The first format that parses wins, so an ambiguous 03/04/2024 is
// 3 April with dmy first and 4 March with mdy first; nothing is guessed
// beyond that order. Years outside MinYear..MaxYear are rejected (so
// "unix" then "unix_ms" reads milliseconds correctly).
func Timestamp(s string, o Options) (time.Time, error) {
	t, err := parseTime(s, o.DateFormats)
	switch err {
	case nil:
		return t.UTC(), nil
	case errDateEmpty:
		return time.Time{}, errTimeEmpty
	case errDateTooLong:
		return time.Time{}, errTimeTooLong
	case errDateRange:
		return time.Time{}, errTimeRange
	}
	return time.Time{}, errTimeFormat
}

// Date parses s like Timestamp and returns the calendar date as written
// (in the value's own zone), formatted "2006-01-02". Impossible dates
// (31/02/2024) are rejected.
func Date(s string, o Options) (string, error) {
	t, err := parseTime(s, o.DateFormats)
	if err != nil {
		return "", err
	}
	return t.Format(time.DateOnly), nil
}

// FormatTimestamp formats t as stored in attributes: RFC 3339 in UTC with
// as many fractional digits as needed.
func FormatTimestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string, fs []string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errDateEmpty
	}
	if len(s) > 64 {
		return time.Time{}, errDateTooLong
	}
	if len(fs) == 0 {
		fs = DefaultDateFormats
	}
	outOfRange := false
	for _, f := range fs {
		var (
			t  time.Time
			ok bool
		)
		switch f {
		case FormatUnix:
			t, ok = parseUnix(s, 1e9)
		case FormatUnixMS:
			t, ok = parseUnix(s, 1e6)
		default:
			if ls, named := formats[f]; named {
				t, ok = parseLayouts(s, ls)
			} else {
				var err error
				t, err = time.Parse(f, s)
				ok = err == nil
			}
		}
		if !ok {
			continue
		}
		if y := t.Year(); y < MinYear || y > MaxYear {
			outOfRange = true
			continue
		}
		return t, nil
	}
	if outOfRange {
		return time.Time{}, errDateRange
	}
	return time.Time{}, errDateFormat
}

func parseLayouts(s string, ls []layout) (time.Time, bool) {
	hasLetter, hasColon := false, false
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c >= 'a' && c <= 'z' {
			hasLetter = true
		} else if s[i] == ':' {
			hasColon = true
		}
	}
	for _, l := range ls {
		if l.clock != hasColon {
			continue
		}
		if l.text {
			if !hasLetter {
				continue
			}
		} else {
			if !isDigit(s[0]) || strings.IndexByte(s, l.sep) < 0 {
				continue
			}
			if l.yearFirst {
				if len(s) < 8 || !isDigit(s[1]) || !isDigit(s[2]) || !isDigit(s[3]) || s[4] != l.sep {
					continue
				}
			} else if !(len(s) > 2 && (s[1] == l.sep || s[2] == l.sep)) {
				continue
			}
		}
		if t, err := time.Parse(l.layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseUnix reads an integer or decimal count of units since 1970; unit
// is the number of nanoseconds in one unit (1e9 seconds, 1e6 milliseconds).
func parseUnix(s string, unit int64) (time.Time, bool) {
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	digits := strings.TrimPrefix(intPart, "-")
	if digits == "" || len(digits) > 15 || len(frac) > 9 {
		return time.Time{}, false
	}
	for i := 0; i < len(digits); i++ {
		if !isDigit(digits[i]) {
			return time.Time{}, false
		}
	}
	var fracNS int64
	scale := unit / 10
	for i := 0; i < len(frac); i++ {
		if !isDigit(frac[i]) {
			return time.Time{}, false
		}
		fracNS += int64(frac[i]-'0') * scale
		scale /= 10
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	// 15 digits of units fit in int64 nanoseconds split as seconds + ns.
	perSec := int64(1e9) / unit
	sec, rem := n/perSec, n%perSec
	ns := rem*unit + fracNS
	if neg {
		sec, ns = -sec, -ns
	}
	return time.Unix(sec, ns).UTC(), true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
