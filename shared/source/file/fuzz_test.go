package file_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/source/file"
)

// plainText reports whether in needs no decoding step (gzip, BOM), so a
// reference reader can see the same bytes.
func plainText(in []byte) bool {
	return !bytes.HasPrefix(in, []byte{0x1f, 0x8b}) &&
		!bytes.HasPrefix(in, []byte{0xEF, 0xBB, 0xBF}) &&
		!bytes.HasPrefix(in, []byte{0xFF, 0xFE}) &&
		!bytes.HasPrefix(in, []byte{0xFE, 0xFF})
}

// checkLines checks what holds for every reader: rows come in increasing
// line order within the input, and a row is either good or bad.
func checkLines(t *testing.T, in []byte, rows file.Rows) int {
	t.Helper()
	lines := bytes.Count(in, []byte("\n")) + 1
	n, last := 0, 0
	for rows.Next() {
		n++
		line := rows.Line()
		if line <= last || line > lines {
			t.Fatalf("row %d: Line() = %d after %d; want increasing within 1..%d", n, line, last, lines)
		}
		last = line
		if (rows.Bad() == nil) == (rows.Row() == nil) {
			t.Fatalf("line %d: Bad() = %v with Row() = %v; want exactly one of them", line, rows.Bad(), rows.Row())
		}
	}
	return n
}

func FuzzCSV(f *testing.F) {
	for _, s := range []string{
		"email,name\nann@example.com,Ann\n",
		"id,note\n1,\"two\nlines\"\n2,\"say \"\"hi\"\"\"\n",
		"id,v\n1,a\n2,b,extra\n3\n",
		"id,v\n1,O\"Brien\n# comment\n\n2,b",
		"\ufeffa,b\r\n1,2\r\n",
		"a,a\n",
		",\n",
		"a,b\n1,\"unterminated\n",
	} {
		f.Add([]byte(s))
	}
	opts := &config.CSVOptions{Comment: "#"}
	f.Fuzz(func(t *testing.T, in []byte) {
		rows, err := file.NewRows(bytes.NewReader(in), file.ReadOptions{Format: "csv", CSV: opts})
		if err != nil {
			return // a header error; reported whole
		}
		n := checkLines(t, in, rows)
		if !plainText(in) || rows.Err() != nil {
			return
		}
		// Every record encoding/csv sees after the header is a row or a bad row.
		ref := csv.NewReader(bytes.NewReader(in))
		ref.Comment = '#'
		want := -1 // the header
		for {
			_, err := ref.Read()
			if err == io.EOF {
				break
			}
			if _, ok := err.(*csv.ParseError); err != nil && !ok {
				break
			}
			want++
		}
		if n != want {
			t.Errorf("rows and bad rows = %d; want %d (records after the header)", n, want)
		}
	})
}

func FuzzJSONL(f *testing.F) {
	for _, s := range []string{
		"{\"email\":\"ann@example.com\",\"n\":1}\n{\"a\":[1,2]}\n",
		"\n\n{\"a\":1}\r\n  \n",
		"[1]\nnull\n\"s\"\n{\"a\":1} x\n{\"a\":\n",
		"{\"a\":\"" + string(bytes.Repeat([]byte("x"), 100)) + "\"}\n{}",
		"\ufeff{}",
	} {
		f.Add([]byte(s))
	}
	const max = 64
	f.Fuzz(func(t *testing.T, in []byte) {
		rows, err := file.NewRows(bytes.NewReader(in), file.ReadOptions{Format: "jsonl", MaxRowBytes: max})
		if err != nil {
			t.Fatalf("NewRows error = %v; want none for JSON Lines", err)
		}
		n := checkLines(t, in, rows)
		if !plainText(in) {
			return
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("Err() = %v; want nil reading from memory", err)
		}
		// Every line that is not blank is a row or a bad row.
		want := 0
		for _, line := range bytes.Split(in, []byte("\n")) {
			if len(line) > max || len(bytes.TrimSpace(line)) > 0 {
				want++
			}
		}
		if n != want {
			t.Errorf("rows and bad rows = %d; want %d (lines not blank)", n, want)
		}
	})
}
