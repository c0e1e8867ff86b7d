package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/core/segment"
)

// lockedBuffer is a bytes.Buffer safe for a writer and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// localData runs aurum local on the sample configuration and data until
// the drop folder has loaded everything, stops it, and returns its data
// folder.
func localData(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	var out, errs lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"local", "--config", "../../aurum.yaml", "--data", data,
			"--addr", "127.0.0.1:0", "--samples", "../../testdata/sample", "--poll", "20ms"}, &out, &errs)
	}()
	deadline := time.After(2 * time.Minute)
	for !strings.Contains(out.String(), "summary:") {
		select {
		case err := <-done:
			t.Fatalf("aurum local ended early: %v\n%s%s", err, out.String(), errs.String())
		case <-deadline:
			cancel()
			t.Fatalf("aurum local did not load the samples:\n%s%s", out.String(), errs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("aurum local = %v after stop; want nil", err)
	}
	return data
}

func TestSegmentsCommandsOnLocalData(t *testing.T) {
	if testing.Short() {
		t.Skip("runs aurum local on the sample data")
	}
	data := localData(t)
	segments := func(t *testing.T, args ...string) (string, error) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args = append([]string{"segments"}, append(args, "--config", "../../aurum.yaml", "--data", data)...)
		err := run(context.Background(), args, &stdout, &stderr)
		return stdout.String() + stderr.String(), err
	}
	preview := func(t *testing.T, expr string) segment.PreviewResult {
		t.Helper()
		out, err := segments(t, "preview", "--expr", expr, "--sample", "3")
		if err != nil {
			t.Fatalf("segments preview --expr %s = %v\n%s", expr, err, out)
		}
		var res segment.PreviewResult
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("preview output %q: %v", out, err)
		}
		return res
	}

	all := preview(t, `true`)
	if all.Scanned == 0 || all.Count != all.Scanned || len(all.Sample) != 3 {
		t.Fatalf("preview(true) = %+v; want every scanned profile, a sample of 3", all)
	}
	tests := []struct {
		name string
		expr string
		want func(segment.PreviewResult) bool
	}{
		{"none", `false`, func(r segment.PreviewResult) bool { return r.Count == 0 && len(r.Sample) == 0 }},
		{"some have an email", `"email" in profile.identifiers`, func(r segment.PreviewResult) bool { return r.Count > 0 && r.Count < all.Scanned }},
		{"complement", `!("email" in profile.identifiers)`, func(r segment.PreviewResult) bool {
			return r.Count == all.Scanned-preview(t, `"email" in profile.identifiers`).Count
		}},
		{"several sources", `profile.sources.size() >= 2`, func(r segment.PreviewResult) bool { return r.Count > 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := preview(t, tt.expr); got.Scanned != all.Scanned || !tt.want(got) {
				t.Errorf("preview(%s) = %+v (of %d profiles); not as expected", tt.expr, got, all.Scanned)
			}
		})
	}

	t.Run("compile error", func(t *testing.T) {
		out, err := segments(t, "preview", "--expr", `profile.atributes.x == 1`)
		if err == nil || !strings.Contains(err.Error(), "1:8") {
			t.Errorf("preview of a typo = %v (%s); want an error at 1:8", err, out)
		}
	})
	t.Run("reconcile", func(t *testing.T) {
		out, err := segments(t, "reconcile")
		if err != nil {
			t.Fatalf("segments reconcile = %v\n%s", err, out)
		}
		var rep segment.ReconcileReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("reconcile output %q: %v", out, err)
		}
		members := 0
		for _, r := range rep.Rows {
			members += int(r.Members)
		}
		if !rep.OK || rep.Profiles != all.Scanned || members == 0 {
			t.Errorf("reconcile = %+v; want OK over %d profiles with some members", rep, all.Scanned)
		}
	})
	t.Run("counts", func(t *testing.T) {
		out, err := segments(t, "counts")
		if err != nil {
			t.Fatalf("segments counts = %v\n%s", err, out)
		}
		var c map[string]int64
		if err := json.Unmarshal([]byte(out), &c); err != nil || len(c) == 0 {
			t.Errorf("counts output %q (%v); want a count per segment", out, err)
		}
	})
}
