package local_test

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/kit/synth"
	"github.com/aurum-cdp/aurum/shared/port/store"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

var storagePeople = flag.Int("local.storage-people", 3000, "people in the generated CRM file of BenchmarkLocalIngestBytesPerRow")

// BenchmarkLocalIngestBytesPerRow loads a generated CRM export through local
// mode's whole path into a fresh embedded store, the outbox drained after
// every commit as local mode's relay does, and reports the bytes the store
// file takes per CSV row: the pages up to the last one in use (bytes/row,
// the figure docs/local.md tracks), the file on disk (bbolt grows it ahead
// of need), the live keys and values, and a compacted copy (full pages, no
// free pages; what `bbolt compact` gives), so that fragmentation and live
// data are told apart. The log breaks the bytes down by bucket and the
// items bucket by item kind, as stored.
func BenchmarkLocalIngestBytesPerRow(b *testing.B) {
	var data bytes.Buffer
	if _, err := synth.Generate(synth.Writers{CRM: &data}, synth.Options{Seed: 1, People: *storagePeople, CRMOnly: true}); err != nil {
		b.Fatal(err)
	}
	var (
		rows            int
		before, compact embedded.Usage
	)
	for b.Loop() {
		b.StopTimer()
		p, st, bucket := storagePlatform(b)
		key := "sources/crm/bench.csv"
		path := filepath.Join(bucket, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, data.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, err := p.Loader.Load(context.Background(), key)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		rows = rep.Rows
		before, compact = measureStore(b, st)
		b.StartTimer()
	}
	per := func(n int64) float64 { return float64(n) / float64(rows) }
	b.ReportMetric(per(before.Bytes), "bytes/row")
	b.ReportMetric(per(before.FileBytes), "file-bytes/row")
	b.ReportMetric(per(live(before)), "live-bytes/row")
	b.ReportMetric(per(compact.Bytes), "compacted-bytes/row")
	b.ReportMetric(float64(data.Len())/float64(rows), "csv-bytes/row")
	b.Logf("%d rows, %d CSV bytes; store %d bytes in use (%d on free pages), file %d, compacted %d",
		rows, data.Len(), before.Bytes, before.FreeBytes, before.FileBytes, compact.Bytes)
	b.Log(usageTable(before, rows))
	b.Log(kindTable(before.ItemKinds, rows))
}

// storagePlatform is platform (bench_test.go) over a store whose outbox is
// drained after every commit; it also returns the store.
func storagePlatform(b *testing.B) (*app.Platform, *embedded.Store, string) {
	return platformOver(b, func(st *embedded.Store) store.Store { return drainingStore{st} })
}

// drainingStore acknowledges every outbox event right after each commit,
// as local mode's relay does once the bus has them, so the outbox takes
// the pages it takes in local mode.
type drainingStore struct{ *embedded.Store }

func (s drainingStore) Commit(ctx context.Context, changes ...store.Change) error {
	if err := s.Store.Commit(ctx, changes...); err != nil {
		return err
	}
	for {
		envs, err := s.Outbox(ctx, 500)
		if err != nil || len(envs) == 0 {
			return err
		}
		ids := make([]string, len(envs))
		for i, e := range envs {
			ids[i] = e.ID
		}
		if err := s.Ack(ctx, ids); err != nil {
			return err
		}
	}
}

// measureStore returns the usage of st and of a compacted copy of it.
func measureStore(b *testing.B, st *embedded.Store) (embedded.Usage, embedded.Usage) {
	b.Helper()
	ctx := context.Background()
	u, err := st.Usage(ctx)
	if err != nil {
		b.Fatal(err)
	}
	dst := filepath.Join(b.TempDir(), "compact.db")
	if err := st.CompactTo(ctx, dst); err != nil {
		b.Fatal(err)
	}
	cs, err := embedded.Open(dst, embedded.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer cs.Close()
	cu, err := cs.Usage(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return u, cu
}

// live is the bytes of the keys and values a store file holds.
func live(u embedded.Usage) int64 {
	var n int64
	for _, bu := range u.Buckets {
		n += bu.KeyBytes + bu.ValueBytes
	}
	return n
}

// usageTable formats the per-bucket breakdown, per CSV row.
func usageTable(u embedded.Usage, rows int) string {
	var sb strings.Builder
	r := float64(rows)
	fmt.Fprintf(&sb, "\n%-12s %9s %10s %10s %11s %6s\n", "bucket", "keys/row", "key B/row", "val B/row", "page B/row", "fill")
	for _, bu := range u.Buckets {
		if bu.Keys == 0 {
			continue
		}
		fill := 0.0
		if bu.PageBytes > 0 {
			fill = float64(bu.InuseBytes) / float64(bu.PageBytes)
		}
		fmt.Fprintf(&sb, "%-12s %9.2f %10.1f %10.1f %11.1f %5.0f%%\n", bu.Name, float64(bu.Keys)/r,
			float64(bu.KeyBytes)/r, float64(bu.ValueBytes)/r, float64(bu.PageBytes)/r, 100*fill)
	}
	fmt.Fprintf(&sb, "%-12s %9s %10s %10s %11.1f\n", "free pages", "", "", "", float64(u.FreeBytes)/r)
	return sb.String()
}

// kindTable formats the live data of each item kind, per CSV row, largest
// first.
func kindTable(kinds []embedded.BucketUsage, rows int) string {
	kinds = slices.Clone(kinds)
	slices.SortFunc(kinds, func(a, c embedded.BucketUsage) int {
		return cmp.Compare(c.KeyBytes+c.ValueBytes, a.KeyBytes+a.ValueBytes)
	})
	var sb strings.Builder
	r := float64(rows)
	fmt.Fprintf(&sb, "\n%-16s %9s %10s %10s\n", "item kind", "items/row", "key B/row", "val B/row")
	for _, k := range kinds {
		fmt.Fprintf(&sb, "%-16s %9.2f %10.1f %10.1f\n", k.Name, float64(k.Keys)/r, float64(k.KeyBytes)/r, float64(k.ValueBytes)/r)
	}
	return sb.String()
}
