package file

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// csvRows reads CSV with a header row (RFC 4180 quoting, fields may span
// lines) through encoding/csv.
type csvRows struct {
	r      *csv.Reader
	guard  *rowGuard
	header []string

	row  map[string]any
	raw  []string
	line int
	bad  error
	err  error
	done bool
}

// newCSVRows reads the header row. Header names are trimmed of
// surrounding spaces; an empty or duplicate name is an error naming the
// columns by number (1-based) only, since a file without a header would
// otherwise have its first row quoted.
func newCSVRows(in io.Reader, opts ReadOptions) (*csvRows, error) {
	guard := &rowGuard{r: in, max: int64(opts.MaxRowBytes)}
	r := csv.NewReader(guard)
	r.ReuseRecord = true
	if o := opts.CSV; o != nil {
		var err error
		if r.Comma, err = csvRune("delimiter", o.Delimiter, ','); err != nil {
			return nil, err
		}
		if r.Comment, err = csvRune("comment", o.Comment, 0); err != nil {
			return nil, err
		}
		if r.Comma == r.Comment {
			return nil, fault.Invalidf("ingest: csv delimiter and comment are both %q", r.Comma)
		}
	}
	c := &csvRows{r: r, guard: guard}
	rec, err := r.Read()
	switch {
	case err == io.EOF:
		return nil, fault.Invalidf("ingest: csv: no header row")
	case errors.Is(err, errRowTooLong):
		return nil, fault.Invalidf("ingest: csv header: longer than %d bytes", opts.MaxRowBytes)
	case err != nil:
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, fault.Invalidf("ingest: csv header: line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
		}
		return nil, fmt.Errorf("ingest: csv header: %w", err)
	}
	guard.mark(r.InputOffset())
	c.header = make([]string, len(rec))
	seen := make(map[string]int, len(rec))
	for i, name := range rec {
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, fault.Invalidf("ingest: csv header: column %d has no name", i+1)
		}
		if j, dup := seen[name]; dup {
			return nil, fault.Invalidf("ingest: csv header: columns %d and %d have the same name", j+1, i+1)
		}
		seen[name] = i
		c.header[i] = name
	}
	c.row = make(map[string]any, len(c.header))
	return c, nil
}

// csvRune validates a one-character CSV option.
func csvRune(what, s string, def rune) (rune, error) {
	if s == "" {
		return def, nil
	}
	r, n := utf8.DecodeRuneInString(s)
	if n != len(s) || r == utf8.RuneError || r == '"' || r == '\r' || r == '\n' || r == 0xFEFF {
		return 0, fault.Invalidf("ingest: csv %s %q: want one character other than a quote or line break", what, s)
	}
	return r, nil
}

func (c *csvRows) Next() bool {
	if c.done {
		return false
	}
	c.bad = nil
	c.raw = nil
	clear(c.row)
	rec, err := c.r.Read()
	if err == io.EOF {
		c.done = true
		return false
	}
	defer c.guard.mark(c.r.InputOffset())
	var pe *csv.ParseError
	switch {
	case err == nil:
		c.line, _ = c.r.FieldPos(0)
		for i, v := range rec {
			c.row[c.header[i]] = v
		}
		return true
	case errors.As(err, &pe):
		c.line = pe.StartLine
		c.raw = rec
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			c.bad = fmt.Errorf("%d fields, want %d (as in the header)", len(rec), len(c.header))
		} else {
			c.bad = fmt.Errorf("line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
		}
		return true
	case errors.Is(err, errRowTooLong):
		c.done = true
		c.err = fault.Invalidf("ingest: csv: the record after line %d is longer than %d bytes (unterminated quote?)", c.line, c.guard.max)
		return false
	default:
		c.done = true
		c.err = fmt.Errorf("ingest: csv: after line %d: %w", c.line, err)
		return false
	}
}

func (c *csvRows) Row() map[string]any {
	if c.bad != nil {
		return nil
	}
	return c.row
}

func (c *csvRows) Raw() any {
	if c.bad != nil {
		return c.raw
	}
	return c.row
}

func (c *csvRows) Line() int  { return c.line }
func (c *csvRows) Bad() error { return c.bad }
func (c *csvRows) Err() error { return c.err }

// errRowTooLong stops a CSV record that grows past the row limit.
var errRowTooLong = errors.New("row too long")

// rowGuard bounds how far encoding/csv may read past the end of the last
// record, so that an unterminated quote cannot pull the rest of a large
// file into memory. encoding/csv reads through a 4 KiB bufio.Reader, so
// the guard allows that much slack beyond the limit.
type rowGuard struct {
	r    io.Reader
	read int64 // bytes handed to encoding/csv
	end  int64 // offset of the end of the last record
	max  int64
}

const csvSlack = 4 << 10

func (g *rowGuard) mark(offset int64) { g.end = offset }

func (g *rowGuard) Read(p []byte) (int, error) {
	room := g.end + g.max + csvSlack - g.read
	if room <= 0 {
		return 0, errRowTooLong
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := g.r.Read(p)
	g.read += int64(n)
	return n, err
}
