package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vigilterm/vigil/store/fileutil"
)

// ErrNoSnapshot: OpenSnapshot found no snapshot in the dir.
var ErrNoSnapshot = errors.New("no snapshot")

// Open opens the store kept in dir: it creates dir (0700) when missing, takes
// the data-dir lock (a second Open of the same dir fails with a *LockedError,
// errors.Is ErrLocked, naming the holder's pid), removes temporary files a
// crash left, loads the last snapshot, and starts writing a snapshot every
// opts.SnapshotInterval until Close.
//
// A damaged snapshot does not fail Open: what is intact is loaded, the file
// is moved aside and Stats().Restore says what was lost (its Warning is the
// line to show the operator). Nor does a data dir on a read-only file
// system: the snapshot is loaded and every later snapshot fails, reported in
// Stats().LastSnapshot. Open fails when the dir cannot be created, is
// locked, or the snapshot cannot be read at all.
func Open(dir string, opts Options) (*DB, error) {
	if dir == "" {
		return nil, errors.New("open store: empty data dir")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store: create data dir: %w", err)
	}
	lock, roFS, err := acquireLock(dir)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	db := New(opts)
	db.dir, db.lock = dir, lock
	// A temporary file that cannot be removed (a read-only disk) is
	// harmless: no write reuses its name.
	_ = fileutil.RemoveTemps(filepath.Join(dir, SnapshotFileName))
	if err := db.restoreFrom(filepath.Join(dir, SnapshotFileName), !roFS); err != nil {
		if lock != nil {
			lock.release()
		}
		return nil, fmt.Errorf("open store: %w", err)
	}
	if every := db.opts.SnapshotInterval; every > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		db.cancel = cancel
		db.wg.Add(1)
		go db.snapshotLoop(ctx, every)
	}
	return db, nil
}

// OpenSnapshot loads the last snapshot in dir without taking the lock and
// without ever writing, for `vigil query` beside a running vigil. It fails
// with ErrNoSnapshot when there is none; a damaged one is loaded as far as
// it is intact and reported in Stats().Restore, as for Open. The DB accepts
// appends but Snapshot refuses; Close only drops it.
func OpenSnapshot(dir string, opts Options) (*DB, error) {
	db := New(opts)
	db.dir, db.readOnly = dir, true
	path := filepath.Join(dir, SnapshotFileName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open snapshot: %w in %s (vigil writes one every --snapshot-interval and on exit)", ErrNoSnapshot, dir)
	}
	if err := db.restoreFrom(path, false); err != nil {
		return nil, fmt.Errorf("open snapshot: %w", err)
	}
	return db, nil
}
