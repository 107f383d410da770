package scrape

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilterm/vigil/store"
)

// ScrapeTimestampTolerance is how far a scrape may start from its planned
// slot and still be stamped with the slot's time, as Prometheus does:
// regular timestamps compress to almost nothing.
var ScrapeTimestampTolerance = 2 * time.Millisecond

// errSampleLimit fails a scrape with more samples than sample_limit.
var errSampleLimit = errors.New("sample_limit exceeded")

// keepUnseen is how many scrapes a series may be missing before its cache
// entry goes (its stale marker is written on the first).
const keepUnseen = 10

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
}

// entry is what the loop remembers of one series of its target.
type entry struct {
	ref      storage.SeriesRef
	lset     labels.Labels
	key      uint64 // keyOf the series as the body wrote it: its key in the cache
	iter     uint64 // last scrape that had it
	keyLen   uint32 // with key, the hint for the parser
	dropped  bool   // metric relabeling drops it
	stale    bool   // a stale marker was written since it was last seen
	explicit bool   // the last sample had its own timestamp
}

// loop scrapes one target on its interval and appends what it gets.
type loop struct {
	t       *target
	scraper scraper
	app     store.Appendable
	opts    loopOptions
	logger  *slog.Logger
	seed    uint64

	// Owned by the loop goroutine (and by tests calling scrapeOnce).
	//
	// all holds every entry once; seq finds nearly all of them in a body
	// (see append). The two maps are only for what seq does not find: a
	// series at a new place, a new series. They cost 74 bytes an entry,
	// more than the entry itself, so they are built from all when first
	// needed and let go after quietScrapes scrapes without use: a target
	// whose series keep their order holds none.
	all     []*entry
	seq     []*entry          // the series of the last body, in its order: see append
	cache   map[uint64]*entry // by seriesKey.h, or nil: see lookup
	byHash  map[uint64]*entry // by the labels' hash, or nil: see hashes
	aliased bool              // cache has a key other than its entry's own
	quiet   int               // scrapes since cache or byHash was used
	fresh   int               // all[fresh:] were made by this scrape: see forgetNew

	textCT       string // a Content-Type textparse.New read as the text format: see parser
	iter         uint64
	lb           *labels.Builder
	symbols      *labels.SymbolTable
	meta         *metaLines // the comment lines of recent bodies: see textParser
	lset         labels.Labels
	report       [5]storage.SeriesRef
	reportLabels [5]labels.Labels
	inherited    []*entry    // live series of the loop this one replaced, see adopt
	reported     bool        // report series were written at least once
	types        familyTypes // the families the bodies' TYPE lines declare: see metadata.go

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
		lb:      labels.NewBuilder(labels.EmptyLabels()),
		symbols: labels.NewSymbolTable(),
		meta:    newMetaLines(),
		started: time.Now,
		stopped: make(chan struct{}),
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
	l.iter, l.report, l.reported = old.iter, old.report, old.reported
	l.types.inherit(&old.types)
	if reflect.DeepEqual(l.opts, old.opts) {
		l.all, l.cache, l.byHash, l.aliased = old.all, old.cache, old.byHash, old.aliased
	} else {
		l.inherited = old.inherited
		for _, ce := range old.all {
			if !ce.dropped && !ce.stale && (!ce.explicit || old.opts.trackTSStaleness) {
				l.inherited = append(l.inherited, ce)
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

func (l *loop) healthSnapshot() TargetHealth {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.health
}

// ScrapeSlots is how many phases an interval has for the first scrape of
// its targets: each target takes the one its hash picks (see offset).
//
// Prometheus gives every target its own phase, spreading them evenly over
// the interval. For vigil, usually idle between scrapes, each separate
// scrape was a separate wake-up: the timer, the runtime's monitor thread,
// the network poller and a context switch each time, which on a virtual
// machine cost more than the decompression of the body. Ten phases an
// interval batch the targets instead, and one wake-up serves a tenth of
// them: 30% less CPU at 100 targets in paired runs (0.0302 vs 0.0435 and
// 0.0308 vs 0.0440 cores). The targets of a slot then start one after
// another, and those that ran late took timestamps off the interval, which
// cost the chunks bits (6% more RSS at a 10m retention); they now take the
// slot's planned time (see onTime). A target keeps its phase across
// restarts.
const ScrapeSlots = 10

// offset is when, from now, the first scrape happens: the start of one of
// the interval's ScrapeSlots slots, fixed by the target's hash, so that the
// targets are spread over the slots, each batch shares one wake-up, and a
// target keeps its slot across restarts.
func (l *loop) offset(now time.Time) time.Duration {
	iv := int64(l.t.interval)
	base := iv - now.UnixNano()%iv
	off := int64((l.t.hash^l.seed)%ScrapeSlots) * (iv / ScrapeSlots)
	next := base + off
	if next > iv {
		next -= iv
	}
	return time.Duration(next)
}

// snap returns the timestamp for a scrape that starts at now: the slot one
// interval after the previous one when now is within the tolerance of it
// (at most 1% of the interval), else now.
func snap(prev, now time.Time, interval time.Duration) time.Time {
	if prev.IsZero() {
		return now
	}
	tol := min(interval/100, ScrapeTimestampTolerance)
	if d := now.Sub(prev); d >= interval-tol && d <= interval+tol {
		return prev.Add(interval)
	}
	return now
}

// onTime returns the time a scrape that starts at now counts as: its slot's
// planned time when it starts at most a hundredth of the interval after it,
// else now. A slot's targets wake together (see ScrapeSlots), and the last
// of them may run some milliseconds after the first, past snap's
// tolerance: its timestamps would then wander from scrape to scrape, and a
// timestamp off the interval costs a chunk bits that one on it does not.
func onTime(planned, now time.Time, interval time.Duration) time.Time {
	if d := now.Sub(planned); d >= 0 && d <= interval/100 {
		return planned
	}
	return now
}

// run scrapes until ctx (the loop's own) ends. parent is the manager's
// context: when only the loop was stopped (the target went away), stale
// markers are written for its series at the next slot, as Prometheus does.
func (l *loop) run(parent, ctx context.Context) {
	// A timer's channel carries the time it was due, not when its
	// receiver got to run: that is the slot's planned time.
	var planned time.Time
	select {
	case planned = <-time.After(l.offset(time.Now())):
	case <-ctx.Done():
		close(l.stopped)
		return
	}
	ticker := time.NewTicker(l.t.interval)
	defer ticker.Stop()
	var last, aligned time.Time
	for {
		now := snap(aligned, onTime(planned, l.started(), l.t.interval), l.t.interval)
		aligned = now
		l.scrapeOnce(ctx, now)
		last = now
		select {
		case <-ctx.Done():
		case planned = <-ticker.C:
			continue
		}
		break
	}
	close(l.stopped)
	if parent.Err() == nil && !l.noStaleness {
		l.endOfRunStaleness(parent, last, ticker)
	}
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
		staleTime = snap(last, tick, l.t.interval)
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
	if l.reported {
		l.appendReport(app, staleTime.UnixMilli(), staleNaN(), nil, nil)
	}
	if err := app.Commit(); err != nil && !isRefused(err) {
		l.logger.Warn("write stale markers for a removed target", "job", l.health.Job, "instance", l.health.Instance, "err", Sanitize(err.Error(), DefaultSanitizeLen))
	}
}

// scrapeStats counts one scrape's samples for the synthetic series.
type scrapeStats struct {
	total       int // samples in the body
	added       int // samples after metric relabeling
	seriesAdded int // series new to the target
	series      int // series in this body (after relabeling)
	keys        int // cache keys hit by this body
	refused     map[error]int
	example     string // one refused series, for the warning
}

// bodyPool holds scrape bodies between scrapes. Loops are spread over the
// interval, so a few buffers serve every target; one per loop held a
// body's worth (and its growth slack) for each of them: 15 MB at 100
// node_exporters. Nothing of a body outlives its scrape: the cache keeps
// hashes (seriesKey) and copies of the labels.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// scrapeOnce scrapes, parses and appends once, with the report series and
// stale markers, in one store transaction.
func (l *loop) scrapeOnce(ctx context.Context, ts time.Time) {
	start := time.Now()
	buf := bodyPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bodyPool.Put(buf)
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
		st, err = l.append(app, buf.Bytes(), ct, t)
		if err != nil {
			_ = app.Rollback()
			l.forgetNew()
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

	series := 0
	if err == nil {
		series = st.series
	}
	l.mu.Lock()
	l.health.LastScrape = ts
	l.health.LastDuration = dur
	l.health.LastSamples = st.total
	l.health.Series = series
	l.health.LastWarning = warning(st)
	was := l.health.Health
	if err != nil {
		l.health.Health = HealthDown
		l.health.LastError = Sanitize(err.Error(), DefaultSanitizeLen)
	} else {
		l.health.Health = HealthUp
		l.health.LastError = ""
	}
	h := l.health
	l.mu.Unlock()
	// A change of health is worth a line in the log (headless operators
	// read it); every failed scrape only at debug level.
	switch {
	case h.Health == HealthDown && was != HealthDown:
		l.logger.Warn("target down", "job", h.Job, "instance", h.Instance, "url", h.URL, "err", h.LastError)
	case h.Health == HealthUp && was == HealthDown:
		l.logger.Info("target up again", "job", h.Job, "instance", h.Instance, "url", h.URL)
	case h.Health == HealthDown:
		l.logger.Debug("scrape failed", "job", h.Job, "instance", h.Instance, "err", h.LastError)
	}
}

func warning(st scrapeStats) string {
	if len(st.refused) == 0 {
		return ""
	}
	n := 0
	var whys []string
	for e, c := range st.refused {
		n += c
		whys = append(whys, fmt.Sprintf("%d %s", c, e))
	}
	sort.Strings(whys)
	why := strings.Join(whys, ", ")
	msg := fmt.Sprintf("%d samples dropped (%s)", n, why)
	if st.example != "" {
		msg += ", e.g. " + st.example
	}
	return Sanitize(msg, DefaultSanitizeLen)
}

// errDuplicateSeries names a series that is twice in one body.
var errDuplicateSeries = errors.New("duplicate series in one body")

func isRefused(err error) bool {
	return errors.Is(err, store.ErrOutOfOrder) || errors.Is(err, store.ErrDuplicate) ||
		errors.Is(err, store.ErrTooOld) || errors.Is(err, store.ErrTooManySeries)
}

// append parses body and appends its samples at time t (unless they carry
// their own and honor_timestamps is set), then stale markers for the
// series that are gone. An error fails the whole scrape.
func (l *loop) append(app store.Appender, body []byte, contentType string, t int64) (st scrapeStats, err error) {
	l.fresh = len(l.all)
	if l.quiet++; l.quiet > quietScrapes {
		l.cache, l.byHash, l.aliased = nil, nil, false
	}
	p, err := l.parser(body, contentType)
	if err != nil {
		return st, err
	}
	l.iter++
	l.types.begin()
	var limitErr error
	nseq := 0 // series looked up so far, their entries in l.seq[:nseq]
	for {
		var hint seriesKey
		if nseq < len(l.seq) {
			hint = seriesKey{n: l.seq[nseq].keyLen, h: l.seq[nseq].key}
		}
		var e textparse.Entry
		if e, err = p.next(hint); err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
				break
			}
			return st, fmt.Errorf("parse body: %w", err)
		}
		if e != textparse.EntrySeries {
			if e == textparse.EntryType {
				l.types.see(p.typ())
			}
			continue
		}
		_, tp, v := p.series()
		st.total++
		if limitErr != nil {
			continue
		}
		// A target writes its series in the same order every time, so the
		// entry at this position in the last body is nearly always the
		// one: comparing its key is a fifth of the cost of the map.
		var ce *entry
		k := p.key()
		if hint.n > 0 && hint == k {
			ce = l.seq[nseq]
		} else {
			ce = l.lookup(k.h)
		}
		if ce == nil {
			// Not a series the parser has read before: it reads it
			// again the slow and exact way, which may find it after all.
			if err := p.verify(); err != nil {
				return st, fmt.Errorf("parse body: %w", err)
			}
			_, tp, v = p.series()
			k = p.key()
			ce = l.cache[k.h]
		}
		isNew := false
		if ce == nil {
			p.labels(&l.lset)
			ce, isNew, err = l.newEntry(l.lset)
			if err != nil {
				return st, err
			}
			if ce.keyLen == 0 {
				ce.key, ce.keyLen = k.h, k.n
			}
			l.cache[k.h] = ce
			l.aliased = l.aliased || ce.key != k.h
		}
		if nseq < len(l.seq) {
			l.seq[nseq] = ce
		} else {
			l.seq = append(l.seq, ce)
		}
		nseq++
		if ce.dropped {
			if ce.iter != l.iter {
				st.keys++
			}
			ce.iter = l.iter
			continue
		}
		if ce.iter == l.iter {
			st.refuse(errDuplicateSeries, ce.lset)
			continue
		}
		st.added++
		if l.opts.sampleLimit > 0 && st.added > l.opts.sampleLimit {
			limitErr = fmt.Errorf("%w: more than %d samples after metric relabeling", errSampleLimit, l.opts.sampleLimit)
			continue
		}
		ts := t
		if tp != nil && l.opts.honorTimestamps {
			ts = *tp
		}
		ref, aerr := app.Append(ce.ref, ce.lset, ts, v)
		switch {
		case aerr == nil:
			ce.ref = ref
			if isNew {
				st.seriesAdded++
			}
		case isRefused(aerr):
			st.refuse(refusedKind(aerr), ce.lset)
		default:
			return st, fmt.Errorf("append: %w", aerr)
		}
		ce.iter, ce.stale, ce.explicit = l.iter, false, tp != nil && l.opts.honorTimestamps
		st.keys++
		st.series++
	}
	l.seq = l.seq[:nseq]
	if limitErr != nil {
		return st, limitErr
	}
	l.types.end()
	if l.inherited != nil {
		for _, old := range l.inherited {
			if ce, ok := l.hashes()[old.lset.Hash()]; ok && ce.iter == l.iter && labels.Equal(ce.lset, old.lset) {
				continue
			}
			l.appendStale(app, old, t)
		}
		l.inherited = nil
	}
	if st.keys == len(l.all) {
		return st, nil // every series known was in this body: none is stale
	}
	// Series seen before but not in this body are stale now.
	kept := l.all[:0]
	for _, ce := range l.all {
		if ce.iter != l.iter && !ce.stale && !ce.dropped && (!ce.explicit || l.opts.trackTSStaleness) {
			l.appendStale(app, ce, t)
		}
		if l.iter-ce.iter <= keepUnseen {
			kept = append(kept, ce)
			continue
		}
		// It goes (it is not in l.seq: every entry there was in this body).
		if l.aliased {
			l.cache, l.aliased = nil, false // its other keys are not known
		} else if l.cache[ce.key] == ce {
			delete(l.cache, ce.key)
		}
		if l.byHash != nil && !ce.dropped && l.byHash[ce.lset.Hash()] == ce {
			delete(l.byHash, ce.lset.Hash())
		}
	}
	clear(l.all[len(kept):])
	l.all = kept
	return st, nil
}

// quietScrapes is how many scrapes in a row may find every series by its
// place in the last body before the loop lets its maps go.
const quietScrapes = 3

// lookup returns the entry of the series whose key hashes to h, or nil.
// It builds the cache from all if it was let go.
func (l *loop) lookup(h uint64) *entry {
	l.quiet = 0
	if l.cache == nil {
		l.cache = make(map[uint64]*entry, len(l.all))
		for _, ce := range l.all {
			l.cache[ce.key] = ce
		}
	}
	return l.cache[h]
}

// hashes returns the map of the entries by their labels' hash, building it
// from all if it was let go.
func (l *loop) hashes() map[uint64]*entry {
	l.quiet = 0
	if l.byHash == nil {
		l.byHash = make(map[uint64]*entry, len(l.all))
		for _, ce := range l.all {
			if !ce.dropped {
				l.byHash[ce.lset.Hash()] = ce
			}
		}
	}
	return l.byHash
}

// parser returns the parser for body. For the text format that is a
// textParser; textparse.New decides the format (it parses the Content-Type
// with mime.ParseMediaType, a map and a few strings), so when the target
// sends the type it sent before, and New answered it with the text parser
// and no warning, the loop skips New.
func (l *loop) parser(body []byte, contentType string) (bodyParser, error) {
	if contentType == "" || contentType != l.textCT {
		p, err := textparse.New(body, contentType, l.symbols, textparse.ParserOptions{
			FallbackContentType:    l.opts.fallback,
			IgnoreNativeHistograms: true,
		})
		if p == nil {
			return nil, fmt.Errorf("parse: %w", err)
		}
		if _, ok := p.(*textparse.PromParser); !ok {
			return parserOf{p}, nil
		}
		if err == nil {
			l.textCT = contentType
		}
	}
	return newTextParser(body, l.symbols, l.meta), nil
}

func refusedKind(err error) error {
	for _, e := range []error{store.ErrOutOfOrder, store.ErrDuplicate, store.ErrTooOld, store.ErrTooManySeries} {
		if errors.Is(err, e) {
			return e
		}
	}
	return err
}

func (st *scrapeStats) refuse(why error, ls labels.Labels) {
	if st.refused == nil {
		st.refused = map[error]int{}
	}
	st.refused[why]++
	if st.example == "" && !ls.IsEmpty() {
		st.example = ls.String()
	}
}

// newEntry builds the stored labels of a series the loop has not seen in
// this form: target labels merged in, metric relabeling, then the checks
// and limits. Two forms of the same series share one entry.
func (l *loop) newEntry(sample labels.Labels) (*entry, bool, error) {
	lset := l.sampleLabels(sample)
	if lset.IsEmpty() {
		ce := &entry{dropped: true, iter: l.iter}
		l.all = append(l.all, ce)
		return ce, false, nil
	}
	if err := l.checkLabels(lset); err != nil {
		return nil, false, err
	}
	h, byHash := lset.Hash(), l.hashes()
	if ce, ok := byHash[h]; ok && labels.Equal(ce.lset, lset) {
		return ce, false, nil
	}
	ce := &entry{lset: lset}
	byHash[h] = ce
	l.all = append(l.all, ce)
	return ce, true, nil
}

// forgetNew drops the cache entries made by a scrape that failed, so no
// stale marker is written for a series that never had a sample.
func (l *loop) forgetNew() {
	l.seq = l.seq[:0] // it may hold entries about to go
	if len(l.all) > l.fresh {
		clear(l.all[l.fresh:])
		l.all = l.all[:l.fresh]
		// The maps hold them too, and cache the keys of older entries
		// found in new forms: both are built again when next needed.
		l.cache, l.byHash, l.aliased = nil, nil, false
	}
}

func (l *loop) sampleLabels(sample labels.Labels) labels.Labels {
	lb := l.lb
	lb.Reset(sample)
	target := l.t.labels
	if l.opts.honorLabels {
		target.Range(func(tl labels.Label) {
			if sample.Get(tl.Name) == "" {
				lb.Set(tl.Name, tl.Value)
			}
		})
	} else {
		var conflicts []labels.Label
		target.Range(func(tl labels.Label) {
			if v := sample.Get(tl.Name); v != "" {
				conflicts = append(conflicts, labels.Label{Name: tl.Name, Value: v})
			}
			lb.Set(tl.Name, tl.Value)
		})
		for _, c := range conflicts {
			name := model.ExportedLabelPrefix + c.Name
			for lb.Get(name) != "" {
				name = model.ExportedLabelPrefix + name
			}
			lb.Set(name, c.Value)
		}
	}
	lb.Range(func(x labels.Label) {
		if x.Value == "" {
			lb.Del(x.Name)
		}
	})
	if len(l.opts.metricRelabel) > 0 && !relabel.ProcessBuilder(lb, l.opts.metricRelabel...) {
		return labels.EmptyLabels()
	}
	return lb.Labels()
}

func (l *loop) checkLabels(lset labels.Labels) error {
	name := lset.Get(model.MetricNameLabel)
	if name == "" {
		return fmt.Errorf("a series has no metric name after relabeling: %.100s", lset.String())
	}
	if !lset.IsValid(model.UTF8Validation) {
		return fmt.Errorf("invalid label set (names and values must be valid UTF-8): %.100q", lset.String())
	}
	if n := l.opts.labelLimit; n > 0 && lset.Len() > n {
		return fmt.Errorf("label_limit exceeded (metric: %.50s, number of labels: %d, limit: %d)", name, lset.Len(), n)
	}
	var err error
	lset.Range(func(x labels.Label) {
		if err != nil {
			return
		}
		if n := l.opts.nameLenLimit; n > 0 && len(x.Name) > n {
			err = fmt.Errorf("label_name_length_limit exceeded (metric: %.50s, label name: %.50s, length: %d, limit: %d)", name, x.Name, len(x.Name), n)
		}
		if n := l.opts.valueLenLimit; n > 0 && len(x.Value) > n {
			err = fmt.Errorf("label_value_length_limit exceeded (metric: %.50s, label name: %.50s, value: %.50q, length: %d, limit: %d)", name, x.Name, x.Value, len(x.Value), n)
		}
	})
	return err
}

func staleNaN() float64 { return math.Float64frombits(value.StaleNaN) }

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
	for _, old := range l.inherited {
		l.appendStale(app, old, t)
	}
	l.inherited = nil
	for _, ce := range l.all {
		if !ce.dropped && !ce.stale && (!ce.explicit || l.opts.trackTSStaleness) {
			l.appendStale(app, ce, t)
		}
	}
}

type reportValues struct {
	duration                   float64
	scraped, post, seriesAdded int
}

var reportNames = [5]string{"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"}

// appendReport writes the synthetic series: up with the given value and,
// when rv is set, the others; with rv nil every one gets the value (stale
// markers at the end of a target). Refusals are counted in st when given.
func (l *loop) appendReport(app store.Appender, t int64, up float64, rv *reportValues, st *scrapeStats) {
	vals := [5]float64{up, up, up, up, up}
	if rv != nil {
		vals = [5]float64{up, rv.duration, float64(rv.scraped), float64(rv.post), float64(rv.seriesAdded)}
	}
	if l.reportLabels[0].IsEmpty() {
		for i, name := range reportNames {
			l.lb.Reset(l.t.labels)
			l.lb.Set(model.MetricNameLabel, name)
			l.reportLabels[i] = l.lb.Labels()
		}
	}
	for i := range reportNames {
		ref, err := app.Append(l.report[i], l.reportLabels[i], t, vals[i])
		switch {
		case err == nil:
			l.report[i] = ref
		case st != nil:
			st.refuse(refusedKind(err), l.reportLabels[i])
		}
	}
	l.reported = true
}
