package store

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/require"
)

// TestSelectMatchers checks the index against matching every series by hand.
func TestSelectMatchers(t *testing.T) {
	db := New(Options{Retention: -1})
	defer db.Close()
	var all []labels.Labels
	a := db.Appender()
	for i := range 60 {
		b := labels.NewScratchBuilder(4)
		b.Add("__name__", []string{"up", "node_load1", "node_cpu_seconds_total"}[i%3])
		b.Add("instance", fmt.Sprintf("host%d:9100", i%7))
		if i%4 != 0 {
			b.Add("mode", []string{"idle", "user", "system"}[i%3])
		}
		if i%5 == 0 {
			b.Add("empty_sometimes", "x")
		}
		b.Add("i", fmt.Sprint(i))
		b.Sort()
		l := b.Labels()
		all = append(all, l)
		_, err := a.Append(0, l, 1000, float64(i))
		require.NoError(t, err)
	}
	require.NoError(t, a.Commit())

	m := labels.MustNewMatcher
	cases := [][]*labels.Matcher{
		{m(labels.MatchEqual, "__name__", "up")},
		{m(labels.MatchEqual, "__name__", "nope")},
		{m(labels.MatchNotEqual, "__name__", "up")},
		{m(labels.MatchRegexp, "__name__", "node_.*")},
		{m(labels.MatchRegexp, "instance", "host(1|3):9100")},
		{m(labels.MatchRegexp, "instance", ".*")},
		{m(labels.MatchRegexp, "instance", ".+")},
		{m(labels.MatchNotRegexp, "instance", "host[0-3].*")},
		{m(labels.MatchEqual, "mode", "")},
		{m(labels.MatchNotEqual, "mode", "")},
		{m(labels.MatchRegexp, "mode", "|idle")},
		{m(labels.MatchNotRegexp, "mode", "idle|")},
		{m(labels.MatchEqual, "missing", "")},
		{m(labels.MatchNotEqual, "missing", "")},
		{m(labels.MatchRegexp, "__name__", "up|node_load1"), m(labels.MatchNotEqual, "mode", "user")},
		{m(labels.MatchEqual, "__name__", "up"), m(labels.MatchRegexp, "empty_sometimes", "x?"), m(labels.MatchNotRegexp, "i", "1.*")},
	}
	for _, ms := range cases {
		t.Run(fmt.Sprint(ms), func(t *testing.T) {
			var want []string
		next:
			for _, l := range all {
				for _, mt := range ms {
					if !mt.Matches(l.Get(mt.Name)) {
						continue next
					}
				}
				want = append(want, l.String())
			}
			slices.Sort(want)
			q, err := db.Querier(math.MinInt64, math.MaxInt64)
			require.NoError(t, err)
			ss := q.Select(context.Background(), true, nil, ms...)
			var got []string
			for ss.Next() {
				got = append(got, ss.At().Labels().String())
			}
			require.NoError(t, ss.Err())
			require.Equal(t, want, got)

			// LabelValues and LabelNames under the same matchers.
			vals, _, err := q.LabelValues(context.Background(), "instance", nil, ms...)
			require.NoError(t, err)
			names, _, err := q.LabelNames(context.Background(), nil, ms...)
			require.NoError(t, err)
			wantVals, wantNames := map[string]bool{}, map[string]bool{}
			for _, l := range all {
				if slices.Contains(want, l.String()) {
					wantVals[l.Get("instance")] = true
					l.Range(func(lb labels.Label) { wantNames[lb.Name] = true })
				}
			}
			require.ElementsMatch(t, keys(wantVals), vals)
			require.ElementsMatch(t, keys(wantNames), names)
			require.True(t, slices.IsSorted(vals) && slices.IsSorted(names))
		})
	}

	q, _ := db.Querier(math.MinInt64, math.MaxInt64)
	names, _, err := q.LabelNames(context.Background(), nil)
	require.NoError(t, err)
	require.Equal(t, []string{"__name__", "empty_sometimes", "i", "instance", "mode"}, names)
	vals, _, err := q.LabelValues(context.Background(), "mode", &storage.LabelHints{Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"idle", "system"}, vals)
}

func keys(m map[string]bool) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestRefsOf: the refs found for a sorted subset of ids are exactly those
// in all with these ids, for subsets sparse and dense, at either end, and
// for all of them.
func TestRefsOf(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 17, 1000} {
		ix := newIndex()
		id := uint32(0)
		for i := range n {
			id += 1 + uint32(rng.IntN(5)) // gaps: collected series
			ix.all = append(ix.all, makeRef(uint64(id), i, uint64(rng.IntN(numShards))))
		}
		for _, keep := range []float64{0, 0.001, 0.1, 0.5, 0.9, 1} {
			var ids []uint32
			var want []storage.SeriesRef
			for _, r := range ix.all {
				if rng.Float64() < keep {
					ids = append(ids, idOf(r))
					want = append(want, r)
				}
			}
			require.Equal(t, want, ix.refsOf(ids), "%d series, %v kept", n, keep)
		}
		if n > 1 {
			last := ix.all[n-1]
			require.Equal(t, []storage.SeriesRef{ix.all[0], last}, ix.refsOf([]uint32{idOf(ix.all[0]), idOf(last)}))
		}
	}
}
