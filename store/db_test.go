package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"
)

type sample struct {
	t int64
	v float64
}

// readAll returns every sample of every series matching ms in [mint, maxt].
func readAll(t testing.TB, q storage.Queryable, mint, maxt int64, ms ...*labels.Matcher) map[string][]sample {
	t.Helper()
	qr, err := q.Querier(mint, maxt)
	require.NoError(t, err)
	defer qr.Close()
	out := map[string][]sample{}
	ss := qr.Select(context.Background(), true, nil, ms...)
	for ss.Next() {
		s := ss.At()
		it := s.Iterator(nil)
		var got []sample
		for it.Next() == chunkenc.ValFloat {
			ts, v := it.At()
			got = append(got, sample{ts, v})
		}
		require.NoError(t, it.Err())
		out[s.Labels().String()] = got
	}
	require.NoError(t, ss.Err())
	return out
}

func TestAppendAndSelect(t *testing.T) {
	db := New(Options{Retention: -1})
	defer db.Close()
	a := db.Appender()
	l1 := labels.FromStrings("__name__", "up", "job", "node", "instance", "a:9100")
	l2 := labels.FromStrings("__name__", "up", "job", "node", "instance", "b:9100")
	var ref1 storage.SeriesRef
	for i := range int64(300) {
		var err error
		ref1, err = a.Append(ref1, l1, i*1000, float64(i))
		require.NoError(t, err)
		_, err = a.Append(0, l2, i*1000, float64(-i))
		require.NoError(t, err)
	}
	// Nothing is visible before Commit.
	require.Empty(t, readAll(t, db, math.MinInt64, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "up")))
	require.NoError(t, a.Commit())

	got := readAll(t, db, 10_000, 250_000, labels.MustNewMatcher(labels.MatchRegexp, "instance", "a:.*"))
	require.Len(t, got, 1)
	s := got[l1.String()]
	require.Len(t, s, 241)
	require.Equal(t, sample{10_000, 10}, s[0])
	require.Equal(t, sample{250_000, 250}, s[len(s)-1])

	st := db.Stats()
	require.EqualValues(t, 2, st.Series)
	require.EqualValues(t, 600, st.Samples)
	require.EqualValues(t, 6, st.Chunks)
}

func TestRefusals(t *testing.T) {
	db := New(Options{Retention: time.Minute, MaxSeries: 2})
	defer db.Close()
	l := labels.FromStrings("__name__", "x")
	app := func(l labels.Labels, ts int64, v float64) error {
		a := db.Appender()
		if _, err := a.Append(0, l, ts, v); err != nil {
			require.NoError(t, a.Rollback())
			return err
		}
		return a.Commit()
	}
	require.NoError(t, app(l, 100_000, 1))
	require.ErrorIs(t, app(l, 99_000, 1), ErrOutOfOrder)
	require.ErrorIs(t, app(l, 100_000, 2), ErrDuplicate)
	require.NoError(t, app(l, 100_000, 1), "same sample again is ignored")
	require.ErrorIs(t, app(labels.FromStrings("__name__", "y"), 30_000, 1), ErrTooOld)
	require.NoError(t, app(labels.FromStrings("__name__", "y"), 50_000, 1))
	require.ErrorIs(t, app(labels.FromStrings("__name__", "z"), 100_000, 1), ErrTooManySeries)
	require.ErrorIs(t, app(labels.EmptyLabels(), 100_000, 1), ErrInvalidSeries)

	// Within one transaction too.
	a := db.Appender()
	_, err := a.Append(0, l, 101_000, 1)
	require.NoError(t, err)
	_, err = a.Append(0, l, 100_500, 1)
	require.ErrorIs(t, err, ErrOutOfOrder)
	require.NoError(t, a.Commit())

	st := db.Stats().Refused
	require.Equal(t, Refused{OutOfOrder: 2, Duplicate: 1, TooOld: 1, TooManySeries: 1, Invalid: 1}, st)
}

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

func TestRollback(t *testing.T) {
	db := New(Options{})
	defer db.Close()
	a := db.Appender()
	_, err := a.Append(0, labels.FromStrings("__name__", "x"), 1, 1)
	require.NoError(t, err)
	require.NoError(t, a.Rollback())
	require.Empty(t, readAll(t, db, math.MinInt64, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "x")))
	require.Zero(t, db.Stats().Samples)
}

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

func TestOpenLockAndSnapshot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)

	_, err = Open(dir, Options{})
	require.ErrorIs(t, err, ErrLocked)
	var le *LockedError
	require.True(t, errors.As(err, &le))
	require.Positive(t, le.PID)
	require.Contains(t, err.Error(), "pid")

	a := db.Appender()
	for i := range int64(500) {
		_, err := a.Append(0, labels.FromStrings("__name__", "m", "i", "1"), i*1000, float64(i%7))
		require.NoError(t, err)
		_, err = a.Append(0, labels.FromStrings("__name__", "m", "i", "2"), i*1000, float64(i))
		require.NoError(t, err)
	}
	require.NoError(t, a.Commit())
	want := readAll(t, db, math.MinInt64, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m"))
	require.NoError(t, db.Close())
	require.NoError(t, db.Stats().LastSnapshot.Err)

	ro, err := OpenSnapshot(dir, Options{Retention: -1})
	require.NoError(t, err)
	require.Equal(t, want, readAll(t, ro, math.MinInt64, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m")))
	require.NoError(t, ro.Close())

	db, err = Open(dir, Options{Retention: 100 * time.Second, SnapshotInterval: -1})
	require.NoError(t, err)
	rep := db.Stats().Restore
	require.NoError(t, rep.Damage)
	require.EqualValues(t, 2, rep.Series)
	// 100s back from 499s: the chunks ending at 119s, 239s and 359s go.
	require.EqualValues(t, 2*360, rep.ExpiredSamples)
	require.EqualValues(t, 2*140, rep.Samples)
	// Appends continue the restored head chunks.
	a = db.Appender()
	_, err = a.Append(0, labels.FromStrings("__name__", "m", "i", "1"), 500_000, 1)
	require.NoError(t, err)
	_, err = a.Append(0, labels.FromStrings("__name__", "m", "i", "1"), 499_000, 1)
	require.ErrorIs(t, err, ErrOutOfOrder)
	require.NoError(t, a.Commit())
	require.NoError(t, db.Close())
}

// TestRestoredSeriesRefusals checks the duplicate and out-of-order rules on
// a series whose last value must first be decoded from a restored chunk.
func TestRestoredSeriesRefusals(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	l := labels.FromStrings("__name__", "m")
	a := db.Appender()
	for i := range int64(130) {
		_, err := a.Append(0, l, i*1000, float64(i)/3)
		require.NoError(t, err)
	}
	require.NoError(t, a.Commit())
	require.NoError(t, db.Close())

	db, err = Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	defer db.Close()
	a = db.Appender()
	_, err = a.Append(0, l, 129_000, float64(129)/3)
	require.NoError(t, err, "the same sample again")
	_, err = a.Append(0, l, 129_000, 1)
	require.ErrorIs(t, err, ErrDuplicate)
	_, err = a.Append(0, l, 128_000, 1)
	require.ErrorIs(t, err, ErrOutOfOrder)
	_, err = a.Append(0, l, 130_000, 7)
	require.NoError(t, err)
	require.NoError(t, a.Commit())
	got := readAll(t, db, 128_000, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m"))[l.String()]
	require.Equal(t, []sample{{128_000, float64(128) / 3}, {129_000, float64(129) / 3}, {130_000, 7}}, got)
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

func TestRestoreOverMaxSeries(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	fill(t, db, 5, 3)
	require.NoError(t, db.Close())
	db, err = Open(dir, Options{Retention: -1, MaxSeries: 3, SnapshotInterval: -1})
	require.NoError(t, err)
	defer db.Close()
	rep := db.Stats().Restore
	require.NoError(t, rep.Damage)
	require.EqualValues(t, 3, rep.Series)
	require.EqualValues(t, 2, rep.DroppedSeries)
	require.Contains(t, rep.Warning(), "2 intact series were not loaded")
}

func TestStaleMarkerSurvivesSnapshot(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	l := labels.FromStrings("__name__", "up")
	a := db.Appender()
	for i := range int64(200) {
		v := 1.0
		if i%50 == 49 {
			v = math.Float64frombits(value.StaleNaN)
		}
		_, err := a.Append(0, l, i*1000, v)
		require.NoError(t, err)
	}
	require.NoError(t, a.Commit())
	require.NoError(t, db.Close())
	ro, err := OpenSnapshot(dir, Options{Retention: -1})
	require.NoError(t, err)
	defer ro.Close()
	got := readAll(t, ro, math.MinInt64, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "up"))[l.String()]
	require.Len(t, got, 200)
	for i, s := range got {
		require.Equal(t, i%50 == 49, value.IsStaleNaN(s.v), "sample %d", i)
	}
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

// A removed series' slot is reused, but its ref never finds the series that
// took the slot.
func TestRefSlotReuse(t *testing.T) {
	var sh shard
	sh.init()
	a := newMemSeries(0, labels.FromStrings("__name__", "a"))
	b := newMemSeries(0, labels.FromStrings("__name__", "b"))
	c := newMemSeries(0, labels.FromStrings("__name__", "c"))
	sh.put(1, a, 1)
	sh.put(2, b, 2)
	require.Same(t, a, sh.byRef(a.ref))
	require.Same(t, b, sh.byRef(b.ref))
	require.Less(t, a.ref, b.ref, "newer series have larger refs")

	sh.remove(1, a)
	require.Nil(t, sh.byRef(a.ref))
	sh.put(3, c, 3)
	require.Equal(t, refSlot(a.ref), refSlot(c.ref), "the slot is reused")
	require.Nil(t, sh.byRef(a.ref), "a stale ref found another series")
	require.Same(t, c, sh.byRef(c.ref))
	require.Nil(t, sh.byRef(makeRef(3, 1<<20, 0)), "a slot past the end")
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
		require.LessOrEqual(t, c.maxt-c.mint(), int64(150_000), "a chunk spans at most a quarter of the retention")
	}
}

// The ring settles at the chunks the retention spans: a series lets its
// expired chunk go when it cuts a new one, not at the next collection, and
// its list of chunks grows by one at a time, so it never holds more
// chunks, nor room for more, than it did once it first filled. (Before,
// the list could reach five chunks between collections and append doubled
// it to room for eight: 12 MB more at 100,000 series, arriving during a
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

// TestCommitAcrossStripes: a transaction over many series, each appended
// several times, lands whole and in order, whatever stripe each series is
// in; a sample another appender made out of order meanwhile is refused at
// Commit, and the rest still lands.
func TestCommitAcrossStripes(t *testing.T) {
	db := New(Options{Retention: -1})
	defer db.Close()
	const n, rounds = 1000, 3
	ls := make([]labels.Labels, n)
	refs := make([]storage.SeriesRef, n)
	for i := range ls {
		ls[i] = labels.FromStrings("__name__", "m", "i", fmt.Sprint(i))
	}
	a := db.Appender()
	for r := range int64(rounds) {
		for i := range ls {
			var err error
			refs[i], err = a.Append(refs[i], ls[i], r*1000, float64(i*10)+float64(r))
			require.NoError(t, err)
		}
	}
	other := db.Appender()
	_, err := other.Append(0, ls[5], 1500, -1)
	require.NoError(t, err)
	require.NoError(t, other.Commit())

	err = a.Commit()
	require.ErrorIs(t, err, ErrOutOfOrder)
	require.Equal(t, uint64(2), db.Stats().Refused.OutOfOrder)

	got := readAll(t, db, math.MinInt64, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m"))
	require.Len(t, got, n)
	for i, l := range ls {
		want := []sample{{0, float64(i * 10)}, {1000, float64(i*10 + 1)}, {2000, float64(i*10 + 2)}}
		if i == 5 {
			want = []sample{{1500, -1}, {2000, 52}}
		}
		require.Equal(t, want, got[l.String()], l.String())
	}
	require.EqualValues(t, n*rounds-2+1, db.Stats().Samples)
}

// TestHeadChunkCuts: samples read back bit for bit through several cuts,
// the next head sized from the last chunk, in both encodings.
func TestHeadChunkCuts(t *testing.T) {
	for _, enc := range []chunkenc.Encoding{chunkenc.EncXOR, chunkenc.EncXOR2} {
		t.Run(enc.String(), func(t *testing.T) {
			defer func(e chunkenc.Encoding) { chunkEncoding = e }(chunkEncoding)
			chunkEncoding = enc
			db := New(Options{Retention: -1})
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

// Within a transaction a series' newest pending sample is what a later
// append is checked against, and only that transaction's: an abandoned
// one whose id came round again (ids are 32 bits) misleads no one.
func TestTransactionSeesOnlyItsOwnPending(t *testing.T) {
	db := New(Options{Retention: -1})
	defer db.Close()
	x, y := labels.FromStrings("__name__", "x"), labels.FromStrings("__name__", "y")

	a := db.Appender()
	_, err := a.Append(0, x, 2000, 1)
	require.NoError(t, err)
	_, err = a.Append(0, x, 1500, 1)
	require.ErrorIs(t, err, ErrOutOfOrder, "older than this transaction's own")
	_, err = a.Append(0, x, 2000, 2)
	require.ErrorIs(t, err, ErrDuplicate, "same time as this transaction's own, another value")
	_, err = a.Append(0, x, 2000, 1)
	require.NoError(t, err, "the same sample again is ignored")
	require.NoError(t, a.Commit())

	abandoned := db.Appender()
	_, err = abandoned.Append(0, y, 3000, 1) // y's newest pending: index 0 of abandoned's
	require.NoError(t, err)
	db.txnSeq.Store(abandoned.(*appender).id - 1)
	b := db.Appender()
	require.Equal(t, abandoned.(*appender).id, b.(*appender).id, "the id came round")
	_, err = b.Append(0, x, 9000, 3) // index 0 of b's: x at 9000
	require.NoError(t, err)
	_, err = b.Append(0, y, 2500, 3)
	require.NoError(t, err, "y's note points at another transaction's sample")
	require.NoError(t, b.Commit())
	require.NoError(t, abandoned.Rollback())
}
