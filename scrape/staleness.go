package scrape

import (
	"context"
	"math"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/vigilterm/vigil/store"
)

// Stale markers, as in Prometheus: a series of the target that is not in a
// good body, every series of a target that is down, and every series of a
// target that went away get value.StaleNaN, so that queries stop showing
// them at once instead of five minutes later.

func staleNaN() float64 { return math.Float64frombits(value.StaleNaN) }

// needsStale reports whether ce is a series whose end gets a stale marker:
// stored, not marked already, and not one with timestamps of its own
// (unless track_timestamps_staleness says so).
func (l *loop) needsStale(ce *entry) bool {
	return !ce.dropped && !ce.stale && !ce.forgotten && (!ce.explicit || l.opts.trackTSStaleness)
}

func (l *loop) appendStale(app store.Appender, ce *entry, t int64) {
	ref, err := app.Append(ce.ref, ce.lset, t, staleNaN())
	if err == nil {
		ce.ref = ref
	}
	ce.stale = true
}

// markAllStale writes stale markers for every live series of the target
// (it is down, or gone).
func (l *loop) markAllStale(app store.Appender, t int64) {
	for _, old := range l.series.inherited {
		l.appendStale(app, old, t)
	}
	l.series.inherited = nil
	for _, ce := range l.series.all {
		if l.needsStale(ce) {
			l.appendStale(app, ce, t)
		}
	}
}

// markInheritedStale writes stale markers, after the first good body since
// a reload that changed the job, for the series of the old loop that this
// body did not produce again.
func (l *loop) markInheritedStale(app store.Appender, t int64) {
	if l.series.inherited == nil {
		return
	}
	for _, old := range l.series.inherited {
		if ce, ok := l.series.hashes()[old.lset.Hash()]; ok && ce.iter == l.series.iter && labels.Equal(ce.lset, old.lset) {
			continue
		}
		l.appendStale(app, old, t)
	}
	l.series.inherited = nil
}

// markUnseenStale writes stale markers for the series seen before but not
// in this body (keys is how many entries it hit), and lets the cache forget
// those that have been gone for long.
func (l *loop) markUnseenStale(app store.Appender, t int64, keys int) {
	if keys == len(l.series.all) {
		return // every series known was in this body: none is stale
	}
	l.series.sweep(func(ce *entry) {
		if l.needsStale(ce) {
			l.appendStale(app, ce, t)
		}
	})
}

// endOfRunStaleness waits two slots and a tenth of an interval (in case the
// target comes back under another loop), then marks every series of the
// target stale at the time of the first missed slot. Samples the new loop
// wrote meanwhile make these markers out of order, and the store refuses
// them, which is what we want.
func (l *loop) endOfRunStaleness(parent context.Context, last time.Time, ticker *time.Ticker) {
	if last.IsZero() {
		return
	}
	var staleTime time.Time
	select {
	case <-parent.Done():
		return
	case tick := <-ticker.C:
		staleTime = snap(last, tick, l.t.interval, l.tolerance)
	}
	select {
	case <-parent.Done():
		return
	case <-ticker.C:
	}
	select {
	case <-parent.Done():
		return
	case <-time.After(l.t.interval / 10):
	}
	app := l.app.Appender()
	l.markAllStale(app, staleTime.UnixMilli())
	if l.report.written {
		l.appendReport(app, staleTime.UnixMilli(), staleNaN(), nil, nil)
	}
	if err := app.Commit(); err != nil && !isRefused(err) {
		l.logger.Warn("write stale markers for a removed target", "job", l.health.Job, "instance", l.health.Instance, "err", Sanitize(err.Error(), DefaultSanitizeLen))
	}
}
