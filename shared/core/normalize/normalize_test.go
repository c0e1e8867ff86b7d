package normalize

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// checkErr verifies that a failure is a *Error wrapping fault.ErrInvalid
// that does not echo the input.
func checkErr(t *testing.T, call, in string, err error) {
	t.Helper()
	var ne *Error
	if !errors.As(err, &ne) {
		t.Errorf("%s(%q) error %v is not a *normalize.Error", call, in, err)
	}
	if !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("%s(%q) error %v does not wrap fault.ErrInvalid", call, in, err)
	}
	if v := strings.TrimSpace(in); len(v) >= 3 && strings.Contains(err.Error(), v) {
		t.Errorf("%s(%q) error %q echoes the value", call, in, err)
	}
}

func TestEmail(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		gmail bool
		want  string // "" means an error is expected
	}{
		{"plain", "ann@example.com", false, "ann@example.com"},
		{"trim and case", "  Ann.Smith@Example.COM \t", false, "ann.smith@example.com"},
		{"plus tag kept", "ann+news@example.com", false, "ann+news@example.com"},
		{"subdomain", "bob@mail.example.co.uk", false, "bob@mail.example.co.uk"},
		{"gmail untouched without option", "A.Nn+x@gmail.com", false, "a.nn+x@gmail.com"},
		{"gmail dots", "A.Nn+promo@Gmail.com", true, "ann@gmail.com"},
		{"googlemail mapped", "a.nn@googlemail.com", true, "ann@gmail.com"},
		{"gmail option other domain", "a.nn+x@example.com", true, "a.nn+x@example.com"},
		{"gmail only tag", "+x@gmail.com", true, ""},
		{"idna domain", "ann@Exämple.com", false, "ann@xn--exmple-cua.com"},
		{"unicode local NFC", "Jos\u0065\u0301@example.com", false, "jos\u00e9@example.com"},
		{"empty", "   ", false, ""},
		{"no at", "ann.example.com", false, ""},
		{"display name", "Ann <ann@example.com>", false, ""},
		{"angle brackets", "<ann@example.com>", false, ""},
		{"comment", "ann@example.com (Ann)", false, ""},
		{"quoted local", `"ann"@example.com`, false, ""},
		{"two addresses", "ann@example.com, bob@example.com", false, ""},
		{"no dot in domain", "ann@localhost", false, ""},
		{"domain literal", "ann@[192.168.0.1]", false, ""},
		{"numeric tld", "ann@example.123", false, ""},
		{"leading hyphen label", "ann@-example.com", false, ""},
		{"trailing hyphen label", "ann@example-.com", false, ""},
		{"empty label", "ann@example..com", false, ""},
		{"trailing dot", "ann@example.com.", false, ""},
		{"underscore domain", "ann@ex_ample.com", false, ""},
		{"double dot local", "a..nn@example.com", false, ""},
		{"long local", strings.Repeat("a", 65) + "@example.com", false, ""},
		{"too long", strings.Repeat("a", 60) + "@" + strings.Repeat("b", 200) + ".com", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Email(tt.in, tt.gmail)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Email(%q) = %q; want an error", tt.in, got)
				}
				checkErr(t, "Email", tt.in, err)
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Email(%q, %v) = %q, %v; want %q", tt.in, tt.gmail, got, err, tt.want)
			}
		})
	}
}

func TestPhone(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		region string
		want   string
	}{
		{"GB national", "07911 123456", "GB", "+447911123456"},
		{"GB intl plus", "+44 7911 123456", "US", "+447911123456"},
		{"GB 00 prefix", "0044 7911 123456", "FR", "+447911123456"},
		{"GB parentheses", "(0)7911-123-456", "GB", "+447911123456"},
		{"FR national", "06 12 34 56 78", "FR", "+33612345678"},
		{"FR dots", "06.12.34.56.78", "FR", "+33612345678"},
		{"FR intl", "+33 6 12 34 56 78", "", "+33612345678"},
		{"DE mobile", "0151 23456789", "DE", "+4915123456789"},
		{"DE landline intl", "+49 30 901820", "", "+4930901820"},
		{"US national", "(201) 555-0123", "US", "+12015550123"},
		{"US dashes", "201-555-0123", "US", "+12015550123"},
		{"US with 1", "1 201 555 0123", "US", "+12015550123"},
		{"US extension dropped", "201-555-0123 ext. 45", "US", "+12015550123"},
		{"US x extension dropped", "+1 201 555 0123 x45", "", "+12015550123"},
		{"IN mobile", "098765 43210", "IN", "+919876543210"},
		{"IN intl", "+91 98765 43210", "GB", "+919876543210"},
		{"lower-case region", "07911 123456", "gb", "+447911123456"},
		{"empty", "", "GB", ""},
		{"national without region", "07911 123456", "", ""},
		{"Ofcom drama range not assigned", "07700 900123", "GB", ""},
		{"letters", "call me", "GB", ""},
		{"too short", "123", "GB", ""},
		{"too long for GB", "07700 9001234567", "GB", ""},
		{"unassigned country code", "+999 1234 5678", "", ""},
		{"invalid US area", "(000) 555-0123", "US", ""},
		{"huge", strings.Repeat("1", 100), "US", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Phone(tt.in, tt.region)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Phone(%q, %q) = %q; want an error", tt.in, tt.region, got)
				}
				checkErr(t, "Phone", tt.in, err)
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Phone(%q, %q) = %q, %v; want %q", tt.in, tt.region, got, err, tt.want)
			}
		})
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		wantDisplay string
		wantKey     string
	}{
		{"mixed case kept", "McDonald", "McDonald", "mcdonald"},
		{"upper", "JOHN SMITH", "John Smith", "john smith"},
		{"lower", "john   smith", "John Smith", "john smith"},
		{"collapse and trim", "  Ann \t Lee  ", "Ann Lee", "ann lee"},
		{"apostrophe", "O'BRIEN", "O'Brien", "obrien"},
		{"typographic apostrophe", "o’brien", "O’Brien", "obrien"},
		{"apostrophe after long part", "ABDUL'AZIZ", "Abdul'aziz", "abdulaziz"},
		{"hyphen", "JEAN-LUC", "Jean-Luc", "jean luc"},
		{"mc prefix", "MCDONALD", "McDonald", "mcdonald"},
		{"mc alone", "MC", "Mc", "mc"},
		{"particles", "LUDWIG VAN BEETHOVEN", "Ludwig van Beethoven", "ludwig van beethoven"},
		{"several particles", "maria de la cruz", "Maria de la Cruz", "maria de la cruz"},
		{"particle first", "DE LA CRUZ", "De la Cruz", "de la cruz"},
		{"particle last", "JOHN VAN", "John Van", "john van"},
		{"mixed particles kept", "Vincent Van Gogh", "Vincent Van Gogh", "vincent van gogh"},
		{"diaeresis", "Zoë", "Zoë", "zoe"},
		{"upper accent", "ZOË", "Zoë", "zoe"},
		{"decomposed input NFC", "Jose\u0301", "Jos\u00e9", "jose"},
		{"acute", "JOSÉ GARCÍA", "José García", "jose garcia"},
		{"stroke o", "Ørsted", "Ørsted", "orsted"},
		{"sharp s", "Strauß", "Strauß", "strauss"},
		{"ligature", "Æsa", "Æsa", "aesa"},
		{"polish", "Łukasz Wałęsa", "Łukasz Wałęsa", "lukasz walesa"},
		{"initials", "J. R. R. TOLKIEN", "J. R. R. Tolkien", "j r r tolkien"},
		{"caseless script", "李小龍", "李小龍", "李小龍"},
		{"cyrillic upper", "АННА", "Анна", "анна"},
		{"spacing vowel sign kept in key", "राम", "राम", "राम"},
		{"empty", "  ", "", ""},
		{"no letters", "--- 123", "", ""},
		{"control", "Ann\x00Lee", "", ""},
		{"invalid utf8", "Ann\xffLee", "", ""},
		{"too long", strings.Repeat("a", 300), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, k, err := Name(tt.in)
			if tt.wantDisplay == "" {
				if err == nil {
					t.Fatalf("Name(%q) = %q, %q; want an error", tt.in, d, k)
				}
				checkErr(t, "Name", tt.in, err)
				return
			}
			if err != nil || d != tt.wantDisplay || k != tt.wantKey {
				t.Errorf("Name(%q) = %q, %q, %v; want %q, %q", tt.in, d, k, err, tt.wantDisplay, tt.wantKey)
			}
		})
	}
}

func TestFoldKeyMatchesVariants(t *testing.T) {
	groups := [][]string{
		{"Zoë", "ZOE", "zoe"},
		{"José", "JOSE", "Jose\u0301"},
		{"Ørsted", "orsted", "ØRSTED"},
		{"O'Brien", "OBrien", "o’brien"},
		{"Jean-Luc", "jean luc", "JEAN  LUC"},
	}
	for _, g := range groups {
		want := FoldKey(g[0])
		for _, s := range g[1:] {
			if got := FoldKey(s); got != want {
				t.Errorf("FoldKey(%q) = %q; want %q (as FoldKey(%q))", s, got, want, g[0])
			}
		}
	}
}

func TestDate(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		formats []string
		want    string
	}{
		{"iso date", "2024-03-04", nil, "2024-03-04"},
		{"iso timestamp keeps written date", "2024-03-04T23:30:00-05:00", nil, "2024-03-04"},
		{"ymd slashes", "2024/3/4", nil, "2024-03-04"},
		{"ymd dots", "2024.03.04", nil, "2024-03-04"},
		{"ambiguous default dmy", "03/04/2024", nil, "2024-04-03"},
		{"ambiguous mdy first", "03/04/2024", []string{"mdy", "dmy"}, "2024-03-04"},
		{"ambiguous dmy first", "03/04/2024", []string{"dmy", "mdy"}, "2024-04-03"},
		{"mdy falls back to dmy", "13/04/2024", []string{"mdy", "dmy"}, "2024-04-13"},
		{"dmy dots", "04.03.2024", nil, "2024-03-04"},
		{"dmy single digits", "4/3/2024", nil, "2024-03-04"},
		{"dmy with time", "04/03/2024 10:15", nil, "2024-03-04"},
		{"text dmy", "4 Mar 2024", nil, "2024-03-04"},
		{"text long month", "4 March 2024", nil, "2024-03-04"},
		{"text mdy", "Mar 4, 2024", nil, "2024-03-04"},
		{"text lower-case month", "4 mar 2024", nil, "2024-03-04"},
		{"go layout", "04|03|2024", []string{"02|01|2006"}, "2024-03-04"},
		{"unix", "1709546400", []string{"unix"}, "2024-03-04"},
		{"unix ms", "1709546400000", []string{"unix_ms"}, "2024-03-04"},
		{"unix then ms skips year 56000", "1709546400000", []string{"unix", "unix_ms"}, "2024-03-04"},
		{"leap day", "29/02/2024", nil, "2024-02-29"},
		{"impossible day", "31/02/2024", nil, ""},
		{"not leap year", "29/02/2023", nil, ""},
		{"month 13", "2024-13-01", nil, ""},
		{"mdy rejected by iso only", "03/04/2024", []string{"iso"}, ""},
		{"too old", "1850-01-01", nil, ""},
		{"too far", "2300-01-01", nil, ""},
		{"garbage", "yesterday", nil, ""},
		{"unix not configured", "1709546400", nil, ""},
		{"two-digit year", "04/03/24", nil, ""},
		{"empty", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Date(tt.in, Options{DateFormats: tt.formats})
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Date(%q, %v) = %q; want an error", tt.in, tt.formats, got)
				}
				checkErr(t, "Date", tt.in, err)
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Date(%q, %v) = %q, %v; want %q", tt.in, tt.formats, got, err, tt.want)
			}
		})
	}
}

func TestTimestamp(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		formats []string
		want    string // RFC 3339 in UTC; "" means an error
	}{
		{"rfc3339 Z", "2024-03-04T10:15:30Z", nil, "2024-03-04T10:15:30Z"},
		{"rfc3339 offset", "2024-03-04T10:15:30+01:00", nil, "2024-03-04T09:15:30Z"},
		{"rfc3339 fraction", "2024-03-04T10:15:30.123456Z", nil, "2024-03-04T10:15:30.123456Z"},
		{"compact offset", "2024-03-04T10:15:30+0100", nil, "2024-03-04T09:15:30Z"},
		{"no zone is UTC", "2024-03-04T10:15:30", nil, "2024-03-04T10:15:30Z"},
		{"no zone fraction", "2024-03-04T10:15:30.5", nil, "2024-03-04T10:15:30.5Z"},
		{"space separator", "2024-03-04 10:15:30", nil, "2024-03-04T10:15:30Z"},
		{"minutes only", "2024-03-04T10:15", nil, "2024-03-04T10:15:00Z"},
		{"date only midnight", "2024-03-04", nil, "2024-03-04T00:00:00Z"},
		{"dmy time", "04/03/2024 10:15:30", nil, "2024-03-04T10:15:30Z"},
		{"mdy time", "03/04/2024 10:15:30", []string{"mdy"}, "2024-03-04T10:15:30Z"},
		{"rfc1123z", "Mon, 4 Mar 2024 10:15:30 +0100", []string{"dmy"}, "2024-03-04T09:15:30Z"},
		{"unix", "1709547330", []string{"unix"}, "2024-03-04T10:15:30Z"},
		{"unix fraction", "1709547330.25", []string{"unix"}, "2024-03-04T10:15:30.25Z"},
		{"unix ms", "1709547330250", []string{"unix_ms"}, "2024-03-04T10:15:30.25Z"},
		{"unix seconds as ms is 1970", "1709547330", []string{"unix_ms"}, "1970-01-20T18:52:27.33Z"},
		{"unix negative pre-1900", "-3000000000", []string{"unix"}, ""},
		{"bad hour", "2024-03-04T25:00:00Z", nil, ""},
		{"bad zone", "2024-03-04T10:00:00+25:00", nil, ""},
		{"out of range", "2999-01-01T00:00:00Z", nil, ""},
		{"garbage", "not a time", nil, ""},
		{"too long", strings.Repeat("1", 80), []string{"unix"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Timestamp(tt.in, Options{DateFormats: tt.formats})
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Timestamp(%q, %v) = %v; want an error", tt.in, tt.formats, got)
				}
				checkErr(t, "Timestamp", tt.in, err)
				return
			}
			if err != nil {
				t.Fatalf("Timestamp(%q, %v) error %v; want %s", tt.in, tt.formats, err, tt.want)
			}
			if got.Location() != time.UTC {
				t.Errorf("Timestamp(%q) location = %v; want UTC", tt.in, got.Location())
			}
			if s := FormatTimestamp(got); s != tt.want {
				t.Errorf("Timestamp(%q, %v) = %s; want %s", tt.in, tt.formats, s, tt.want)
			}
		})
	}
}

func TestValidateFormats(t *testing.T) {
	tests := []struct {
		name    string
		formats []string
		ok      bool
	}{
		{"none", nil, true},
		{"names", []string{"iso", "ymd", "dmy", "mdy", "unix", "unix_ms"}, true},
		{"go layout", []string{"02.01.2006 15:04"}, true},
		{"typo", []string{"isoo"}, false},
		{"strftime", []string{"%d/%m/%Y"}, false},
		{"layout without year", []string{"02/01"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateFormats(tt.formats)
			if (err == nil) != tt.ok {
				t.Errorf("ValidateFormats(%q) = %v; want ok=%v", tt.formats, err, tt.ok)
			}
		})
	}
}

func TestCountry(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"GB", "GB"},
		{"gb", "GB"},
		{"UK", "GB"},
		{"GBR", "GB"},
		{"United Kingdom", "GB"},
		{"Great Britain", "GB"},
		{"England", "GB"},
		{"United States", "US"},
		{"United States of America", "US"},
		{"USA", "US"},
		{"U.S.A.", "US"},
		{"us", "US"},
		{"Deutschland", "DE"},
		{"germany", "DE"},
		{"DEU", "DE"},
		{"France", "FR"},
		{"FRA", "FR"},
		{"España", "ES"},
		{"Espana", "ES"},
		{"Österreich", "AT"},
		{"The Netherlands", "NL"},
		{"Holland", "NL"},
		{"Côte d'Ivoire", "CI"},
		{"India", "IN"},
		{"IND", "IN"},
		{"Trinidad & Tobago", "TT"},
		{"  Japan ", "JP"},
		{"", ""},
		{"XX", ""},
		{"ZZ", ""},
		{"EU", ""},
		{"RA", ""}, // a vehicle code, not ISO 3166-1
		{"Atlantis", ""},
		{strings.Repeat("a", 100), ""},
	}
	// The second pass answers from the cache.
	for pass := 1; pass <= 2; pass++ {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%d/%s", pass, tt.in), func(t *testing.T) {
				got, err := Country(tt.in)
				if tt.want == "" {
					if err == nil {
						t.Fatalf("Country(%q) = %q; want an error", tt.in, got)
					}
					checkErr(t, "Country", tt.in, err)
					return
				}
				if err != nil || got != tt.want {
					t.Errorf("Country(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
			})
		}
	}
}

func TestBool(t *testing.T) {
	tests := []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{"yes", true, false}, {"Y", true, false}, {"TRUE", true, false}, {"t", true, false},
		{"1", true, false}, {" on ", true, false},
		{"no", false, false}, {"N", false, false}, {"False", false, false}, {"f", false, false},
		{"0", false, false}, {"OFF", false, false},
		{"", false, true}, {"2", false, true}, {"yep", false, true}, {"truthy", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Bool(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Bool(%q) = %v; want an error", tt.in, got)
				}
				checkErr(t, "Bool", tt.in, err)
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Bool(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNumber(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		dec     rune
		want    float64
		wantErr bool
	}{
		{"plain", "12.5", 0, 12.5, false},
		{"negative", "-3", 0, -3, false},
		{"plus", "+3", 0, 3, false},
		{"grouped", "1,234.50", 0, 1234.5, false},
		{"grouped millions", "1,234,567", 0, 1234567, false},
		{"currency prefix", "$1,234.50", 0, 1234.5, false},
		{"currency suffix", "12.50 €", 0, 12.5, false},
		{"pound", "£-7.25", 0, -7.25, false},
		{"comma decimal", "1 234,50", ',', 1234.5, false},
		{"comma decimal dots grouping", "1.234.567,89", ',', 1234567.89, false},
		{"comma decimal plain", "12,5", ',', 12.5, false},
		{"euro suffix comma", "12,50 €", ',', 12.5, false},
		{"nbsp grouping", "1\u00a0234,50", ',', 1234.5, false},
		{"narrow nbsp grouping", "1\u202f234", ',', 1234, false},
		{"swiss apostrophe", "1'234.50", 0, 1234.5, false},
		{"leading dot", ".5", 0, 0.5, false},
		{"exponent", "1.5e3", 0, 1500, false},
		{"ambiguous comma with dot decimal", "1,5", 0, 0, true},
		{"space decimal default", "1 234,50", 0, 0, true},
		{"dot with comma decimal", "1.5", ',', 0, true},
		{"bad grouping", "12,34,567", 0, 0, true},
		{"mixed grouping", "1,234 567", 0, 0, true},
		{"grouping in fraction", "1.234,5", 0, 0, true},
		{"trailing separator", "1,", 0, 0, true},
		{"two signs", "--1", 0, 0, true},
		{"letters", "12abc", 0, 0, true},
		{"nan", "NaN", 0, 0, true},
		{"inf", "Inf", 0, 0, true},
		{"hex", "0x10", 0, 0, true},
		{"only currency", "$", 0, 0, true},
		{"empty", "", 0, 0, true},
		{"overflow", "1e400", 0, 0, true},
		{"percent", "12%", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Number(tt.in, tt.dec)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Number(%q, %q) = %v; want an error", tt.in, tt.dec, got)
				}
				checkErr(t, "Number", tt.in, err)
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Number(%q, %q) = %v, %v; want %v", tt.in, tt.dec, got, err, tt.want)
			}
		})
	}
}

func TestInteger(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr bool
	}{
		{"plain", "42", 42, false},
		{"grouped", "1,234", 1234, false},
		{"zero fraction", "12.00", 12, false},
		{"negative", "-7", -7, false},
		{"max safe", "9007199254740991", 9007199254740991, false},
		{"fraction", "12.5", 0, true},
		{"dot is decimal", "1.234", 0, true},
		{"beyond safe", "9007199254740993", 0, true},
		{"letters", "12a", 0, true},
		{"empty", " ", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Integer(tt.in, 0)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Integer(%q) = %v; want an error", tt.in, got)
				}
				checkErr(t, "Integer", tt.in, err)
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Integer(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestIdentifier(t *testing.T) {
	tests := []struct {
		name       string
		normalizer string
		in         string
		opts       Options
		want       string
	}{
		{"email", "email", " Ann@Example.com ", Options{}, "ann@example.com"},
		{"email gmail", "email", "a.nn@gmail.com", Options{GmailDots: true}, "ann@gmail.com"},
		{"phone region", "phone", "07911 123456", Options{Region: "GB"}, "+447911123456"},
		{"id keeps case", "id", "  C-1001  X ", Options{}, "C-1001 X"},
		{"id tabs collapse", "id", "a\t\tb", Options{}, "a b"},
		{"lower", "lower", " AbC-9 ", Options{}, "abc-9"},
		{"digits", "digits", "0044-123 456", Options{}, "0044123456"},
		{"id empty", "id", "   ", Options{}, ""},
		{"id control", "id", "a\x01b", Options{}, ""},
		{"id too long", "id", strings.Repeat("x", MaxIdentifierLen+1), Options{}, ""},
		{"lower empty", "lower", "", Options{}, ""},
		{"digits none", "digits", "abc", Options{}, ""},
		{"phone invalid", "phone", "12", Options{Region: "GB"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Identifier(tt.normalizer, tt.in, tt.opts)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Identifier(%q, %q) = %q; want an error", tt.normalizer, tt.in, got)
				}
				checkErr(t, "Identifier", tt.in, err)
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Identifier(%q, %q) = %q, %v; want %q", tt.normalizer, tt.in, got, err, tt.want)
			}
		})
	}
	if _, err := Identifier("soundex", "x", Options{}); err == nil {
		t.Errorf("Identifier(soundex) error = nil; want unknown normalizer")
	}
}

func TestValue(t *testing.T) {
	tests := []struct {
		kind string
		in   string
		opts Options
		want any
	}{
		{"", "  hello ", Options{}, "hello"},
		{"string", "a\nb", Options{}, "a\nb"},
		{"name", "JOHN SMITH", Options{}, "John Smith"},
		{"email", "Ann@Example.com", Options{}, "ann@example.com"},
		{"phone", "06 12 34 56 78", Options{Region: "FR"}, "+33612345678"},
		{"date", "03/04/2024", Options{DateFormats: []string{"mdy"}}, "2024-03-04"},
		{"timestamp", "2024-03-04T10:00:00+01:00", Options{}, "2024-03-04T09:00:00Z"},
		{"country", "U.S.A.", Options{}, "US"},
		{"bool", "Yes", Options{}, true},
		{"number", "1 234,5", Options{Decimal: ','}, 1234.5},
		{"integer", "1,234", Options{}, float64(1234)},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			got, err := Value(tt.kind, tt.in, tt.opts)
			if err != nil || got != tt.want {
				t.Errorf("Value(%q, %q) = %#v, %v; want %#v", tt.kind, tt.in, got, err, tt.want)
			}
		})
	}
	bad := []struct{ kind, in string }{
		{"string", "  "}, {"string", "a\x00b"}, {"name", "123"}, {"email", "x"}, {"phone", "x"},
		{"date", "x"}, {"timestamp", "x"}, {"country", "x"}, {"bool", "x"}, {"number", "x"},
		{"integer", "1.5"},
	}
	for _, tt := range bad {
		t.Run("invalid "+tt.kind, func(t *testing.T) {
			if got, err := Value(tt.kind, tt.in, Options{}); err == nil {
				t.Errorf("Value(%q, %q) = %#v; want an error", tt.kind, tt.in, got)
			}
		})
	}
	if _, err := Value("uuid", "x", Options{}); err == nil || errors.As(err, new(*Error)) {
		t.Errorf("Value(uuid) error = %v; want an unknown-type error", err)
	}
}

func TestTransform(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"trim", "  a b ", "a b"},
		{"lower", "ÀB", "àb"},
		{"upper", "àb", "ÀB"},
		{"collapse_spaces", "  a \t\n b  ", "a b"},
		{"digits", "+44 (0) 77-00", "4407700"},
		{"digits", "abc", ""},
		{"strip_leading_zeros", " 000123", "123"},
		{"strip_leading_zeros", "000", "0"},
		{"strip_leading_zeros", "00.5", "0.5"},
		{"strip_leading_zeros", "100", "100"},
		{"null_if_empty", "   ", ""},
		{"null_if_empty", " x ", " x "},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.in, func(t *testing.T) {
			got, err := Transform(tt.name, tt.in)
			if err != nil || got != tt.want {
				t.Errorf("Transform(%q, %q) = %q, %v; want %q", tt.name, tt.in, got, err, tt.want)
			}
		})
	}
	if _, err := Transform("reverse", "x"); err == nil {
		t.Errorf("Transform(reverse) error = nil; want unknown transform")
	}
}

func TestIsMissing(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", true}, {"   ", true}, {"n/a", true}, {"N/A", true}, {"#N/A", true}, {"null", true},
		{"NULL", true}, {"None", true}, {"-", true}, {"--", true}, {" unknown ", true},
		{"undefined", true},
		{"0", false}, {"NA", false}, {"Nan", false}, {"x", false}, {"nullable", false},
		{"unknown person", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := IsMissing(tt.in); got != tt.want {
				t.Errorf("IsMissing(%q) = %v; want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"zero", Options{}, true},
		{"full", Options{Region: "GB", DateFormats: []string{"dmy"}, Decimal: ','}, true},
		{"bad region", Options{Region: "QQ"}, false},
		{"bad format", Options{DateFormats: []string{"dd/mm/yyyy"}}, false},
		{"bad decimal", Options{Decimal: ';'}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.o.Validate(); (err == nil) != tt.ok {
				t.Errorf("%+v.Validate() = %v; want ok=%v", tt.o, err, tt.ok)
			}
		})
	}
}

func BenchmarkEmail(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Email("  Ann.Smith+news@Example.COM ", true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPhone(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Phone("07911 123456", "GB"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkName(b *testing.B) {
	for _, in := range []string{"JOHN MCDONALD", "Zoë Ørsted-José"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Name(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTimestamp(b *testing.B) {
	o := Options{DateFormats: []string{"iso", "dmy"}}
	for _, in := range []string{"2024-03-04T10:15:30Z", "04/03/2024 10:15"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Timestamp(in, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCountry(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Country("United Kingdom"); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzNormalize checks that no input panics, that failures are *Error
// values that do not echo long inputs, and that normalized output is a
// fixed point: normalizing it again changes nothing.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"ann@example.com", "A.Nn+x@googlemail.com", "07911 123456", "+33 6 12 34 56 78",
		"JOHN O'BRIEN-MCDONALD", "Zoë Ørsted", "03/04/2024", "2024-03-04T10:15:30Z", "1709547330",
		"United Kingdom", "1,234.50", "yes", "  C-1001 ", "n/a", "\xff", ""} {
		f.Add(s)
	}
	o := Options{Region: "GB", DateFormats: []string{"iso", "dmy", "unix"}, GmailDots: true}
	iso := Options{DateFormats: []string{"iso"}}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(call string, err error) bool {
			t.Helper()
			if err == nil {
				return true
			}
			var ne *Error
			if !errors.As(err, &ne) {
				t.Fatalf("%s(%q) error %v is not a *Error", call, s, err)
			}
			if v := strings.TrimSpace(s); len(v) >= 12 && strings.Contains(err.Error(), v) {
				t.Fatalf("%s(%q) error %q echoes the value", call, s, err)
			}
			return false
		}
		for _, n := range []string{NormEmail, NormPhone, NormID, NormLower, NormDigits} {
			v, err := Identifier(n, s, o)
			if !check(n, err) {
				continue
			}
			if v == "" {
				t.Fatalf("Identifier(%s, %q) = \"\" without error", n, s)
			}
			if v2, err := Identifier(n, v, o); err != nil || v2 != v {
				t.Fatalf("Identifier(%s, %q) = %q, then %q, %v; want a fixed point", n, s, v, v2, err)
			}
		}
		if d, k, err := Name(s); check("Name", err) {
			if k == "" {
				t.Fatalf("Name(%q) key is empty", s)
			}
			if d2, k2, err := Name(d); err != nil || d2 != d || k2 != k {
				t.Fatalf("Name(%q) = %q, %q, then %q, %q, %v; want a fixed point", s, d, k, d2, k2, err)
			}
		}
		if d, err := Date(s, o); check("Date", err) {
			if d2, err := Date(d, iso); err != nil || d2 != d {
				t.Fatalf("Date(%q) = %q, then %q, %v; want a fixed point", s, d, d2, err)
			}
		}
		if ts, err := Timestamp(s, o); check("Timestamp", err) {
			if ts2, err := Timestamp(FormatTimestamp(ts), iso); err != nil || !ts2.Equal(ts) {
				t.Fatalf("Timestamp(%q) = %v, then %v, %v; want a fixed point", s, ts, ts2, err)
			}
		}
		if c, err := Country(s); check("Country", err) {
			if c2, err := Country(c); err != nil || c2 != c {
				t.Fatalf("Country(%q) = %q, then %q, %v; want a fixed point", s, c, c2, err)
			}
		}
		for _, kind := range []string{KindString, KindBool, KindNumber, KindInteger} {
			_, err := Value(kind, s, o)
			check(kind, err)
		}
		for _, tr := range []string{"trim", "lower", "upper", "collapse_spaces", "digits", "strip_leading_zeros", "null_if_empty"} {
			if _, err := Transform(tr, s); err != nil {
				t.Fatalf("Transform(%s) error %v", tr, err)
			}
		}
		_ = IsMissing(s)
	})
}
