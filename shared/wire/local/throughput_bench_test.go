package local_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/wire/local"
	"github.com/aurum-cdp/aurum/shared/wire/local/localtest"
)

// Load shape of BenchmarkBatchThroughput: like issue 13's measurement
// (wrk, 8 connections, 20 track events per request).
const (
	tpClients = 8
	tpEvents  = 20
	tpUsers   = 2000
)

// batchBody is the i-th /v1/batch body: tpEvents track events of users
// spread over tpUsers, each message id unique.
func batchBody(i int) []byte {
	type msg struct {
		Type       string         `json:"type"`
		UserID     string         `json:"userId"`
		Event      string         `json:"event"`
		MessageID  string         `json:"messageId"`
		Properties map[string]any `json:"properties"`
	}
	batch := make([]msg, tpEvents)
	for j := range batch {
		n := i*tpEvents + j
		batch[j] = msg{Type: "track", UserID: fmt.Sprintf("tp-%d", (n*7919)%tpUsers), Event: "Product Viewed",
			MessageID: fmt.Sprintf("tp-%d", n), Properties: map[string]any{"sku": fmt.Sprintf("SKU-%d", n%97), "price": 12.5}}
	}
	b, _ := json.Marshal(map[string]any{"batch": batch})
	return b
}

// load sends bodies to url from tpClients concurrent clients and returns
// the latency of each request and the wall time of the whole run.
func load(b *testing.B, url string, bodies [][]byte) ([]time.Duration, time.Duration) {
	b.Helper()
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: tpClients}}
	next := make(chan []byte)
	lat := make([]time.Duration, 0, len(bodies))
	var mu sync.Mutex
	var wg sync.WaitGroup
	var failed error
	start := time.Now()
	for range tpClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range next {
				req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
				req.SetBasicAuth("dev-write-key", "")
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				d := time.Since(t0)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("POST %s = %d", url, resp.StatusCode)
					}
				}
				mu.Lock()
				lat = append(lat, d)
				if err != nil && failed == nil {
					failed = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, body := range bodies {
		next <- body
	}
	close(next)
	wg.Wait()
	if failed != nil {
		b.Fatal(failed)
	}
	return lat, time.Since(start)
}

// BenchmarkBatchThroughput measures /v1/batch through local mode's real
// HTTP stack (auth, validation, mapping, pipeline, segments, commit) as
// events applied per second — the run ends when the identity statistics
// count every record, so an asynchronous intake cannot count events it has
// not applied — against a bare handler that only JSON-decodes the same
// bodies, with the same clients on the same loopback in the same run.
// Issue 13's targets: ratio ≥ 0.25, ≥ 30k events/s on 2 cores, p99 < 20 ms.
//
//	go test -run '^$' -bench BatchThroughput -benchtime 200x ./shared/wire/local
//
// b.N is the number of requests (of 20 events each) per run.
func BenchmarkBatchThroughput(b *testing.B) {
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = batchBody(i)
	}
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v struct {
			Batch []map[string]any `json:"batch"`
		}
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"success":true}`))
	}))
	defer bare.Close()
	lm := localtest.Start(b, "../../..", local.Options{})
	stats := func() int {
		resp, err := http.Get(lm.Base + "/v1/identity/stats")
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		var s struct {
			Records int `json:"records"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			b.Fatalf("decode identity stats: %v", err)
		}
		return s.Records
	}
	before := stats()

	b.ResetTimer()
	bareLat, bareWall := load(b, bare.URL, bodies)
	t0 := time.Now()
	lat, _ := load(b, lm.Base+"/v1/batch", bodies)
	want := before + len(bodies)*tpEvents
	deadline := time.Now().Add(5 * time.Minute)
	for stats() < want {
		if time.Now().After(deadline) {
			b.Fatalf("identity stats count %d records; want %d applied", stats(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	applied := time.Since(t0) // until every event is in its profile
	b.StopTimer()

	events := float64(len(bodies) * tpEvents)
	bareRate := events / bareWall.Seconds()
	rate := events / applied.Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(bareRate, "bare-events/s")
	b.ReportMetric(rate/bareRate, "x-bare")
	b.ReportMetric(ms(percentile(lat, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 99)), "p99-ms")
	b.ReportMetric(ms(percentile(bareLat, 99)), "bare-p99-ms")
}
