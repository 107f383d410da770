package store

import (
	"errors"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// Appender adds samples to the store as one transaction: nothing appended is
// visible to queries until Commit, and Rollback drops it all.
//
// Append with ref 0 looks the series up by its labels (creating it if it is
// new) and returns its reference; passing that reference back on later calls
// skips the lookup. A reference is only a hint: a stale one (the series was
// dropped past the retention) falls back to the labels.
type Appender interface {
	Append(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error)
	Commit() error
	Rollback() error
}

// Appendable is what writers (scrape loops, rule evaluation) hold.
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
