package local

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestIgnored(t *testing.T) {
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"contacts.csv", false},
		{".DS_Store", true},
		{"contacts.csv.tmp", true},
		{"contacts.csv.part", true},
		{"part.csv", false},
	} {
		if got := ignored(tt.name); got != tt.want {
			t.Errorf("ignored(%q) = %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestIdle(t *testing.T) {
	for _, tt := range []struct {
		name                string
		busy, handed, empty bool
		want, called        bool
	}{
		{"handed files: busy", false, true, false, true, false},
		{"still waiting for files", true, false, false, true, false},
		{"drained after busy scans: Idle", true, false, true, false, true},
		{"nothing ever handed: no Idle", false, false, true, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			d := &DropFolder{Idle: func() { called = true }}
			if got := d.idle(tt.busy, tt.handed, tt.empty); got != tt.want || called != tt.called {
				t.Errorf("idle(%v, %v, %v) = %v, Idle called %v; want %v, %v", tt.busy, tt.handed, tt.empty, got, called, tt.want, tt.called)
			}
		})
	}
}

func TestWalkSource(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "crm")
	write := func(name, body string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	last := map[string]fileState{}
	walk := func() string {
		t.Helper()
		ready, err := walkSource(dir, last, map[string]bool{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range ready {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return fmt.Sprint(names)
	}
	if got := walk(); got != "[]" {
		t.Fatalf("walkSource(missing folder) = %s; want nothing", got)
	}
	write("a.csv", "1")
	write("b.csv", "1")
	write("c.csv.tmp", "1")
	write(".hidden/d.csv", "1")
	write("sub/e.csv", "1")
	if got := walk(); got != "[]" {
		t.Errorf("first walk = %s; want nothing ready (files seen once)", got)
	}
	write("b.csv", "grown")
	if got := walk(); got != "[a.csv sub/e.csv]" {
		t.Errorf("second walk = %s; want the unchanged files, without ignored names", got)
	}
}

func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		name     string
		failures int
		want     time.Duration
	}{
		{"first failure", 1, time.Second},
		{"doubled", 2, 2 * time.Second},
		{"doubled again", 4, 8 * time.Second},
		{"capped", 7, time.Minute},
		{"stays capped", 1000, time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := backoff(time.Second, time.Minute, tt.failures); got != tt.want {
				t.Errorf("backoff(1s, 1m, %d) = %v; want %v", tt.failures, got, tt.want)
			}
		})
	}
}

func TestSameContent(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	big := bytes.Repeat([]byte("0123456789"), 20_000) // several read chunks
	changed := bytes.Clone(big)
	changed[len(changed)-1] = 'x'
	for _, tt := range []struct {
		name string
		a, b []byte // b nil: missing
		want bool
	}{
		{"same bytes", []byte("a,b\n1,2\n"), []byte("a,b\n1,2\n"), true},
		{"same large bytes", big, bytes.Clone(big), true},
		{"empty files", []byte{}, []byte{}, true},
		{"other size", []byte("a,b\n"), []byte("a,b\n1,2\n"), false},
		{"same size, other bytes", []byte("a,b\n"), []byte("a,c\n"), false},
		{"last byte differs", big, changed, false},
		{"no object", []byte("a"), nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := write("a", tt.a)
			b := filepath.Join(dir, "b")
			os.Remove(b)
			if tt.b != nil {
				write("b", tt.b)
			}
			got, err := sameContent(a, b)
			if err != nil || got != tt.want {
				t.Errorf("sameContent = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// TestHandOff checks the hand-off into the bucket: the object appears with
// the drop file's bytes and modification time, in folders created as
// needed, and the drop file goes; a stale report is retired.
func TestHandOff(t *testing.T) {
	for _, tt := range []struct {
		name       string
		object     string // "" none
		wantReport bool
	}{
		{"new object", "", false},
		{"same bytes", "a,b\n1,2\n", true},
		{"other bytes", "a,b\n3,4\n", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			src := filepath.Join(data, "drop", "crm", "contacts.csv")
			dst := filepath.Join(data, "bucket", "sources", "crm", "deep", "contacts.csv")
			report := filepath.Join(data, "bucket", "reports", "contacts.csv.json")
			mustWrite(t, src, "a,b\n1,2\n")
			mod := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
			if err := os.Chtimes(src, mod, mod); err != nil {
				t.Fatal(err)
			}
			if tt.object != "" {
				mustWrite(t, dst, tt.object)
				if err := os.Chtimes(dst, mod, mod); err != nil {
					t.Fatal(err)
				}
				mustWrite(t, report, "{}")
			}
			if err := handOff(src, dst, report); err != nil {
				t.Fatalf("handOff: %v", err)
			}
			checkHandedOff(t, src, dst, "a,b\n1,2\n", mod)
			if _, err := os.Stat(report); (err == nil) != tt.wantReport {
				t.Errorf("report there: %v; want %v", err == nil, tt.wantReport)
			}
		})
	}
}

// TestCopyDurably checks the hand-off across file systems.
func TestCopyDurably(t *testing.T) {
	data := t.TempDir()
	src := filepath.Join(data, "contacts.csv")
	dst := filepath.Join(data, "bucket", "contacts.csv")
	mustWrite(t, src, "a,b\n1,2\n")
	mustWrite(t, dst, "old")
	mod := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	if err := os.Chtimes(src, mod, mod); err != nil {
		t.Fatal(err)
	}
	if err := copyDurably(src, dst); err != nil {
		t.Fatalf("copyDurably: %v", err)
	}
	if err := removeDurably(src); err != nil {
		t.Fatalf("removeDurably: %v", err)
	}
	checkHandedOff(t, src, dst, "a,b\n1,2\n", mod)
	entries, _ := os.ReadDir(filepath.Dir(dst))
	if len(entries) != 1 {
		t.Errorf("bucket folder holds %d entries; want the object only (no temporary file left)", len(entries))
	}
}

func mustWrite(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkHandedOff checks that src is gone and dst holds body, modified at mod.
func checkHandedOff(t *testing.T, src, dst, body string, mod time.Time) {
	t.Helper()
	if _, err := os.Stat(src); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("drop file still there (%v); want it gone", err)
	}
	b, err := os.ReadFile(dst)
	if err != nil || string(b) != body {
		t.Errorf("object = %q, %v; want %q", b, err, body)
	}
	if info, err := os.Stat(dst); err != nil || !info.ModTime().Equal(mod) {
		t.Errorf("object modified %v, %v; want %v (the drop file's time: records' observed_at)", info.ModTime(), err, mod)
	}
}
