package file_test

import (
	"bytes"
	"strings"
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
		"id,name,city\nC1,\"Ann,Leeds\nC2,Bob,York\nC4,\"Dora\"x,Rome\nid,name,city\n",
		"id,v\n1,x,\"a\n2,b\n3,c\"\n4,d\r\n" + strings.Repeat("y", 80) + "\n5,e",
	} {
		f.Add([]byte(s))
	}
	opts := &config.CSVOptions{Comment: "#"}
	const max = 64
	f.Fuzz(func(t *testing.T, in []byte) {
		rows, err := file.NewRows(bytes.NewReader(in), file.ReadOptions{Format: "csv", CSV: opts, MaxRowBytes: max})
		if err != nil {
			return // a header error; reported whole
		}
		if !plainText(in) {
			checkLines(t, in, rows)
			return
		}
		checkEveryLine(t, in, rows, max)
	})
}

// checkEveryLine checks that every physical line after the header of
// plain-text CSV input is blank, a comment, or part of exactly one row or
// bad row (loaded + rejected = data lines), and that a bad row keeps the
// raw text of its lines.
func checkEveryLine(t *testing.T, in []byte, rows file.Rows, max int) {
	t.Helper()
	lines := bytes.SplitAfter(in, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	text := func(from, to int) string { // lines from..to, final break dropped
		s := string(bytes.Join(lines[from-1:to], nil))
		s = strings.TrimSuffix(s, "\n")
		if to == len(lines) || strings.HasSuffix(s, "\r") {
			s = strings.TrimSuffix(s, "\r")
		}
		return s
	}
	covered := make([]int, len(lines)+1) // rows covering each line
	first := 0
	for rows.Next() {
		from, to := rows.Line(), rows.EndLine()
		if from < 1 || to < from || to > len(lines) {
			t.Fatalf("row lines %d-%d; want within 1..%d", from, to, len(lines))
		}
		if first == 0 {
			first = from
		}
		for l := from; l <= to; l++ {
			covered[l]++
		}
		if (rows.Bad() == nil) == (rows.Row() == nil) {
			t.Fatalf("line %d: Bad() = %v with Row() = %v; want exactly one of them", from, rows.Bad(), rows.Row())
		}
		if rows.Bad() == nil {
			continue
		}
		raw, _ := rows.Raw().(string)
		want := text(from, to)
		if len(want) > max {
			want = want[:min(max, file.MaxRawBytes)]
		}
		if raw != want {
			t.Fatalf("bad row at lines %d-%d: Raw() = %q; want the raw text %q", from, to, raw, want)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("Err() = %v; want nil reading from memory", err)
	}
	if first == 0 {
		return // header only
	}
	// Lines before the first row are the header, blank lines and
	// comments; the header's lines are not known here, so the check
	// starts at the first row.
	for l := first; l <= len(lines); l++ {
		s := text(l, l)
		skippable := s == "" || strings.HasPrefix(s, "#")
		switch {
		case covered[l] > 1:
			t.Fatalf("line %d is in %d rows; want one", l, covered[l])
		case covered[l] == 0 && !skippable:
			t.Fatalf("line %d (%q) is in no row, and is neither blank nor a comment", l, s)
		}
	}
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
		if err != nil && !plainText(in) {
			return // a broken gzip header
		}
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
