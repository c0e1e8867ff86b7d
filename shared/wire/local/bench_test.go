package local_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/dir"
	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/kit/memstat"
	"github.com/aurum-cdp/aurum/shared/kit/synth"
	"github.com/aurum-cdp/aurum/shared/port/store"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

var (
	benchPeople = flag.Int("local.people", 20000, "people in the generated CRM file of BenchmarkLocalIngest")
	largeMB     = flag.Int("local.large-mb", 500, "size of the generated CRM file of BenchmarkLocalIngestLarge, in MB")
)

// platform wires local mode's ingest path (dir bucket, embedded store,
// pipeline, loader) in a temp folder, as aurum local does.
func platform(b *testing.B) (*app.Platform, string) {
	p, _, bucket := platformOver(b, func(st *embedded.Store) store.Store { return st })
	return p, bucket
}

// platformOver is platform over the store wrap makes of the embedded one;
// it also returns the embedded store.
func platformOver(b *testing.B, wrap func(*embedded.Store) store.Store) (*app.Platform, *embedded.Store, string) {
	b.Helper()
	cfg, err := config.Load("../../../aurum.yaml")
	if err != nil {
		b.Fatal(err)
	}
	data := b.TempDir()
	st, err := embedded.OpenData(data)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	objs, err := dir.New(filepath.Join(data, "bucket"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { objs.Close() })
	p, err := app.New(app.Parts{Config: cfg, Store: wrap(st), Objects: objs, AtomicStats: true})
	if err != nil {
		b.Fatal(err)
	}
	return p, st, filepath.Join(data, "bucket")
}

func decodeCSV(b *testing.B, r io.Reader) int {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	n := 0
	for {
		_, err := cr.Read()
		if err == io.EOF {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
}

// BenchmarkLocalIngest loads a generated CRM export through local mode's
// whole path — read, map, normalize, resolve, golden record, commit to the
// embedded store with fsync, rejected file and report — and reports its
// throughput and the ratio to a bare encoding/csv decode of the same file.
func BenchmarkLocalIngest(b *testing.B) {
	var data bytes.Buffer
	if _, err := synth.Generate(synth.Writers{CRM: &data}, synth.Options{Seed: 1, People: *benchPeople, CRMOnly: true}); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	rows := decodeCSV(b, bytes.NewReader(data.Bytes())) - 1
	decode := time.Since(start)

	var total time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		p, bucket := platform(b) // a fresh store each time: every row is new
		key := "sources/crm/bench.csv"
		path := filepath.Join(bucket, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, data.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		rep, err := p.Loader.Load(context.Background(), key)
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(t0)
		if rep.Rows != rows {
			b.Fatalf("loaded %d rows; the file has %d", rep.Rows, rows)
		}
	}
	per := total / time.Duration(b.N)
	b.SetBytes(int64(data.Len()))
	b.ReportMetric(float64(rows)/per.Seconds(), "rows/s")
	b.ReportMetric(float64(rows)/decode.Seconds(), "decode-rows/s")
	b.ReportMetric(per.Seconds()/decode.Seconds(), "x-decode-time")
}

// BenchmarkLocalIngestLarge loads a generated CRM file of -local.large-mb
// (default 500 MB) through the whole local path and reports the peak live
// heap, which must stay flat whatever the file size.
func BenchmarkLocalIngestLarge(b *testing.B) {
	p, bucket := platform(b)
	key := "sources/crm/large.csv"
	path := filepath.Join(bucket, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := synth.Generate(synth.Writers{CRM: f}, synth.Options{Seed: 2, CRMOnly: true, TargetBytes: int64(*largeMB) << 20}); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	info, _ := os.Stat(path)
	runtime.GC()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var peak uint64
	wg.Go(func() { peak = memstat.PeakHeap(stop) })
	var rows int
	b.SetBytes(info.Size())
	for b.Loop() {
		rep, err := p.Loader.Load(context.Background(), key)
		if err != nil {
			b.Fatal(err)
		}
		rows = rep.Rows
	}
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(info.Size())/(1<<20), "file-MB")
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds()*float64(b.N), "rows/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
