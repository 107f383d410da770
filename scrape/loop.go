package scrape

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/vigilterm/vigil/store"
)

// loopOptions is what a loop needs from its scrape config.
type loopOptions struct {
	honorLabels      bool
	honorTimestamps  bool
	trackTSStaleness bool
	sampleLimit      int
	labelLimit       int
	nameLenLimit     int
	valueLenLimit    int
	fallback         string
	metricRelabel    []*relabel.Config
	reserved         bool // InternalTarget.Reserved
}

// loop scrapes one target on its interval and appends what it gets. Its
// parts, each in a file of its own: when it scrapes (schedule.go), how a
// body becomes samples (append.go), the series it remembers (cache.go),
// their labels (labels.go), stale markers (staleness.go), the synthetic
// series (report.go) and the target's health (health.go).
type loop struct {
	t         *target
	scraper   scraper
	app       store.Appendable
	opts      loopOptions
	logger    *slog.Logger
	seed      uint64        // picks the target's slot with its hash: see offset
	tolerance time.Duration // Options.TimestampTolerance: see snap

	// Owned by the loop goroutine (and by tests calling scrapeOnce).
	series seriesCache
	parse  parseState
	report reportSeries
	types  familyTypes     // the families the bodies' TYPE lines declare: see metadata.go
	lb     *labels.Builder // for the labels of new series and of the report series
	// bodyHint is the size of the last body read whole: the next one's
	// buffer is made that large at once rather than grown by doubling.
	bodyHint int

	mu     sync.Mutex
	health TargetHealth

	// started is the clock run reads when a scrape starts: time.Now, or
	// in a test one that runs late, as a goroutine a slot wakes last does.
	started func() time.Time

	cancel      context.CancelFunc
	stopped     chan struct{}
	noStaleness bool // set before stop when the target lives on elsewhere
}

func newLoop(t *target, s scraper, app store.Appendable, opts loopOptions, logger *slog.Logger) *loop {
	l := &loop{
		t: t, scraper: s, app: app, opts: opts, logger: logger,
		tolerance: defaultTimestampTolerance,
		lb:        labels.NewBuilder(labels.EmptyLabels()),
		parse:     parseState{symbols: labels.NewSymbolTable(), meta: newMetaLines()},
		started:   time.Now,
		stopped:   make(chan struct{}),
	}
	l.health = TargetHealth{
		Job:            Sanitize(t.job(), DefaultSanitizeLen),
		Instance:       Sanitize(t.instance(), DefaultSanitizeLen),
		URL:            Sanitize(t.display, 0),
		Labels:         t.labels,
		Health:         HealthUnknown,
		ScrapeInterval: t.interval,
		ScrapeTimeout:  t.timeout,
	}
	return l
}

// adopt takes over the series cache of the loop that scraped the same
// target before a reload, so nothing is marked stale or looked up again.
//
// When the job's sample handling changed (metric_relabel_configs,
// honor_labels, limits, …) the cached label sets no longer hold: the new
// loop starts afresh and, after its first good scrape, marks stale those
// of the old series it no longer produces.
func (l *loop) adopt(old *loop) {
	l.series.iter = old.series.iter
	l.report.refs, l.report.written = old.report.refs, old.report.written
	l.types.inherit(&old.types)
	if reflect.DeepEqual(l.opts, old.opts) {
		l.series.adopt(&old.series)
	} else {
		l.series.inherited = old.series.inherited
		for _, ce := range old.series.all {
			if old.needsStale(ce) {
				l.series.inherited = append(l.series.inherited, ce)
			}
		}
	}
	l.mu.Lock()
	old.mu.Lock()
	h := old.health
	old.mu.Unlock()
	l.health.Health, l.health.LastScrape, l.health.LastDuration = h.Health, h.LastScrape, h.LastDuration
	l.health.LastError, l.health.LastWarning, l.health.LastSamples, l.health.Series = h.LastError, h.LastWarning, h.LastSamples, h.Series
	l.mu.Unlock()
}

// bodyPool holds scrape bodies between scrapes. Loops are spread over the
// interval, so a few buffers serve every target, where one per loop would
// hold a body's worth (and its growth slack) for each of them: cmd/compare
// measures the memory of a fleet of 100 targets. Nothing of a body
// outlives its scrape: the cache keeps hashes (seriesKey) and copies of
// the labels. A buffer grown for one huge body is not kept (see
// releaseBody).
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody is the largest buffer bodyPool keeps. A buffer in the
// pool that every scrape takes and gives back is never collected, so one
// body of body_size_limit (64 MiB: a gzip bomb, a runaway exporter) would
// otherwise be held for good by a process whose bodies are a few hundred
// KiB (BenchmarkHeapAfterHugeBody). A target whose bodies are larger gets
// a buffer of its size (bodyHint) each scrape instead.
const maxPooledBody = 16 << 20

// lastRelease is when releaseBody last gave memory back (unix ns).
var lastRelease atomic.Int64

// releaseBody returns buf to bodyPool, unless it is larger than
// maxPooledBody or mostly slack for the body it held (a big buffer that
// a small target drew). A buffer over maxPooledBody that is let go is
// also given back to the OS, at most once a minute: a process with a
// small heap and GOGC's default pace would otherwise hold the freed
// memory until its next collection, which may be minutes away.
func releaseBody(buf *bytes.Buffer) {
	c := buf.Cap()
	if c <= maxPooledBody && c <= 4*buf.Len()+1<<20 {
		bodyPool.Put(buf)
		return
	}
	if c <= maxPooledBody {
		return
	}
	now := time.Now().UnixNano()
	if last := lastRelease.Load(); now-last > int64(time.Minute) && lastRelease.CompareAndSwap(last, now) {
		buf.Reset()
		*buf = bytes.Buffer{} // not held by this frame during the collection
		debug.FreeOSMemory()
	}
}

// scrapeOnce scrapes, parses and appends once, with the report series and
// stale markers, in one store transaction.
func (l *loop) scrapeOnce(ctx context.Context, ts time.Time) {
	start := time.Now()
	buf := bodyPool.Get().(*bytes.Buffer)
	buf.Reset()
	// A body the size of the last one fits without growing (ReadFrom
	// wants 512 bytes free at the end).
	if want := l.bodyHint + l.bodyHint/8 + 4096; l.bodyHint > 0 && buf.Cap() < want {
		buf.Grow(want)
	}
	defer releaseBody(buf)
	sctx, cancel := context.WithTimeout(ctx, l.t.timeout)
	ct, err := l.scraper.scrape(sctx, buf)
	cancel()
	if ctx.Err() != nil {
		return // stopping: a cut-off scrape is not the target's fault
	}
	t := ts.UnixMilli()
	app := l.app.Appender()
	var st scrapeStats
	if err == nil {
		l.bodyHint = buf.Len()
		st, err = l.append(app, buf.Bytes(), ct, t)
		if err != nil {
			_ = app.Rollback()
			l.series.forgetNew()
			app = l.app.Appender()
		}
	}
	if err != nil {
		l.markAllStale(app, t)
	}
	dur := time.Since(start)
	up := 1.0
	if err != nil {
		up = 0
	}
	l.appendReport(app, t, up, &reportValues{dur.Seconds(), st.total, st.added, st.seriesAdded}, &st)
	if cerr := app.Commit(); cerr != nil {
		// Samples that another writer made out of order since Append are
		// refused at Commit and counted like the others; anything else is
		// the store failing, and fails the scrape.
		if isRefused(cerr) {
			st.refuse(refusedKind(cerr), labels.EmptyLabels())
		} else {
			l.logger.Warn("commit scrape", "job", l.health.Job, "instance", l.health.Instance, "err", Sanitize(cerr.Error(), DefaultSanitizeLen))
			if err == nil {
				err = fmt.Errorf("store: %w", cerr)
			}
		}
	}
	l.recordScrape(ts, dur, st, err)
}
