package store

import (
	"fmt"
	"time"
)

// Stats is a moment's picture of the store, for the console and for vigil's
// own metrics.
type Stats struct {
	Series     int64 // series held, reserved ones included
	Samples    int64 // samples held
	Chunks     int64 // chunks held, open head chunks included
	ChunkBytes int64 // encoded size of those chunks
	MaxTime    int64 // newest sample (ms); math.MinInt64 when empty

	// ReservedSeries are the series written by AppendReserved (up and the
	// other synthetic scrape series, ALERTS, ALERTS_FOR_STATE): they are
	// outside MaxSeries, which bounds Series - ReservedSeries.
	ReservedSeries int64

	MaxSeries     int    // the limit of ordinary series (≤ 0: none)
	Appended      uint64 // samples committed since start
	Refused       Refused
	SeriesCreated uint64 // since start, restored series not included
	SeriesRemoved uint64 // collected past the retention

	Snapshots        uint64        // written successfully since start
	SnapshotFailures uint64        // failed since start
	LastSnapshot     SnapshotStats // the last attempt, good or not
	LastGoodSnapshot time.Time     // when the last successful one started

	Restore RestoreReport // what Open or OpenSnapshot loaded
}

// Refused counts refused samples by reason since start.
type Refused struct {
	OutOfOrder    uint64 // ErrOutOfOrder
	Duplicate     uint64 // ErrDuplicate
	TooManySeries uint64 // ErrTooManySeries
	TooOld        uint64 // ErrTooOld
	Invalid       uint64 // ErrInvalidSeries
}

// Total is the sum over the reasons.
func (r Refused) Total() uint64 {
	return r.OutOfOrder + r.Duplicate + r.TooManySeries + r.TooOld + r.Invalid
}

// SnapshotStats describes one snapshot attempt.
type SnapshotStats struct {
	Time     time.Time     // when it started; zero when none was tried
	Duration time.Duration // how long it took
	Path     string        // the snapshot file
	Size     int64         // bytes written
	Series   int64
	Samples  int64
	Err      error // nil when it succeeded; the old snapshot is then intact
}

// RestoreReport says what was loaded from the snapshot on open and what was
// dropped. A damaged snapshot is not an error of Open: what is verifiably
// intact is loaded, the file is moved aside (to MovedTo) and Damage says
// what was wrong; Warning turns it into a line for the operator.
type RestoreReport struct {
	Path    string    // the snapshot read; "" when there was none
	Written time.Time // when that snapshot was taken

	Series, Samples int64 // loaded

	// Past the retention (relative to the snapshot's newest sample):
	// dropped as the ring would have dropped them.
	ExpiredSeries, ExpiredSamples int64

	// DroppedSeries were intact but not loaded: beyond MaxSeries, or a
	// series the file held twice.
	DroppedSeries int64

	// Damage is nil for a whole file, else it wraps ErrDamagedSnapshot and
	// says what was wrong and where.
	Damage error
	// LostSeries and LostSamples are how much of what the snapshot held
	// was not loaded because of the damage; -1 when the header itself was
	// unreadable so nobody knows.
	LostSeries, LostSamples int64
	// MovedTo is where the damaged file was moved ("" when OpenSnapshot
	// read it, which never writes).
	MovedTo string
}

// Warning is a one-line account for the operator of what a restore lost:
// a damaged file, or intact series left out (beyond MaxSeries). It is ""
// when everything was loaded.
func (r RestoreReport) Warning() string {
	var msg string
	if r.Damage != nil {
		lost := "an unknown amount of data"
		if r.LostSeries >= 0 {
			lost = fmt.Sprintf("%d series (%d samples)", r.LostSeries, r.LostSamples)
		}
		msg = fmt.Sprintf("snapshot %s: %v; kept %d series (%d samples), lost %s", r.Path, r.Damage, r.Series, r.Samples, lost)
		if r.MovedTo != "" {
			msg += "; the damaged file is kept as " + r.MovedTo
		}
	}
	if r.DroppedSeries > 0 {
		if msg == "" {
			msg = fmt.Sprintf("snapshot %s: kept %d series (%d samples)", r.Path, r.Series, r.Samples)
		}
		msg += fmt.Sprintf("; %d intact series were not loaded (over --max-series, or repeated)", r.DroppedSeries)
	}
	return msg
}

// Full reports whether the store holds MaxSeries ordinary series, so that
// a new one is refused.
func (st Stats) Full() bool {
	return st.MaxSeries > 0 && st.Series-st.ReservedSeries >= int64(st.MaxSeries)
}

// Stats returns the current figures. It takes each shard lock for a moment.
func (db *DB) Stats() Stats {
	n, ordinary := db.numSeries.Load(), db.numOrdinary.Load()
	st := Stats{
		Series:         n,
		ReservedSeries: max(n-ordinary, 0),
		MaxTime:        db.maxT.Load(),
		MaxSeries:      db.opts.MaxSeries,
		Appended:       db.appended.Load(),
		SeriesCreated:  db.seriesCreated.Load(),
		SeriesRemoved:  db.seriesRemoved.Load(),
		Refused: Refused{
			OutOfOrder:    db.refused.outOfOrder.Load(),
			Duplicate:     db.refused.duplicate.Load(),
			TooManySeries: db.refused.tooManySeries.Load(),
			TooOld:        db.refused.tooOld.Load(),
			Invalid:       db.refused.invalid.Load(),
		},
	}
	for i := range db.shards {
		sh := &db.shards[i]
		sh.mu.Lock()
		st.Samples += sh.samples
		st.Chunks += sh.chunks
		st.ChunkBytes += sh.chunkBytes
		sh.mu.Unlock()
	}
	db.statsMu.Lock()
	st.Snapshots, st.SnapshotFailures = db.snaps, db.snapErrs
	st.LastSnapshot, st.LastGoodSnapshot = db.lastSnap, db.lastGood
	st.Restore = db.restored
	db.statsMu.Unlock()
	return st
}
