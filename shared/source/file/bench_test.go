package file_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/kit/memstat"

	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/objects"
	"github.com/aurum-cdp/aurum/shared/source/file"
)

var largeMB = flag.Int("ingest.large-mb", 500, "size in MB of the generated CSV of BenchmarkLoadLargeCSV (50 with -short)")

// rowGen generates the rows of the crm source of testConfig on the fly:
// an endless CSV with a header, about 70 bytes a row, with one row in 50
// carrying an invalid date and one in 100 without any identifier.
type rowGen struct {
	n     int
	limit int64 // bytes to produce
	done  int64
	buf   []byte
}

func (g *rowGen) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(g.buf) == 0 {
			if g.done >= g.limit {
				break
			}
			g.buf = g.next(g.buf[:0])
			g.done += int64(len(g.buf))
		}
		c := copy(p[n:], g.buf)
		g.buf = g.buf[c:]
		n += c
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

var cities = []string{"Leeds", "York", "Bath", "New York", "Paris, 15e", "Zoë's Town"}

func (g *rowGen) next(b []byte) []byte {
	if g.n == 0 {
		g.n++
		return append(b, "id,email,city,born\n"...)
	}
	i := g.n
	g.n++
	if i%100 == 0 {
		return append(b, ",,Nowhere,\n"...)
	}
	b = append(b, 'C')
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, ",Customer."...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, "@Example.com,"...)
	b = strconv.AppendQuote(b, cities[i%len(cities)])
	b = append(b, ',')
	if i%50 == 0 {
		b = append(b, "31/31/1990"...)
	} else {
		b = strconv.AppendInt(b, int64(1+i%28), 10)
		b = append(b, "/0"...)
		b = strconv.AppendInt(b, int64(1+i%9), 10)
		b = append(b, "/19"...)
		b = strconv.AppendInt(b, int64(50+i%50), 10)
	}
	return append(b, '\n')
}

func generate(size int64) []byte {
	var b bytes.Buffer
	b.ReadFrom(&rowGen{limit: size})
	return b.Bytes()
}

// benchStore serves one object from memory (or a generator) and discards
// what is written, so every Load reads the object again.
type benchStore struct {
	open func() io.Reader
	size int64
}

func (s benchStore) Open(ctx context.Context, key string) (io.ReadCloser, objects.Info, error) {
	if !strings.HasPrefix(key, file.SourcesPrefix) {
		return nil, objects.Info{}, fault.ErrNotFound
	}
	info := objects.Info{Key: key, Size: s.size, ETag: "bench", LastModified: time.Date(2024, 6, 1, 6, 0, 0, 0, time.UTC)}
	return io.NopCloser(s.open()), info, nil
}

func (s benchStore) Stat(ctx context.Context, key string) (objects.Info, error) {
	_, info, err := s.Open(ctx, key)
	return info, err
}

func (s benchStore) Put(ctx context.Context, key string, r io.Reader, contentType string) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// discard is a pipeline that does nothing.
type discard struct{}

func (discard) Ingest(ctx context.Context, recs []profile.Record) (pipeline.Result, error) {
	return pipeline.Result{Accepted: len(recs)}, nil
}

const benchSize = 8 << 20

// BenchmarkCSVDecode is the floor: encoding/csv alone over the data of
// BenchmarkLoadCSV. Compare their MB/s.
func BenchmarkCSVDecode(b *testing.B) {
	data := generate(benchSize)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := csv.NewReader(bytes.NewReader(data))
		r.ReuseRecord = true
		for {
			if _, err := r.Read(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkLoadCSV is the whole file path (read, map, normalize, batch,
// rejected file, report) with a pipeline that does nothing.
func BenchmarkLoadCSV(b *testing.B) {
	data := generate(benchSize)
	store := benchStore{open: func() io.Reader { return bytes.NewReader(data) }, size: int64(len(data))}
	l, err := newLoader(store, discard{}, file.LoaderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var rep file.Report
	for b.Loop() {
		if rep, err = l.Load(context.Background(), "sources/crm/bench.csv"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rep.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkLoadLargeCSV loads a CSV generated on the fly (500 MB by
// default, -ingest.large-mb to change) and reports the peak live heap,
// which must stay flat whatever the size.
func BenchmarkLoadLargeCSV(b *testing.B) {
	mb := *largeMB
	if testing.Short() {
		mb = 50
	}
	size := int64(mb) << 20
	store := benchStore{open: func() io.Reader { return &rowGen{limit: size} }, size: size}
	l, err := newLoader(store, discard{}, file.LoaderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var peak uint64
	wg.Go(func() { peak = memstat.PeakHeap(stop) })
	b.SetBytes(size)
	for b.Loop() {
		if _, err := l.Load(context.Background(), "sources/crm/large.csv"); err != nil {
			b.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
