package store

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"
)

// TestConcurrentUse appends from several goroutines (each its own series,
// plus one series they all race on, with rollbacks) while queries,
// snapshots and Stats run; -race checks the locking, and at the end every
// own series holds exactly what was committed to it.
func TestConcurrentUse(t *testing.T) {
	db, err := Open(t.TempDir(), Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	const writers, perWriter, rounds = 4, 50, 200
	shared := labels.FromStrings("__name__", "shared")
	stop := startReaders(t, db, "own|shared")
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			refs := make([]storage.SeriesRef, perWriter)
			round := func(i int, commit bool) {
				a := db.Appender()
				for k := range refs {
					var err error
					refs[k], err = a.Append(refs[k], labels.FromStrings("__name__", "own", "w", fmt.Sprint(w), "k", fmt.Sprint(k)), int64(i)*1000, float64(i))
					if err != nil {
						t.Error(err)
					}
				}
				// Racing writers: refused as out of order or duplicate, never merged.
				_, _ = a.Append(0, shared, int64(i)*1000, float64(w))
				if commit {
					_ = a.Commit()
				} else {
					require.NoError(t, a.Rollback())
				}
			}
			for i := range rounds {
				if i%7 == 3 {
					round(i, false)
				}
				round(i, true)
			}
		}()
	}
	wg.Wait()
	stop()

	got := readAll(t, db, math.MinInt64, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "own"))
	require.Equal(t, writers*perWriter, len(got))
	for name, s := range got {
		require.Equal(t, rounds, len(s), name)
		for i, smp := range s {
			require.Equal(t, sample{int64(i) * 1000, float64(i)}, smp, name)
		}
	}
	shr := readAll(t, db, math.MinInt64, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "shared"))[shared.String()]
	// Every committed append to the shared series either landed or was
	// refused and counted (rolled-back rounds add refusals of their own).
	require.GreaterOrEqual(t, db.Stats().Refused.OutOfOrder+db.Stats().Refused.Duplicate, uint64(writers*rounds-len(shr)))
	require.NoError(t, db.Close())
	require.NoError(t, db.Stats().LastSnapshot.Err)
}

// TestConcurrentRetention collects expired chunks and series while readers
// query and snapshot.
func TestConcurrentRetention(t *testing.T) {
	db, err := Open(t.TempDir(), Options{Retention: 20 * time.Second, SnapshotInterval: -1})
	require.NoError(t, err)
	stop := startReaders(t, db, "m")
	for i := range 600 {
		a := db.Appender()
		for k := range 20 {
			// Series come and go: each lives for 100 rounds.
			if k*30 <= i && i < k*30+100 {
				_, err := a.Append(0, labels.FromStrings("__name__", "m", "k", fmt.Sprint(k)), int64(i)*1000, float64(i))
				require.NoError(t, err)
			}
		}
		require.NoError(t, a.Commit())
	}
	stop()
	st := db.Stats()
	require.Less(t, st.Series, int64(20))
	require.Positive(t, st.SeriesRemoved)
	require.NoError(t, db.Close())
}

// startReaders queries every series whose name matches, snapshots and
// reads Stats in a loop until the returned stop is called.
func startReaders(t *testing.T, db *DB, names string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			q, _ := db.Querier(math.MinInt64, math.MaxInt64)
			ss := q.Select(ctx, true, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", names))
			for ss.Next() {
				it := ss.At().Iterator(nil)
				prev := int64(math.MinInt64)
				for it.Next() == chunkenc.ValFloat {
					ts, _ := it.At()
					if ts <= prev {
						t.Errorf("%s: %d after %d", ss.At().Labels(), ts, prev)
					}
					prev = ts
				}
			}
			_ = db.Snapshot()
			_ = db.Stats()
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// TestPeriodicSnapshots checks the snapshot loop on a fake clock.
func TestPeriodicSnapshots(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		db, err := Open(dir, Options{SnapshotInterval: time.Minute})
		require.NoError(t, err)
		fill(t, db, 2, 3)
		time.Sleep(59 * time.Second)
		synctest.Wait()
		require.Zero(t, db.Stats().Snapshots)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		st := db.Stats()
		require.EqualValues(t, 1, st.Snapshots)
		require.NoError(t, st.LastSnapshot.Err)
		require.EqualValues(t, 2, st.LastSnapshot.Series)
		require.Positive(t, st.LastSnapshot.Size)
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		require.EqualValues(t, 4, db.Stats().Snapshots)
		require.NoError(t, db.Close())
		require.EqualValues(t, 5, db.Stats().Snapshots, "and one on Close")
	})
}

func TestClosed(t *testing.T) {
	db := New(Options{})
	require.NoError(t, db.Close())
	require.NoError(t, db.Close(), "twice is fine")
	_, err := db.Appender().Append(0, labels.FromStrings("__name__", "x"), 1, 1)
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, db.Snapshot(), ErrClosed)
	require.Error(t, New(Options{}).Snapshot(), "no data dir")
}
