package synth

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
)

// mappedFields lists the input fields a source's mapping reads.
func mappedFields(m config.Mapping) []string {
	var fs []string
	add := func(f *config.Field) {
		if f != nil && f.Field != "" {
			fs = append(fs, f.Field)
		}
	}
	add(m.RecordID)
	add(m.ObservedAt)
	for i := range m.Identifiers {
		add(&m.Identifiers[i].Field)
	}
	for _, f := range m.Attributes {
		add(&f)
	}
	if e := m.Event; e != nil {
		add(&e.Name)
		add(e.ID)
		add(e.Timestamp)
		for _, f := range e.Properties {
			add(&f)
		}
	}
	slices.Sort(fs)
	return slices.Compact(fs)
}

// lookup finds a dotted path in a decoded JSON object.
func lookup(v any, path string) bool {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[k]; !ok {
			return false
		}
	}
	return true
}

// TestSampleConfig loads the root aurum.yaml and checks that every field
// its file sources map exists in the generated files (a CSV column, or a
// JSON path found on at least one line): aurum.yaml describes both the
// hand-written sample and generated data sets.
func TestSampleConfig(t *testing.T) {
	cfg, err := config.Load("../../../aurum.yaml")
	if err != nil {
		t.Fatalf("config.Load(aurum.yaml): %v", err)
	}
	if _, ok := cfg.Source("web-api"); !ok {
		t.Errorf("aurum.yaml: source web-api missing")
	}
	o := generate(t, Options{Seed: 4, People: 300})
	for _, src := range Sources {
		t.Run(src, func(t *testing.T) {
			s, ok := cfg.Source(src)
			if !ok {
				t.Fatalf("aurum.yaml: source %s missing", src)
			}
			data := o.files[src].Bytes()
			for _, f := range mappedFields(s.Mapping) {
				var found bool
				if s.Format == config.FormatCSV {
					r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
					if s.CSV != nil && s.CSV.Delimiter != "" {
						r.Comma = rune(s.CSV.Delimiter[0])
					}
					header, err := r.Read()
					if err != nil {
						t.Fatalf("header: %v", err)
					}
					found = slices.Contains(header, f)
				} else {
					sc := bufio.NewScanner(bytes.NewReader(data))
					sc.Buffer(nil, 1<<20)
					for !found && sc.Scan() {
						var v any
						found = json.Unmarshal(sc.Bytes(), &v) == nil && lookup(v, f)
					}
				}
				if !found {
					t.Errorf("aurum.yaml maps %s field %q; the generated file has no such field", src, f)
				}
			}
		})
	}
}
