package app_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aurum-cdp/aurum/shared/adapter/dir"
	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/source"
	"github.com/aurum-cdp/aurum/shared/source/pull"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

// testFeed is the connector of kind app-test-rows: its rows, the
// checkpoint being the index of the next one.
type testFeed struct {
	mu    sync.Mutex
	rows  []source.Row
	reads int
}

var feed = &testFeed{}

func init() {
	app.RegisterConnector("app-test-rows", func(config.Pull, source.Secrets) (source.Source, error) { return feed, nil })
}

func (f *testFeed) Read(_ context.Context, checkpoint string, limit int) (source.Batch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	i, _ := strconv.Atoi(checkpoint)
	j := min(i+limit, len(f.rows))
	return source.Batch{Rows: f.rows[i:j], Checkpoint: strconv.Itoa(j), More: j < len(f.rows)}, nil
}

func (f *testFeed) reset(rows ...source.Row) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows, f.reads = rows, 0
}

func (f *testFeed) readCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

func pullConfig(t *testing.T, connector string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("pull.yaml", fmt.Appendf(nil, `version: 1
identifiers: [{name: email, normalizer: email}]
sources:
  - name: crm-db
    kind: pull
    pull: {connector: %s, schedule: 5m, batch: 2}
    mapping:
      record_id: id
      identifiers: [{type: email, field: email}]
`, connector))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func pullPlatform(t *testing.T, cfg *config.Config) (*app.Platform, *embedded.Store) {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	objs, err := dir.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { objs.Close() })
	p, err := app.New(app.Parts{Config: cfg, Store: st, Objects: objs})
	if err != nil {
		t.Fatal(err)
	}
	return p, st
}

// TestSchedulerTickRunsPulls feeds scheduler ticks through the Lambda
// decode path: the first reads the pull source whole, the next within its
// schedule reads nothing, the one after the schedule reads the new rows.
func TestSchedulerTickRunsPulls(t *testing.T) {
	ctx := context.Background()
	feed.reset(
		source.Row{"id": "1", "email": "ann@example.com"},
		source.Row{"id": "2", "email": "bob@example.com"},
		source.Row{"id": "3", "email": "no e-mail"},
	)
	p, st := pullPlatform(t, pullConfig(t, "app-test-rows"))
	tick := func(at string) {
		t.Helper()
		if _, err := lambda.NewHandler(p.Sweep).Invoke(ctx, []byte(`{"time":"`+at+`"}`)); err != nil {
			t.Fatalf("Invoke(tick at %s): %v", at, err)
		}
	}
	steps := []struct {
		at        string
		add       []source.Row
		reads     int
		records   int
		rejected  int
		lastOKISO string
	}{
		{"2026-03-02T09:00:00Z", nil, 2, 2, 1, "2026-03-02T09:00:00Z"},
		{"2026-03-02T09:01:00Z", []source.Row{{"id": "4", "email": "cy@example.com"}}, 2, 2, 1, "2026-03-02T09:00:00Z"},
		{"2026-03-02T09:05:00Z", nil, 3, 3, 1, "2026-03-02T09:05:00Z"},
	}
	for _, s := range steps {
		feed.mu.Lock()
		feed.rows = append(feed.rows, s.add...)
		feed.mu.Unlock()
		tick(s.at)
		state, _, err := pull.LoadState(ctx, st, "crm-db")
		if err != nil {
			t.Fatal(err)
		}
		stats, err := st.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := feed.readCount(); got != s.reads || stats.Records != s.records || state.Totals.Rejected != s.rejected ||
			state.LastOK.Format(time.RFC3339) != s.lastOKISO {
			t.Errorf("after the tick at %s: %d reads, %d records, %d rejected, last ok %s; want %d, %d, %d, %s",
				s.at, got, stats.Records, state.Totals.Rejected, state.LastOK.Format(time.RFC3339), s.reads, s.records, s.rejected, s.lastOKISO)
		}
	}
}

func TestUnknownConnectorFailsTheTick(t *testing.T) {
	p, _ := pullPlatform(t, pullConfig(t, "salesforce"))
	if _, err := p.Pulls(app.Connectors()); err == nil || !strings.Contains(err.Error(), `"salesforce" is not a registered connector kind`) {
		t.Errorf("Pulls() error = %v; want the unknown connector kind named", err)
	}
	if _, err := p.Sweep(context.Background(), app.SweepEvent{Time: time.Now()}); err == nil {
		t.Error("Sweep() with an unknown connector kind = nil error; want one")
	}
}
