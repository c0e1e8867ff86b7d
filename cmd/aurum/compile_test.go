package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/segment"
)

func TestCompile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "aurum.segments.json")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"compile", "--out", out, "../../aurum.yaml"}, &stdout, &stderr); err != nil {
		t.Fatalf("aurum compile = %v (%s)", err, stderr.String())
	}
	cfg, err := config.Load("../../aurum.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := segment.ReadPrecompiled(out)
	if err != nil || pc == nil {
		t.Fatalf("ReadPrecompiled(%s) = %v, %v; want the compiled segments", out, pc, err)
	}
	for _, s := range cfg.Segments {
		if got := pc.Segments[s.ID]; got.Expr != s.Expr || len(got.AST) == 0 {
			t.Errorf("compiled segment %s = %q with %d AST bytes; want its expression and an AST", s.ID, got.Expr, len(got.AST))
		}
	}
	if !strings.Contains(stdout.String(), "segments compiled into") {
		t.Errorf("stdout = %q; want the summary line", stdout.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := run(context.Background(), []string{"compile", "--out", out, bad}, &stdout, &stderr); err == nil {
		t.Errorf("aurum compile of a missing file = nil; want an error")
	}
}

// aurum validate applies a start-up's checks (app.Check), not only the
// loader's: a trigger condition that does not compile, which local mode
// and the triggers function refuse at start, is refused by validate too.
func TestValidateAppliesStartupChecks(t *testing.T) {
	b, err := os.ReadFile("../../aurum.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, extra, want string
	}{
		{"sample", "", ""},
		{"trigger condition that does not compile", `
  - id: broken-condition
    when: {segment_entered: lapsed}
    if: profile.attributes.country == 
    actions:
      - event: {}
`, "broken-condition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "aurum.yaml")
			if err := os.WriteFile(path, append(bytes.TrimRight(b, "\n"), tt.extra...), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"validate", path}, &stdout, &stderr)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("aurum validate = %v (%s); want ok", err, stderr.String())
			case tt.want != "" && err == nil:
				t.Errorf("aurum validate = ok; want an error naming %s", tt.want)
			case tt.want != "" && !strings.Contains(stderr.String(), tt.want):
				t.Errorf("aurum validate printed %q; want it to name %s", stderr.String(), tt.want)
			}
		})
	}
}
