package remotewrite

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// commits makes n commits of series samples each, as a scrape loop would:
// every series at one timestamp, values that sometimes repeat, a staleness
// marker now and then.
func commits(n, series int) [][]store.CommittedSample {
	var out [][]store.CommittedSample
	lsets := make([]labels.Labels, series)
	for i := range lsets {
		lsets[i] = labels.FromStrings("__name__", fmt.Sprintf("m_%d", i%7), "instance", fmt.Sprintf("host%d:9100", i/7), "job", "node")
	}
	for c := range n {
		var batch []store.CommittedSample
		for i, l := range lsets {
			v := float64(c*i) / 3
			switch {
			case i%5 == 0:
				v = 42 // unchanged
			case (c+i)%11 == 0:
				v = math.Float64frombits(value.StaleNaN)
			case i%3 == 0:
				v = float64(c * 1000)
			}
			batch = append(batch, store.CommittedSample{Ref: storage.SeriesRef(i + 1), Labels: l, T: int64(c) * 5000, V: v})
		}
		out = append(out, batch)
	}
	return out
}

// readAll reads everything the reader can, in chunks of max.
func readAll(r *reader, max int) []sample {
	var all []sample
	for {
		got, _ := r.read(nil, max)
		if len(got) == 0 {
			return all
		}
		all = append(all, got...)
		r.sp.commit(r.rs, r.pos)
	}
}

func requireSame(t *testing.T, want [][]store.CommittedSample, got []sample) {
	t.Helper()
	var flat []store.CommittedSample
	for _, c := range want {
		flat = append(flat, c...)
	}
	require.Len(t, got, len(flat))
	for i, s := range got {
		w := flat[i]
		require.Equal(t, w.Labels, s.lset, "sample %d", i)
		require.Equal(t, w.T, s.t, "sample %d", i)
		require.Equal(t, math.Float64bits(w.V), math.Float64bits(s.v), "sample %d", i)
	}
}

func TestSpoolRoundTrip(t *testing.T) {
	for _, dir := range []string{"", "disk"} {
		t.Run("dir="+dir, func(t *testing.T) {
			if dir != "" {
				dir = t.TempDir()
			}
			sp, err := openSpool(dir, 1<<30, quiet)
			require.NoError(t, err)
			defer sp.close()
			rs := sp.addReader("a")
			r := newReader(sp, rs)
			defer r.close()
			cs := commits(50, 40)
			for _, c := range cs {
				sp.append(c)
			}
			// Odd chunk sizes split records.
			requireSame(t, cs, readAll(r, 37))
			pending, dropped := sp.readerStats(rs)
			require.Zero(t, pending)
			require.Empty(t, dropped)
		})
	}
}

// TestSpoolRestart: a cursor and the segments survive a close and an open;
// the reader resumes where the receiver stopped taking, mid-record, in a
// segment whose labels it must decode from the file.
func TestSpoolRestart(t *testing.T) {
	dir := t.TempDir()
	sp, err := openSpool(dir, 1<<30, quiet)
	require.NoError(t, err)
	rs := sp.addReader("a")
	r := newReader(sp, rs)
	cs := commits(30, 25)
	for _, c := range cs {
		sp.append(c)
	}
	first, _ := r.read(nil, 100)
	sp.commit(rs, r.pos)
	_, _ = r.read(nil, 60) // read, never taken: read again after the restart
	r.close()
	sp.close()

	sp, err = openSpool(dir, 1<<30, quiet)
	require.NoError(t, err)
	defer sp.close()
	require.Equal(t, []string{"a"}, sp.readerNames())
	rs = sp.addReader("a")
	pending, _ := sp.readerStats(rs)
	require.EqualValues(t, 30*25-100, pending)
	r = newReader(sp, rs)
	defer r.close()
	more := commits(32, 25)[30:] // the same series, later
	for _, c := range more {
		sp.append(c)
	}
	requireSame(t, append(cs, more...), append(first, readAll(r, 1000)...))
}

// TestSpoolTornTail: a record cut short by a crash is cut off at open; what
// came before it is read.
func TestSpoolTornTail(t *testing.T) {
	dir := t.TempDir()
	sp, err := openSpool(dir, 1<<30, quiet)
	require.NoError(t, err)
	rs := sp.addReader("a")
	cs := commits(10, 20)
	for _, c := range cs {
		sp.append(c)
	}
	path := sp.segs[len(sp.segs)-1].path
	size := sp.segs[len(sp.segs)-1].size
	sp.close()
	_ = rs
	require.NoError(t, os.Truncate(path, size-3))

	sp, err = openSpool(dir, 1<<30, quiet)
	require.NoError(t, err)
	defer sp.close()
	r := newReader(sp, sp.addReader("a"))
	defer r.close()
	requireSame(t, cs[:9], readAll(r, 1000))
}

// TestSpoolBound: past the bound the oldest segments go, and a reader that
// had not read them counts each of their samples as dropped; what it reads
// after is whole and in order.
func TestSpoolBound(t *testing.T) {
	dir := t.TempDir()
	const bound = 1 << 20
	sp, err := openSpool(dir, bound, quiet)
	require.NoError(t, err)
	defer sp.close()
	rs := sp.addReader("a")
	r := newReader(sp, rs)
	defer r.close()
	cs := commits(6000, 60)
	for _, c := range cs {
		sp.append(c)
	}
	st := sp.stats()
	t.Logf("%d samples spooled in %d segments, %.2f bytes/sample", st.spooled, st.segments, float64(st.bytes)/float64(st.spooled))
	require.LessOrEqual(t, st.bytes, int64(bound))
	var onDisk int64
	files, _ := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	for _, f := range files {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		onDisk += fi.Size()
	}
	require.Equal(t, st.bytes, onDisk)
	got := readAll(r, 500)
	_, dropped := sp.readerStats(rs)
	require.Positive(t, dropped[dropSpoolFull])
	require.EqualValues(t, 6000*60, int(dropped[dropSpoolFull])+len(got), "every sample is either read or counted")
	// What is read is the newest part, in order.
	var flat []store.CommittedSample
	for _, c := range cs {
		flat = append(flat, c...)
	}
	requireSame(t, [][]store.CommittedSample{flat[len(flat)-len(got):]}, got)
}
