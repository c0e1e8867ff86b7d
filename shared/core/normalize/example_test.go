package normalize_test

import (
	"fmt"

	"github.com/aurum-cdp/aurum/shared/core/normalize"
)

func ExampleEmail() {
	fmt.Println(normalize.Email("  Ann.Smith@Example.COM ", false))
	fmt.Println(normalize.Email("A.Nn+promo@googlemail.com", true))
	fmt.Println(normalize.Email("Ann <ann@example.com>", false))
	// Output:
	// ann.smith@example.com <nil>
	// ann@gmail.com <nil>
	//  invalid email: display names, comments, quotes and angle brackets are not allowed
}

func ExamplePhone() {
	fmt.Println(normalize.Phone("07911 123456", "GB"))
	fmt.Println(normalize.Phone("0033 6 12 34 56 78", "US"))
	fmt.Println(normalize.Phone("(201) 555-0123 ext. 45", "US"))
	fmt.Println(normalize.Phone("123", "GB"))
	// Output:
	// +447911123456 <nil>
	// +33612345678 <nil>
	// +12015550123 <nil>
	//  invalid phone: not a valid number for its country
}

func ExampleName() {
	fmt.Println(normalize.Name("LUDWIG VAN BEETHOVEN"))
	fmt.Println(normalize.Name("o'brien-mcdonald"))
	fmt.Println(normalize.Name("Zoë  Ørsted"))
	// Output:
	// Ludwig van Beethoven ludwig van beethoven <nil>
	// O'Brien-McDonald obrien mcdonald <nil>
	// Zoë Ørsted zoe orsted <nil>
}

func ExampleDate() {
	fmt.Println(normalize.Date("03/04/2024", normalize.Options{}))
	fmt.Println(normalize.Date("03/04/2024", normalize.Options{DateFormats: []string{"mdy"}}))
	fmt.Println(normalize.Date("Mar 4, 2024", normalize.Options{}))
	fmt.Println(normalize.Date("31/02/2024", normalize.Options{}))
	// Output:
	// 2024-04-03 <nil>
	// 2024-03-04 <nil>
	// 2024-03-04 <nil>
	//  invalid date: does not match the configured date formats
}

func ExampleTimestamp() {
	t, err := normalize.Timestamp("2024-03-04T10:15:30.5+01:00", normalize.Options{})
	fmt.Println(normalize.FormatTimestamp(t), err)
	t, err = normalize.Timestamp("1709547330000", normalize.Options{DateFormats: []string{"unix", "unix_ms"}})
	fmt.Println(normalize.FormatTimestamp(t), err)
	// Output:
	// 2024-03-04T09:15:30.5Z <nil>
	// 2024-03-04T10:15:30Z <nil>
}

func ExampleCountry() {
	for _, s := range []string{"UK", "U.S.A.", "Deutschland", "fra", "Atlantis"} {
		fmt.Println(normalize.Country(s))
	}
	// Output:
	// GB <nil>
	// US <nil>
	// DE <nil>
	// FR <nil>
	//  invalid country: unknown country
}

func ExampleNumber() {
	fmt.Println(normalize.Number("$1,234.50", '.'))
	fmt.Println(normalize.Number("1 234,50 €", ','))
	fmt.Println(normalize.Number("1,5", '.'))
	// Output:
	// 1234.5 <nil>
	// 1234.5 <nil>
	// 0 invalid number: ambiguous or misplaced thousands separators
}

func ExampleValue() {
	for _, c := range []struct{ kind, raw string }{
		{"bool", "Yes"}, {"integer", "1,234"}, {"country", "Great Britain"}, {"timestamp", "04/03/2024 10:15"},
	} {
		v, err := normalize.Value(c.kind, c.raw, normalize.Options{})
		fmt.Printf("%s: %#v %v\n", c.kind, v, err)
	}
	// Output:
	// bool: true <nil>
	// integer: 1234 <nil>
	// country: "GB" <nil>
	// timestamp: "2024-03-04T10:15:00Z" <nil>
}
