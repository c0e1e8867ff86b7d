package file

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"strings"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// Rows iterates over the rows of one file, one at a time, with memory
// bounded by the longest row whatever the file's size. Rows that cannot be
// read (a malformed CSV record, a JSON line that is not an object) do not
// stop the iteration: Next returns true for them and Bad says why.
//
//	for rows.Next() {
//		if err := rows.Bad(); err != nil {
//			reject(rows.Line(), err, rows.Raw())
//			continue
//		}
//		use(rows.Row())
//	}
//	if err := rows.Err(); err != nil {
//		// the file could not be read to its end
//	}
type Rows interface {
	// Next advances to the next row or bad row. It returns false at the
	// end of the input or when reading cannot go on (see Err).
	Next() bool
	// Row returns the current row: CSV values (strings) keyed by column
	// name, or the JSON object of a JSON line (numbers as json.Number). It
	// is nil for a bad row. The map is only valid until the next call to
	// Next; its values may be kept.
	Row() map[string]any
	// Raw returns the current row as read, for the rejected file: the row
	// itself for a good row; for a bad row its text (string) without the
	// final line break: the whole of a bad CSV row, at most MaxRawBytes of
	// a bad JSON line and of a row longer than the row limit (Bad then
	// gives its length). It is only valid until the next call to Next.
	Raw() any
	// Line is the 1-based physical line on which the current row starts.
	Line() int
	// EndLine is the physical line on which the current row ends: Line,
	// unless a quoted CSV field spans lines.
	EndLine() int
	// Bad reports why the current row could not be read, or nil. The
	// reason never quotes the row's values.
	Bad() error
	// Err returns the error that stopped the iteration before the end of
	// the input, or nil.
	Err() error
}

// DefaultMaxRowBytes bounds one row (a CSV record or a JSON line) unless
// ReadOptions.MaxRowBytes says otherwise.
const DefaultMaxRowBytes = 1 << 20

// MaxRawBytes bounds the raw text kept by Raw of a bad JSON line and of a
// row longer than the row limit.
const MaxRawBytes = 4 << 10

// ReadOptions say how to read a file.
type ReadOptions struct {
	// Format is config.FormatCSV or config.FormatJSONL.
	Format string
	// CSV tunes format csv; nil means comma-delimited without comments.
	CSV *config.CSVOptions
	// MaxRowBytes bounds one row (its final line break not counted); 0
	// means DefaultMaxRowBytes. A longer line is reported as a bad row and
	// reading goes on with the next line. A quoted CSV field that spans
	// lines and would make its row longer is taken for an unterminated
	// quote: the line it opened on is the bad row, and the
	// lines after it are read again.
	MaxRowBytes int
}

// NewRows returns the rows of r. Gzip-compressed input is detected by its
// magic bytes and decompressed. A UTF-8 byte order mark is dropped; input
// starting with a UTF-16 byte order mark is decoded to UTF-8.
func NewRows(r io.Reader, opts ReadOptions) (Rows, error) {
	if opts.MaxRowBytes <= 0 {
		opts.MaxRowBytes = DefaultMaxRowBytes
	}
	br := bufio.NewReaderSize(r, 64<<10)
	gz, err := isGzip(br)
	if err != nil {
		return nil, fmt.Errorf("ingest: read: %w", err)
	}
	if gz {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("ingest: gzip header: %w", fault.ErrInvalid)
		}
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	in, err := stripBOM(br)
	if err != nil {
		return nil, fmt.Errorf("ingest: read: %w", err)
	}
	switch opts.Format {
	case config.FormatCSV:
		return newCSVRows(in, opts)
	case config.FormatJSONL:
		return newJSONLRows(in, opts), nil
	default:
		return nil, fault.Invalidf("ingest: unknown format %q (want csv or jsonl)", opts.Format)
	}
}

// peek returns up to n bytes without consuming them. A short input is no
// error; a failing one is.
func peek(br *bufio.Reader, n int) ([]byte, error) {
	b, err := br.Peek(n)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return b, nil
}

func isGzip(br *bufio.Reader) (bool, error) {
	magic, err := peek(br, 2)
	return len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b, err
}

// stripBOM drops a UTF-8 byte order mark and decodes UTF-16 input marked
// by one.
func stripBOM(br *bufio.Reader) (*bufio.Reader, error) {
	head, err := peek(br, 3)
	switch {
	case err != nil:
		return nil, err
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
		return br, nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		dec := unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()
		return bufio.NewReaderSize(transform.NewReader(br, dec), 64<<10), nil
	default:
		return br, nil
	}
}

// FormatOf returns the format of the object key of a file source: the
// source's declared format, or else the one its name ends in (.csv,
// .jsonl, .ndjson, each optionally followed by .gz).
func FormatOf(src *config.Source, key string) (string, error) {
	if src.Format != "" {
		return src.Format, nil
	}
	name := strings.ToLower(path.Base(key))
	name = strings.TrimSuffix(name, ".gz")
	switch path.Ext(name) {
	case ".csv":
		return config.FormatCSV, nil
	case ".jsonl", ".ndjson":
		return config.FormatJSONL, nil
	}
	return "", fault.Invalidf("ingest: source %s declares no format and %s has no known extension (.csv, .jsonl, .ndjson)", src.Name, key)
}
