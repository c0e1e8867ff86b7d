package local_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/core/trigger"
	"github.com/aurum-cdp/aurum/shared/wire/app"
	"github.com/aurum-cdp/aurum/shared/wire/local"
)

// Environment of TestRelayKillChild.
const (
	relayKillChild  = "AURUM_RELAY_KILL_CHILD" // set: run local mode
	relayKillConfig = "AURUM_RELAY_KILL_CONFIG"
	relayKillData   = "AURUM_RELAY_KILL_DATA"
	relayKillSecret = "RELAY_KILL_SECRET"
)

// relayKillYAML is local mode with a tracking API, a trigger whose webhook
// action the test receives at /action, and a subscriber whose webhook is
// /sub, which receives every Aurum event.
const relayKillYAML = `version: 1
identifiers:
  - {name: customer_id, normalizer: id}
sources:
  - name: web-api
    kind: api
    write_keys:
      - sha256: 2cc827ddd1d176c150091ef0c8e181de15afbaf3c855263ca0d9069f7c2c3309
    mapping:
      identifiers:
        - {type: customer_id, field: userId}
identity:
  rules:
    - {name: same-customer-id, kind: exact, identifiers: [customer_id]}
triggers:
  - id: relay-kill
    when: {event: {source: [aurum], detail-type: [ProfileUpdated], detail: {event_names: [Relay Kill]}}}
    actions:
      - webhook: {url: %[1]s/action, secret: {env: RELAY_KILL_SECRET}}
subscribers:
  - name: slow
    pattern: {source: [aurum]}
    webhook: %[1]s/sub
`

// TestRelayKillChild is the child process of TestRelayKill9: local mode
// as "aurum local" runs it, until SIGTERM or SIGKILL. It prints the HTTP
// address on a line "READY <addr>".
func TestRelayKillChild(t *testing.T) {
	if os.Getenv(relayKillChild) == "" {
		t.Skip("the child process of TestRelayKill9")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := local.Run(ctx, local.Options{
		ConfigPath: os.Getenv(relayKillConfig),
		Data:       os.Getenv(relayKillData),
		Addr:       "127.0.0.1:0",
		Logger:     app.NewLogger(os.Stderr),
		Ready:      func(addr string) { fmt.Printf("READY %s\n", addr) },
	})
	if err != nil {
		t.Fatalf("local.Run = %v", err)
	}
}

// relayReceiver is the test's side of the webhooks: the subscriber's
// events at /sub (held while hold is set, answered at once after) and the
// trigger's action at /action.
type relayReceiver struct {
	mu      sync.Mutex
	hold    bool
	release chan struct{}
	held    chan string
	events  []string       // event ids received at /sub, in order
	actions map[string]int // X-Aurum-Delivery → requests
}

func (rv *relayReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rv.mu.Lock()
	switch r.URL.Path {
	case "/action":
		rv.actions[r.Header.Get("X-Aurum-Delivery")]++
		rv.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return
	case "/sub":
		var ev struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(body, &ev)
		rv.events = append(rv.events, ev.ID)
		hold := rv.hold
		rv.mu.Unlock()
		if hold {
			select {
			case rv.held <- ev.ID:
			default:
			}
			select {
			case <-rv.release:
			case <-r.Context().Done():
				return
			}
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	rv.mu.Unlock()
	http.NotFound(w, r)
}

func (rv *relayReceiver) snapshot() (events []string, actions map[string]int) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	actions = map[string]int{}
	for k, v := range rv.actions {
		actions[k] = v
	}
	return slices.Clone(rv.events), actions
}

func (rv *relayReceiver) stopHolding() {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.hold {
		rv.hold = false
		close(rv.release)
	}
}

// relayChild is a running child process.
type relayChild struct {
	cmd  *exec.Cmd
	base string
	exit chan error
}

func startRelayChild(t *testing.T, config, data string) *relayChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRelayKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), relayKillChild+"=1", relayKillConfig+"="+config, relayKillData+"="+data,
		relayKillSecret+"=whsec_relay_kill", "AURUM_LOG_LEVEL=warn")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &relayChild{cmd: cmd, exit: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				ready <- addr
			} else {
				fmt.Fprintln(os.Stderr, "child:", sc.Text())
			}
		}
		c.exit <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	select {
	case addr := <-ready:
		c.base = "http://" + addr
	case err := <-c.exit:
		t.Fatalf("child ended before serving: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("child did not serve within 2 minutes")
	}
	return c
}

// wait waits for the child to exit and returns its error.
func (c *relayChild) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-c.exit:
		return err
	case <-time.After(time.Minute):
		t.Fatal("child did not exit within a minute")
		return nil
	}
}

func (c *relayChild) track(t *testing.T, user string) {
	t.Helper()
	body := fmt.Sprintf(`{"userId":%q,"event":"Relay Kill","messageId":"m-%s"}`, user, user)
	req, err := http.NewRequest(http.MethodPost, c.base+"/v1/track", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("dev-write-key", "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST /v1/track = %d %s", resp.StatusCode, b)
	}
}

// relayOutboxOf opens the data folder's store (no process holds it) and
// returns the ids left in the outbox.
func relayOutboxOf(t *testing.T, data string) []string {
	t.Helper()
	st, err := embedded.OpenData(data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return relayOutboxIDs(t, st)
}

// relayPendingFirings opens the data folder's store and returns the ids of
// the firings claimed but not done: their actions were cut short.
func relayPendingFirings(t *testing.T, data string) map[string]bool {
	t.Helper()
	st, err := embedded.OpenData(data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[string]bool{}
	err = st.Scan(context.Background(), func(bucket, key string, value []byte) error {
		if strings.Contains(key, trigger.KindFired) && bytes.Contains(value, []byte(`"state":"pending"`)) {
			out[key] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRelayKill9 kills "aurum local" (a child process) with SIGKILL while
// its subscriber holds an event between publish and acknowledgement. The
// event is still in the outbox; a restart delivers every unacknowledged
// event and a clean stop leaves the outbox empty; each firing's action
// ran exactly once across both runs.
func TestRelayKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts local mode twice as a child process")
	}
	rv := &relayReceiver{hold: true, release: make(chan struct{}), held: make(chan string, 1), actions: map[string]int{}}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	defer rv.stopHolding()
	dir := t.TempDir()
	config := filepath.Join(dir, "aurum.yaml")
	if err := os.WriteFile(config, fmt.Appendf(nil, relayKillYAML, srv.URL), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")

	const users = 5
	child := startRelayChild(t, config, data)
	for i := range users {
		child.track(t, fmt.Sprint("u", i))
	}
	var held string
	select {
	case held = <-rv.held:
	case <-time.After(time.Minute):
		t.Fatal("the subscriber received no event")
	}
	relayWaitUntil(t, "the trigger's actions", func() bool {
		_, actions := rv.snapshot()
		return len(actions) == users
	})
	if err := child.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.wait(t)

	left := relayOutboxOf(t, data)
	cut := len(relayPendingFirings(t, data))
	if !slices.Contains(left, held) {
		t.Fatalf("after kill -9 the outbox holds %v; want the event %s the subscriber was handling", left, held)
	}

	rv.stopHolding()
	child = startRelayChild(t, config, data)
	relayWaitUntil(t, "the re-delivery of the unacknowledged events", func() bool {
		got, _ := rv.snapshot()
		for _, id := range left {
			if !slices.Contains(got, id) {
				return false
			}
		}
		return true
	})
	if err := child.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := child.wait(t); err != nil {
		t.Fatalf("child after SIGTERM = %v; want a clean exit", err)
	}
	if rest := relayOutboxOf(t, data); len(rest) != 0 {
		t.Errorf("after a clean stop the outbox holds %v; want nothing", rest)
	}
	_, actions := rv.snapshot()
	if len(actions) != users {
		t.Errorf("actions ran for %d firings; want %d", len(actions), users)
	}
	// An action cut short by the kill runs again after the restart (at
	// least once: the receiver de-duplicates on the delivery id); every
	// other firing ran its action exactly once.
	again := 0
	for id, n := range actions {
		switch {
		case n == 2:
			again++
		case n != 1:
			t.Errorf("firing %s ran its action %d times; want 1 (2 if the kill cut it short)", id, n)
		}
	}
	t.Logf("%d firings left pending by the kill, %d ran their action again", cut, again)
	if again > cut {
		t.Errorf("%d firings ran their action twice; want at most the %d the kill left pending", again, cut)
	}
}
