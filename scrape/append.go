package scrape

import (
	"errors"
	"fmt"
	"io"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/vigilterm/vigil/store"
)

// errSampleLimit fails a scrape with more samples than sample_limit.
var errSampleLimit = errors.New("sample_limit exceeded")

// parseState is what a loop keeps from one body to read the next faster.
type parseState struct {
	textCT  string // a Content-Type textparse.New read as the text format: see parser
	symbols *labels.SymbolTable
	meta    *metaLines    // the comment lines of recent bodies: see textParser
	lset    labels.Labels // the labels of a new series, reused
}

// append parses body and appends its samples at time t (unless they carry
// their own and honor_timestamps is set), then stale markers for the
// series that are gone. An error fails the whole scrape.
func (l *loop) append(app store.Appender, body []byte, contentType string, t int64) (st scrapeStats, err error) {
	l.series.begin()
	p, err := l.parser(body, contentType)
	if err != nil {
		return st, err
	}
	l.series.iter++
	l.types.begin()
	if err := l.appendSeries(app, p, t, &st); err != nil {
		return st, err
	}
	l.types.end()
	l.markInheritedStale(app, t)
	l.markUnseenStale(app, t, st.keys)
	return st, nil
}

// parser returns the parser for body. For the text format that is a
// textParser; textparse.New decides the format (it parses the Content-Type
// with mime.ParseMediaType, a map and a few strings), so when the target
// sends the type it sent before, and New answered it with the text parser
// and no warning, the loop skips New.
func (l *loop) parser(body []byte, contentType string) (bodyParser, error) {
	ps := &l.parse
	if contentType == "" || contentType != ps.textCT {
		p, err := textparse.New(body, contentType, ps.symbols, textparse.ParserOptions{
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
			ps.textCT = contentType
		}
	}
	return newTextParser(body, ps.symbols, ps.meta), nil
}

// appendSeries reads the body's entries: it keeps the TYPE lines for
// Metadata and appends the sample of each series. Past sample_limit it
// reads on, to count the samples, and fails the scrape at the end.
func (l *loop) appendSeries(app store.Appender, p bodyParser, t int64, st *scrapeStats) error {
	c := &l.series
	var limitErr error
	nseq := 0 // series looked up so far, their entries in c.seq[:nseq]
	for {
		var hint seriesKey
		if nseq < len(c.seq) {
			hint = seriesKey{n: c.seq[nseq].keyLen, h: c.seq[nseq].key}
		}
		e, err := p.next(hint)
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return fmt.Errorf("parse body: %w", err)
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
		// one, and comparing its key costs much less than a map lookup
		// (BenchmarkScrapeLoopAppend).
		var ce *entry
		k := p.key()
		if hint.n > 0 && hint == k {
			ce = c.seq[nseq]
		} else {
			ce = c.lookup(k.h)
		}
		isNew := false
		if ce == nil {
			if ce, isNew, tp, v, err = l.unknownSeries(p); err != nil {
				return err
			}
		}
		kept, err := l.appendSample(app, ce, isNew, tp, v, t, st)
		if kept {
			c.place(nseq, ce)
			nseq++
		}
		if err != nil {
			if !errors.Is(err, errSampleLimit) {
				return err
			}
			limitErr = err
		}
	}
	c.seq = c.seq[:nseq]
	return limitErr
}

// unknownSeries finds or makes the entry of the current series, which the
// loop's cache does not know by its key. The parser read it the fast way,
// as a series it has read before; it reads it again the slow and exact way
// (and fails as Prometheus' parser would), which may find it after all.
// Else it is a new series, or a new form of one the loop knows.
func (l *loop) unknownSeries(p bodyParser) (ce *entry, isNew bool, tp *int64, v float64, err error) {
	if err := p.verify(); err != nil {
		return nil, false, nil, 0, fmt.Errorf("parse body: %w", err)
	}
	_, tp, v = p.series()
	k := p.key()
	if ce = l.series.byKey[k.h]; ce != nil {
		return ce, false, tp, v, nil
	}
	p.labels(&l.parse.lset)
	if ce, isNew, err = l.newEntry(l.parse.lset); err != nil {
		return nil, false, nil, 0, err
	}
	l.series.keyAs(ce, k)
	return ce, isNew, tp, v, nil
}

// appendSample appends the sample v (at tp, else t) of series ce, the
// series being new to the target if isNew. A series that relabeling drops
// or that is twice in the body is skipped, a sample the store refuses is
// counted in st; an error wrapping errSampleLimit says that this sample is
// past sample_limit, any other fails the scrape. kept is false when the
// store refused the series for its series limit: then the cache has let
// it go (see seriesCache.forget), and the caller must not place it.
func (l *loop) appendSample(app store.Appender, ce *entry, isNew bool, tp *int64, v float64, t int64, st *scrapeStats) (kept bool, err error) {
	iter := l.series.iter
	if ce.dropped {
		if ce.iter != iter {
			st.keys++
		}
		ce.iter = iter
		return true, nil
	}
	if ce.iter == iter {
		st.refuse(errDuplicateSeries, ce.lset)
		return true, nil
	}
	st.added++
	if l.opts.sampleLimit > 0 && st.added > l.opts.sampleLimit {
		return true, fmt.Errorf("%w: more than %d samples after metric relabeling", errSampleLimit, l.opts.sampleLimit)
	}
	ts := t
	if tp != nil && l.opts.honorTimestamps {
		ts = *tp
	}
	add := app.Append
	if l.opts.reserved {
		add = app.AppendReserved
	}
	ref, err := add(ce.ref, ce.lset, ts, v)
	switch {
	case err == nil:
		ce.ref = ref
		if isNew {
			st.seriesAdded++
		}
	case errors.Is(err, store.ErrTooManySeries):
		// The store holds no such series, so the loop keeps nothing of it
		// either: a target that offers more series than vigil takes costs
		// no memory for the ones refused, only the work of refusing them
		// again on each scrape.
		st.refuse(store.ErrTooManySeries, ce.lset)
		st.series++
		l.series.forget(ce)
		return false, nil
	case isRefused(err):
		st.refuse(refusedKind(err), ce.lset)
	default:
		return true, fmt.Errorf("append: %w", err)
	}
	ce.iter, ce.stale, ce.explicit = iter, false, tp != nil && l.opts.honorTimestamps
	st.keys++
	st.series++
	return true, nil
}
