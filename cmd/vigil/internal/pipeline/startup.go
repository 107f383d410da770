package pipeline

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilterm/vigil/store"
)

// firstScrape passes the scrape loops' transactions to the store and logs
// once, when the first scrape of a target (not vigil's own metrics) has been
// committed: the moment a restart is over for the operator (issue #6 times
// it). After that it hands out the store's own appenders and costs nothing.
type firstScrape struct {
	store.Appendable
	logger *slog.Logger
	begin  time.Time // Options.Begin

	done atomic.Bool
	once sync.Once
}

var _ store.Appendable = (*firstScrape)(nil)

func (f *firstScrape) Appender() store.Appender {
	if f.done.Load() {
		return f.Appendable.Appender()
	}
	return &firstScrapeAppender{Appender: f.Appendable.Appender(), f: f}
}

// firstScrapeAppender remembers the target of the transaction's first
// sample (every sample of a scrape carries its target's job and instance)
// and the scrape's up.
type firstScrapeAppender struct {
	store.Appender
	f      *firstScrape
	target labels.Labels
	up     float64
}

func (a *firstScrapeAppender) Append(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	a.see(l, v)
	return a.Appender.Append(ref, l, t, v)
}

// AppendReserved is where a scrape writes up (see store.Appender).
func (a *firstScrapeAppender) AppendReserved(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	a.see(l, v)
	return a.Appender.AppendReserved(ref, l, t, v)
}

func (a *firstScrapeAppender) see(l labels.Labels, v float64) {
	if a.target.IsEmpty() {
		a.target = l
	}
	if l.Get(labels.MetricName) == "up" {
		a.up = v
	}
}

func (a *firstScrapeAppender) Commit() error {
	err := a.Appender.Commit()
	job := a.target.Get("job")
	if a.target.IsEmpty() || job == selfJob || (err != nil && !refused(err)) {
		return err
	}
	a.f.once.Do(func() {
		a.f.done.Store(true)
		a.f.logger.Info("restored and scraping", "job", job, "instance", a.target.Get("instance"),
			"up", a.up, "since_start", time.Since(a.f.begin).Round(time.Millisecond))
	})
	return err
}

// refused says whether a Commit error only refused some samples (the rest
// were committed).
func refused(err error) bool {
	return errors.Is(err, store.ErrOutOfOrder) || errors.Is(err, store.ErrDuplicate) ||
		errors.Is(err, store.ErrTooOld) || errors.Is(err, store.ErrTooManySeries)
}
