package embedded_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
)

func TestUsageAndCompactTo(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true, Now: func() time.Time { return format0At }})
	ctx := t.Context()
	if err := s.Commit(ctx, format0Changes()...); err != nil {
		t.Fatalf("Commit() = %v; want nil", err)
	}
	u, err := s.Usage(ctx)
	if err != nil {
		t.Fatalf("Usage() = %v; want nil error", err)
	}
	keys := map[string]int{}
	var pages int64
	for _, b := range u.Buckets {
		keys[b.Name] = b.Keys
		pages += b.PageBytes
		if b.Keys > 0 && (b.KeyBytes == 0 || b.InuseBytes == 0 || b.PageBytes > 0 && b.InuseBytes > b.PageBytes) {
			t.Errorf("Usage() bucket %s = %+v; want key bytes and 0 < in use <= pages (or inline)", b.Name, b)
		}
	}
	want := map[string]int{embedded.BucketProfiles: 1, embedded.BucketRedirects: 1, embedded.BucketIdentifiers: 2, embedded.BucketRecords: 1, embedded.BucketEvents: 2, embedded.BucketItems: 3}
	for name, n := range want {
		if keys[name] != n {
			t.Errorf("Usage() bucket %s has %d keys; want %d", name, keys[name], n)
		}
	}
	var kinds []string
	for _, k := range u.ItemKinds {
		kinds = append(kinds, k.Name)
	}
	if want := []string{"id.rec", "id.stats", "seg.due"}; !slices.Equal(kinds, want) {
		t.Errorf("Usage() item kinds = %v; want %v", kinds, want)
	}
	if u.Bytes < pages || u.FileBytes < u.Bytes {
		t.Errorf("Usage() = file %d, in use %d, bucket pages %d; want file >= in use >= bucket pages", u.FileBytes, u.Bytes, pages)
	}

	dst := filepath.Join(t.TempDir(), "copy.db")
	if err := s.CompactTo(ctx, dst); err != nil {
		t.Fatalf("CompactTo() = %v; want nil", err)
	}
	c := open(t, dst, embedded.Options{NoSync: true})
	if got, want := strings.Join(scanLines(t, c), "\n"), strings.Join(scanLines(t, s), "\n"); got != want {
		t.Errorf("Scan() of the compacted copy =\n%s\nwant the store's\n%s", got, want)
	}
}
