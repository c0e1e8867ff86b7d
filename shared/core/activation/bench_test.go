package activation

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/httpjson"
	"github.com/aurum-cdp/aurum/shared/model/events"
)

// BenchmarkAudienceSync sends 100,000 membership changes (entries, with
// consent checked and profiles loaded) to an http destination (batches
// of 100) and reports requests and bytes per run; "baseline" posts the
// same number of requests of the same size with the bare HTTP client, so
// runner/baseline is the runner's own cost:
//
//	go test -run '^$' -bench AudienceSync -benchtime 3x ./shared/core/activation
func BenchmarkAudienceSync(b *testing.B) {
	const changes = 100_000
	var requests, bytesIn atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		requests.Add(1)
		bytesIn.Add(n)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	m := newMem()
	envs := make([]events.Envelope, 0, changes)
	for i := range changes {
		id := fmt.Sprintf("p%06d", i)
		m.add(id, true)
		env, err := events.New(events.TypeSegmentEntered, time.Unix(300, 0), events.SegmentEntered{Version: "1", ProfileID: id, SegmentID: "vip"}, id, "vip")
		if err != nil {
			b.Fatal(err)
		}
		envs = append(envs, env)
	}
	ps, err := destination.NewPresets(httpjson.Preset())
	if err != nil {
		b.Fatal(err)
	}
	d := config.Destination{Name: "aud", Kind: httpjson.Name, URL: srv.URL, Purposes: []string{"marketing"},
		Audiences: &config.AudienceSync{Segments: []string{"vip"}}}
	r, err := New([]config.Destination{d}, Deps{Profiles: m, State: m, Presets: ps, Env: destination.Env{HTTP: srv.Client()}}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	// The baseline's bodies: what the runner sends, encoded once.
	var bodies [][]byte
	for i := 0; i < changes; i += httpjson.MaxBatch {
		var c destination.AudienceChange
		for _, env := range envs[i:min(i+httpjson.MaxBatch, changes)] {
			var h head
			_ = json.Unmarshal(env.Detail, &h)
			c.Add = append(c.Add, member(m.profiles[h.ProfileID], merged(httpjson.Preset().Defaults.Profile, nil), nil))
		}
		body, _ := json.Marshal(destination.Batch{Op: destination.OpAudience, Audience: &c})
		bodies = append(bodies, body)
	}

	b.Run("runner", func(b *testing.B) {
		requests.Store(0)
		bytesIn.Store(0)
		for b.Loop() {
			if err := r.HandleBatch(context.Background(), envs); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(requests.Load())/float64(b.N), "requests/op")
		b.ReportMetric(float64(bytesIn.Load())/float64(b.N), "bytes/op")
	})
	b.Run("baseline", func(b *testing.B) {
		requests.Store(0)
		bytesIn.Store(0)
		for b.Loop() {
			for _, body := range bodies {
				resp, err := srv.Client().Post(srv.URL, "application/json", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
			}
		}
		b.ReportMetric(float64(requests.Load())/float64(b.N), "requests/op")
		b.ReportMetric(float64(bytesIn.Load())/float64(b.N), "bytes/op")
	})
}
