package store

import (
	"context"
	"math"
	"slices"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/annotations"
)

// Querier returns a reader of the samples in [mint, maxt] (milliseconds,
// inclusive), for the PromQL engine. What it selects is a copy taken under
// each series' shard lock for a moment: later appends do not show up in a
// SeriesSet already returned, and a query never holds a lock while it
// evaluates.
func (db *DB) Querier(mint, maxt int64) (storage.Querier, error) {
	return &querier{db: db, mint: mint, maxt: maxt}, nil
}

type querier struct {
	db         *DB
	mint, maxt int64
}

var _ storage.Querier = (*querier)(nil)

// Select returns the series that match all matchers and hold a sample in the
// querier's range, sorted by labels when sortSeries is set.
func (q *querier) Select(_ context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	mint, maxt := q.mint, q.maxt
	if hints != nil && (hints.Start != 0 || hints.End != 0) {
		// The engine narrows each selector to what it reads, as
		// Prometheus' own queriers trust it to; hints without a range
		// (a caller that only sets Func or Limit) keep the querier's.
		mint, maxt = max(mint, hints.Start), min(maxt, hints.End)
	}
	labelsOnly := hints != nil && hints.Func == "series"
	refs := q.db.index.match(ms...)
	out := make([]storage.Series, 0, len(refs))
	for _, ref := range refs {
		sh := q.db.shardOf(ref)
		sh.mu.Lock()
		s := sh.byRef(ref)
		if s == nil || s.maxt < mint {
			sh.mu.Unlock()
			continue
		}
		var cs []chunk
		if !labelsOnly {
			cs = s.chunksIn(q.db.format.enc, nil, nil, mint, maxt)
		}
		lset := s.lset
		sh.mu.Unlock()
		if len(cs) == 0 && !labelsOnly {
			continue
		}
		out = append(out, &series{lset: lset, enc: q.db.format.enc, chunks: cs, mint: mint, maxt: maxt})
	}
	if sortSeries {
		slices.SortFunc(out, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
	}
	if hints != nil && hints.Limit > 0 && len(out) > hints.Limit {
		out = out[:hints.Limit]
	}
	return &seriesSet{list: out, i: -1}
}

// LabelValues returns the sorted values of a label, over the series that
// match the matchers when there are any.
func (q *querier) LabelValues(_ context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var vals []string
	if len(ms) == 0 {
		vals = q.db.index.labelValues(name)
	} else {
		set := map[string]struct{}{}
		q.db.eachLabels(ms, func(l labels.Labels) {
			if v := l.Get(name); v != "" {
				set[v] = struct{}{}
			}
		})
		for v := range set {
			vals = append(vals, v)
		}
		slices.Sort(vals)
	}
	return limitStrings(vals, hints), nil, nil
}

// LabelNames returns the sorted label names, over the series that match the
// matchers when there are any.
func (q *querier) LabelNames(_ context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var names []string
	if len(ms) == 0 {
		names = q.db.index.labelNames()
	} else {
		set := map[string]struct{}{}
		q.db.eachLabels(ms, func(l labels.Labels) {
			l.Range(func(lb labels.Label) { set[lb.Name] = struct{}{} })
		})
		for n := range set {
			names = append(names, n)
		}
		slices.Sort(names)
	}
	return limitStrings(names, hints), nil, nil
}

// Close releases nothing: the querier holds no locks.
func (*querier) Close() error { return nil }

func limitStrings(s []string, hints *storage.LabelHints) []string {
	if hints != nil && hints.Limit > 0 && len(s) > hints.Limit {
		return s[:hints.Limit]
	}
	return s
}

// eachLabels calls f with the labels of every series matching ms.
func (db *DB) eachLabels(ms []*labels.Matcher, f func(labels.Labels)) {
	for _, ref := range db.index.match(ms...) {
		sh := db.shardOf(ref)
		sh.mu.Lock()
		s := sh.byRef(ref)
		sh.mu.Unlock()
		if s != nil {
			f(s.lset)
		}
	}
}

type seriesSet struct {
	list []storage.Series
	i    int
}

func (ss *seriesSet) Next() bool {
	if ss.i+1 >= len(ss.list) {
		ss.i = len(ss.list)
		return false
	}
	ss.i++
	return true
}
func (ss *seriesSet) At() storage.Series             { return ss.list[ss.i] }
func (*seriesSet) Err() error                        { return nil }
func (*seriesSet) Warnings() annotations.Annotations { return nil }

// series is one selected series: its labels and copies of its chunk list.
type series struct {
	lset       labels.Labels
	enc        chunkenc.Encoding // of the chunks
	chunks     []chunk
	mint, maxt int64
}

func (s *series) Labels() labels.Labels { return s.lset }

func (s *series) Iterator(it chunkenc.Iterator) chunkenc.Iterator {
	si, ok := it.(*iterator)
	if !ok {
		si = &iterator{}
	}
	si.reset(s.enc, s.chunks, s.mint, s.maxt)
	return si
}

// seriesIterator walks a series' chunks in order, keeping to [mint, maxt].
type seriesIterator struct {
	enc        chunkenc.Encoding // of the chunks
	chunks     []chunk
	mint, maxt int64
	i          int   // index of the chunk cur reads
	scale      uint8 // its scale
	c          chunkenc.Chunk
	cur        chunkenc.Iterator
	t          int64
	v          float64
	valid      bool // t, v hold the current sample
	done       bool
	err        error
}

// iterator is the chunkenc.Iterator a series hands out. Seek comes through a
// type parameter only because vet's stdmethods check takes any
// Seek(int64, …) method for a broken io.Seeker.
type iterator = seekable[int64]

type seekable[T ~int64] struct{ seriesIterator }

func (it *seekable[T]) Seek(t T) chunkenc.ValueType { return it.seek(int64(t)) }

var _ chunkenc.Iterator = (*iterator)(nil)

func (it *seriesIterator) reset(enc chunkenc.Encoding, cs []chunk, mint, maxt int64) {
	if it.c != nil && it.c.Encoding() != enc {
		it.c, it.cur = nil, nil // made for another DB's chunks
	}
	it.enc, it.chunks, it.mint, it.maxt = enc, cs, mint, maxt
	it.i, it.valid, it.done, it.err = -1, false, false, nil
	it.t = math.MinInt64
}

// open starts reading chunk i.
func (it *seriesIterator) open(i int) bool {
	it.i = i
	if i >= len(it.chunks) {
		it.done, it.valid = true, false
		return false
	}
	if it.c == nil {
		c, err := chunkenc.NewEmptyChunk(it.enc)
		if err != nil {
			it.err, it.done = err, true
			return false
		}
		it.c = c
	}
	it.c.Reset(it.chunks[i].enc())
	it.scale = it.chunks[i].scale()
	it.cur = it.c.Iterator(it.cur)
	return true
}

func (it *seriesIterator) Next() chunkenc.ValueType {
	if it.done {
		return chunkenc.ValNone
	}
	if it.i < 0 && !it.open(0) {
		return chunkenc.ValNone
	}
	for {
		if it.cur.Next() == chunkenc.ValNone {
			if err := it.cur.Err(); err != nil {
				it.err, it.done, it.valid = err, true, false
				return chunkenc.ValNone
			}
			if !it.open(it.i + 1) {
				return chunkenc.ValNone
			}
			continue
		}
		t, v := it.cur.At()
		if t < it.mint || t <= it.t {
			continue
		}
		if t > it.maxt {
			it.done, it.valid = true, false
			return chunkenc.ValNone
		}
		it.t, it.v, it.valid = t, unscale(v, it.scale), true
		return chunkenc.ValFloat
	}
}

func (it *seriesIterator) seek(t int64) chunkenc.ValueType {
	if it.done {
		return chunkenc.ValNone
	}
	if it.valid && it.t >= t {
		return chunkenc.ValFloat
	}
	// Skip whole chunks that end before t.
	j := max(it.i, 0)
	for j < len(it.chunks) && it.chunks[j].maxt < t {
		j++
	}
	if j != it.i {
		if !it.open(j) {
			return chunkenc.ValNone
		}
	}
	for {
		if vt := it.Next(); vt == chunkenc.ValNone || it.t >= t {
			return vt
		}
	}
}

func (it *seriesIterator) At() (int64, float64) { return it.t, it.v }
func (it *seriesIterator) AtT() int64           { return it.t }
func (*seriesIterator) AtST() int64             { return 0 }
func (it *seriesIterator) Err() error           { return it.err }

func (*seriesIterator) AtHistogram(*histogram.Histogram) (int64, *histogram.Histogram) {
	panic("store: histogram samples are not stored")
}

func (*seriesIterator) AtFloatHistogram(*histogram.FloatHistogram) (int64, *histogram.FloatHistogram) {
	panic("store: histogram samples are not stored")
}
