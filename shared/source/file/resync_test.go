package file_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/source/file"
)

// seen is one row with what a re-synchronising reader must say about it.
type seen struct {
	Line, End int
	Bad       string // substring of Bad(), "" for a good row
	Raw       string // Raw() of a bad row
	ID        string // the "id" column of a good row
}

func readAll(t *testing.T, in string, opts file.ReadOptions) []seen {
	t.Helper()
	opts.Format = config.FormatCSV
	rows, err := file.NewRows(strings.NewReader(in), opts)
	if err != nil {
		t.Fatalf("NewRows error = %v", err)
	}
	var out []seen
	for rows.Next() {
		s := seen{Line: rows.Line(), End: rows.EndLine()}
		if bad := rows.Bad(); bad != nil {
			s.Bad = bad.Error()
			raw, ok := rows.Raw().(string)
			if !ok {
				t.Errorf("line %d: Raw() = %#v (%T); want the raw text (string)", s.Line, rows.Raw(), rows.Raw())
			}
			s.Raw = raw
		} else {
			s.ID, _ = rows.Row()["id"].(string)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Errorf("Err() = %v; want nil", err)
	}
	return out
}

func sameSeen(t *testing.T, in string, got, want []seen) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("rows of %q = %d: %+v; want %d: %+v", in, len(got), got, len(want), want)
	}
	for i, w := range want {
		g := got[i]
		if w.End == 0 {
			w.End = w.Line
		}
		if g.Line != w.Line || g.End != w.End {
			t.Errorf("row %d: lines %d-%d; want %d-%d", i, g.Line, g.End, w.Line, w.End)
		}
		switch {
		case w.Bad == "" && g.Bad != "":
			t.Errorf("row %d (line %d): Bad = %q; want a good row", i, g.Line, g.Bad)
		case w.Bad == "" && g.ID != w.ID:
			t.Errorf("row %d (line %d): id = %q; want %q", i, g.Line, g.ID, w.ID)
		case w.Bad != "" && !strings.Contains(g.Bad, w.Bad):
			t.Errorf("row %d (line %d): Bad = %q; want it to contain %q", i, g.Line, g.Bad, w.Bad)
		case w.Bad != "" && g.Raw != w.Raw:
			t.Errorf("row %d (line %d): Raw() = %q; want %q", i, g.Line, g.Raw, w.Raw)
		}
	}
}

func TestCSVResynchronisesAfterQuoteErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int // row limit; 0 for the default
		want []seen
	}{
		{
			name: "a quoted field spanning lines beyond the row limit is an unterminated quote",
			in:   "id,v\n1,\"aaaaaaaaaa\nbbbbbbbbbbbb\"\n2,c\n",
			max:  20,
			want: []seen{
				{Line: 2, Bad: "no closing quote within 20 bytes", Raw: "1,\"aaaaaaaaaa"},
				{Line: 3, Bad: "bare \"", Raw: "bbbbbbbbbbbb\""},
				{Line: 4, ID: "2"},
			},
		},
		{
			name: "stray quote closed by a later line that cannot end a field",
			in:   "id,name,city\nC1,\"Ann,Leeds\nC2,Bob,York\nC3,Carl,Bath\nC4,\"Dora\"x,Rome\nC5,Eve,Ely\n",
			want: []seen{
				{Line: 2, Bad: "unterminated quote", Raw: "C1,\"Ann,Leeds"},
				{Line: 3, ID: "C2"},
				{Line: 4, ID: "C3"},
				{Line: 5, Bad: "extraneous", Raw: "C4,\"Dora\"x,Rome"},
				{Line: 6, ID: "C5"},
			},
		},
		{
			name: "quote that never closes",
			in:   "id,v\n1,a\n2,\"b\n3,c\n4,d\n",
			want: []seen{
				{Line: 2, ID: "1"},
				{Line: 3, Bad: "unterminated quote", Raw: "2,\"b"},
				{Line: 4, ID: "3"},
				{Line: 5, ID: "4"},
			},
		},
		{
			name: "quote that never closes, no final newline",
			in:   "id,v\n1,\"a\n2,b",
			want: []seen{
				{Line: 2, Bad: "unterminated quote", Raw: "1,\"a"},
				{Line: 3, ID: "2"},
			},
		},
		{
			name: "closed quote giving the wrong field count",
			in:   "id,v\n1,x,\"a\n2,b\n3,c\"\n4,d\n",
			want: []seen{
				{Line: 2, Bad: "unterminated quote", Raw: "1,x,\"a"},
				{Line: 3, ID: "2"},
				{Line: 4, Bad: "bare \"", Raw: "3,c\""},
				{Line: 5, ID: "4"},
			},
		},
		{
			name: "a legitimate multi-line field after a broken line",
			in:   "id,v\n1,\"a\n2,\"two\nlines\"\n3,c\n",
			want: []seen{
				{Line: 2, Bad: "unterminated quote", Raw: "1,\"a"},
				{Line: 3, End: 4, ID: "2"},
				{Line: 5, ID: "3"},
			},
		},
		{
			name: "legitimate multi-line fields are one row",
			in:   "id,v\n1,\"two\r\nlines\"\r\n2,\"x\n\n\"\n3,y\n",
			want: []seen{
				{Line: 2, End: 3, ID: "1"},
				{Line: 4, End: 6, ID: "2"},
				{Line: 7, ID: "3"},
			},
		},
		{
			name: "single-line errors keep the raw line",
			in:   "id,v\n1,O\"Brien\n2,b,extra\n3\n4,\"q\"x\n5,e\r\n",
			want: []seen{
				{Line: 2, Bad: "bare \"", Raw: "1,O\"Brien"},
				{Line: 3, Bad: "3 fields, want 2", Raw: "2,b,extra"},
				{Line: 4, Bad: "1 fields, want 2", Raw: "3"},
				{Line: 5, Bad: "extraneous", Raw: "4,\"q\"x"},
				{Line: 6, ID: "5"},
			},
		},
		{
			name: "repeated header lines are rejected as such",
			in:   "id,v\n1,a\nid,v\n2,b\n id , v \n\ufeffid,v\n3,c\n",
			want: []seen{
				{Line: 2, ID: "1"},
				{Line: 3, Bad: "repeated header", Raw: "id,v"},
				{Line: 4, ID: "2"},
				{Line: 5, Bad: "repeated header", Raw: " id , v "},
				{Line: 6, Bad: "repeated header", Raw: "\ufeffid,v"},
				{Line: 7, ID: "3"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sameSeen(t, tt.in, readAll(t, tt.in, file.ReadOptions{MaxRowBytes: tt.max}), tt.want)
		})
	}
}

func TestCSVRowLimit(t *testing.T) {
	const max = 1 << 20 // docs/ingestion.md: a row longer than 1 MiB is refused
	atLimit := "1," + strings.Repeat("x", max-2)
	over := "2," + strings.Repeat("y", max-1)
	huge := "3,\"" + strings.Repeat("z", 3*max) + "\""
	in := "id,v\n" + atLimit + "\n" + over + "\n" + huge + "\n4,d\n"
	got := readAll(t, in, file.ReadOptions{})
	want := []seen{
		{Line: 2, ID: "1"},
		{Line: 3, Bad: fmt.Sprintf("row of %d bytes is longer than %d bytes", max+1, max), Raw: over[:file.MaxRawBytes]},
		{Line: 4, Bad: fmt.Sprintf("row of %d bytes is longer than %d bytes", 3*max+4, max), Raw: huge[:file.MaxRawBytes]},
		{Line: 5, ID: "4"},
	}
	sameSeen(t, "1 MiB rows", got, want)
}

func TestCSVUnterminatedQuoteIsBoundedAndResyncs(t *testing.T) {
	// An unterminated quote would make the rest of the file one field:
	// the reader gives up on it at the row limit, rejects its line and
	// reads the lines after it again.
	var b strings.Builder
	b.WriteString("id,v\n1,a\n2,\"oops\n")
	var want []seen
	want = append(want, seen{Line: 2, ID: "1"}, seen{Line: 3, Bad: "unterminated quote", Raw: "2,\"oops"})
	for line := 4; b.Len() < 200<<10; line++ {
		id := fmt.Sprint(line)
		b.WriteString(id + ",c\n")
		want = append(want, seen{Line: line, ID: id})
	}
	got := readAll(t, b.String(), file.ReadOptions{MaxRowBytes: 16 << 10})
	sameSeen(t, "runaway quote", got, want)
}
