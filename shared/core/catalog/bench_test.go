package catalog_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/core/catalog"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/objects"
	"github.com/aurum-cdp/aurum/shared/source/file"
)

// memObjects serves generated CSV files from memory and discards what is
// written, so that every Load loads.
type memObjects struct{ files map[string][]byte }

func (m memObjects) Open(ctx context.Context, key string) (io.ReadCloser, objects.Info, error) {
	b, ok := m.files[key]
	if !ok {
		return nil, objects.Info{}, fault.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b)), objects.Info{Key: key, Size: int64(len(b)), ETag: key, LastModified: time.Now()}, nil
}

func (m memObjects) Stat(ctx context.Context, key string) (objects.Info, error) {
	_, info, err := m.Open(ctx, key)
	return info, err
}

func (m memObjects) Put(ctx context.Context, key string, r io.Reader, contentType string) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// crmCSV generates rows [from, from+n) of the crm source of testYAML.
func crmCSV(from, n int) []byte {
	var b strings.Builder
	b.WriteString("id,email,phone,first,born,country\n")
	for i := from; i < from+n; i++ {
		r := crmRow(i)
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s\n", r["id"], r["email"], r["phone"], r["first"], r["born"], r["country"])
	}
	return []byte(b.String())
}

type nopPipe struct{}

func (nopPipe) Ingest(ctx context.Context, recs []profile.Record) (pipeline.Result, error) {
	return pipeline.Result{Accepted: len(recs)}, nil
}

// BenchmarkLoad loads 2000-row CSV files of new people through the real
// pipeline on the embedded store, with and without the catalog observer;
// compare the rows/s of the pairs. The "nopipe" pair replaces the
// pipeline with one that does nothing: the observer's cost against the
// bare reading and mapping of rows, its worst case.
func BenchmarkLoad(b *testing.B) {
	const rows = 2000
	for _, pipe := range []string{"pipeline", "nopipe"} {
		for _, observe := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/observer=%v", pipe, observe), func(b *testing.B) {
				ctx := context.Background()
				cfg := testConfig(b)
				st := openStore(b)
				var ing file.Ingester = nopPipe{}
				if pipe == "pipeline" {
					ing = pipeline.New(pipeline.ConfigOf(cfg), st, pipeline.Options{})
				}
				opts := file.LoaderOptions{}
				if observe {
					o, err := catalog.NewObserver(cfg.Sources, cfg.Identifiers, st, catalog.ObserverOptions{})
					if err != nil {
						b.Fatal(err)
					}
					opts.Observer = o
				}
				objs := memObjects{files: map[string][]byte{}}
				l, err := file.NewLoader(cfg.Sources, cfg.Identifiers, objs, ing, opts)
				if err != nil {
					b.Fatal(err)
				}
				var n atomic.Int64
				b.ResetTimer()
				for b.Loop() {
					b.StopTimer()
					i := int(n.Add(1))
					key := fmt.Sprintf("sources/crm/f%d.csv", i)
					objs.files[key] = crmCSV(i*rows, rows)
					b.StartTimer()
					if _, err := l.Load(ctx, key); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}
