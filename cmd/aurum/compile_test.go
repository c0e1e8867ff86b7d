package main

import (
	"bytes"
	"context"
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
