package embedded_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

func TestOpenData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	st, err := embedded.OpenData(dir)
	if err != nil {
		t.Fatalf("OpenData(%s) = %v; want a store", dir, err)
	}
	defer st.Close()
	if got, want := st.Path(), filepath.Join(dir, "aurum.db"); got != want {
		t.Errorf("OpenData(%s).Path() = %s; want %s", dir, got, want)
	}
	if _, err := os.Stat(embedded.DataPath(dir)); err != nil {
		t.Errorf("store file %s: %v; want it created", embedded.DataPath(dir), err)
	}
	start := time.Now()
	_, err = embedded.OpenData(dir)
	if !errors.Is(err, fault.ErrRetryable) {
		t.Errorf("OpenData(locked folder) = %v; want %v", err, fault.ErrRetryable)
	}
	// bbolt polls the lock, so the wait is about DataLockTimeout.
	if waited := time.Since(start); waited < embedded.DataLockTimeout/2 {
		t.Errorf("OpenData(locked folder) gave up after %v; want it to wait about %v", waited, embedded.DataLockTimeout)
	}
}
