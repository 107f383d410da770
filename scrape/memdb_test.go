package scrape_test

import (
	"math"
	"sort"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilterm/vigil/store"
)

// memDB is a minimal store.Appendable for the tests that need to look at
// every sample. It refuses what the real store refuses.
type memDB struct {
	mu     sync.Mutex
	series map[string]*memSeries
	byRef  []*memSeries
}

type memSeries struct {
	lset labels.Labels
	ts   []int64
	vs   []float64
}

type sample struct {
	T int64
	V float64
}

func newMemDB() *memDB { return &memDB{series: map[string]*memSeries{}} }

func (d *memDB) Appender() store.Appender { return &memApp{d: d} }

type memApp struct {
	d    *memDB
	pend []pendingSample
}

type pendingSample struct {
	l labels.Labels
	s sample
}

var _ store.Appendable = (*memDB)(nil)

func (a *memApp) Append(_ storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	last, ok := int64(math.MinInt64), false
	var lastV float64
	a.d.mu.Lock()
	if s := a.d.series[l.String()]; s != nil && len(s.ts) > 0 {
		last, lastV, ok = s.ts[len(s.ts)-1], s.vs[len(s.vs)-1], true
	}
	a.d.mu.Unlock()
	for _, p := range a.pend {
		if labels.Equal(p.l, l) {
			last, lastV, ok = p.s.T, p.s.V, true
		}
	}
	if ok && t < last {
		return 0, store.ErrOutOfOrder
	}
	if ok && t == last {
		if math.Float64bits(v) != math.Float64bits(lastV) {
			return 0, store.ErrDuplicate
		}
		return 1, nil
	}
	a.pend = append(a.pend, pendingSample{l, sample{t, v}})
	return 1, nil
}

func (a *memApp) Commit() error {
	a.d.mu.Lock()
	defer a.d.mu.Unlock()
	for _, p := range a.pend {
		k := p.l.String()
		s := a.d.series[k]
		if s == nil {
			s = &memSeries{lset: p.l}
			a.d.series[k] = s
		}
		s.ts = append(s.ts, p.s.T)
		s.vs = append(s.vs, p.s.V)
	}
	a.pend = nil
	return nil
}

func (a *memApp) Rollback() error { a.pend = nil; return nil }

// samples returns the samples of the series with exactly these labels.
func (d *memDB) samples(l labels.Labels) []sample {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.series[l.String()]
	if s == nil {
		return nil
	}
	out := make([]sample, len(s.ts))
	for i := range s.ts {
		out[i] = sample{s.ts[i], s.vs[i]}
	}
	return out
}

// last returns the newest sample of a series and whether it exists.
func (d *memDB) last(l labels.Labels) (sample, bool) {
	ss := d.samples(l)
	if len(ss) == 0 {
		return sample{}, false
	}
	return ss[len(ss)-1], true
}

// names returns the label sets of every series, sorted.
func (d *memDB) names() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for k := range d.series {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func isStale(v float64) bool { return value.IsStaleNaN(v) }
