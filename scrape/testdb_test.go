package scrape_test

import (
	"context"
	"math"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/store"
)

// testDB is the real store with helpers to read back what the tests wrote.
type testDB struct {
	*store.DB
	t testing.TB
}

func newTestDB(t testing.TB) *testDB {
	db := store.New(store.Options{Retention: -1})
	t.Cleanup(func() { _ = db.Close() })
	return &testDB{DB: db, t: t}
}

type sample struct {
	T int64
	V float64
}

// samples returns the samples of the series with exactly these labels.
func (d *testDB) samples(l labels.Labels) []sample {
	var ms []*labels.Matcher
	l.Range(func(x labels.Label) { ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, x.Name, x.Value)) })
	q, err := d.Querier(math.MinInt64, math.MaxInt64)
	require.NoError(d.t, err)
	defer q.Close()
	ss := q.Select(context.Background(), false, nil, ms...)
	var out []sample
	for ss.Next() {
		if ss.At().Labels().Len() != l.Len() {
			continue
		}
		it := ss.At().Iterator(nil)
		for it.Next() == chunkenc.ValFloat {
			t, v := it.At()
			out = append(out, sample{t, v})
		}
	}
	require.NoError(d.t, ss.Err())
	return out
}

// last returns the newest sample of a series and whether it exists.
func (d *testDB) last(l labels.Labels) (sample, bool) {
	ss := d.samples(l)
	if len(ss) == 0 {
		return sample{}, false
	}
	return ss[len(ss)-1], true
}

// series returns the label sets of every series whose name is given (or
// of all series when name is "").
func (d *testDB) series(name string) []labels.Labels {
	q, err := d.Querier(math.MinInt64, math.MaxInt64)
	require.NoError(d.t, err)
	defer q.Close()
	m := labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+")
	if name != "" {
		m = labels.MustNewMatcher(labels.MatchEqual, "__name__", name)
	}
	ss := q.Select(context.Background(), true, nil, m)
	var out []labels.Labels
	for ss.Next() {
		out = append(out, ss.At().Labels())
	}
	return out
}

// names returns every series as a string, for failure messages and checks.
func (d *testDB) names() []string {
	var out []string
	for _, l := range d.series("") {
		out = append(out, l.String())
	}
	return out
}

func isStale(v float64) bool { return value.IsStaleNaN(v) }
