package file

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jsonlRows reads JSON Lines: one JSON object per line. Blank lines are
// skipped. Numbers decode as json.Number, so large ids keep every digit.
type jsonlRows struct {
	r   *bufio.Reader
	max int
	buf []byte // a line that did not fit in r's buffer

	row  map[string]any
	raw  string
	line int // physical line of the current row
	next int // physical line the next read starts on
	bad  error
	err  error
	done bool
}

func newJSONLRows(in *bufio.Reader, opts ReadOptions) *jsonlRows {
	return &jsonlRows{r: in, max: opts.MaxRowBytes, next: 1}
}

// errNotObject reports a JSON line holding something other than an object.
var errNotObject = errors.New("not a JSON object")

func (j *jsonlRows) Next() bool {
	for !j.done {
		j.row, j.raw, j.bad = nil, "", nil
		line, size, tooLong, err := j.readLine()
		if err != nil && err != io.EOF {
			j.done = true
			j.err = fmt.Errorf("ingest: jsonl: line %d: %w", j.next, err)
			return false
		}
		if err == io.EOF {
			j.done = true
		}
		j.line = j.next
		j.next++
		if tooLong {
			j.raw = string(line[:min(len(line), MaxRawBytes)])
			j.bad = fmt.Errorf("line of %d bytes is longer than %d bytes (its first %d bytes are kept)", size, j.max, len(j.raw))
			return true
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		j.row, j.bad = decodeObject(line)
		if j.bad != nil {
			j.raw = string(line[:min(len(line), MaxRawBytes)])
		}
		return true
	}
	return false
}

// readLine returns the next line without its line break, and its length.
// A line longer than the limit is consumed to its end and returned
// truncated with tooLong set. At the end of input it returns io.EOF with
// the last line, which may be empty.
func (j *jsonlRows) readLine() (line []byte, size int, tooLong bool, err error) {
	line, err = j.r.ReadSlice('\n')
	size = len(line)
	if err == bufio.ErrBufferFull {
		j.buf = append(j.buf[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = j.r.ReadSlice('\n')
			size += len(line)
			if len(j.buf) <= j.max {
				j.buf = append(j.buf, line...)
			} else {
				tooLong = true
			}
		}
		if bytes.HasSuffix(line, []byte{'\n'}) {
			size--
		}
		line = j.buf
	} else if bytes.HasSuffix(line, []byte{'\n'}) {
		size--
	}
	line = bytes.TrimSuffix(line, []byte{'\n'})
	return line, size, tooLong || size > j.max, err
}

// decodeObject decodes one line holding exactly one JSON object.
func decodeObject(line []byte) (map[string]any, error) {
	if line[0] != '{' {
		return nil, errNotObject
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("invalid JSON: %s", jsonReason(err))
	}
	if rest := bytes.TrimSpace(line[dec.InputOffset():]); len(rest) > 0 {
		return nil, errors.New("invalid JSON: data after the object")
	}
	return m, nil
}

// jsonReason describes a decoding error without quoting the input.
func jsonReason(err error) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "unexpected end of line"
	default:
		return "cannot decode"
	}
}

func (j *jsonlRows) Row() map[string]any { return j.row }

func (j *jsonlRows) Raw() any {
	if j.bad != nil {
		return j.raw
	}
	return j.row
}

func (j *jsonlRows) Line() int    { return j.line }
func (j *jsonlRows) EndLine() int { return j.line }
func (j *jsonlRows) Bad() error   { return j.bad }
func (j *jsonlRows) Err() error   { return j.err }
