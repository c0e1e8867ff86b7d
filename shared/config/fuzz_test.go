package config

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse checks that Parse never panics, and that it returns either a
// configuration that passes Validate or an Errors with at least one entry.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/valid.yaml", "testdata/invalid.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(base))
	f.Add([]byte(apiSource + "    write_keys: [{env: K}]\n"))
	f.Add([]byte(base + "    mapping:\n      record_id: &r ID\n      attributes: {a: *r, b: {field: B, type: date}}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("- <<: *x\n"))
	f.Add([]byte("version: 1\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data)
		if err == nil {
			if cfg == nil {
				t.Fatal("Parse = nil, nil")
			}
			if err := cfg.Validate(); err != nil {
				t.Fatalf("Parse accepted a config that Validate rejects: %v", err)
			}
			return
		}
		if cfg != nil {
			t.Fatalf("Parse returned a config and error %v", err)
		}
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("Parse error %T %v; want a non-empty Errors", err, err)
		}
		for _, e := range errs {
			if e == nil || e.Msg == "" {
				t.Fatalf("Parse returned an empty error in %v", errs)
			}
		}
	})
}
