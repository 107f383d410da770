package store

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"
)

func TestStalenessThroughPromQL(t *testing.T) {
	db := New(Options{Retention: -1})
	defer db.Close()
	l := labels.FromStrings("__name__", "up", "job", "x")
	a := db.Appender()
	for i := range int64(10) {
		_, err := a.Append(0, l, i*15_000, 1)
		require.NoError(t, err)
	}
	_, err := a.Append(0, l, 150_000, math.Float64frombits(value.StaleNaN))
	require.NoError(t, err)
	require.NoError(t, a.Commit())

	eng := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e6, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	at := func(sec int64) int {
		q, err := eng.NewInstantQuery(context.Background(), db, nil, "up", time.Unix(sec, 0))
		require.NoError(t, err)
		defer q.Close()
		r := q.Exec(context.Background())
		require.NoError(t, r.Err)
		v, err := r.Vector()
		require.NoError(t, err)
		return len(v)
	}
	require.Equal(t, 1, at(140))
	require.Equal(t, 0, at(151), "the staleness marker ends the series")
}

func TestIteratorSeek(t *testing.T) {
	db := New(Options{Retention: -1})
	defer db.Close()
	l := labels.FromStrings("__name__", "m")
	a := db.Appender()
	for i := range int64(500) { // chunks end at 119, 239, 359, 479 s
		_, err := a.Append(0, l, i*1000, float64(i))
		require.NoError(t, err)
	}
	require.NoError(t, a.Commit())
	q, err := db.Querier(10_000, 450_000)
	require.NoError(t, err)
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m"))
	require.True(t, ss.Next())
	s := ss.At()

	steps := []struct {
		seek, want int64 // want -1: exhausted
	}{
		{0, 10_000},        // clamped to mint
		{5_000, 10_000},    // already there: no effect
		{239_500, 240_000}, // into the next chunk
		{240_000, 240_000},
		{359_000, 359_000}, // last sample of a chunk
		{360_001, 361_000},
		{450_000, 450_000}, // maxt
		{450_001, -1},      // past maxt
	}
	it := s.Iterator(nil)
	for _, st := range steps {
		vt := it.Seek(st.seek)
		if st.want < 0 {
			require.Equal(t, chunkenc.ValNone, vt, "seek %d", st.seek)
			continue
		}
		require.Equal(t, chunkenc.ValFloat, vt, "seek %d", st.seek)
		ts, v := it.At()
		require.Equal(t, st.want, ts, "seek %d", st.seek)
		require.Equal(t, float64(st.want/1000), v)
	}
	require.Equal(t, chunkenc.ValNone, it.Next())

	// Next after Seek goes on from there; a reused iterator starts over.
	it = s.Iterator(it)
	require.Equal(t, chunkenc.ValFloat, it.Seek(119_000))
	require.Equal(t, chunkenc.ValFloat, it.Next())
	require.Equal(t, int64(120_000), it.AtT())
	it = s.Iterator(it)
	require.Equal(t, chunkenc.ValFloat, it.Next())
	require.Equal(t, int64(10_000), it.AtT())
	require.NoError(t, it.Err())
}

func TestSelectHints(t *testing.T) {
	db := New(Options{Retention: -1})
	defer db.Close()
	a := db.Appender()
	for i := range int64(10) {
		_, err := a.Append(0, labels.FromStrings("__name__", "m"), i*1000, float64(i))
		require.NoError(t, err)
	}
	require.NoError(t, a.Commit())
	q, err := db.Querier(0, 9000)
	require.NoError(t, err)
	count := func(h *storage.SelectHints) (series, samples int) {
		ss := q.Select(context.Background(), false, h, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m"))
		for ss.Next() {
			series++
			it := ss.At().Iterator(nil)
			for it.Next() == chunkenc.ValFloat {
				samples++
			}
		}
		return series, samples
	}
	for _, tc := range []struct {
		name            string
		hints           *storage.SelectHints
		series, samples int
	}{
		{"none", nil, 1, 10},
		{"narrower", &storage.SelectHints{Start: 3000, End: 5000}, 1, 3},
		{"wider is cut to the querier", &storage.SelectHints{Start: -5000, End: 20_000}, 1, 10},
		{"no range", &storage.SelectHints{Limit: 5}, 1, 10},
		{"series only", &storage.SelectHints{Start: 3000, End: 5000, Func: "series"}, 1, 0},
		{"outside", &storage.SelectHints{Start: 20_000, End: 30_000}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			series, samples := count(tc.hints)
			require.Equal(t, tc.series, series)
			require.Equal(t, tc.samples, samples)
		})
	}
}

// An iterator reused across stores reads each store's chunks in that
// store's encoding: the encoding is the DB's, not the process's.
func TestIteratorAcrossEncodings(t *testing.T) {
	var it chunkenc.Iterator
	for _, enc := range []chunkenc.Encoding{chunkenc.EncXOR, chunkenc.EncXOR2, chunkenc.EncXOR} {
		db := New(Options{Retention: -1, encoding: enc})
		l := labels.FromStrings("__name__", "m")
		var want []sample
		for i := range int64(2*samplesPerChunk + 5) {
			a := db.Appender()
			v := float64(i*i) / 7
			_, err := a.Append(0, l, i*1000, v)
			require.NoError(t, err)
			require.NoError(t, a.Commit())
			want = append(want, sample{i * 1000, v})
		}
		q, err := db.Querier(math.MinInt64, math.MaxInt64)
		require.NoError(t, err)
		ss := q.Select(context.Background(), false, nil, allSeries)
		require.True(t, ss.Next())
		it = ss.At().Iterator(it)
		var got []sample
		for it.Next() == chunkenc.ValFloat {
			ts, v := it.At()
			got = append(got, sample{ts, v})
		}
		require.NoError(t, it.Err(), enc.String())
		require.Equal(t, want, got, enc.String())
		require.NoError(t, q.Close())
		require.NoError(t, db.Close())
	}
}
