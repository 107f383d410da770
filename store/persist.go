package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/vigilterm/vigil/store/fileutil"
)

// ErrNoSnapshot: OpenSnapshot found no snapshot in the dir.
var ErrNoSnapshot = errors.New("no snapshot")

// errNoDir is returned by Snapshot on a DB without a data dir.
var errNoDir = errors.New("snapshot: the store has no data dir")

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

// restoreFrom loads the snapshot at path into the empty db. A missing file
// is an empty store. moveAside says whether a damaged file is renamed.
func (db *DB) restoreFrom(path string, moveAside bool) error {
	src, read, err := openSnapshotFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read snapshot %s: %w", path, err)
	}
	rep := RestoreReport{Path: path}
	res := db.restore(src, &rep)
	if err := read(); err != nil {
		// Not damage: the disk failed under the read. Nothing is loaded
		// from a file that could not be read whole.
		return fmt.Errorf("read snapshot %s: %w", path, err)
	}
	if res.headerOK {
		rep.Written = time.UnixMilli(res.header.written)
	}
	if res.damage != nil {
		rep.Damage = res.damage
		if res.headerOK {
			rep.LostSeries = max(int64(res.header.series)-res.series, 0)
			rep.LostSamples = max(int64(res.header.samples)-res.samples, 0)
		} else {
			rep.LostSeries, rep.LostSamples = -1, -1
		}
		if moveAside {
			to := fmt.Sprintf("%s.damaged-%s", path, time.Now().UTC().Format("20060102T150405Z"))
			if err := db.fs.Rename(path, to); err == nil {
				rep.MovedTo = to
				_ = db.fs.SyncDir(filepath.Dir(path))
			}
		}
	}
	db.nextGC.Store(db.maxT.Load())
	db.statsMu.Lock()
	db.restored = rep
	db.statsMu.Unlock()
	return nil
}

// readPiece is how much of a snapshot is read before the decoder may go on
// with it.
const readPiece = 4 << 20

// openSnapshotFile opens the snapshot at path and starts reading it whole,
// into one buffer the restored chunks then point into, while the records
// already read are decoded. wait ends the read (the file is closed) and
// returns its error.
//
// Reading the file with a few large reads into one buffer, instead of
// copying each record from a bufio buffer into a buffer of its own, is most
// of what makes a start fast (issue #6): on this project's VM a process
// touching fresh memory 4 KiB at a time pays about 6 ms a MiB in page
// faults, and the record-by-record copy of a 126 MiB snapshot took 0.7-1.1
// s before anything was decoded. The buffer is advised to huge pages while
// it fills (see adviseHugePages), and the read overlaps the decoding.
//
// Only a file whose header checks is read past its header, so a stray large
// file in the snapshot's place costs 60 bytes of memory, not its size.
func openSnapshotFile(path string) (src *snapshotBytes, wait func() error, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	var hdr [headerSize]byte
	n, err := io.ReadFull(f, hdr[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, nil, err
	}
	size := fi.Size()
	if _, herr := decodeHeader(hdr[:n]); herr != nil || size <= headerSize {
		f.Close()
		// What decodeSnapshot needs to say what is wrong.
		return wholeSnapshot(hdr[:n:n]), func() error { return nil }, nil
	}
	if int64(int(size)) != size {
		f.Close()
		return nil, nil, fmt.Errorf("%d bytes do not fit in memory", size)
	}
	src = newSnapshotBytes(int(size))
	src.filled = copy(src.buf, hdr[:])
	done := make(chan error, 1)
	go func() {
		undo := adviseHugePages(src.buf)
		err := src.fill(f, readPiece)
		undo()
		f.Close()
		done <- err
	}()
	return src, func() error { return <-done }, nil
}

// restoreWorkers is how many goroutines decode and insert series in a
// restore: the records are independent, and a start should use the cores
// it has.
func restoreWorkers() int { return min(runtime.GOMAXPROCS(0), 4) }

// restore loads the snapshot in src into the empty db, adding to rep what
// it loaded and dropped. The restored chunks point into src's buffer.
func (db *DB) restore(src *snapshotBytes, rep *RestoreReport) decodeResult {
	type worker struct {
		rep    RestoreReport
		added  []*memSeries
		series slab[memSeries]
	}
	workers := make([]worker, restoreWorkers())
	var sized sync.Once
	res := decodeSnapshot(src, len(workers), func(i int, h *snapshotHeader, l labels.Labels, cs []chunk) {
		sized.Do(func() { db.sizeFor(h.series) })
		// The retention is measured back from the newest sample in the
		// snapshot, as the ring would have done had vigil kept running.
		mint := int64(math.MinInt64)
		if db.retentionMs >= 0 && h.maxt >= math.MinInt64+db.retentionMs {
			mint = h.maxt - db.retentionMs
		}
		w := &workers[i]
		if w.added == nil {
			w.added = make([]*memSeries, 0, min(h.series, 1<<24)/uint64(len(workers))+1)
		}
		if s := db.insertRestored(l, cs, h.encoding, mint, &w.rep, &w.series); s != nil {
			w.added = append(w.added, s)
		}
	})
	lists := make([][]*memSeries, len(workers))
	for i := range workers {
		w := &workers[i]
		w.series.done()
		rep.Series += w.rep.Series
		rep.Samples += w.rep.Samples
		rep.ExpiredSeries += w.rep.ExpiredSeries
		rep.ExpiredSamples += w.rep.ExpiredSamples
		rep.DroppedSeries += w.rep.DroppedSeries
		lists[i] = w.added
	}
	db.index.addAll(lists)
	return res
}

// sizeFor makes room in the empty db's shards for the series of a snapshot,
// so their maps are not rebuilt as they grow (a header is checksummed, but
// its count is only trusted up to a few million).
func (db *DB) sizeFor(series uint64) {
	per := int(min(series, 4<<20)/numShards) + 1
	per += per / 8 // the hash spreads them unevenly
	for i := range db.shards {
		sh := &db.shards[i]
		sh.mu.Lock()
		if len(sh.byHash) == 0 && len(sh.slots) == 0 {
			sh.byHash = make(map[uint64]*memSeries, per)
			sh.slots = make([]*memSeries, 0, per)
		}
		sh.mu.Unlock()
	}
}

// addAll indexes the series of each list, every list in ref order, as one
// list in ref order, so every postings list grows at its end.
func (ix *index) addAll(lists [][]*memSeries) {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.all = slices.Grow(ix.all, n)
	for {
		next := -1
		for i, l := range lists {
			if len(l) > 0 && (next < 0 || l[0].ref < lists[next][0].ref) {
				next = i
			}
		}
		if next < 0 {
			return
		}
		s := lists[next][0]
		lists[next] = lists[next][1:]
		ix.addLocked(s.ref, s.lset)
	}
}

// insertRestored adds one series read from a snapshot, without the chunks
// older than mint. It returns the series it added, nil when it added none;
// the caller indexes it.
//
// The closed chunks keep pointing into the snapshot's buffer instead of
// being copied one by one (restore speed): that buffer, the size of the
// file, lives until the last of them leaves the ring, so for one retention
// after a restart the store may hold up to twice its chunk bytes.
//
// The series is made in the caller's slab.
func (db *DB) insertRestored(l labels.Labels, cs []chunk, enc chunkenc.Encoding, mint int64, rep *RestoreReport, series *slab[memSeries]) *memSeries {
	i := 0
	for i < len(cs) && cs[i].maxt < mint {
		rep.ExpiredSamples += int64(cs[i].numSamples())
		i++
	}
	cs = cs[i:]
	if len(cs) == 0 {
		rep.ExpiredSeries++
		return nil
	}
	if enc != chunkEncoding {
		var err error
		if cs, err = transcode(cs); err != nil {
			rep.DroppedSeries++
			return nil
		}
	}
	hash := l.Hash()
	sh := &db.shards[hash&shardMask]
	sh.mu.Lock()
	if sh.get(hash, l) != nil {
		sh.mu.Unlock()
		rep.DroppedSeries++ // a series twice: keep the first
		return nil
	}
	if n := db.numSeries.Add(1); db.opts.MaxSeries > 0 && n > int64(db.opts.MaxSeries) {
		db.numSeries.Add(-1)
		sh.mu.Unlock()
		rep.DroppedSeries++
		db.refused.tooManySeries.Add(1)
		return nil
	}
	s := &series.take(1)[0]
	*s = *newMemSeries(0, l)
	last := cs[len(cs)-1]
	s.maxt = last.maxt
	s.scale = last.scale() // the head's, or the one a new head starts from
	var samples, bytes int64
	for _, c := range cs {
		samples += int64(c.numSamples())
		bytes += int64(len(c.data))
	}
	if last.numSamples() < samplesPerChunk {
		// The open head chunk: a private copy, appended to in place later.
		b := last.enc()
		data := make([]byte, len(b), len(b)+64)
		copy(data, b)
		c, err := chunkenc.FromData(chunkEncoding, data)
		if err == nil {
			s.head, s.headMint, s.headN = c, last.mint(), uint16(last.numSamples())
			cs = cs[:len(cs)-1]
		}
	}
	if len(cs) > 0 {
		s.closed = cs
	}
	sh.samples += samples
	sh.chunkBytes += bytes
	sh.chunks += int64(len(cs))
	if s.head != nil {
		sh.chunks++
	}
	sh.put(hash, s, db.nextRef.Add(1))
	sh.mu.Unlock()
	for {
		cur := db.maxT.Load()
		if s.maxt <= cur || db.maxT.CompareAndSwap(cur, s.maxt) {
			break
		}
	}
	rep.Series++
	rep.Samples += samples
	return s
}

// transcode re-encodes chunks written in the other float encoding into the
// store's.
func transcode(cs []chunk) ([]chunk, error) {
	out := make([]chunk, 0, len(cs))
	for _, c := range cs {
		src, err := chunkenc.FromData(otherEncoding(chunkEncoding), c.enc())
		if err != nil {
			return nil, err
		}
		dst, _, _, err := reencode(src, math.MinInt64, len(c.data), c.scale(), c.scale())
		if err != nil {
			return nil, err
		}
		out = append(out, closeChunk(c.scale(), dst.Bytes(), c.maxt, nil))
	}
	return out, nil
}

func otherEncoding(e chunkenc.Encoding) chunkenc.Encoding {
	if e == chunkenc.EncXOR {
		return chunkenc.EncXOR2
	}
	return chunkenc.EncXOR
}

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
	return st.Err
}

// encode writes the store to w in the snapshot format, with a zeroed header,
// and returns the header to write at offset 0.
//
// Each shard's chunks are copied under its lock (closed chunks are
// immutable, so only their list and the open head chunks are copied) and
// encoded after it is released, so appends go on meanwhile.
func (db *DB) encode(w io.Writer) (*snapshotWriter, []byte, error) {
	sw, err := newSnapshotWriter(w)
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
			cs = s.chunksIn(cs, &arena, mint, math.MaxInt64)
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
