package embedded

import (
	"path/filepath"
	"time"
)

// DataFile is the name of the store file in a data folder (aurum local's
// --data, also read by the CLI commands).
const DataFile = "aurum.db"

// DataLockTimeout bounds the wait for the file lock another process holds
// on a data folder's store.
const DataLockTimeout = 2 * time.Second

// DataPath returns the path of the store file of data folder dir.
func DataPath(dir string) string { return filepath.Join(dir, DataFile) }

// OpenData opens the store of data folder dir, as aurum local and the CLI
// commands do: it waits at most DataLockTimeout for the file lock, which
// aurum local holds while it runs (the error is then fault.ErrRetryable).
func OpenData(dir string) (*Store, error) {
	return Open(DataPath(dir), Options{Timeout: DataLockTimeout})
}
