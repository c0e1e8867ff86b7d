package file

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// csvRows reads CSV with a header row (RFC 4180 quoting, fields may span
// lines). It reads physical lines itself and follows the quotes across
// them to find where each record ends, then splits the record with
// encoding/csv. A record that cannot be read never takes good lines with
// it: when a quoted field that spans lines does not end where a field can
// end (or the record it gives has the wrong field count, or it does not
// end within the row limit), only the line where the quote opened is
// rejected, as an unterminated quote, and the lines after it are read
// again. Every physical line after the header is therefore blank, a
// comment, or part of exactly one row or bad row.
type csvRows struct {
	lines   *lineReader
	max     int
	comma   []byte
	comment rune
	header  []string

	r    *csv.Reader
	feed *feeder
	fed  int64 // bytes handed to r

	rec   []byte // the current record as read
	spans []span // its physical lines

	row  map[string]any
	raw  string
	line int
	end  int
	bad  error
	err  error
	done bool
}

// newCSVRows reads the header row. Header names are trimmed of
// surrounding spaces; an empty or duplicate name is an error naming the
// columns by number (1-based) only, since a file without a header would
// otherwise have its first row quoted.
func newCSVRows(in *bufio.Reader, opts ReadOptions) (*csvRows, error) {
	comma, comment := ',', rune(0)
	if o := opts.CSV; o != nil {
		var err error
		if comma, err = csvRune("delimiter", o.Delimiter, ','); err != nil {
			return nil, err
		}
		if comment, err = csvRune("comment", o.Comment, 0); err != nil {
			return nil, err
		}
		if comma == comment {
			return nil, fault.Invalidf("ingest: csv delimiter and comment are both %q", comma)
		}
	}
	c := &csvRows{
		lines:   newLineReader(in, opts.MaxRowBytes),
		max:     opts.MaxRowBytes,
		comma:   utf8.AppendRune(nil, comma),
		comment: comment,
		feed:    &feeder{},
	}
	c.r = c.newReader()
	if err := c.readHeader(); err != nil {
		return nil, err
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

func (c *csvRows) newReader() *csv.Reader {
	r := csv.NewReader(c.feed)
	r.Comma, _ = utf8.DecodeRune(c.comma)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	c.fed = 0
	return r
}

// readHeader reads the header record. Nothing is re-synchronised in a
// header: a header that cannot be read is an error of the file.
func (c *csvRows) readHeader() error {
	first, ok := c.firstLine()
	if !ok {
		if err := c.lines.err; err != nil {
			return fmt.Errorf("ingest: csv header: %w", err)
		}
		return fault.Invalidf("ingest: csv: no header row")
	}
	if first.long {
		return fault.Invalidf("ingest: csv header: longer than %d bytes", c.max)
	}
	rec, res := c.record(first)
	switch {
	case res.stop:
		return fmt.Errorf("ingest: csv header: %w", c.lines.err)
	case res.err != nil:
		return fault.Invalidf("ingest: csv header: %v", res.err)
	}
	c.header = make([]string, len(rec))
	seen := make(map[string]int, len(rec))
	for i, name := range rec {
		name = strings.TrimSpace(name)
		if name == "" {
			return fault.Invalidf("ingest: csv header: column %d has no name", i+1)
		}
		if j, dup := seen[name]; dup {
			return fault.Invalidf("ingest: csv header: columns %d and %d have the same name", j+1, i+1)
		}
		seen[name] = i
		c.header[i] = name
	}
	return nil
}

// firstLine returns the next line that can start a record: blank lines
// and, when a comment character is set, comment lines are skipped.
func (c *csvRows) firstLine() (physLine, bool) {
	for {
		l, ok := c.lines.read()
		if !ok {
			return l, false
		}
		if l.long {
			return l, true
		}
		content := trimEOL(l.text)
		if len(content) == 0 {
			continue
		}
		if r, _ := utf8.DecodeRune(content); c.comment != 0 && r == c.comment {
			continue
		}
		return l, true
	}
}

func (c *csvRows) Next() bool {
	if c.done {
		return false
	}
	c.bad, c.raw = nil, ""
	clear(c.row)
	first, ok := c.firstLine()
	if !ok {
		c.stop()
		return false
	}
	c.line, c.end = first.num, first.num
	if first.long {
		c.bad = fmt.Errorf("row of %d bytes is longer than %d bytes (its first %d bytes are kept)", first.size, c.max, len(first.text))
		c.raw = string(first.text)
		return true
	}
	rec, res := c.record(first)
	c.end = c.spans[len(c.spans)-1].num
	switch {
	case res.stop:
		c.stop()
		return false
	case res.err != nil:
		c.bad = res.err
		c.raw = string(trimEOL(c.rec))
		return true
	case len(rec) != len(c.header):
		c.bad = fmt.Errorf("%d fields, want %d (as in the header)", len(rec), len(c.header))
		c.raw = string(trimEOL(c.rec))
		return true
	case c.repeatsHeader(rec):
		c.bad = errors.New("repeated header: the line repeats the header row")
		c.raw = string(trimEOL(c.rec))
		return true
	}
	for i, v := range rec {
		c.row[c.header[i]] = v
	}
	return true
}

// stop ends the iteration: at the end of the input, or on a read error.
func (c *csvRows) stop() {
	c.done = true
	if err := c.lines.err; err != nil {
		c.err = fmt.Errorf("ingest: csv: after line %d: %w", c.lines.next, err)
	}
}

// repeatsHeader reports whether rec holds the header's names (a second
// file's header, from files joined end to end).
func (c *csvRows) repeatsHeader(rec []string) bool {
	for i, v := range rec {
		if strings.TrimSpace(strings.TrimPrefix(v, "\ufeff")) != c.header[i] {
			return false
		}
	}
	return true
}

// span is one physical line of the current record.
type span struct {
	start, end int // its text in rec
	num, size  int // its number and length (see physLine)
	long       bool
}

// outcome says how reading a record went.
type outcome struct {
	// err says why the record cannot be read; set with the record's lines
	// in c.spans (one line when the record was re-synchronised).
	err error
	// stop is set on a read error (c.lines.err).
	stop bool
}

// record reads the record starting on line first and splits it. A record
// spanning lines that turns out broken is cut back to its first line,
// rejected as an unterminated quote, and the lines after it are given
// back to be read again. Fields are only valid until the next call.
func (c *csvRows) record(first physLine) ([]string, outcome) {
	c.rec = append(c.rec[:0], first.text...)
	c.spans = append(c.spans[:0], span{end: len(c.rec), num: first.num, size: first.size})
	open, openCol, errCol, qerr := c.scan(trimEOL(first.text), false)
	size := first.size
	for qerr == nil && open {
		l, ok := c.lines.read()
		if !ok {
			if c.lines.err != nil {
				return nil, outcome{stop: true}
			}
			return nil, c.resync(openCol, "no closing quote before the end of the file")
		}
		start := len(c.rec)
		c.rec = append(c.rec, l.text...)
		c.spans = append(c.spans, span{start: start, end: len(c.rec), num: l.num, size: l.size, long: l.long})
		size += 1 + l.size
		if size > c.max {
			return nil, c.resync(openCol, fmt.Sprintf("no closing quote within %d bytes (the row limit)", c.max))
		}
		open, _, errCol, qerr = c.scan(trimEOL(l.text), true)
	}
	last := c.spans[len(c.spans)-1].num
	if qerr != nil {
		if len(c.spans) > 1 {
			return nil, c.resync(openCol, fmt.Sprintf("a quoted field ending on line %d would give: %v", last, qerr))
		}
		return nil, outcome{err: fmt.Errorf("line %d, column %d: %v", last, errCol, qerr)}
	}
	rec, err := c.split()
	if err != nil {
		return nil, outcome{err: err}
	}
	if len(c.spans) > 1 && c.header != nil && len(rec) != len(c.header) {
		return nil, c.resync(openCol, fmt.Sprintf("a quoted field ending on line %d would give %d fields, want %d", last, len(rec), len(c.header)))
	}
	return rec, outcome{}
}

// resync cuts the current record back to its first line and gives the
// other lines back.
func (c *csvRows) resync(col int, why string) outcome {
	give := make([]physLine, 0, len(c.spans)-1)
	for _, s := range c.spans[1:] {
		give = append(give, physLine{text: c.rec[s.start:s.end], num: s.num, size: s.size, long: s.long})
	}
	c.lines.unread(give)
	c.rec = c.rec[:c.spans[0].end]
	c.spans = c.spans[:1]
	if c.header == nil {
		return outcome{err: fmt.Errorf("line %d, column %d: unterminated quote: %s", c.spans[0].num, col, why)}
	}
	return outcome{err: fmt.Errorf("unterminated quote in column %d: %s; the lines after it are read on their own", col, why)}
}

// scan follows the quotes of one physical line b (its line break
// removed), starting inside a quoted field or at the start of a field,
// with the rules of encoding/csv (no lazy quotes). It returns whether the
// line ends inside a quoted field and the 1-based column of the quote
// that opened it, or a quoting error and its column.
func (c *csvRows) scan(b []byte, inQuote bool) (open bool, openCol, errCol int, err error) {
	pos := 0
	for {
		if inQuote {
			i := bytes.IndexByte(b[pos:], '"')
			if i < 0 {
				return true, openCol, 0, nil
			}
			pos += i + 1
			switch {
			case pos < len(b) && b[pos] == '"':
				pos++
			case bytes.HasPrefix(b[pos:], c.comma):
				pos += len(c.comma)
				inQuote = false
			case pos == len(b):
				return false, 0, 0, nil
			default:
				return false, 0, pos, csv.ErrQuote
			}
			continue
		}
		if pos < len(b) && b[pos] == '"' {
			inQuote, openCol = true, pos+1
			pos++
			continue
		}
		field := b[pos:]
		j := bytes.Index(field, c.comma)
		if j >= 0 {
			field = field[:j]
		}
		if k := bytes.IndexByte(field, '"'); k >= 0 {
			return false, 0, pos + k + 1, csv.ErrBareQuote
		}
		if j < 0 {
			return false, 0, 0, nil
		}
		pos += j + len(c.comma)
	}
}

// split splits the current record with encoding/csv.
func (c *csvRows) split() ([]string, error) {
	c.feed.b = c.rec
	c.fed += int64(len(c.rec))
	rec, err := c.r.Read()
	if err == nil && c.r.InputOffset() == c.fed {
		return rec, nil
	}
	// scan and encoding/csv disagree about where the record ends; start
	// over with a fresh reader rather than let the difference spill into
	// the next record.
	c.feed.b = nil
	c.r = c.newReader()
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("line %d: %v", c.spans[0].num+pe.Line-pe.StartLine, pe.Err)
	}
	return nil, fmt.Errorf("line %d: cannot be split into fields", c.spans[0].num)
}

// feeder hands encoding/csv one record at a time.
type feeder struct{ b []byte }

func (f *feeder) Read(p []byte) (int, error) {
	if len(f.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, f.b)
	f.b = f.b[n:]
	return n, nil
}

// trimEOL drops the line break of a line: "\n", "\r\n", or a "\r" that
// ends the input (as encoding/csv does).
func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	return bytes.TrimSuffix(b, []byte{'\r'})
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

func (c *csvRows) Line() int    { return c.line }
func (c *csvRows) EndLine() int { return c.end }
func (c *csvRows) Bad() error   { return c.bad }
func (c *csvRows) Err() error   { return c.err }
