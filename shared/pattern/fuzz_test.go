package pattern

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// FuzzMatch checks that parsing and matching never panic, that invalid
// patterns and events fail with fault.ErrInvalid, and that matching is
// deterministic. Seeds come from testdata/patterns.
func FuzzMatch(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "patterns", "*.json"))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var tc goldenCase
		if err := json.Unmarshal(raw, &tc); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(tc.Pattern), []byte(tc.Event))
	}
	f.Add([]byte(`{"a":[{"wildcard":"*x*y"}],"$or":[{"b":[{"exists":false}]},{"c":{"d":[{"numeric":[">",1,"<",2]}]}}]}`),
		[]byte(`{"a":"qxzy","c":[{"d":1.5},{"d":[3]}]}`))
	f.Add([]byte(`{"x":[{"anything-but":{"wildcard":["a*","*b"]}},{"cidr":"::/0"},{"prefix":{"equals-ignore-case":"ß"}}]}`),
		[]byte(`{"x":["ab","::1","SS",1e999,-0.0000001]}`))
	f.Fuzz(func(t *testing.T, pattern, event []byte) {
		p, err := Parse(pattern)
		if err != nil {
			if !errors.Is(err, fault.ErrInvalid) {
				t.Fatalf("Parse(%q) error %v does not wrap fault.ErrInvalid", pattern, err)
			}
			return
		}
		got, err := p.Match(event)
		if err != nil {
			if !errors.Is(err, fault.ErrInvalid) && !errors.Is(err, ErrTooComplex) {
				t.Fatalf("Match(%q) error %v is neither ErrInvalid nor ErrTooComplex", event, err)
			}
			return
		}
		again, err := p.Match(event)
		if err != nil || again != got {
			t.Fatalf("Match(%q) not deterministic: %v then %v, %v", event, got, again, err)
		}
		// The pattern's own source must parse again to an equivalent pattern.
		q, err := Parse([]byte(p.String()))
		if err != nil {
			t.Fatalf("Parse(String()) error: %v", err)
		}
		if g, err := q.Match(event); err != nil || g != got {
			t.Fatalf("reparsed pattern Match = %v, %v; want %v", g, err, got)
		}
	})
}
