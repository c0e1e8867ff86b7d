package dir_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/adapter/dir"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/objects"
	"github.com/aurum-cdp/aurum/shared/port/objects/objectstest"
)

func newStore(t *testing.T) *dir.Store {
	t.Helper()
	s, err := dir.New(filepath.Join(t.TempDir(), "bucket"))
	if err != nil {
		t.Fatalf("dir.New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	objectstest.Run(t, func(t *testing.T) objects.Store { return newStore(t) },
		objectstest.Options{LargeSize: 20 << 20})
}

func TestKeysStayInsideRoot(t *testing.T) {
	base := t.TempDir()
	s, err := dir.New(filepath.Join(base, "bucket"))
	if err != nil {
		t.Fatalf("dir.New: %v", err)
	}
	defer s.Close()
	if err := os.WriteFile(filepath.Join(base, "secret.txt"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(base, filepath.Join(base, "bucket", "link")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, key := range []string{
		"../secret.txt",
		"sources/../../secret.txt",
		"/etc/passwd",
		"",
		".",
		"sources//x.csv",
		"sources/./x.csv",
		"link/secret.txt",
	} {
		t.Run(key, func(t *testing.T) {
			if _, _, err := s.Open(ctx, key); err == nil {
				t.Errorf("Open(%q) error = nil; want a refusal", key)
			}
			if _, err := s.Stat(ctx, key); err == nil {
				t.Errorf("Stat(%q) error = nil; want a refusal", key)
			}
			if err := s.Put(ctx, key, strings.NewReader("x"), ""); err == nil {
				t.Errorf("Put(%q) error = nil; want a refusal", key)
			}
		})
	}
	if got, _ := os.ReadFile(filepath.Join(base, "secret.txt")); string(got) != "secret" {
		t.Errorf("file outside the root = %q; want it untouched", got)
	}
}

func TestInvalidKeyIsInvalid(t *testing.T) {
	s := newStore(t)
	if _, err := s.Stat(context.Background(), "../x"); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("Stat(../x) error = %v; want fault.ErrInvalid", err)
	}
}

func TestPutIsAtomicAndTidy(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if err := s.Put(ctx, "reports/sources/crm/a.csv.json", bytes.NewReader([]byte(`{}`)), "application/json"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	entries, err := os.ReadDir(filepath.Join(s.Path(), "reports", "sources", "crm"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != "a.csv.json" {
		t.Errorf("directory after Put = %v; want only [a.csv.json] (no temporary files)", names)
	}
}

func TestETagSeesExternalChanges(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	key := "sources/crm/a.csv"
	if err := s.Put(ctx, key, strings.NewReader("v1"), ""); err != nil {
		t.Fatal(err)
	}
	first, err := s.Stat(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	// A user copies a new version into the drop folder.
	if err := os.WriteFile(filepath.Join(s.Path(), "sources", "crm", "a.csv"), []byte("version 2"), 0o600); err != nil {
		t.Fatal(err)
	}
	second, err := s.Stat(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if second.ETag == first.ETag {
		t.Errorf("ETag after an external rewrite = %q; want it to change", second.ETag)
	}
}
