package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/wire/local"
	"github.com/aurum-cdp/aurum/shared/wire/local/localtest"
)

// analyticsNode is the official Segment Node.js SDK the test drives.
const analyticsNode = "@segment/analytics-node@3.1.0"

// envRequireNode, set to 1, turns a missing node or npm (or a failed
// install of analyticsNode) into a failure instead of a skip.
const envRequireNode = "AURUM_REQUIRE_NODE"

// analyticsScript sends the messages of the JSON file argv[2] through
// the SDK (each message's type names the call), flushes, and prints the
// HTTP statuses it got and the errors it emitted as JSON.
const analyticsScript = `
const path = require('path');
const { Analytics } = require(path.join(process.env.SDK_DIR, 'node_modules', '@segment', 'analytics-node'));
const msgs = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const a = new Analytics({ writeKey: 'dev-write-key', host: process.env.BASE, path: '/v1/batch',
  flushAt: 5, flushInterval: 20, maxRetries: 3, httpRequestTimeout: 30000 });
const statuses = [], errors = [];
a.on('http_response', (r) => statuses.push(r.status));
a.on('error', (e) => errors.push(String((e && (e.code + ': ' + (e.reason && e.reason.message || e.reason))) || e)));
for (const m of msgs) {
  const { type, ...params } = m;
  params.timestamp = new Date(params.timestamp);
  a[type](params);
}
a.closeAndFlush({ timeout: 60000 }).then(() => console.log(JSON.stringify({ statuses, errors })));
`

// sdkDir returns a directory holding analyticsNode (installed with npm
// into .cache once), or skips the test without node or npm.
func sdkDir(t *testing.T) string {
	t.Helper()
	return npmPackage(t, analyticsNode, "analytics-node-3.1.0", "@segment/analytics-node")
}

// npmPackage returns a directory of .cache (cacheName) holding the npm
// package spec, installed with npm once; pkg is its name, whose
// package.json tells an installed copy. Without node or npm, or when the
// install fails, it skips the test (fails with AURUM_REQUIRE_NODE=1).
func npmPackage(t *testing.T, spec, cacheName, pkg string) string {
	t.Helper()
	unavailable := func(why string, args ...any) {
		t.Helper()
		if os.Getenv(envRequireNode) == "1" {
			t.Fatalf(why+" (%s=1)", append(args, envRequireNode)...)
		}
		t.Skipf(why+"; set %s=1 to fail instead", append(args, envRequireNode)...)
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable("%s is not installed: the %s client is not tested", tool, spec)
		}
	}
	root, err := filepath.Abs("../../../.cache/" + cacheName)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", pkg, "package.json")); err == nil {
		return root
	}
	partial := root + ".partial." + filepath.Base(t.TempDir())
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", partial, spec)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(partial)
		unavailable("npm install %s: %v\n%s", spec, err, out)
	}
	if err := os.Rename(partial, root); err != nil {
		os.RemoveAll(partial) // another test binary installed it meanwhile
		if _, serr := os.Stat(root); serr != nil {
			t.Fatalf("install %s into %s: %v", spec, root, err)
		}
	}
	return root
}

// TestAnalyticsNodeClient runs the hot-profile scenario with one of the
// clients the official @segment/analytics-node SDK: clients-1 Go clients
// and the SDK send messages of ONE user at once, the SDK re-delivering
// every message of one Go client (same messageIds) besides. The SDK drops
// a batch answered 409 (and retries 503): every one of its requests must
// be 2xx and it must report no error; each message is stored and counted
// once.
func TestAnalyticsNodeClient(t *testing.T) {
	const rounds = 3
	dir := sdkDir(t)
	up := &updates{}
	lm := localtest.Start(t, "../../..", local.Options{Observe: up.observe})
	plan := make([][]call, clients-1)
	var events []string
	for c := range plan {
		calls, evs := hotPlan(c, rounds)
		plan[c], events = calls, append(events, evs...)
	}
	// The SDK's client sends what Go client 0 sends (re-deliveries) and
	// its own device's messages.
	var sdkMsgs []map[string]any
	for r := range rounds {
		for _, c := range []int{0, clients - 1} {
			batch, single, evs := hotRound(c, r)
			sdkMsgs = append(sdkMsgs, append(batch, single)...)
			if c == clients-1 {
				events = append(events, evs...)
			}
		}
	}
	msgFile := filepath.Join(t.TempDir(), "messages.json")
	script := filepath.Join(t.TempDir(), "send.js")
	if err := os.WriteFile(msgFile, []byte(jsonString(sdkMsgs)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(analyticsScript), 0o644); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	var sdkOut, sdkErr bytes.Buffer
	var sdkRun error
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "node", script, msgFile)
		cmd.Env = append(os.Environ(), "SDK_DIR="+dir, "BASE="+lm.Base)
		cmd.Stdout, cmd.Stderr = &sdkOut, &sdkErr
		sdkRun = cmd.Run()
	})
	replies := sendAll(t, lm.Base, plan)
	wg.Wait()
	if sdkRun != nil {
		t.Fatalf("node %s = %v; stderr:\n%s", analyticsNode, sdkRun, sdkErr.String())
	}
	var sdk struct {
		Statuses []int    `json:"statuses"`
		Errors   []string `json:"errors"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(sdkOut.Bytes()), &sdk); err != nil {
		t.Fatalf("SDK report %q: %v", sdkOut.String(), err)
	}
	t.Logf("%s: %d requests, statuses %v", analyticsNode, len(sdk.Statuses), sdk.Statuses)
	if len(sdk.Statuses) == 0 || len(sdk.Errors) > 0 {
		t.Errorf("%s: statuses %v, errors %v; want some requests and no error", analyticsNode, sdk.Statuses, sdk.Errors)
	}
	for _, s := range sdk.Statuses {
		if s/100 != 2 {
			t.Errorf("%s: a request answered %d; want 2xx (statuses %v)", analyticsNode, s, sdk.Statuses)
		}
	}
	n := clients * rounds * 4
	if acc, _ := sums(replies); acc > n-rounds*4 || acc < n-2*rounds*4 {
		t.Errorf("Go clients accepted %d; want between %d and %d (the SDK's own device's %d are its own)", acc, n-2*rounds*4, n-rounds*4, rounds*4)
	}
	checkHotProfile(t, lm.Base, n, events)
	up.check(t, lm, n)
}
