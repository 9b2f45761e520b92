package ssl

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultTicketKeyCheckInterval is how often, at most, a TicketKeyFile
// looks at its file for changes when asked for its keys.
const DefaultTicketKeyCheckInterval = time.Second

// maxTicketKeyFileSize bounds what a key file may hold (256 keys of 80
// bytes in base64 with comments fit many times over).
const maxTicketKeyFileSize = 1 << 20

// TicketKeyFile is a TicketKeySource over a file of keys in the format of
// ParseTicketKeys, reloaded when the file changes: the way nginx and
// HAProxy operators manage session ticket keys, one file distributed to
// every server. TicketKeys looks at the file at most once per check
// interval (DefaultTicketKeyCheckInterval; SetCheckInterval) — its size,
// modification time and inode, then its content — so rotating keys is
// replacing the file (write a new one and rename it over the old). A
// reload that fails — the file is missing, short, corrupt — keeps the
// keys in use and is reported by Err (and by Reload's result); the next
// change is tried again. Safe for concurrent use.
type TicketKeyFile struct {
	path     string
	interval atomic.Int64 // nanoseconds; < 0: only Reload reads the file
	keys     atomic.Pointer[TicketKeys]
	next     atomic.Int64 // UnixNano of the next look at the file

	mu    sync.Mutex // serialises looks at the file; guards the fields below
	stamp fileStamp  // the file as last read
	sum   [32]byte   // SHA-256 of the content last read
	err   error      // the last look's error, nil after a good one
	gen   uint64     // key sets loaded so far
}

// fileStamp tells whether a file may have changed without reading it.
type fileStamp struct {
	size  int64
	mtime time.Time
	ino   uint64
}

func stampOf(fi os.FileInfo) fileStamp {
	return fileStamp{size: fi.Size(), mtime: fi.ModTime(), ino: inodeOf(fi)}
}

// OpenTicketKeyFile loads the keys of a ticket key file. A missing,
// unreadable, empty or malformed file is an error (errors.Is with
// fs.ErrNotExist or ErrInvalidTicketKeys; the message names the file and
// line, never key material).
func OpenTicketKeyFile(path string) (*TicketKeyFile, error) {
	f := &TicketKeyFile{path: path}
	f.interval.Store(int64(DefaultTicketKeyCheckInterval))
	if _, err := f.reload(true); err != nil {
		return nil, err
	}
	return f, nil
}

// Path returns the file's path.
func (f *TicketKeyFile) Path() string { return f.path }

// String names the file and its keys by their identifiers.
func (f *TicketKeyFile) String() string { return f.path + ": " + f.keys.Load().String() }

// SetCheckInterval sets how often, at most, TicketKeys looks at the file;
// 0 looks at every call, a negative interval never (only Reload does).
func (f *TicketKeyFile) SetCheckInterval(d time.Duration) {
	if d < 0 {
		d = -1
	}
	f.interval.Store(int64(d))
	f.next.Store(0)
}

// TicketKeys returns the keys in use, first looking at the file when the
// check interval has passed.
func (f *TicketKeyFile) TicketKeys() *TicketKeys {
	if iv := f.interval.Load(); iv >= 0 {
		now := time.Now().UnixNano()
		if next := f.next.Load(); now >= next && f.next.CompareAndSwap(next, now+iv) {
			_, _ = f.reload(false)
		}
	}
	return f.keys.Load()
}

// Reload looks at the file now and loads its keys if it changed. It
// reports whether the keys in use changed; on an error they stay as they
// were.
func (f *TicketKeyFile) Reload() (changed bool, err error) { return f.reload(false) }

// Err returns the error of the last look at the file (nil when it loaded,
// or had not changed): a reload that failed and left the old keys in use.
func (f *TicketKeyFile) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Generation counts the key sets loaded: 1 after OpenTicketKeyFile, one
// more for each change taken up.
func (f *TicketKeyFile) Generation() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gen
}

func (f *TicketKeyFile) reload(first bool) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	changed, err := f.reloadLocked(first)
	f.err = err
	return changed, err
}

func (f *TicketKeyFile) reloadLocked(first bool) (bool, error) {
	file, err := os.Open(f.path)
	if err != nil {
		return false, fmt.Errorf("ssl: session ticket key file: %w", err)
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return false, fmt.Errorf("ssl: session ticket key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return false, fmt.Errorf("%w: %s is not a regular file", ErrInvalidTicketKeys, f.path)
	}
	stamp := stampOf(fi)
	if !first && stamp == f.stamp {
		return false, nil
	}
	data, err := io.ReadAll(io.LimitReader(file, maxTicketKeyFileSize+1))
	defer clear(data)
	if err != nil {
		return false, fmt.Errorf("ssl: session ticket key file: %w", err)
	}
	if len(data) > maxTicketKeyFileSize {
		return false, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalidTicketKeys, f.path, maxTicketKeyFileSize)
	}
	sum := sha256.Sum256(data)
	if !first && bytes.Equal(sum[:], f.sum[:]) {
		f.stamp = stamp // touched, not changed
		return false, nil
	}
	keys, err := ParseTicketKeys(data)
	if err != nil {
		var note string
		if !first {
			note = " (the keys loaded before stay in use)"
		}
		return false, fmt.Errorf("%s: %w%s", f.path, err, note)
	}
	f.keys.Store(keys)
	f.stamp, f.sum = stamp, sum
	f.gen++
	return true, nil
}
