package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/wire/local/localtest"

	aevents "github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/wire/local"
)

// BenchmarkSegmentEnteredLatency runs local mode (local.Run on the sample
// configuration, an empty data folder) and measures, per change, the time
// from POST /v1/track of a first "Order Completed" for a new user to the
// SegmentEntered event of recent-buyers reaching a bus subscriber: HTTP,
// pipeline, segment evaluation, commit with fsync, outbox relay and bus.
// It reports the percentiles over all iterations (p50-ms, p99-ms) and the
// part spent before the POST returned (post-p50-ms); run with
// -benchtime 200x for 200 changes.
func BenchmarkSegmentEnteredLatency(b *testing.B) {
	type arrival struct {
		profile string
		at      time.Time
	}
	entered := make(chan arrival, 16)
	observe := func(ctx context.Context, env aevents.Envelope) error {
		if env.DetailType != aevents.TypeSegmentEntered {
			return nil
		}
		var d aevents.SegmentEntered
		if err := json.Unmarshal(env.Detail, &d); err != nil {
			return fmt.Errorf("decode SegmentEntered: %w", err)
		}
		if d.SegmentID == "recent-buyers" {
			entered <- arrival{d.ProfileID, time.Now()}
		}
		return nil
	}
	base := localtest.Start(b, "../../..", local.Options{Observe: observe}).Base
	client := &http.Client{Timeout: 10 * time.Second}
	change := func(i int) (posted, delivered time.Duration) {
		body := fmt.Sprintf(`{"userId":"lat-%d","event":"Order Completed","messageId":"lat-%d","properties":{"total":10}}`, i, i)
		req, err := http.NewRequest("POST", base+"/v1/track", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.SetBasicAuth("dev-write-key", "")
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		posted = time.Since(start)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("POST /v1/track = %d; want 200", resp.StatusCode)
		}
		select {
		case a := <-entered:
			return posted, a.at.Sub(start)
		case <-time.After(10 * time.Second):
			b.Fatalf("change %d: no SegmentEntered(recent-buyers) within 10s", i)
		}
		return 0, 0
	}
	change(-1) // warm-up: first commit, caches
	var lat, post []time.Duration
	i := 0
	for b.Loop() {
		p, d := change(i)
		post, lat = append(post, p), append(lat, d)
		i++
	}
	b.ReportMetric(ms(percentile(lat, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 99)), "p99-ms")
	b.ReportMetric(ms(percentile(post, 50)), "post-p50-ms")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentile returns the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}
