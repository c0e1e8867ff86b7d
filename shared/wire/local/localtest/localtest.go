// Package localtest starts local mode in-process for tests: on the sample
// configuration and data of the repository, on a free port, in a temporary
// data folder, stopped when the test ends.
package localtest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/wire/local"
)

// Output collects local mode's progress lines; safe for concurrent use.
type Output struct {
	mu sync.Mutex
	b  strings.Builder
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// String returns everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// Instance is a running local mode.
type Instance struct {
	// Base is the HTTP base URL, e.g. http://127.0.0.1:41234.
	Base string
	// Data is the data folder.
	Data string
	// Out holds the progress lines.
	Out *Output

	stop    context.CancelFunc
	done    chan error
	stopped bool
}

// Start runs local mode with opts until the test ends (or Stop). Empty
// ConfigPath, Data, Addr and Poll default to root/aurum.yaml, a temp
// folder, 127.0.0.1:0 and 20 ms; root is the repository root relative to
// the test's package (e.g. "../.."). Samples is used as given: set it to
// root+"/testdata/sample" for the sample data.
func Start(t testing.TB, root string, opts local.Options) *Instance {
	t.Helper()
	if opts.ConfigPath == "" {
		opts.ConfigPath = root + "/aurum.yaml"
	}
	if opts.Data == "" {
		opts.Data = t.TempDir()
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Poll == 0 {
		opts.Poll = 20 * time.Millisecond
	}
	in := &Instance{Data: opts.Data, Out: &Output{}, done: make(chan error, 1)}
	opts.Out = in.Out
	ready := make(chan string, 1)
	opts.Ready = func(addr string) { ready <- addr }
	ctx, cancel := context.WithCancel(context.Background())
	in.stop = cancel
	go func() { in.done <- local.Run(ctx, opts) }()
	select {
	case addr := <-ready:
		in.Base = "http://" + addr
	case err := <-in.done:
		cancel()
		t.Fatalf("local.Run ended before serving: %v\noutput:\n%s", err, in.Out)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("local.Run did not start serving within 60s")
	}
	t.Cleanup(func() { in.Stop(t) })
	return in
}

// Stop stops local mode and reports an error it ended with. It is safe to
// call more than once.
func (in *Instance) Stop(t testing.TB) {
	t.Helper()
	if in.stopped {
		return
	}
	in.stopped = true
	in.stop()
	if err := <-in.done; err != nil {
		t.Errorf("local.Run = %v; want nil after cancel", err)
	}
}

// WaitFor polls cond every 50 ms until it holds, failing the test with
// local mode's output after timeout.
func (in *Instance) WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; output:\n%s", timeout, what, in.Out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
