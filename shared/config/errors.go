package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// Error is one problem in a configuration file. It prints as
//
//	aurum.yaml:12:11: sources[1].kind: "fil" is not one of file, api, webhook, bus, pull
//
// Line and Column point at the offending value; at the key for unknown keys
// and empty values; at the enclosing mapping for missing keys. They are 0
// when the position is unknown (a Config built in Go and checked with
// Validate).
type Error struct {
	// File is the file name given to Load or Parse.
	File string
	// Line and Column are 1-based.
	Line, Column int
	// Path locates the key, e.g. sources[1].kind; empty for syntax errors.
	Path string
	// Msg says what is wrong and what was expected.
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Column))
		b.WriteString(":")
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is reports that every configuration error is a fault.ErrInvalid.
func (e *Error) Is(target error) bool { return target == fault.ErrInvalid }

// Errors is every problem found in one configuration file, ordered by
// position. Load, Parse and Validate return it (as error) when the
// configuration is invalid; get it back with errors.As.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap returns the individual errors, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// sortErrors orders errors by position, then path and message, and drops
// duplicates (the same problem reached twice, e.g. through an alias).
func sortErrors(es Errors) Errors {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
	return slices.CompactFunc(es, func(a, b *Error) bool { return *a == *b })
}
