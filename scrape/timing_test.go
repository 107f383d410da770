package scrape_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape"
)

// TestLoopTiming runs a Manager in a synctest bubble, where time only moves
// when every goroutine waits, so the loop's schedule can be checked to the
// millisecond: the first scrape at the target's offset, then one per
// interval; after the target is removed, stale markers stamped with the
// first missed slot and written a tenth of an interval after the second.
func TestLoopTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := newTestDB(t)
		const iv = 10 * time.Second
		n := 0
		collect := func(_ context.Context, w io.Writer) error {
			n++
			_, err := fmt.Fprintf(w, "ticks %d\n", n)
			return err
		}
		cfg := jobConfig(t, iv)
		cfg.Internal = []scrape.InternalTarget{{Job: "tick", Instance: "a", Collect: collect}}
		m := scrape.NewManager(db, scrape.Options{})
		defer m.Close()
		start := time.Now()
		require.NoError(t, m.ApplyConfig(cfg))

		ticks := labels.FromStrings("__name__", "ticks", "job", "tick", "instance", "a")
		time.Sleep(5*iv + iv/2)
		synctest.Wait()
		ss := db.samples(ticks)
		require.Len(t, ss, 5, "one scrape per interval, the first within the first interval")
		first := time.UnixMilli(ss[0].T)
		require.Less(t, first.Sub(start), iv)
		for i, s := range ss {
			require.Equal(t, first.Add(time.Duration(i)*iv).UnixMilli(), s.T)
			require.Equal(t, float64(i+1), s.V)
		}

		// Removing the target: nothing until two slots and a tenth of an
		// interval after the last scrape (in case the target comes back),
		// then stale markers stamped with the first missed slot.
		last := time.UnixMilli(ss[4].T)
		time.Sleep(last.Add(iv / 2).Sub(time.Now()))
		require.NoError(t, m.ApplyConfig(jobConfig(t, iv)))
		require.Empty(t, m.Targets())
		time.Sleep(last.Add(2 * iv).Sub(time.Now()))
		synctest.Wait()
		require.Len(t, db.samples(ticks), 5, "no marker before two slots and a tenth after the last scrape")
		time.Sleep(iv/10 + time.Millisecond)
		synctest.Wait()
		ss = db.samples(ticks)
		require.Len(t, ss, 6)
		require.Equal(t, last.Add(iv).UnixMilli(), ss[5].T)
		require.True(t, isStale(ss[5].V))
		up, _ := db.last(labels.FromStrings("__name__", "up", "job", "tick", "instance", "a"))
		require.True(t, isStale(up.V))
		require.Equal(t, last.Add(iv).UnixMilli(), up.T)
	})
}

// TestCloseWritesNoStaleMarkers: shutting down is not the targets going
// away; after a restart they go on where they were.
func TestCloseWritesNoStaleMarkers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := newTestDB(t)
		cfg := jobConfig(t, time.Second)
		cfg.Internal = []scrape.InternalTarget{{Job: "tick", Instance: "a", Collect: func(_ context.Context, w io.Writer) error {
			_, err := io.WriteString(w, "ticks 1\n")
			return err
		}}}
		m := scrape.NewManager(db, scrape.Options{})
		require.NoError(t, m.ApplyConfig(cfg))
		time.Sleep(3 * time.Second)
		m.Close()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		for _, s := range db.samples(labels.FromStrings("__name__", "ticks", "job", "tick", "instance", "a")) {
			require.False(t, isStale(s.V))
		}
	})
}
