package store

import (
	"time"

	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// Options configure a DB. A zero field takes its value from DefaultOptions;
// a negative one switches the bound off.
type Options struct {
	// Retention is how much history the ring keeps, measured back from the
	// newest sample in the store (not the wall clock). A chunk wholly older
	// than that is dropped, and samples older than that are refused with
	// ErrTooOld. Default 1h; negative keeps everything.
	Retention time.Duration

	// MaxSeries bounds the number of series held at once, the reserve
	// (Appender.AppendReserved) apart. Past it new series are refused with
	// ErrTooManySeries (and counted); existing series go on. Default
	// 1,000,000; negative means no bound.
	MaxSeries int

	// SnapshotInterval is how often a DB opened with Open writes a
	// snapshot. Close always writes a last one. Default 1m; negative turns
	// the periodic snapshots off (Snapshot and Close still write).
	SnapshotInterval time.Duration

	// OnSnapshot, if set, is called after each snapshot attempt (periodic,
	// Snapshot or Close's last one) with its outcome, from the goroutine
	// that made it: how vigil says when snapshots start and stop failing,
	// once each. It must return quickly and not call Snapshot.
	OnSnapshot func(SnapshotStats)

	// OnCommit, when set, is called at the end of every Commit that
	// accepted samples, with those samples in the order they were
	// appended, after the store's locks are released: how remote write
	// sees every sample the store takes. It runs on the committing
	// goroutine, so it must be quick; the slice is the store's and only
	// valid during the call (the labels in it may be kept). Samples that
	// Commit refused are not in it. Two transactions that write the
	// same series at once may call it in either order; vigil's writers
	// (one scrape loop per target, one rule group per rule) never do.
	OnCommit func([]CommittedSample)

	// encoding is the float encoding of the chunks: EncXOR or EncXOR2.
	// Zero takes defaultEncoding. Only tests and benchmarks set it, to
	// exercise and measure the other; a snapshot in either is read.
	encoding chunkenc.Encoding
	// unscaled keeps new chunks from holding scaled decimals (scale.go).
	// Only BenchmarkCompression sets it, to measure chunkenc's encodings
	// on their own.
	unscaled bool
}

// DefaultOptions returns the defaults DESIGN.md names for the command line:
// one hour of retention, a million series, a snapshot every minute.
func DefaultOptions() Options {
	return Options{
		Retention:        time.Hour,
		MaxSeries:        1_000_000,
		SnapshotInterval: time.Minute,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Retention == 0 {
		o.Retention = d.Retention
	}
	if o.MaxSeries == 0 {
		o.MaxSeries = d.MaxSeries
	}
	if o.SnapshotInterval == 0 {
		o.SnapshotInterval = d.SnapshotInterval
	}
	if o.encoding == chunkenc.EncNone {
		o.encoding = defaultEncoding
	}
	return o
}

// retentionMs is the retention in milliseconds, or -1 when unbounded.
func (o Options) retentionMs() int64 {
	if o.Retention < 0 {
		return -1
	}
	return o.Retention.Milliseconds()
}

// format is the chunk format the options ask for.
func (o Options) format() chunkFormat {
	return chunkFormat{enc: o.encoding, scaled: !o.unscaled}
}
