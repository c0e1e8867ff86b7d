package synth

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"4096", 4096},
		{"10B", 10},
		{"500MB", 500_000_000},
		{"500mb", 500_000_000},
		{"1.5 GiB", 3 << 29},
		{"2KiB", 2048},
		{" 3 kb ", 3000},
		{"1G", 1_000_000_000},
		{"1TiB", 1 << 40},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSize(tc.in)
			if err != nil || got != tc.want {
				t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
	for _, in := range []string{"", "MB", "-5MB", "0", "5 parsecs", "1.2.3MB", "1e30"} {
		t.Run("bad "+in, func(t *testing.T) {
			if got, err := ParseSize(in); err == nil {
				t.Errorf("ParseSize(%q) = %d, nil; want an error", in, got)
			}
		})
	}
}

func TestFormatSize(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{
		{0, "0 B"},
		{999, "999 B"},
		{1000, "1.0 kB"},
		{1_500_000, "1.5 MB"},
		{500_000_000, "500.0 MB"},
		{2_000_000_000, "2.0 GB"},
	} {
		if got := FormatSize(tc.in); got != tc.want {
			t.Errorf("FormatSize(%d) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestMainWritesDataSet(t *testing.T) {
	dir := t.TempDir()
	var stdout bytes.Buffer
	if err := Main([]string{"-seed", "2", "-people", "50", "-out", dir}, &stdout); err != nil {
		t.Fatalf("Main: %v", err)
	}
	for _, rel := range append([]string{TruthFile}, Files[SourceCRM], Files[SourceShop], Files[SourcePOS], Files[SourceNewsletter], Files[SourceWeb]) {
		fi, err := os.Stat(filepath.Join(dir, rel))
		if err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v (size %v); want a non-empty file", rel, err, fi)
		}
	}
	if !strings.Contains(stdout.String(), "generated 50 people") {
		t.Errorf("Main printed %q; want a summary naming 50 people", stdout.String())
	}

	// The files equal what Generate writes.
	o := generate(t, Options{Seed: 2, People: 50})
	for _, src := range Sources {
		got, err := os.ReadFile(filepath.Join(dir, Files[src]))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, o.files[src].Bytes()) {
			t.Errorf("Main's %s differs from Generate's", src)
		}
	}
}

func TestMainCRMOnly(t *testing.T) {
	dir := t.TempDir()
	var stdout bytes.Buffer
	if err := Main([]string{"-crm-only", "-size", "20kB", "-truth=false", "-out", dir}, &stdout); err != nil {
		t.Fatalf("Main: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, Files[SourceCRM]))
	if err != nil || fi.Size() < 20_000 {
		t.Fatalf("CRM file: %v, %v; want at least 20 kB", fi, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "crm" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("output holds %v; want only crm/", names)
	}
}

func TestMainErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no out", []string{"-people", "5"}},
		{"size without crm-only", []string{"-size", "1MB", "-out", dir}},
		{"bad size", []string{"-crm-only", "-size", "lots", "-out", dir}},
		{"unknown flag", []string{"-colour", "-out", dir}},
		{"extra argument", []string{"-out", dir, "more"}},
		{"negative people", []string{"-people", "-3", "-out", dir}},
		{"out is a file", []string{"-out", filepath.Join(dir, "file"), "-people", "5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "out is a file" {
				if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var stdout bytes.Buffer
			if err := Main(tc.args, &stdout); err == nil {
				t.Errorf("Main(%q) = nil; want an error", tc.args)
			}
		})
	}
	var stdout bytes.Buffer
	if err := Main([]string{"-h"}, &stdout); !errors.Is(err, flag.ErrHelp) || !strings.Contains(stdout.String(), "-crm-only") {
		t.Errorf("Main(-h) = %v, printed %q; want flag.ErrHelp and the flags", err, stdout.String())
	}
}
