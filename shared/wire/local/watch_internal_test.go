package local

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
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
