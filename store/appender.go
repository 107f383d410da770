package store

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// Appender adds samples to the store as one transaction: nothing appended is
// visible to queries until Commit, and Rollback drops it all. A scrape that
// fails midway rolls back and lands nothing.
//
// Append with ref 0 looks the series up by its labels (creating it if it is
// new) and returns its reference; passing that reference back on later calls
// skips the lookup. A reference is only a hint: a stale one (the series was
// dropped past the retention) falls back to the labels, and the new
// reference is returned.
//
// A new series keeps l as it is, without a copy (as Prometheus' head does):
// the scrape loop's cache holds the same labels, and a copy would hold
// every series' labels twice (BenchmarkSeriesOverhead measures what a
// series costs). So l must not alias memory the caller reuses (labels made
// by ScratchBuilder.Overwrite, or over a yolo string); labels from a
// Builder, a ScratchBuilder's Labels or FromStrings are fine.
//
// Append refuses a sample at once, with one of the errors below wrapped, and
// the transaction goes on without it; the caller decides whether to commit
// the rest (a scrape loop counts and goes on, as Prometheus does). An
// Appender is for one goroutine; after Commit or Rollback it may start a new
// transaction.
//
// AppendReserved is Append for the series that vigil must be able to write
// whatever the cap, so that a full store never blinds alerting: each
// target's up and other synthetic scrape series, ALERTS and
// ALERTS_FOR_STATE, and vigil's own metrics. A new series is never refused for MaxSeries and is
// counted apart from it (Stats.ReservedSeries); an ordinary series it
// writes to (one restored from a snapshot, which does not record the
// difference) becomes reserved. The store does not bound the reserve: its
// writers do, each with series it knows the number of (a scrape loop its
// five synthetic series, a rule its alerts' three, vigil its own
// metrics). Every other check of Append applies.
type Appender interface {
	Append(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error)
	AppendReserved(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error)
	Commit() error
	Rollback() error
}

// Appendable is what writers (scrape loops, rule evaluation) hold. *DB is
// one.
type Appendable interface {
	Appender() Appender
}

// Refused samples. Append and Commit return them wrapped; check with errors.Is.
var (
	// ErrOutOfOrder: the sample is older than the newest one of its series.
	ErrOutOfOrder = errors.New("out of order sample")
	// ErrDuplicate: same timestamp as the newest sample, different value.
	ErrDuplicate = errors.New("duplicate sample for timestamp")
	// ErrTooManySeries: the series is new and the store already holds MaxSeries.
	ErrTooManySeries = errors.New("too many series")
	// ErrTooOld: the sample is older than the retention allows.
	ErrTooOld = errors.New("sample too old for the retention")
)

// pendingSample is one sample appended and not yet committed.
type pendingSample struct {
	s *memSeries
	t int64
	v float64
}

var pendingPool = sync.Pool{New: func() any { return new([]pendingSample) }}

// CommittedSample is a sample a Commit accepted, as Options.OnCommit sees
// it.
type CommittedSample struct {
	// Ref is the series' reference: never reused for another series
	// while the DB lives.
	Ref storage.SeriesRef
	// Labels are the series' own, never changed: they may be kept.
	Labels labels.Labels
	T      int64
	V      float64
}

var committedPool = sync.Pool{New: func() any { return new([]CommittedSample) }}

// appender is the DB's Appender. It holds samples until Commit; the series
// they go to are created at Append (and collected later if nothing lands).
type appender struct {
	db      *DB
	id      uint32 // never 0; the series it appends to note it (memSeries.txnID)
	pending *[]pendingSample
}

// Appender returns a new transaction. It is cheap; take one per scrape or
// rule evaluation. It is not safe for concurrent use, but any number of
// appenders may run at once.
func (db *DB) Appender() Appender {
	id := db.txnSeq.Add(1)
	for id == 0 {
		id = db.txnSeq.Add(1)
	}
	return &appender{db: db, id: id}
}

func (a *appender) npending() int {
	if a.pending == nil {
		return 0
	}
	return len(*a.pending)
}

// newestPending returns the newest sample this transaction holds for s.
// Caller holds s's shard lock. Ids wrap after 2^32 transactions, so the
// sample is checked to be s's: one abandoned transaction (never committed
// or rolled back) cannot mislead another that got its id.
func (a *appender) newestPending(s *memSeries) (pendingSample, bool) {
	if s.txnID != a.id || s.txnAt < 0 || int(s.txnAt) >= a.npending() {
		return pendingSample{}, false
	}
	p := (*a.pending)[s.txnAt]
	return p, p.s == s
}

// Append adds a sample to the transaction after checking it against the
// series: a sample older than the newest one is refused with ErrOutOfOrder,
// one at the same timestamp with another value with ErrDuplicate (with the
// same value it is accepted and ignored), one past the retention with
// ErrTooOld, a new series beyond MaxSeries with ErrTooManySeries. Refusals
// are counted in Stats. On success it returns the series ref.
func (a *appender) Append(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	return a.append(ref, l, t, v, false)
}

// AppendReserved is Append for a reserve series: see Appender.
func (a *appender) AppendReserved(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	return a.append(ref, l, t, v, true)
}

func (a *appender) append(ref storage.SeriesRef, l labels.Labels, t int64, v float64, reserve bool) (storage.SeriesRef, error) {
	db := a.db
	if db.closed.Load() {
		return 0, ErrClosed
	}
	if t < db.minValidTime() {
		db.refused.tooOld.Add(1)
		return 0, fmt.Errorf("append %s at %d: %w", l, t, ErrTooOld)
	}
	s, sh, created, err := db.getOrCreate(ref, l, reserve)
	if err != nil {
		if errors.Is(err, ErrInvalidSeries) {
			db.refused.invalid.Add(1)
		}
		return 0, err
	}
	lastT, lastV := s.maxt, 0.0
	if p, ok := a.newestPending(s); ok && p.t > lastT {
		lastT, lastV = p.t, p.v
	} else if t == lastT {
		lastV = s.lastValue(db.format.enc)
	}
	if t > lastT {
		s.pending++
		s.txnID, s.txnAt = a.id, -1
		if n := a.npending(); n < math.MaxInt32 {
			s.txnAt = int32(n) // where the sample goes below
		}
	}
	sh.mu.Unlock()
	if created {
		// Indexed outside the shard lock, so a query holding the index
		// never stalls the shard's appends.
		db.index.add(s.ref, s.lset)
	}
	switch {
	case t < lastT:
		db.refused.outOfOrder.Add(1)
		return s.ref, fmt.Errorf("append %s at %d (newest %d): %w", s.lset, t, lastT, ErrOutOfOrder)
	case t == lastT:
		if math.Float64bits(v) == math.Float64bits(lastV) {
			return s.ref, nil
		}
		db.refused.duplicate.Add(1)
		return s.ref, fmt.Errorf("append %s at %d: %w", s.lset, t, ErrDuplicate)
	}
	if a.pending == nil {
		a.pending = pendingPool.Get().(*[]pendingSample)
	}
	*a.pending = append(*a.pending, pendingSample{s: s, t: t, v: v})
	return s.ref, nil
}

// Commit makes the transaction's samples visible. A sample that became out
// of order since Append (another appender wrote the same series meanwhile)
// is refused and counted; Commit then returns those errors joined, after
// committing the rest.
func (a *appender) Commit() error {
	if a.pending == nil {
		return nil
	}
	db := a.db
	var errs []error
	var n uint64
	maxT := int64(math.MinInt64)
	var accepted *[]CommittedSample
	if db.opts.OnCommit != nil {
		accepted = committedPool.Get().(*[]CommittedSample)
	}
	for _, p := range *a.pending {
		s := p.s
		sh := db.shardOf(s.ref)
		sh.mu.Lock()
		s.pending--
		if s.txnID == a.id {
			s.txnID = 0
		}
		switch {
		case p.t < s.maxt:
			db.refused.outOfOrder.Add(1)
			errs = append(errs, fmt.Errorf("commit %s at %d (newest %d): %w", s.lset, p.t, s.maxt, ErrOutOfOrder))
		case p.t == s.maxt:
			if math.Float64bits(p.v) != math.Float64bits(s.lastValue(db.format.enc)) {
				db.refused.duplicate.Add(1)
				errs = append(errs, fmt.Errorf("commit %s at %d: %w", s.lset, p.t, ErrDuplicate))
			}
		default:
			fresh := s.head == nil || s.full(p.t, db.maxChunkSpan) // append starts a head
			if fresh && len(s.closed) > 0 {
				// The ring lets its expired chunks go before it takes
				// the head in, so it does not grow past the chunks the
				// retention spans while waiting for the next
				// collection (see DB.gc).
				before := len(s.closed)
				samples, bytes := s.dropBefore(db.minValidTimeAt(p.t))
				sh.samples -= int64(samples)
				sh.chunkBytes -= int64(bytes)
				sh.chunks -= int64(before - len(s.closed))
			}
			if p.t >= s.trimAt && db.retentionMs > 0 {
				samples, bytes := s.trimOldest(db.format.enc, db.minValidTimeAt(p.t), db.retentionMs)
				sh.samples -= int64(samples)
				sh.chunkBytes -= int64(bytes)
			}
			grew, err := s.append(db.format, p.t, p.v, db.maxChunkSpan)
			if err != nil {
				errs = append(errs, fmt.Errorf("commit %s at %d: %w", s.lset, p.t, err))
				break
			}
			if fresh {
				sh.chunks++
			}
			sh.samples++
			sh.chunkBytes += int64(grew)
			n++
			maxT = max(maxT, p.t)
			if accepted != nil {
				*accepted = append(*accepted, CommittedSample{Ref: s.ref, Labels: s.lset, T: p.t, V: p.v})
			}
		}
		sh.mu.Unlock()
	}
	a.release()
	db.appended.Add(n)
	if n > 0 {
		db.advance(maxT)
	}
	if accepted != nil {
		if len(*accepted) > 0 {
			db.opts.OnCommit(*accepted)
		}
		clear(*accepted)
		*accepted = (*accepted)[:0]
		committedPool.Put(accepted)
	}
	return errors.Join(errs...)
}

// Rollback drops the transaction's samples.
func (a *appender) Rollback() error {
	if a.pending == nil {
		return nil
	}
	for _, p := range *a.pending {
		sh := a.db.shardOf(p.s.ref)
		sh.mu.Lock()
		p.s.pending--
		if p.s.txnID == a.id {
			p.s.txnID = 0
		}
		sh.mu.Unlock()
	}
	a.release()
	return nil
}

func (a *appender) release() {
	clear(*a.pending)
	*a.pending = (*a.pending)[:0]
	pendingPool.Put(a.pending)
	a.pending = nil
}
