package store

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"
)

func TestRetentionDropsChunksAndSeries(t *testing.T) {
	db := New(Options{Retention: 10 * time.Minute})
	defer db.Close()
	old := labels.FromStrings("__name__", "old")
	live := labels.FromStrings("__name__", "live")
	var refOld, refLive storage.SeriesRef
	for i := range int64(3600) {
		a := db.Appender()
		var err error
		if i < 600 {
			refOld, err = a.Append(refOld, old, i*1000, 1)
			require.NoError(t, err)
		}
		refLive, err = a.Append(refLive, live, i*1000, float64(i))
		require.NoError(t, err)
		require.NoError(t, a.Commit())
	}
	st := db.Stats()
	require.EqualValues(t, 1, st.Series, "the old series left the index")
	require.EqualValues(t, 1, st.SeriesRemoved)
	// 10 minutes = 600 samples, plus at most a chunk and 1/16 of the
	// retention of slack.
	require.LessOrEqual(t, st.Samples, int64(600+120+40))
	got := readAll(t, db, math.MinInt64, math.MaxInt64, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	require.Len(t, got, 1)

	// A stale ref falls back to the labels.
	a := db.Appender()
	ref, err := a.Append(refOld, old, 3600_000, 5)
	require.NoError(t, err)
	require.NotEqual(t, refOld, ref)
	require.NoError(t, a.Commit())
}

// With a short retention, chunks are cut by time too, so what a series
// holds stays near the retention instead of swinging by a whole chunk.
func TestChunkSpanCappedByRetention(t *testing.T) {
	db := New(Options{Retention: 10 * time.Minute})
	defer db.Close()
	l := labels.FromStrings("__name__", "x")
	var ref storage.SeriesRef
	var most, least int64 = 0, math.MaxInt64
	for i := range int64(30 * 12) { // 30 minutes at 5 s
		a := db.Appender()
		var err error
		ref, err = a.Append(ref, l, i*5000, float64(i))
		require.NoError(t, err)
		require.NoError(t, a.Commit())
		if i >= 12*12 { // from minute 12
			n := db.Stats().Samples
			most, least = max(most, n), min(least, n)
		}
	}
	// 10 minutes is 120 samples; a quarter of the retention is 30; the
	// collection slack is 1/16 of the retention, 7.5.
	require.LessOrEqual(t, most, int64(120+30+8), "at most the retention, a chunk and the slack")
	require.GreaterOrEqual(t, least, int64(120), "never less than the retention")
	for _, c := range db.shardOf(ref).byRef(ref).closed {
		require.LessOrEqual(t, c.maxt-c.mint(db.format.enc), int64(150_000), "a chunk spans at most a quarter of the retention")
	}
}

// The ring settles at the chunks the retention spans: a series lets its
// expired chunk go when it cuts a new one, not at the next collection, and
// its list of chunks grows by one at a time, so it never holds more
// chunks, nor room for more, than it did once it first filled. (Before,
// the list could reach five chunks between collections and append doubled
// it to room for eight, memory that BenchmarkRingSoak saw arrive during a
// soak.)
func TestRingSettles(t *testing.T) {
	db := New(Options{Retention: 10 * time.Minute})
	defer db.Close()
	ls := []labels.Labels{labels.FromStrings("__name__", "a"), labels.FromStrings("__name__", "b")}
	refs := make([]storage.SeriesRef, len(ls))
	most := 0
	for i := range int64(30 * 12) { // 30 minutes at 5 s
		for k, l := range ls {
			a := db.Appender()
			var err error
			// b is scraped 2.5 s after a, as scrape loops spread out.
			refs[k], err = a.Append(refs[k], l, i*5000+int64(k)*2500, float64(i*i))
			require.NoError(t, err)
			require.NoError(t, a.Commit())
		}
		for _, ref := range refs {
			s := db.shardOf(ref).byRef(ref)
			require.LessOrEqual(t, len(s.closed), 4, "minute %.1f: chunks", float64(i)/12)
			require.LessOrEqual(t, cap(s.closed), 4, "minute %.1f: room for chunks", float64(i)/12)
			if i >= 12*12 {
				most = max(most, len(s.closed))
			}
		}
	}
	require.Equal(t, 4, most, "the retention is four chunks")
	st := db.Stats()
	require.LessOrEqual(t, st.Samples, int64(2*(120+30+1)), "the retention and the head, no more")
	require.Equal(t, int64(2*5), st.Chunks, "four closed chunks and a head each")
}

// Trimming the oldest chunk keeps every sample inside the retention, bit
// for bit (a staleness marker included), and lets the older ones go: a
// series holds the retention and at most half a chunk more.
func TestTrimKeepsTheRetention(t *testing.T) {
	db := New(Options{Retention: 10 * time.Minute})
	defer db.Close()
	l := labels.FromStrings("__name__", "x")
	val := func(i int64) float64 {
		if i%37 == 0 {
			return math.Float64frombits(value.StaleNaN)
		}
		return float64(i*3+7) / 100 // decimals: the trimmed chunks are scaled
	}
	var ref storage.SeriesRef
	trimmed := false
	for i := range int64(30 * 12) { // 30 minutes at 5 s
		a := db.Appender()
		var err error
		ref, err = a.Append(ref, l, i*5000, val(i))
		require.NoError(t, err)
		require.NoError(t, a.Commit())
		s := db.shardOf(ref).byRef(ref)
		if len(s.closed) > 0 && s.closed[0].numSamples() < 30 {
			trimmed = true
		}
		// The retention (121 samples with both ends) and up to half a
		// chunk (15) older: without the trim, up to a whole one.
		require.LessOrEqual(t, db.Stats().Samples, int64(121+16), "minute %.1f", float64(i)/12)
		if i%7 != 0 {
			continue
		}
		q, err := db.Querier(math.MinInt64, math.MaxInt64)
		require.NoError(t, err)
		ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "x"))
		require.True(t, ss.Next())
		it := ss.At().Iterator(nil)
		var got []int64
		for it.Next() == chunkenc.ValFloat {
			ts, v := it.At()
			require.Equal(t, math.Float64bits(val(ts/5000)), math.Float64bits(v), "sample at %d", ts)
			got = append(got, ts/5000)
		}
		require.NoError(t, it.Err())
		require.NoError(t, q.Close())
		// Every sample inside the retention is there, in order.
		from := max(0, i-120)
		require.GreaterOrEqual(t, len(got), int(i-from+1))
		tail := got[len(got)-int(i-from+1):]
		for k, v := range tail {
			require.Equal(t, from+int64(k), v)
		}
		require.Equal(t, db.Stats().Samples, int64(len(got)), "Stats counts what is held")
	}
	require.True(t, trimmed, "the oldest chunk was never trimmed")
}

// TestHeadChunkCuts: samples read back bit for bit through several cuts,
// the next head sized from the last chunk, in both encodings.
func TestHeadChunkCuts(t *testing.T) {
	for _, enc := range []chunkenc.Encoding{chunkenc.EncXOR, chunkenc.EncXOR2} {
		t.Run(enc.String(), func(t *testing.T) {
			db := New(Options{Retention: -1, encoding: enc})
			defer db.Close()
			l := labels.FromStrings("__name__", "m")
			var ref storage.SeriesRef
			var want []sample
			for i := range int64(5*samplesPerChunk + 7) {
				a := db.Appender()
				v := float64(i*i) / 3 // values that change every sample
				if i%50 == 0 {
					v = math.Float64frombits(value.StaleNaN)
				}
				var err error
				ref, err = a.Append(ref, l, i*15000+i%3, v)
				require.NoError(t, err)
				require.NoError(t, a.Commit())
				want = append(want, sample{i*15000 + i%3, v})
			}
			got := readAll(t, db, math.MinInt64, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m"))[l.String()]
			require.Len(t, got, len(want))
			for i := range want {
				require.Equal(t, want[i].t, got[i].t)
				require.Equal(t, math.Float64bits(want[i].v), math.Float64bits(got[i].v), "sample %d", i)
			}
			require.EqualValues(t, 6, db.Stats().Chunks)
		})
	}
}

// A head chunk starts small and grows once: a new series' first head has
// room for its first samples only, a later one for five eighths of the
// series' last chunk, and a head never ends with room for much more than a
// quarter over that chunk (newHead).
func TestHeadRoom(t *testing.T) {
	db := New(Options{Retention: -1})
	defer db.Close()
	l := labels.FromStrings("__name__", "m")
	var ref storage.SeriesRef
	last := 0 // bytes of the series' newest closed chunk
	for i := range int64(5 * samplesPerChunk) {
		a := db.Appender()
		var err error
		ref, err = a.Append(ref, l, i*5000, float64(i*i)/3)
		require.NoError(t, err)
		require.NoError(t, a.Commit())
		s := db.shardOf(ref).byRef(ref)
		room := cap(s.head.Bytes())
		if n := len(s.closed); n > 0 {
			last = len(s.closed[n-1].data)
		}
		switch n := int(i) % samplesPerChunk; {
		case n == 0 && last == 0:
			require.LessOrEqual(t, room, firstHeadBytes, "a new series' first head")
		case n == 0:
			require.LessOrEqual(t, room, last*5/8+16, "sample %d: a new head", i)
			require.Less(t, room, last, "sample %d: a new head", i)
		case n == samplesPerChunk-1 && last > 0:
			require.LessOrEqual(t, room, last*5/4+32, "sample %d: a full head", i)
		}
	}
}
