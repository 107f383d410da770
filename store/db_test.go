package store

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
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

var allSeries = labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+")

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

// TestMaxSeriesReserve: past MaxSeries ordinary series are refused and
// reserve series are not; the reserve is counted apart, leaves the count
// when collected, and an ordinary series written as a reserve one (as a
// restored up is) leaves the cap's count.
func TestMaxSeriesReserve(t *testing.T) {
	db := New(Options{Retention: time.Minute, MaxSeries: 2})
	defer db.Close()
	commit := func(reserve bool, l labels.Labels, ts int64) error {
		a := db.Appender()
		add := a.Append
		if reserve {
			add = a.AppendReserved
		}
		if _, err := add(0, l, ts, 1); err != nil {
			require.NoError(t, a.Rollback())
			return err
		}
		return a.Commit()
	}
	name := func(n string) labels.Labels { return labels.FromStrings("__name__", n) }
	require.NoError(t, commit(false, name("a"), 1000))
	require.NoError(t, commit(false, name("b"), 1000))
	require.ErrorIs(t, commit(false, name("c"), 1000), ErrTooManySeries)
	require.True(t, db.Stats().Full())

	for i := range 10 {
		require.NoError(t, commit(true, labels.FromStrings("__name__", "up", "instance", fmt.Sprint(i)), 1000), "a reserve series past the cap")
	}
	st := db.Stats()
	require.EqualValues(t, 12, st.Series)
	require.EqualValues(t, 10, st.ReservedSeries)
	require.EqualValues(t, 1, st.Refused.TooManySeries)
	require.ErrorIs(t, commit(false, name("c"), 2000), ErrTooManySeries, "the reserve takes nothing from the cap")

	// b written as a reserve series leaves the cap's count: c fits.
	require.NoError(t, commit(true, name("b"), 2000))
	require.NoError(t, commit(false, name("c"), 2000))
	st = db.Stats()
	require.EqualValues(t, 13, st.Series)
	require.EqualValues(t, 11, st.ReservedSeries)
	require.True(t, st.Full())

	// Past the retention every series but a and c goes, and the counts
	// follow.
	require.NoError(t, commit(false, name("a"), 100_000))
	require.NoError(t, commit(false, name("c"), 100_000))
	st = db.Stats()
	require.EqualValues(t, 2, st.Series)
	require.Zero(t, st.ReservedSeries)
	require.True(t, st.Full())
	require.NoError(t, commit(true, name("d"), 100_000))
	require.EqualValues(t, 1, db.Stats().ReservedSeries)
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
