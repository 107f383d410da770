package remotewrite

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/store"
)

// fixturePath holds real node_exporter scrapes taken one second apart
// (store's fixture: see store/fixture_test.go).
const fixturePath = "../../testdata/store/node_exporter.scrapes.gz"

// fixtureCommits returns the recorded scrapes as commits of hosts hosts
// (the same body under another instance label each), one commit a host a
// scrape, as scrape loops commit, with each series' ref fixed.
func fixtureCommits(tb testing.TB, hosts int) [][]store.CommittedSample {
	tb.Helper()
	f, err := os.Open(fixturePath)
	require.NoError(tb, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(tb, err)
	br := bufio.NewReader(zr)
	refs := map[string]storage.SeriesRef{}
	var out [][]store.CommittedSample
	st := labels.NewSymbolTable()
	for {
		var ts int64
		var n int
		line, err := br.ReadString('\n')
		if errors.Is(err, io.EOF) && line == "" {
			return out
		}
		require.NoError(tb, err)
		_, err = fmt.Sscanf(line, "# vigil-scrape %d %d\n", &ts, &n)
		require.NoError(tb, err)
		body := make([]byte, n)
		_, err = io.ReadFull(br, body)
		require.NoError(tb, err)
		for h := range hosts {
			var commit []store.CommittedSample
			p := textparse.NewPromParser(body, st, false)
			for {
				e, err := p.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(tb, err)
				if e != textparse.EntrySeries {
					continue
				}
				var l labels.Labels
				p.Labels(&l)
				b := labels.NewBuilder(l)
				b.Set("instance", fmt.Sprintf("host%d:9100", h))
				b.Set("job", "node")
				l = b.Labels()
				ref, ok := refs[l.String()]
				if !ok {
					ref = storage.SeriesRef(len(refs) + 1)
					refs[l.String()] = ref
				}
				_, _, v := p.Series()
				commit = append(commit, store.CommittedSample{Ref: ref, Labels: l, T: ts, V: v})
			}
			out = append(out, commit)
		}
	}
}

func samplesIn(cs [][]store.CommittedSample) int {
	n := 0
	for _, c := range cs {
		n += len(c)
	}
	return n
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSpoolAppend: what remote write adds to each commit (the
// store's OnCommit: encoding, compressing and writing the record), and
// the spool's size, for 20 hosts' real node_exporter scrapes (120 a host,
// a second apart).
func BenchmarkSpoolAppend(b *testing.B) {
	cs := fixtureCommits(b, 20)
	n := samplesIn(cs)
	runtime.GC()
	var bytes int64
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		sp, err := openSpool(filepath.Join(b.TempDir(), SpoolDirName), 1<<30, quiet)
		require.NoError(b, err)
		sp.addReader("a")
		b.StartTimer()
		cpu0 := cpuTime()
		for _, c := range cs {
			sp.append(c)
		}
		cpu += cpuTime() - cpu0
		b.StopTimer()
		bytes += sp.stats().bytes
		sp.close()
		b.StartTimer()
	}
	samples := float64(n) * float64(b.N)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/samples, "ns/sample")
	b.ReportMetric(float64(cpu.Nanoseconds())/samples, "cpu-ns/sample")
	b.ReportMetric(float64(bytes)/samples, "spool-bytes/sample")
}

// BenchmarkSend: the CPU a sample costs from the commit to the receiver's
// answer: written to the spool, read back, relabelled with the external
// labels, encoded, snappy-compressed and posted, for each protocol. The
// receiver is in the process and only reads the request (its share is
// part of the figure); the data is BenchmarkSpoolAppend's.
func BenchmarkSend(b *testing.B) {
	cs := fixtureCommits(b, 20)
	n := samplesIn(cs)
	runtime.GC()
	for _, proto := range []Protocol{V1, V2} {
		b.Run(proto.Version(), func(b *testing.B) {
			var bodyBytes atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				k, _ := io.Copy(io.Discard, r.Body)
				bodyBytes.Add(k)
				w.Header().Set(writtenSamplesHeader, "1")
				w.WriteHeader(http.StatusNoContent)
			}))
			defer srv.Close()
			var cpu time.Duration
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				w, err := New(Options{Dir: filepath.Join(b.TempDir(), SpoolDirName), Logger: quiet, FlushDeadline: time.Minute})
				require.NoError(b, err)
				c := DefaultConfig
				c.URL, c.Protocol = srv.URL, proto
				c.Metadata.Send = false
				c.Queue.BatchSendDeadline = 10 * time.Millisecond
				require.NoError(b, w.ApplyConfig([]Config{c}, labels.FromStrings("site", "bastion")))
				b.StartTimer()
				cpu0 := cpuTime()
				for _, c := range cs {
					w.Append(c)
				}
				for w.Status().Remotes[0].Sent < uint64(n) {
					time.Sleep(time.Millisecond)
				}
				cpu += cpuTime() - cpu0
				b.StopTimer()
				require.NoError(b, w.Close())
				b.StartTimer()
			}
			samples := float64(n) * float64(b.N)
			b.ReportMetric(float64(cpu.Nanoseconds())/samples, "cpu-ns/sample")
			b.ReportMetric(float64(bodyBytes.Load())/samples, "wire-bytes/sample")
		})
	}
}
