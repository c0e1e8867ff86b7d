package file_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/source/file"
)

// got is one row as seen by a test.
type got struct {
	Line int
	Row  map[string]any
	Bad  string // substring of Bad(), "" for a good row
}

func collect(t *testing.T, rows file.Rows) []got {
	t.Helper()
	var out []got
	for rows.Next() {
		g := got{Line: rows.Line()}
		if err := rows.Bad(); err != nil {
			g.Bad = err.Error()
			if rows.Row() != nil {
				t.Errorf("line %d: Row() = %v for a bad row; want nil", g.Line, rows.Row())
			}
			if rows.Raw() == nil {
				t.Errorf("line %d: Raw() = nil for a bad row; want what was read", g.Line)
			}
		} else {
			g.Row = make(map[string]any)
			for k, v := range rows.Row() {
				g.Row[k] = v
			}
		}
		out = append(out, g)
	}
	return out
}

func sameRows(t *testing.T, name string, gotRows, want []got) {
	t.Helper()
	if len(gotRows) != len(want) {
		t.Fatalf("%s: %d rows %+v; want %d rows %+v", name, len(gotRows), gotRows, len(want), want)
	}
	for i := range want {
		g, w := gotRows[i], want[i]
		if g.Line != w.Line {
			t.Errorf("%s: row %d Line = %d; want %d", name, i, g.Line, w.Line)
		}
		if w.Bad != "" {
			if !strings.Contains(g.Bad, w.Bad) {
				t.Errorf("%s: row %d (line %d) Bad = %q; want it to contain %q", name, i, g.Line, g.Bad, w.Bad)
			}
			continue
		}
		if g.Bad != "" {
			t.Errorf("%s: row %d (line %d) Bad = %q; want a good row", name, i, g.Line, g.Bad)
			continue
		}
		if !reflect.DeepEqual(g.Row, w.Row) {
			t.Errorf("%s: row %d (line %d) = %v; want %v", name, i, g.Line, g.Row, w.Row)
		}
	}
}

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func utf16LE(s string) string {
	var b bytes.Buffer
	b.Write([]byte{0xFF, 0xFE})
	for _, u := range utf16.Encode([]rune(s)) {
		binary.Write(&b, binary.LittleEndian, u)
	}
	return b.String()
}

func TestCSV(t *testing.T) {
	row := func(kv ...string) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		in   string
		opts *config.CSVOptions
		want []got
	}{
		{
			name: "plain",
			in:   "email,name\nann@example.com,Ann\nbob@example.com,Bob\n",
			want: []got{
				{Line: 2, Row: row("email", "ann@example.com", "name", "Ann")},
				{Line: 3, Row: row("email", "bob@example.com", "name", "Bob")},
			},
		},
		{
			name: "no final newline and CRLF",
			in:   "email,name\r\nann@example.com,Ann\r\nbob@example.com,Bob",
			want: []got{
				{Line: 2, Row: row("email", "ann@example.com", "name", "Ann")},
				{Line: 3, Row: row("email", "bob@example.com", "name", "Bob")},
			},
		},
		{
			name: "BOM and spaces around header names",
			in:   "\ufeff email , name\nann@example.com,Ann\n",
			want: []got{{Line: 2, Row: row("email", "ann@example.com", "name", "Ann")}},
		},
		{
			name: "quoted fields with embedded newlines keep physical lines",
			in:   "id,note\n1,\"two\nlines\"\n2,\"say \"\"hi\"\"\"\n\"3\n\n\",x\n4,y\n",
			want: []got{
				{Line: 2, Row: row("id", "1", "note", "two\nlines")},
				{Line: 4, Row: row("id", "2", "note", `say "hi"`)},
				{Line: 5, Row: row("id", "3\n\n", "note", "x")},
				{Line: 8, Row: row("id", "4", "note", "y")},
			},
		},
		{
			name: "blank lines are skipped, lines still counted",
			in:   "id,v\n\n1,a\n\n\n2,b\n",
			want: []got{
				{Line: 3, Row: row("id", "1", "v", "a")},
				{Line: 6, Row: row("id", "2", "v", "b")},
			},
		},
		{
			name: "wrong field count is a bad row, not the end",
			in:   "id,v\n1,a\n2,b,extra\n3\n4,d\n",
			want: []got{
				{Line: 2, Row: row("id", "1", "v", "a")},
				{Line: 3, Bad: "3 fields, want 2"},
				{Line: 4, Bad: "1 fields, want 2"},
				{Line: 5, Row: row("id", "4", "v", "d")},
			},
		},
		{
			name: "bare quote is a bad row",
			in:   "id,v\n1,O\"Brien\n2,b\n",
			want: []got{
				{Line: 2, Bad: "bare \""},
				{Line: 3, Row: row("id", "2", "v", "b")},
			},
		},
		{
			name: "semicolon delimiter and comments",
			in:   "# export of 2024-06-01\nid;v\n# a comment\n1;a,b\n",
			opts: &config.CSVOptions{Delimiter: ";", Comment: "#"},
			want: []got{{Line: 4, Row: row("id", "1", "v", "a,b")}},
		},
		{
			name: "tab delimiter",
			in:   "id\tv\n1\ta\n",
			opts: &config.CSVOptions{Delimiter: "\t"},
			want: []got{{Line: 2, Row: row("id", "1", "v", "a")}},
		},
		{
			name: "gzip",
			in:   gz("id,v\n1,a\n2,b\n"),
			want: []got{
				{Line: 2, Row: row("id", "1", "v", "a")},
				{Line: 3, Row: row("id", "2", "v", "b")},
			},
		},
		{
			name: "UTF-16 with BOM",
			in:   utf16LE("id,name\n1,Zoë\n"),
			want: []got{{Line: 2, Row: row("id", "1", "name", "Zoë")}},
		},
		{
			name: "header only",
			in:   "id,v\n",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := file.NewRows(strings.NewReader(tt.in), file.ReadOptions{Format: "csv", CSV: tt.opts})
			if err != nil {
				t.Fatalf("NewRows error = %v", err)
			}
			sameRows(t, "CSV", collect(t, rows), tt.want)
			if err := rows.Err(); err != nil {
				t.Errorf("Err() = %v; want nil", err)
			}
		})
	}
}

func TestCSVHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts *config.CSVOptions
		want string
	}{
		{"empty input", "", nil, "no header row"},
		{"duplicate names", "email,name,email\n", nil, "columns 1 and 3 have the same name"},
		{"duplicate after trimming", "id, id\n", nil, "columns 1 and 2"},
		{"empty name", "email,,name\n", nil, "column 2 has no name"},
		{"bad delimiter", "a,b\n", &config.CSVOptions{Delimiter: "\""}, "delimiter"},
		{"multi-character delimiter", "a,b\n", &config.CSVOptions{Delimiter: ";;"}, "delimiter"},
		{"delimiter equals comment", "a,b\n", &config.CSVOptions{Delimiter: "#", Comment: "#"}, "both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := file.NewRows(strings.NewReader(tt.in), file.ReadOptions{Format: "csv", CSV: tt.opts})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewRows(%q) error = %v; want one containing %q", tt.in, err, tt.want)
			}
			if !errors.Is(err, fault.ErrInvalid) {
				t.Errorf("NewRows(%q) error = %v; want fault.ErrInvalid", tt.in, err)
			}
		})
	}
}

func TestJSONL(t *testing.T) {
	long := `{"x":"` + strings.Repeat("a", 200) + `"}`
	tests := []struct {
		name string
		in   string
		want []got
	}{
		{
			name: "objects, numbers as json.Number",
			in:   `{"email":"ann@example.com","n":12345678901234567890,"t":{"a":true}}` + "\n" + `{"email":"bob@example.com","n":1.5}` + "\n",
			want: []got{
				{Line: 1, Row: map[string]any{"email": "ann@example.com", "n": json.Number("12345678901234567890"), "t": map[string]any{"a": true}}},
				{Line: 2, Row: map[string]any{"email": "bob@example.com", "n": json.Number("1.5")}},
			},
		},
		{
			name: "blank lines skipped, CRLF, no final newline",
			in:   "\r\n{\"a\":\"1\"}\r\n   \n\n{\"a\":\"2\"}",
			want: []got{
				{Line: 2, Row: map[string]any{"a": "1"}},
				{Line: 5, Row: map[string]any{"a": "2"}},
			},
		},
		{
			name: "lines that are not objects are bad rows",
			in:   "[1,2]\nnull\n\"s\"\n42\n{\"a\":1\n{\"a\":1} {\"b\":2}\n{\"ok\":true}\n",
			want: []got{
				{Line: 1, Bad: "not a JSON object"},
				{Line: 2, Bad: "not a JSON object"},
				{Line: 3, Bad: "not a JSON object"},
				{Line: 4, Bad: "not a JSON object"},
				{Line: 5, Bad: "unexpected end"},
				{Line: 6, Bad: "data after the object"},
				{Line: 7, Row: map[string]any{"ok": true}},
			},
		},
		{
			name: "syntax error does not quote the input",
			in:   "{\"email\": ann@example.com}\n",
			want: []got{{Line: 1, Bad: "syntax error at byte"}},
		},
		{
			name: "too long line is skipped",
			in:   "{\"a\":1}\n" + long + "\n{\"b\":2}\n",
			want: []got{
				{Line: 1, Row: map[string]any{"a": json.Number("1")}},
				{Line: 2, Bad: "longer than 100 bytes"},
				{Line: 3, Row: map[string]any{"b": json.Number("2")}},
			},
		},
		{
			name: "BOM and gzip",
			in:   gz("\ufeff{\"a\":\"x\"}\n"),
			want: []got{{Line: 1, Row: map[string]any{"a": "x"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := file.NewRows(strings.NewReader(tt.in), file.ReadOptions{Format: "jsonl", MaxRowBytes: 100})
			if err != nil {
				t.Fatalf("NewRows error = %v", err)
			}
			got := collect(t, rows)
			sameRows(t, "JSONL", got, tt.want)
			if err := rows.Err(); err != nil {
				t.Errorf("Err() = %v; want nil", err)
			}
			for _, g := range got {
				if strings.Contains(g.Bad, "ann@") {
					t.Errorf("line %d: Bad = %q quotes the input", g.Line, g.Bad)
				}
			}
		})
	}
}

func TestJSONLVeryLongLineKeepsMemoryBounded(t *testing.T) {
	// A 5 MiB line with a 1 MiB limit: reported, then reading goes on.
	in := "{\"a\":\"" + strings.Repeat("x", 5<<20) + "\"}\n{\"b\":\"y\"}\n"
	rows, err := file.NewRows(strings.NewReader(in), file.ReadOptions{Format: "jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, "JSONL", collect(t, rows), []got{
		{Line: 1, Bad: fmt.Sprintf("line of %d bytes is longer than 1048576 bytes", len(in)-len("\n{\"b\":\"y\"}\n"))},
		{Line: 2, Row: map[string]any{"b": "y"}},
	})
}

func TestNewRowsErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts file.ReadOptions
	}{
		{"unknown format", "a\n", file.ReadOptions{Format: "xml"}},
		{"broken gzip header", "\x1f\x8b\x00garbage", file.ReadOptions{Format: "csv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := file.NewRows(strings.NewReader(tt.in), tt.opts); !errors.Is(err, fault.ErrInvalid) {
				t.Errorf("NewRows error = %v; want fault.ErrInvalid", err)
			}
		})
	}
}

func TestTruncatedGzipStopsWithError(t *testing.T) {
	full := gz(strings.Repeat("{\"a\":\"b\"}\n", 1000))
	rows, err := file.NewRows(strings.NewReader(full[:len(full)/2]), file.ReadOptions{Format: "jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
	}
	if rows.Err() == nil {
		t.Errorf("Err() after a truncated gzip stream = nil; want an error")
	}
}

func TestFormatOf(t *testing.T) {
	tests := []struct {
		src  config.Source
		key  string
		want string
	}{
		{config.Source{Name: "crm", Format: "jsonl"}, "sources/crm/a.csv", "jsonl"},
		{config.Source{Name: "crm"}, "sources/crm/a.csv", "csv"},
		{config.Source{Name: "crm"}, "sources/crm/A.CSV.GZ", "csv"},
		{config.Source{Name: "shop"}, "sources/shop/o.jsonl", "jsonl"},
		{config.Source{Name: "shop"}, "sources/shop/o.ndjson.gz", "jsonl"},
		{config.Source{Name: "shop"}, "sources/shop/o.xml", ""},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, err := file.FormatOf(&tt.src, tt.key)
			if got != tt.want || (tt.want == "") != (err != nil) {
				t.Errorf("FormatOf(%s, %q) = %q, %v; want %q", tt.src.Name, tt.key, got, err, tt.want)
			}
		})
	}
}
