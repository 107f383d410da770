package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilterm/vigil/store/fileutil"
)

// SnapshotFileName is the name of the snapshot in the data dir.
const SnapshotFileName = "vigil.snapshot"

// errNoDir is returned by Snapshot on a DB without a data dir.
var errNoDir = errors.New("snapshot: the store has no data dir")

// Snapshot writes a snapshot now (the periodic loop and Close call it too).
// A failure leaves the previous snapshot intact and is also recorded in
// Stats().LastSnapshot.
func (db *DB) Snapshot() error {
	if db.closed.Load() {
		return ErrClosed
	}
	return db.snapshot()
}

func (db *DB) snapshot() error {
	if db.dir == "" {
		return errNoDir
	}
	if db.readOnly {
		return fmt.Errorf("snapshot: %s was opened read-only", db.dir)
	}
	db.snapMu.Lock()
	defer db.snapMu.Unlock()
	if db.finalDone {
		return ErrClosed // Close has written the last one and let the lock go
	}
	st := SnapshotStats{Time: time.Now(), Path: filepath.Join(db.dir, SnapshotFileName)}
	err := db.writeSnapshot(&st)
	st.Duration = time.Since(st.Time)
	if err != nil {
		st.Err = fmt.Errorf("write snapshot %s: %w", st.Path, err)
	}
	db.statsMu.Lock()
	db.lastSnap = st
	if err != nil {
		db.snapErrs++
	} else {
		db.snaps++
		db.lastGood = st.Time
	}
	db.statsMu.Unlock()
	if db.opts.OnSnapshot != nil {
		db.opts.OnSnapshot(st)
	}
	return st.Err
}

// snapshotLoop writes a snapshot every interval until ctx ends.
func (db *DB) snapshotLoop(ctx context.Context, every time.Duration) {
	defer db.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = db.snapshot() // recorded in Stats
		}
	}
}

// encode writes the store to w in the snapshot format, with a zeroed header,
// and returns the header to write at offset 0.
//
// Each shard's chunks are copied under its lock (closed chunks are
// immutable, so only their list and the open head chunks are copied) and
// encoded after it is released, so appends go on meanwhile.
func (db *DB) encode(w io.Writer) (*snapshotWriter, []byte, error) {
	sw, err := newSnapshotWriter(w, db.format.enc)
	if err != nil {
		return nil, nil, err
	}
	type entry struct {
		lset labels.Labels
		from int // chunk index in cs
	}
	var (
		entries []entry
		cs      []chunk
		arena   []byte
	)
	for i := range db.shards {
		sh := &db.shards[i]
		entries, cs, arena = entries[:0], cs[:0], arena[:0]
		mint := db.minValidTime()
		sh.mu.Lock()
		for _, s := range sh.slots {
			if s == nil {
				continue
			}
			n := len(cs)
			cs = s.chunksIn(db.format.enc, cs, &arena, mint, math.MaxInt64)
			if len(cs) > n {
				entries = append(entries, entry{lset: s.lset, from: n})
			}
		}
		sh.mu.Unlock()
		for j, e := range entries {
			to := len(cs)
			if j+1 < len(entries) {
				to = entries[j+1].from
			}
			if err := sw.writeSeries(e.lset, cs[e.from:to]); err != nil {
				return nil, nil, err
			}
		}
	}
	hdr, err := sw.finish(time.Now().UnixMilli())
	return sw, hdr, err
}

// writeSnapshot writes the whole store to the snapshot file, atomically
// (fileutil.Write): a failure leaves the old snapshot as it was.
func (db *DB) writeSnapshot(st *SnapshotStats) error {
	var sw *snapshotWriter
	err := fileutil.Write(db.fs, st.Path, func(f fileutil.File) error {
		var (
			hdr []byte
			err error
		)
		if sw, hdr, err = db.encode(f); err != nil {
			return err
		}
		_, err = f.WriteAt(hdr, 0)
		return err
	})
	if err != nil {
		return err
	}
	st.Size, st.Series, st.Samples = sw.n, int64(sw.series), int64(sw.samples)
	return nil
}
