// Package dir is an objects.Store over a local directory, standing in for
// the S3 bucket in local mode.
//
// A key maps to the path of the same name under the root directory. Keys
// must be clean, relative, slash-separated paths (io/fs.ValidPath); every
// access goes through an os.Root, so neither ".." nor a symbolic link can
// reach outside the root.
//
// ETags are the hex SHA-256 of the content, so a file copied again with
// the same bytes keeps its ETag, as an S3 object re-uploaded with the same
// bytes does. The hash is computed on first use and cached while the file's
// size and modification time stay the same.
//
// Put is atomic: it writes a temporary file named ".<name>.<random>.tmp" in
// the target's directory and renames it into place. Watchers of the
// directory should ignore names starting with a dot.
package dir

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/objects"
)

// Permissions of what Put creates: objects hold customer data.
const (
	filePerm = 0o600
	dirPerm  = 0o750
)

// Store is a directory-backed objects.Store. It is safe for concurrent use.
type Store struct {
	root *os.Root

	mu    sync.Mutex
	etags map[string]etagEntry
}

type etagEntry struct {
	size int64
	mod  time.Time
	etag string
}

var _ objects.Store = (*Store)(nil)

// New opens the directory at path as a store, creating it if needed.
// Close releases it.
func New(path string) (*Store, error) {
	if err := os.MkdirAll(path, dirPerm); err != nil {
		return nil, fmt.Errorf("objects/dir: create root: %w", err)
	}
	root, err := os.OpenRoot(path)
	if err != nil {
		return nil, fmt.Errorf("objects/dir: open root: %w", err)
	}
	return &Store{root: root, etags: make(map[string]etagEntry)}, nil
}

// Close releases the root directory.
func (s *Store) Close() error { return s.root.Close() }

// Path returns the directory the store is rooted at.
func (s *Store) Path() string { return s.root.Name() }

// checkKey refuses keys that are not clean relative paths.
func checkKey(key string) error {
	if key == "" || key == "." || !fs.ValidPath(key) {
		return fault.Invalidf("objects/dir: key %q is not a clean relative path", key)
	}
	return nil
}

// Open opens the object at key for reading.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, objects.Info, error) {
	if err := checkKey(key); err != nil {
		return nil, objects.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, objects.Info{}, fmt.Errorf("objects/dir: open %s: %w", key, err)
	}
	f, err := s.root.Open(key)
	if err != nil {
		return nil, objects.Info{}, mapErr("open", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, objects.Info{}, fmt.Errorf("objects/dir: open %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, objects.Info{}, fmt.Errorf("objects/dir: open %s: not a regular file: %w", key, fault.ErrNotFound)
	}
	etag, ok := s.cached(key, fi)
	if !ok {
		if etag, err = hashFile(f); err != nil {
			f.Close()
			return nil, objects.Info{}, fmt.Errorf("objects/dir: open %s: hash: %w", key, err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, objects.Info{}, fmt.Errorf("objects/dir: open %s: %w", key, err)
		}
		s.remember(key, fi, etag)
	}
	return f, info(key, fi, etag), nil
}

// Stat describes the object at key.
func (s *Store) Stat(ctx context.Context, key string) (objects.Info, error) {
	if err := checkKey(key); err != nil {
		return objects.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return objects.Info{}, fmt.Errorf("objects/dir: stat %s: %w", key, err)
	}
	fi, err := s.root.Stat(key)
	if err != nil {
		return objects.Info{}, mapErr("stat", key, err)
	}
	if !fi.Mode().IsRegular() {
		return objects.Info{}, fmt.Errorf("objects/dir: stat %s: not a regular file: %w", key, fault.ErrNotFound)
	}
	if etag, ok := s.cached(key, fi); ok {
		return info(key, fi, etag), nil
	}
	f, err := s.root.Open(key)
	if err != nil {
		return objects.Info{}, mapErr("stat", key, err)
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return objects.Info{}, fmt.Errorf("objects/dir: stat %s: %w", key, err)
	}
	etag, err := hashFile(f)
	if err != nil {
		return objects.Info{}, fmt.Errorf("objects/dir: stat %s: hash: %w", key, err)
	}
	s.remember(key, fi, etag)
	return info(key, fi, etag), nil
}

// Put writes r to key atomically. The content type is not stored.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, contentType string) (err error) {
	if err := checkKey(key); err != nil {
		return err
	}
	dir, name := path.Split(key)
	if dir != "" {
		if err := s.root.MkdirAll(path.Clean(dir), dirPerm); err != nil {
			return fmt.Errorf("objects/dir: put %s: %w", key, err)
		}
	}
	tmp := dir + "." + name + "." + rand.Text() + ".tmp"
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return fmt.Errorf("objects/dir: put %s: %w", key, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			s.root.Remove(tmp)
		}
	}()
	h := sha256.New()
	if err := copyCtx(ctx, io.MultiWriter(f, h), r); err != nil {
		return fmt.Errorf("objects/dir: put %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("objects/dir: put %s: sync: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("objects/dir: put %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("objects/dir: put %s: close: %w", key, err)
	}
	if err := s.root.Rename(tmp, key); err != nil {
		return fmt.Errorf("objects/dir: put %s: rename: %w", key, err)
	}
	s.remember(key, fi, hex.EncodeToString(h.Sum(nil)))
	return nil
}

func (s *Store) cached(key string, fi fs.FileInfo) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.etags[key]
	if !ok || e.size != fi.Size() || !e.mod.Equal(fi.ModTime()) {
		return "", false
	}
	return e.etag, true
}

func (s *Store) remember(key string, fi fs.FileInfo, etag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.etags[key] = etagEntry{size: fi.Size(), mod: fi.ModTime(), etag: etag}
}

func info(key string, fi fs.FileInfo, etag string) objects.Info {
	return objects.Info{Key: key, Size: fi.Size(), ETag: etag, LastModified: fi.ModTime().UTC()}
}

func hashFile(r io.Reader) (string, error) {
	var h hash.Hash = sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// mapErr translates file system errors into fault kinds.
func mapErr(op, key string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("objects/dir: %s %s: %w", op, key, fault.ErrNotFound)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("objects/dir: %s %s: %w: %w", op, key, fault.ErrForbidden, err)
	default:
		return fmt.Errorf("objects/dir: %s %s: %w", op, key, err)
	}
}

// copyCtx copies src to dst until EOF, checking ctx between chunks.
func copyCtx(ctx context.Context, dst io.Writer, src io.Reader) error {
	buf := make([]byte, 64<<10)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
