package store

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// nodeLikeSeries returns n label sets shaped like node_exporter's: metric
// names with a few label pairs, over instances of a fleet.
func nodeLikeSeries(n int) []labels.Labels {
	names := []struct {
		name string
		lbls []string
		card int
	}{
		{"node_cpu_seconds_total", []string{"cpu", "mode"}, 64},
		{"node_network_receive_bytes_total", []string{"device"}, 8},
		{"node_network_transmit_bytes_total", []string{"device"}, 8},
		{"node_disk_read_bytes_total", []string{"device"}, 8},
		{"node_disk_written_bytes_total", []string{"device"}, 8},
		{"node_filesystem_avail_bytes", []string{"device", "fstype", "mountpoint"}, 8},
		{"node_memory_MemAvailable_bytes", nil, 1},
		{"node_load1", nil, 1},
		{"go_gc_duration_seconds", []string{"quantile"}, 5},
	}
	per := 0
	for _, m := range names {
		per += m.card
	}
	out := make([]labels.Labels, 0, n)
	for host := 0; len(out) < n; host++ {
		inst := fmt.Sprintf("host-%04d.example.com:9100", host)
		for _, m := range names {
			for i := 0; i < m.card && len(out) < n; i++ {
				b := labels.NewScratchBuilder(8)
				b.Add("__name__", m.name)
				b.Add("instance", inst)
				b.Add("job", "node")
				for j, l := range m.lbls {
					switch l {
					case "mode":
						b.Add(l, []string{"idle", "user", "system", "iowait", "irq", "softirq", "steal", "nice"}[i%8])
					case "cpu":
						b.Add(l, fmt.Sprint(i/8))
					default:
						b.Add(l, fmt.Sprintf("%s%d", l, i+j))
					}
				}
				b.Sort()
				out = append(out, b.Labels())
			}
		}
	}
	return out
}

// sampleValue returns the i-th sample of series k: counters, slow gauges and
// constants in the mix a node_exporter serves.
func sampleValue(k, i int) float64 {
	switch k % 4 {
	case 0, 1: // counter with a steady rate
		return float64(k)*1000 + float64(i)*float64(k%97+1)*3.25
	case 2: // gauge that wanders
		return 1e9 + float64(int64((i*7919+k)%1000))*4096
	default: // constant
		return 1
	}
}

// BenchmarkAppend measures steady-state appends across 100,000 series, one
// commit per 1,000 samples (a scrape), with and without the caller's refs.
func BenchmarkAppend(b *testing.B) {
	const n = 100_000
	lsets := nodeLikeSeries(n)
	for _, tc := range []struct{ withRefs, hook bool }{{true, false}, {false, false}, {true, true}} {
		withRefs := tc.withRefs
		name := fmt.Sprintf("refs=%v", withRefs)
		opts := Options{Retention: time.Hour}
		if tc.hook {
			// What remote write adds to the commit before its own
			// work: the accepted samples gathered for Options.OnCommit.
			name += "/oncommit"
			opts.OnCommit = func([]CommittedSample) {}
		}
		b.Run(name, func(b *testing.B) {
			db := New(opts)
			defer db.Close()
			refs := make([]storage.SeriesRef, n)
			round := func(ts int64) {
				for lo := 0; lo < n; lo += 1000 {
					a := db.Appender()
					for k := lo; k < lo+1000; k++ {
						ref := refs[k]
						if !withRefs {
							ref = 0
						}
						r, err := a.Append(ref, lsets[k], ts, sampleValue(k, int(ts/10_000)))
						if err != nil {
							b.Fatal(err)
						}
						refs[k] = r
					}
					if err := a.Commit(); err != nil {
						b.Fatal(err)
					}
				}
			}
			// Two rounds before the clock starts: a new series' second
			// sample may move its head chunk to another scale (a counter
			// that starts on a whole number), a cost of creating it.
			round(0)
			round(10_000)
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := range b.N {
				round(int64(i+2) * 10_000)
			}
			b.StopTimer()
			runtime.ReadMemStats(&ms1)
			samples := float64(b.N) * n
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/samples, "ns/sample")
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/samples, "cpu-ns/sample")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/samples, "allocs/sample")
		})
	}
}

// BenchmarkCompression appends real node_exporter scrapes (recorded one
// second apart into testdata) and reports the chunk bytes per sample, for
// each float encoding tsdb/chunkenc offers, with decimals scaled (as the
// store holds them) and, under "unscaled", as chunkenc holds what it is
// given; and the append time per sample (store overhead included).
func BenchmarkCompression(b *testing.B) {
	samples, _ := loadFixture(b)
	for _, tc := range []struct {
		enc    chunkenc.Encoding
		scaled bool
	}{
		{chunkenc.EncXOR, true},
		{chunkenc.EncXOR2, true},
		{chunkenc.EncXOR, false},
		{chunkenc.EncXOR2, false},
	} {
		name := tc.enc.String()
		if !tc.scaled {
			name += "/unscaled"
		}
		b.Run(name, func(b *testing.B) {
			var st Stats
			for range b.N {
				db := New(Options{Retention: -1, encoding: tc.enc, unscaled: !tc.scaled})
				appendFixture(b, db, samples)
				st = db.Stats()
				db.Close()
			}
			b.ReportMetric(float64(st.ChunkBytes)/float64(st.Samples), "bytes/sample")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(st.Samples), "ns/sample")
			b.ReportMetric(float64(st.Series), "series")
			b.ReportMetric(float64(st.Samples), "samples")
		})
	}
}

// BenchmarkReadRecorded reads back every sample of the recorded
// node_exporter scrapes (BenchmarkCompression's) through a querier: what
// decoding costs a sample, the division of a scaled chunk's values
// included.
func BenchmarkReadRecorded(b *testing.B) {
	samples, _ := loadFixture(b)
	db := New(Options{Retention: -1})
	defer db.Close()
	appendFixture(b, db, samples)
	all := labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+")
	var n int
	var it chunkenc.Iterator
	b.ResetTimer()
	for range b.N {
		q, err := db.Querier(math.MinInt64, math.MaxInt64)
		if err != nil {
			b.Fatal(err)
		}
		ss := q.Select(context.Background(), false, nil, all)
		for ss.Next() {
			it = ss.At().Iterator(it)
			for it.Next() != chunkenc.ValNone {
				n++
			}
		}
		q.Close()
	}
	if n != b.N*len(samples) {
		b.Fatalf("read %d samples, want %d", n, b.N*len(samples))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/sample")
}

// BenchmarkSeriesOverhead reports the heap each series costs beyond its
// samples' chunk bytes: labels, maps, index postings, head chunk, for
// node_exporter-like label sets with one sample each.
func BenchmarkSeriesOverhead(b *testing.B) {
	const n = 100_000
	lsets := nodeLikeSeries(n)
	var perSeries float64
	for range b.N {
		runtime.GC()
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		db := New(Options{Retention: -1})
		for lo := 0; lo < n; lo += 1000 {
			a := db.Appender()
			for k := lo; k < lo+1000; k++ {
				if _, err := a.Append(0, lsets[k], 1000, sampleValue(k, 0)); err != nil {
					b.Fatal(err)
				}
			}
			if err := a.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		st := db.Stats()
		perSeries = float64(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc)-st.ChunkBytes) / n
		runtime.KeepAlive(db)
		db.Close()
	}
	b.ReportMetric(perSeries, "bytes/series")
}

// bigDB is 100,000 series × 720 samples (two hours at 10s), built once for
// BenchmarkSnapshot and BenchmarkRestore.
var bigDB struct {
	once sync.Once
	dir  string
	db   *DB
}

const (
	bigSeries  = 100_000
	bigSamples = 720
)

func buildBigDB(b *testing.B) (*DB, string) {
	bigDB.once.Do(func() {
		dir, err := os.MkdirTemp("", "vigil-bench-")
		require.NoError(b, err)
		db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
		require.NoError(b, err)
		lsets := nodeLikeSeries(bigSeries)
		refs := make([]storage.SeriesRef, bigSeries)
		for i := range bigSamples {
			for lo := 0; lo < bigSeries; lo += 1000 {
				a := db.Appender()
				for k := lo; k < lo+1000; k++ {
					refs[k], err = a.Append(refs[k], lsets[k], int64(i)*10_000, sampleValue(k, i))
					require.NoError(b, err)
				}
				require.NoError(b, a.Commit())
			}
		}
		bigDB.dir, bigDB.db = dir, db
	})
	if bigDB.dir == "" {
		b.Fatal("building the store failed")
	}
	return bigDB.db, bigDB.dir
}

// BenchmarkSnapshot writes a snapshot of 100,000 series × 720 samples.
func BenchmarkSnapshot(b *testing.B) {
	db, _ := buildBigDB(b)
	if db == nil {
		b.Skip("the store was released by BenchmarkRestore")
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		if err := db.Snapshot(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	st := db.Stats().LastSnapshot
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/snapshot")
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/snapshot")
	b.ReportMetric(float64(st.Size)/(1<<20), "MiB")
	b.ReportMetric(float64(st.Samples), "samples")
}

// BenchmarkRestore loads that snapshot (OpenSnapshot: read, verify, index)
// in a heap without the store that wrote it, as `vigil query` or a restart
// does.
func BenchmarkRestore(b *testing.B) {
	db, dir := buildBigDB(b)
	if _, err := os.Stat(filepath.Join(dir, SnapshotFileName)); err != nil && db != nil {
		require.NoError(b, db.Snapshot())
	}
	releaseBigDB(false)
	runtime.GC()
	cpu0 := cpuTime()
	b.ResetTimer()
	var rep RestoreReport
	for range b.N {
		ro, err := OpenSnapshot(dir, Options{Retention: -1})
		if err != nil {
			b.Fatal(err)
		}
		rep = ro.Stats().Restore
		ro.Close()
	}
	b.StopTimer()
	if rep.Damage != nil || rep.Series != bigSeries {
		b.Fatalf("restore: %+v", rep)
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/restore")
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/restore")
}

// cpuTime is the user and system time this process has used, which other
// work on a shared machine does not inflate the way it does wall time.
func cpuTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// releaseBigDB closes the benchmark store; with removeDir also its files.
func releaseBigDB(removeDir bool) {
	if bigDB.db != nil {
		bigDB.db.Close()
		bigDB.db = nil
	}
	if removeDir && bigDB.dir != "" {
		os.RemoveAll(bigDB.dir)
	}
}

// BenchmarkSelect runs a regex selector over 100,000 series through a
// querier and reads every sample of the result.
func BenchmarkSelect(b *testing.B) {
	const n = 100_000
	lsets := nodeLikeSeries(n)
	db := New(Options{Retention: -1})
	defer db.Close()
	refs := make([]storage.SeriesRef, n)
	for i := range 10 {
		a := db.Appender()
		for k := range n {
			var err error
			refs[k], err = a.Append(refs[k], lsets[k], int64(i)*10_000, sampleValue(k, i))
			require.NoError(b, err)
		}
		require.NoError(b, a.Commit())
	}
	cases := []struct {
		name string
		ms   []*labels.Matcher
	}{
		{"name=~prefix", []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "__name__", "node_network_.*")}},
		{"instance=~alternation,mode!=idle", []*labels.Matcher{
			labels.MustNewMatcher(labels.MatchRegexp, "instance", "host-00[1-4].*"),
			labels.MustNewMatcher(labels.MatchNotEqual, "mode", "idle"),
		}},
		{"instance=~contains", []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "instance", ".*7.*")}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var series int
			for range b.N {
				q, _ := db.Querier(math.MinInt64, math.MaxInt64)
				ss := q.Select(context.Background(), false, nil, tc.ms...)
				series = 0
				var it chunkenc.Iterator
				for ss.Next() {
					series++
					it = ss.At().Iterator(it)
					for it.Next() != chunkenc.ValNone {
					}
				}
				q.Close()
			}
			b.ReportMetric(float64(series), "series")
		})
	}
}
