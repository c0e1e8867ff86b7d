package pattern

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goldenCase is one file of testdata/patterns: add a file to add a case.
type goldenCase struct {
	// Doc names the EventBridge documentation page the case comes from.
	Doc     string          `json:"doc"`
	Match   *bool           `json:"match"`
	Pattern json.RawMessage `json:"pattern"`
	Event   json.RawMessage `json:"event"`
}

func TestGoldenPatterns(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "patterns", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no files in testdata/patterns")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var tc goldenCase
			if err := json.Unmarshal(raw, &tc); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if tc.Match == nil || len(tc.Pattern) == 0 || len(tc.Event) == 0 || tc.Doc == "" {
				t.Fatalf("%s: doc, match, pattern and event are all required", file)
			}
			p, err := Parse(tc.Pattern)
			if err != nil {
				t.Fatalf("Parse(%s): %v", tc.Pattern, err)
			}
			got, err := p.Match(tc.Event)
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if got != *tc.Match {
				t.Errorf("%s (%s): Match = %v; want %v", file, tc.Doc, got, *tc.Match)
			}
		})
	}
}
