package local_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/source"
	"github.com/aurum-cdp/aurum/shared/wire/app"
	"github.com/aurum-cdp/aurum/shared/wire/local"
	"github.com/aurum-cdp/aurum/shared/wire/local/localtest"
)

// localFeed is the connector of kind local-test-rows.
type localFeed struct {
	mu   sync.Mutex
	rows []source.Row
}

var lfeed = &localFeed{}

func init() {
	app.RegisterConnector("local-test-rows", func(config.Pull, source.Secrets) (source.Source, error) { return lfeed, nil })
}

func (f *localFeed) Read(_ context.Context, checkpoint string, limit int) (source.Batch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, _ := strconv.Atoi(checkpoint)
	j := min(i+limit, len(f.rows))
	return source.Batch{Rows: f.rows[i:j], Checkpoint: strconv.Itoa(j), More: j < len(f.rows)}, nil
}

func (f *localFeed) add(rows ...source.Row) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows = append(f.rows, rows...)
}

func writePullConfig(t *testing.T, connector string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "aurum.yaml")
	yaml := fmt.Sprintf(`version: 1
identifiers: [{name: email, normalizer: email}]
sources:
  - name: crm-db
    kind: pull
    pull: {connector: %s, schedule: 1s}
    mapping:
      record_id: id
      identifiers: [{type: email, field: email}]
`, connector)
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func profileExists(t *testing.T, base, email string) bool {
	t.Helper()
	resp, err := http.Get(base + "/v1/profiles?identifier=email:" + email)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// TestLocalModeRunsPullSources runs local mode with a pull source on a 1s
// schedule: its rows become profiles, and rows added later are read on a
// later tick.
func TestLocalModeRunsPullSources(t *testing.T) {
	lfeed.add(source.Row{"id": "1", "email": "ann@example.com"})
	lm := localtest.Start(t, "../../..", local.Options{ConfigPath: writePullConfig(t, "local-test-rows")})
	if !strings.Contains(lm.Out.String(), "pull source crm-db: every 1s") {
		t.Errorf("output lacks the pull source's start line:\n%s", lm.Out)
	}
	lm.WaitFor(t, "the first row's profile", 30*time.Second, func() bool { return profileExists(t, lm.Base, "ann@example.com") })
	lfeed.add(source.Row{"id": "2", "email": "bob@example.com"})
	lm.WaitFor(t, "the added row's profile", 30*time.Second, func() bool { return profileExists(t, lm.Base, "bob@example.com") })
	// The run's line follows its checkpoint, which follows the commit the
	// profile shows: wait for it rather than race it.
	lm.WaitFor(t, "the second run's line", 30*time.Second, func() bool { return strings.Count(lm.Out.String(), "pull crm-db") >= 2 })
	lm.Stop(t)
	if got := strings.Count(lm.Out.String(), "pull crm-db"); got != 2 {
		t.Errorf("output has %d pull lines; want 2 (one per run that read rows):\n%s", got, lm.Out)
	}
}

func TestLocalModeRefusesUnknownConnector(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := local.Run(ctx, local.Options{ConfigPath: writePullConfig(t, "salesforce"), Data: t.TempDir(), Addr: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), `"salesforce" is not a registered connector kind`) {
		t.Errorf("Run() = %v; want the unknown connector kind named", err)
	}
}
