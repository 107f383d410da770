package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilterm/vigil/store/fileutil"
)

// ErrClosed is returned by appends and snapshots after Close.
var ErrClosed = errors.New("store is closed")

// ErrInvalidSeries: the label set is empty or names a label twice.
var ErrInvalidSeries = errors.New("invalid series labels")

// DB is the store. Its methods are safe for concurrent use.
type DB struct {
	opts        Options
	retentionMs int64 // -1: unbounded
	// maxChunkSpan is the most a chunk spans, in ms: a quarter of the
	// retention; 0 when unbounded.
	maxChunkSpan int64
	format       chunkFormat

	shards [numShards]shard
	index  *index

	nextRef   atomic.Uint64 // the id part of refs (see makeRef)
	numSeries atomic.Int64  // every series held
	// numOrdinary is how many of them are not reserved (AppendReserved):
	// what MaxSeries bounds.
	numOrdinary atomic.Int64
	// errTooMany is the error of a series refused past MaxSeries, made
	// once: a target over the cap has its refused series refused on every
	// scrape, and a message a series would cost more than its refusal.
	errTooMany error
	maxT       atomic.Int64 // newest committed sample in the store
	nextGC     atomic.Int64 // maxT at which the next collection runs
	gcMu       sync.Mutex

	appended atomic.Uint64
	txnSeq   atomic.Uint32 // appender ids
	refused  struct {
		outOfOrder, duplicate, tooManySeries, tooOld, invalid atomic.Uint64
	}
	seriesCreated, seriesRemoved atomic.Uint64

	closed atomic.Bool

	// Persistence; zero for a DB from New.
	dir       string
	readOnly  bool // from OpenSnapshot
	lock      *dirLock
	fs        fileutil.FS // the disk; tests make it fail
	snapMu    sync.Mutex  // one snapshot at a time
	finalDone bool        // Close has written its snapshot; guarded by snapMu
	statsMu   sync.Mutex
	lastSnap  SnapshotStats
	lastGood  time.Time
	snaps     uint64
	snapErrs  uint64
	restored  RestoreReport
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

var (
	_ storage.Queryable = (*DB)(nil)
	_ Appendable        = (*DB)(nil)
)

// New returns an empty in-memory store with no data dir: it takes no
// snapshots and starts no goroutines. Close is still the way to retire it.
func New(opts Options) *DB {
	opts = opts.withDefaults()
	db := &DB{
		opts:         opts,
		retentionMs:  opts.retentionMs(),
		maxChunkSpan: max(opts.retentionMs()/4, 0),
		format:       opts.format(),
		index:        newIndex(),
		fs:           fileutil.OS{},
		errTooMany:   fmt.Errorf("%w (limit %d)", ErrTooManySeries, opts.MaxSeries),
	}
	for i := range db.shards {
		db.shards[i].init()
	}
	db.maxT.Store(math.MinInt64)
	db.nextGC.Store(math.MinInt64)
	return db
}

// minValidTime is the oldest timestamp the retention still admits.
func (db *DB) minValidTime() int64 { return db.minValidTimeAt(math.MinInt64) }

// minValidTimeAt is minValidTime as it will be once the store holds a sample
// at t.
func (db *DB) minValidTimeAt(t int64) int64 {
	maxT := max(db.maxT.Load(), t)
	if db.retentionMs < 0 || maxT < math.MinInt64+db.retentionMs {
		return math.MinInt64
	}
	return maxT - db.retentionMs
}

func (db *DB) shardOf(ref storage.SeriesRef) *shard {
	return &db.shards[uint64(ref)&shardMask]
}

// advance raises maxT to t and collects expired data when the retention
// window has moved far enough since the last collection.
func (db *DB) advance(t int64) {
	for {
		cur := db.maxT.Load()
		if t <= cur || db.maxT.CompareAndSwap(cur, t) {
			break
		}
	}
	if db.retentionMs < 0 {
		return
	}
	next := db.nextGC.Load()
	if db.maxT.Load() < next {
		return
	}
	if !db.gcMu.TryLock() {
		return // another committer is collecting
	}
	defer db.gcMu.Unlock()
	maxT := db.maxT.Load()
	if maxT < db.nextGC.Load() {
		return
	}
	// Collect every 1/16 of the retention (at least every second of sample
	// time). Series still scraped drop their expired chunks themselves as
	// they cut a new one (see Commit); this is for the others, and for
	// series that stopped.
	step := max(db.retentionMs/16, 1000)
	db.nextGC.Store(maxT + step)
	db.gc(db.minValidTime())
}

// gc drops the chunks wholly older than mint and the series left with
// nothing, from their shards and the index.
func (db *DB) gc(mint int64) {
	if mint == math.MinInt64 {
		return
	}
	var gone []*memSeries
	var ordinaryGone int64
	for i := range db.shards {
		sh := &db.shards[i]
		sh.mu.Lock()
		for _, s := range sh.slots { // remove only clears a slot: safe to go on
			if s == nil {
				continue
			}
			before := len(s.closed)
			samples, bytes := s.dropBefore(mint)
			sh.samples -= int64(samples)
			sh.chunkBytes -= int64(bytes)
			sh.chunks -= int64(before - len(s.closed))
			if s.pending > 0 || s.maxt >= mint {
				continue
			}
			if s.head != nil {
				sh.samples -= int64(s.headN)
				sh.chunkBytes -= int64(len(s.head.Bytes()) + 1) // and its scale byte
				sh.chunks--
				s.head, s.app = nil, nil
			}
			sh.remove(s.lset.Hash(), s)
			gone = append(gone, s)
			if s.flags&reserved == 0 {
				ordinaryGone++
			}
		}
		sh.mu.Unlock()
	}
	db.index.remove(gone)
	db.numSeries.Add(-int64(len(gone)))
	db.numOrdinary.Add(-ordinaryGone)
	db.seriesRemoved.Add(uint64(len(gone)))
}

// getOrCreate returns the series for ref (if it still lives) or for l,
// creating it when new, with its shard locked. created says whether the
// caller must add it to the index once the shard is unlocked. A reserve
// series (see AppendReserved) is never refused for MaxSeries, and an
// ordinary one it finds becomes reserved.
func (db *DB) getOrCreate(ref storage.SeriesRef, l labels.Labels, reserve bool) (s *memSeries, sh *shard, created bool, err error) {
	if ref != 0 {
		sh = db.shardOf(ref)
		sh.mu.Lock()
		if s = sh.byRef(ref); s != nil {
			db.keepReserved(s, reserve)
			return s, sh, false, nil
		}
		sh.mu.Unlock()
	}
	hash := l.Hash()
	sh = &db.shards[hash&shardMask]
	sh.mu.Lock()
	if s = sh.get(hash, l); s != nil {
		db.keepReserved(s, reserve)
		return s, sh, false, nil
	}
	if l.IsEmpty() {
		sh.mu.Unlock()
		return nil, nil, false, fmt.Errorf("append: %w: empty label set", ErrInvalidSeries)
	}
	if name, dup := l.HasDuplicateLabelNames(); dup {
		sh.mu.Unlock()
		return nil, nil, false, fmt.Errorf("append %s: %w: label %q twice", l, ErrInvalidSeries, name)
	}
	if !db.admit(reserve) {
		sh.mu.Unlock()
		db.refused.tooManySeries.Add(1)
		return nil, nil, false, db.errTooMany
	}
	s = newMemSeries(0, l) // not copied: see Appender
	if reserve {
		s.flags |= reserved
	}
	sh.put(hash, s, db.nextRef.Add(1))
	db.seriesCreated.Add(1)
	return s, sh, true, nil
}

// admit counts a new series, unless it is an ordinary one and MaxSeries
// ordinary series are held already.
func (db *DB) admit(reserve bool) bool {
	if !reserve {
		if n := db.numOrdinary.Add(1); db.opts.MaxSeries > 0 && n > int64(db.opts.MaxSeries) {
			db.numOrdinary.Add(-1)
			return false
		}
	}
	db.numSeries.Add(1)
	return true
}

// keepReserved makes s a reserve series when reserve is asked and it was
// an ordinary one (restored from a snapshot, which does not say, or
// written by an ordinary Append first), so that it leaves the cap's count.
// The caller holds s's shard lock.
func (db *DB) keepReserved(s *memSeries, reserve bool) {
	if reserve && s.flags&reserved == 0 {
		s.flags |= reserved
		db.numOrdinary.Add(-1)
	}
}

// Close stops the periodic snapshots, writes a last snapshot when the DB has
// a data dir, and releases the lock. Later appends fail with ErrClosed.
// Closing twice is a no-op.
func (db *DB) Close() error {
	if !db.closed.CompareAndSwap(false, true) {
		return nil
	}
	if db.cancel != nil {
		db.cancel()
		db.wg.Wait()
	}
	var err error
	if db.dir != "" && !db.readOnly {
		err = db.snapshot()
	}
	db.snapMu.Lock()
	db.finalDone = true
	db.snapMu.Unlock()
	if db.lock != nil {
		err = errors.Join(err, db.lock.release())
	}
	return err
}
