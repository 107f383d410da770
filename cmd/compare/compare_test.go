package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape/peertest"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and parentheses, as a process can choose.
	stat := "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 12 0 555 1000000 2000 18446744073709551615\n"
	cpu, err := parseStatCPU([]byte(stat))
	require.NoError(t, err)
	require.InDelta(t, 3.25, cpu, 1e-9)

	_, err = parseStatCPU([]byte("4242 (x) S 1 2"))
	require.ErrorContains(t, err, "fields")
	_, err = parseStatCPU([]byte("no name"))
	require.Error(t, err)

	self, err := readProc(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, self.RSS)
	require.GreaterOrEqual(t, self.HWM, self.RSS)
	require.Positive(t, self.Threads)
}

func TestParseStatus(t *testing.T) {
	var s procSample
	require.NoError(t, parseStatus([]byte("Name:\tvigil\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n"+
		"RssAnon:\t   92160 kB\nRssFile:\t   10240 kB\nThreads:\t9\n"), &s))
	require.Equal(t, procSample{RSS: 100 << 20, HWM: 200 << 20, RSSAnon: 90 << 20, RSSFile: 10 << 20, Threads: 9}, s)
	require.Error(t, parseStatus([]byte("Name:\tkthreadd\nThreads:\t1\n"), &s))
}

func TestParseMetrics(t *testing.T) {
	m, err := parseMetrics(strings.NewReader("# HELP x y\n# TYPE x gauge\nx 1.5\ny{a=\"b\"} 2\ny{a=\"c d}\"} 3 1700000000\nz 3e+06\n\nbad\nw{ 4\n"))
	require.NoError(t, err)
	require.Equal(t, map[string]float64{"x": 1.5, "y": 5, "z": 3e6}, m)
}

func TestParseInstant(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     float64
		err      string
	}{
		{"vector", `{"resultType":"vector","result":[{"metric":{},"value":[1700000000.123,"5050"]}]}`, 5050, ""},
		{"empty vector", `{"resultType":"vector","result":[]}`, 0, ""},
		{"scalar", `{"resultType":"scalar","result":[1700000000,"2.5"]}`, 2.5, ""},
		{"two elements", `{"resultType":"vector","result":[{"value":[1,"1"]},{"value":[1,"2"]}]}`, 0, "2 elements"},
		{"matrix", `{"resultType":"matrix","result":[]}`, 0, "matrix"},
		{"not a number", `{"resultType":"scalar","result":[1,"x"]}`, 0, "invalid syntax"},
		{"not json", `vigil query: parse error`, 0, "query result"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := parseInstant([]byte(tc.in))
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, v)
		})
	}
}

func TestParseGoroutines(t *testing.T) {
	n, err := parseGoroutines([]byte("goroutine profile: total 123\n5 @ 0x1 0x2\n"))
	require.NoError(t, err)
	require.Equal(t, 123, n)
	_, err = parseGoroutines([]byte("404 page not found\n"))
	require.Error(t, err)
}

func TestReport(t *testing.T) {
	r := report{Command: "go run ./cmd/compare -targets 2", Targets: 2, Series: 1000, Interval: duration(5 * time.Second),
		Retention: duration(time.Hour), Warmup: duration(time.Minute), Window: duration(time.Minute), Load: [2]float64{1.5, 2},
		Vigil: measured{CPU: 0.05, RSS: 100 << 20, RSSMax: 110 << 20, HWM: 120 << 20, RSSAnon: 96 << 20, RSSFile: 4 << 20,
			Series: 2000, Samples: 200000, ChunkBytes: 260000},
		Prom: measured{CPU: 0.20, RSS: 400 << 20, RSSMax: 420 << 20, HWM: 480 << 20, RSSAnon: 300 << 20, RSSFile: 100 << 20,
			Series: 2000, Samples: 400000},
		Baseline:       &measured{Name: "baseline", CPU: 0.0625, RSS: 125 << 20, RSSMax: 125 << 20, Series: 2001, Samples: 199000},
		BaselineCommit: "abc1234",
		Checks: []check{
			{Name: "series of the fleet", Expr: `count({job="node"})`, Vigil: 2010, Prom: 2010, Same: true},
			{Name: "targets up", Expr: `sum(up{job="node"})`, Vigil: 1, Prom: 2, Same: true},
			{Name: "alerts", Expr: `count(ALERTS)`, Vigil: 1, Prom: 0},
		},
		Soak: []soakPoint{
			{At: duration(time.Minute), VigilRSS: 90 << 20, Goroutines: 40},
			{At: duration(10 * time.Minute), VigilRSS: 100 << 20, Goroutines: 41},
			{At: duration(30 * time.Minute), VigilRSS: 105 << 20, Goroutines: 42},
		}}
	var b bytes.Buffer
	r.markdown(&b)
	out := b.String()
	for _, want := range []string{
		"2 targets × 1000 series, scraped every 5s, retention 1h0m0s; warm-up 1m0s, window 1m0s; load average 1.50 → 2.00",
		"`go run ./cmd/compare -targets 2`",
		"| CPU, share of one core | 0.050 | 0.200 | 0.25 |",
		"| RSS at the end | 100 MiB | 400 MiB | 0.25 |",
		"| RSS, most seen in the window | 110 MiB | 420 MiB | 0.26 |",
		"| RSS, peak since start (VmHWM) | 120 MiB | 480 MiB | 0.25 |",
		"| RSS anonymous + file-backed | 96 MiB + 4 MiB | 300 MiB + 100 MiB | |",
		"| RSS bytes per series | 52429 | 209715 | 0.25 |",
		// The same RSS over twice the samples: half the bytes a sample.
		"| RSS bytes per sample held | 524.3 | 1048.6 | 0.50 |",
		"| chunk bytes per sample | 1.30 | | |",
		"| series of the fleet: `count({job=\"node\"})` | 2010 | 2010 |  |",
		"| targets up: `sum(up{job=\"node\"})` | 1 | 2 | **differ** |",
		"| alerts: `count(ALERTS)` | 1 | 0 |  |",
		"| same window | vigil | baseline vigil (abc1234) | vigil/baseline |",
		"| CPU, share of one core | 0.0500 | 0.0625 | 0.80 |",
		"| RSS at the end | 100 MiB | 125 MiB | 0.80 |",
		"| RSS, most seen in the window | 110 MiB | 125 MiB | 0.88 |",
		"| series held | 2000 | 2001 | |",
		"vigil's RSS: 100 MiB at minute 10, 105 MiB at the end (+5.0%).",
		"vigil's goroutines: 40 at minute 1, 42 at the end (+2).",
	} {
		require.Contains(t, out, want)
	}
	require.Equal(t, []string{"targets up (vigil 1, Prometheus 2)"}, r.mismatches())

	// The raw JSON has durations as Go writes them, and reads back.
	raw, err := json.Marshal(r)
	require.NoError(t, err)
	require.Contains(t, string(raw), `"Interval":"5s"`)
	require.Contains(t, string(raw), `"At":"10m0s"`)
	var back report
	require.NoError(t, json.Unmarshal(raw, &back))
	require.Equal(t, r, back)
	require.Equal(t, "–", ratio(1, 0))
	require.Zero(t, measured{RSS: 1}.bytesPerSeries())
	require.Equal(t, int64(5), measured{HWM: 4, RSSMax: 5}.peak())
}

func TestSoakVerdictShort(t *testing.T) {
	// Too short for a tenth minute: only the goroutines are compared.
	r := report{Soak: []soakPoint{{At: duration(time.Minute), Goroutines: 10}, {At: duration(2 * time.Minute), Goroutines: 9}}}
	require.Equal(t, "vigil's goroutines: 10 at minute 1, 9 at the end (-1).", r.soakVerdict())
	require.Empty(t, report{Soak: r.Soak[:1]}.soakVerdict())
}

func TestConfigFor(t *testing.T) {
	cfg := configFor(1500*time.Millisecond, "/r.yml", "/sd.json")
	require.Contains(t, cfg, "scrape_interval: 1500ms")
	require.Contains(t, cfg, `rule_files: ["/r.yml"]`)
	require.Contains(t, cfg, `files: ["/sd.json"]`)
	require.Equal(t, "5s", durationYAML(5*time.Second))
}

func TestFlags(t *testing.T) {
	o, err := parseFlags([]string{"-targets", "100", "-retention", "10m", "-warmup", "2m", "-soak", "30m"}, &bytes.Buffer{})
	require.NoError(t, err)
	require.Equal(t, 28*time.Minute, o.window, "a soak's window is what follows the warm-up")
	for _, args := range [][]string{
		{"-targets", "0"}, {"-window", "0s"}, {"extra"},
		{"-soak", "1m", "-warmup", "2m"},
		{"-port", "2"}, {"-port", "65500", "-targets", "100"},
	} {
		_, err := parseFlags(args, &bytes.Buffer{})
		require.Error(t, err, "%v", args)
	}
}

// TestStopAll starts process groups whose leaders fork, one of which
// ignores SIGTERM, and checks that stopAll leaves none of them running.
func TestStopAll(t *testing.T) {
	dir := t.TempDir()
	g := procGroup{grace: 2 * time.Second} // long enough for sh0 on a busy machine
	var pids []int
	for i, script := range []string{
		`sleep 300 & echo $!; wait`,
		`trap "" TERM; sleep 300 & echo $!; wait`, // sleep inherits the ignored TERM
	} {
		p, err := g.start(context.Background(), dir, "sh"+strconv.Itoa(i), "/bin/sh", "-c", script)
		require.NoError(t, err)
		select {
		case l := <-p.lines:
			child, err := strconv.Atoi(l)
			require.NoError(t, err)
			pids = append(pids, p.cmd.Process.Pid, child)
		case <-time.After(10 * time.Second):
			t.Fatal("the shell did not start its child")
		}
	}
	// One with a grace of its own, longer than the group's.
	p, err := g.start(context.Background(), dir, "sh2", "/bin/sh", "-c", `trap "" TERM; echo; sleep 300`)
	require.NoError(t, err)
	<-p.lines
	p.grace = 3 * time.Second
	var logged []string
	began := time.Now()
	g.stopAll(func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) })
	require.Equal(t, []string{"sh1 did not stop on SIGTERM; killing it", "sh2 did not stop on SIGTERM; killing it"}, logged)
	require.GreaterOrEqual(t, time.Since(began), 3*time.Second)
	pids = append(pids, p.cmd.Process.Pid)
	for _, pid := range pids {
		require.Eventually(t, func() bool { return !alive(pid) }, 5*time.Second, 10*time.Millisecond, "pid %d still runs", pid)
	}
}

// alive says whether pid exists and is not a zombie (a grandchild that
// init has yet to reap).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// runShort runs the whole runner with args in a temporary directory of its
// own (TMPDIR), with -out in it and -port over a free range with the ports
// below it, and returns the report, what it printed, and the directory and
// first port for requireCleanedUp.
func runShort(t *testing.T, below int, args ...string) (rep report, out, stdout, tmp string, port int) {
	t.Helper()
	tmp = t.TempDir()
	t.Setenv("TMPDIR", tmp)
	out = filepath.Join(tmp, "out")
	port = freePorts(t, 5)
	var so, se bytes.Buffer
	args = append(args, "-port", strconv.Itoa(port+below), "-out", out)
	require.NoError(t, run(context.Background(), args, &so, &se), se.String())
	raw, err := os.ReadFile(filepath.Join(out, "report.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &rep))
	return rep, out, so.String(), tmp, port
}

// TestRunShort is the whole runner, small: a fleet of 3, vigil and a real
// Prometheus, a short window. It checks that both scraped the same fleet
// and that nothing is left running or on disk.
func TestRunShort(t *testing.T) {
	peertest.Need(t, "prometheus", "prometheus")
	if testing.Short() {
		t.Skip("builds vigil and runs Prometheus for about 30 s")
	}
	rep, out, stdout, tmp, port := runShort(t, 2, "-root", "../..", "-targets", "3", "-series", "300",
		"-interval", "1s", "-warmup", "8s", "-window", "6s", "-profile", "1s")
	// Both hold the fleet's series (plus a few of their own), and agree
	// on the fleet's exactly.
	for _, m := range []measured{rep.Vigil, rep.Prom} {
		require.InDelta(t, 3*300, m.Series, 200, "%+v", m)
		require.Positive(t, m.Samples)
		require.Positive(t, m.RSS)
		require.Positive(t, m.CPU)
		require.GreaterOrEqual(t, m.RSSMax, m.RSS)
		// VmHWM is at least the RSS read with it, not the most seen
		// in the window: see measured.peak.
		require.GreaterOrEqual(t, m.HWM, m.RSS)
		require.GreaterOrEqual(t, m.peak(), m.RSSMax)
	}
	require.Len(t, rep.Checks, 3)
	require.Equal(t, rep.Checks[0].Prom, rep.Checks[0].Vigil, "series of the fleet")
	require.InDelta(t, 3*300, rep.Checks[0].Vigil, 100)
	require.Equal(t, []float64{3, 3}, []float64{rep.Checks[1].Vigil, rep.Checks[1].Prom}, "targets up")
	require.Contains(t, stdout, "| CPU, share of one core |")
	require.Contains(t, stdout, "cpu.pprof")
	require.FileExists(t, filepath.Join(out, "cpu.pprof"))
	require.FileExists(t, filepath.Join(out, "heap.top.txt"))
	require.FileExists(t, filepath.Join(out, "cpu.top-cum.txt"))
	require.FileExists(t, filepath.Join(out, "prometheus.yml"))
	requireCleanedUp(t, tmp, port, "out")
}

// TestRunBaselineShort runs two vigils on one fleet, without Prometheus:
// both are measured over the window and the report puts them side by side.
func TestRunBaselineShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds vigil twice and runs both for about 15 s")
	}
	rep, _, stdout, tmp, port := runShort(t, 3, "-root", "../..", "-baseline", "../..", "-without-prometheus",
		"-targets", "2", "-series", "300", "-interval", "1s", "-warmup", "6s", "-window", "5s", "-profile", "0")
	require.NotNil(t, rep.Baseline)
	for _, m := range []measured{rep.Vigil, *rep.Baseline} {
		require.InDelta(t, 2*300, m.Series, 200, "%+v", m)
		require.Positive(t, m.Samples)
		require.Positive(t, m.RSS)
		require.Positive(t, m.CPU)
	}
	require.NotEmpty(t, rep.BaselineCommit)
	require.Contains(t, stdout, "| same window | vigil | baseline vigil (")
	requireCleanedUp(t, tmp, port, "out")
}

// TestRunCancelled interrupts the runner during the warm-up, as ctrl+c
// does, and checks that it stops everything it started.
func TestRunCancelled(t *testing.T) {
	peertest.Need(t, "prometheus", "prometheus")
	if testing.Short() {
		t.Skip("builds vigil and runs Prometheus")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	port := freePorts(t, 5)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &watchWriter{want: "warming up", seen: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-root", "../..", "-targets", "2", "-series", "300", "-interval", "1s",
			"-port", strconv.Itoa(port + 2), "-out", filepath.Join(tmp, "out")}, io.Discard, stderr)
	}()
	select {
	case <-stderr.seen:
	case err := <-done:
		t.Fatalf("run ended before the warm-up: %v\n%s", err, stderr.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("no warm-up after 2 minutes\n%s", stderr.String())
	}
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return within 30 s of being cancelled")
	}
	requireCleanedUp(t, tmp, port, "out")
}

// requireCleanedUp checks that no port of the run is still taken and that
// the temporary directory holds nothing but keep.
func requireCleanedUp(t *testing.T, tmp string, port int, keep string) {
	t.Helper()
	for i := range 5 {
		require.True(t, portFree(port+i), "port %d still taken", port+i)
	}
	entries, err := os.ReadDir(tmp)
	require.NoError(t, err)
	for _, e := range entries {
		require.Equal(t, keep, e.Name(), "left in the temporary directory")
	}
}

// watchWriter collects what is written and closes seen once it holds want.
type watchWriter struct {
	mu   sync.Mutex
	b    strings.Builder
	want string
	seen chan struct{}
	once sync.Once
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestPorts(t *testing.T) {
	base, err := freeRange(5, 20000, 60000)
	require.NoError(t, err)
	require.Empty(t, takenPorts(base, 5))
	require.Empty(t, takenPorts(base+5, 2), "the test needs two more; run it again")
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+3))
	require.NoError(t, err)
	defer ln.Close()
	require.Equal(t, []int{base + 3}, takenPorts(base, 5))

	// A -port whose range is taken is refused before anything starts.
	t.Setenv("TMPDIR", t.TempDir())
	err = run(context.Background(), []string{"-targets", "3", "-port", strconv.Itoa(base + 2), "-prometheus", "/bin/true"}, io.Discard, io.Discard)
	require.ErrorContains(t, err, fmt.Sprintf("ports [%d] are taken", base+3))
}

func TestNoPrometheus(t *testing.T) {
	err := run(context.Background(), []string{"-prometheus", "/nonexistent/prometheus"}, io.Discard, io.Discard)
	require.ErrorContains(t, err, "no Prometheus to compare with")
	require.ErrorContains(t, err, "apt-get install -y prometheus")
}

func TestChildEnv(t *testing.T) {
	require.Equal(t, []string{"PATH=/bin", "GOGCX=1", "HOME=/root"},
		childEnv([]string{"PATH=/bin", "GOGC=off", "GOMEMLIMIT=1GiB", "GOGCX=1", "GOMAXPROCS=1", "GODEBUG=x=1", "HOME=/root"}))
}

func freePorts(t *testing.T, n int) int {
	t.Helper()
	base, err := freeRange(n, 20000, 60000)
	require.NoError(t, err)
	return base
}

func portFree(port int) bool { return len(takenPorts(port, 1)) == 0 }

func TestParseMemStats(t *testing.T) {
	prof := "heap profile: 1: 2 [3: 4] @ heap/1048576\n1: 2 [3: 4] @ 0x1\n\n# runtime.MemStats\n# Alloc = 7\n" +
		"# HeapAlloc = 100\n# HeapSys = 900\n# HeapIdle = 300\n# HeapInuse = 200\n# HeapReleased = 50\n" +
		"# HeapObjects = 9\n# Stack = 64 / 128\n# MSpan = 1 / 2\n# NumGC = 12\n# NumForcedGC = 0\n"
	h, err := parseMemStats([]byte(prof))
	require.NoError(t, err)
	require.Equal(t, heapFigures{Alloc: 100, Inuse: 200, Idle: 300, Released: 50, Stack: 64, NumGC: 12}, h)
	// What this Go's runtime writes, which is what vigil serves.
	var real bytes.Buffer
	require.NoError(t, pprof.Lookup("heap").WriteTo(&real, 1))
	h, err = parseMemStats(real.Bytes())
	require.NoError(t, err)
	require.Positive(t, h.Alloc)
	require.Positive(t, h.Inuse)
	require.Positive(t, h.Stack)
	_, err = parseMemStats([]byte("404 page not found\n"))
	require.ErrorContains(t, err, "0 of the 6 MemStats figures found")
	_, err = parseMemStats([]byte(strings.Replace(prof, "# NumGC = 12", "# NumGC = x", 1)))
	require.ErrorContains(t, err, `NumGC = "x"`)
}

// A run without Prometheus reports vigil alone, and its soak table has
// the heap's figures and no Prometheus column.
func TestReportWithoutPrometheus(t *testing.T) {
	r := report{Command: "go run ./cmd/compare -without-prometheus", Targets: 2, Series: 1000, WithoutProm: true,
		Vigil: measured{CPU: 0.05, RSS: 100 << 20, Series: 2000, Samples: 200000},
		Soak: []soakPoint{
			{At: duration(time.Minute), VigilRSS: 90 << 20, Goroutines: 40, Heap: heapFigures{Alloc: 50 << 20, Inuse: 60 << 20, Idle: 30 << 20, Released: 10 << 20}},
			{At: duration(10 * time.Minute), VigilRSS: 100 << 20, Goroutines: 40, Heap: heapFigures{Alloc: 70 << 20, Inuse: 80 << 20}},
			{At: duration(30 * time.Minute), VigilRSS: 105 << 20, Goroutines: 40, Heap: heapFigures{Alloc: 72 << 20, Inuse: 84 << 20}},
		}}
	var b bytes.Buffer
	r.markdown(&b)
	out := b.String()
	require.NotContains(t, out, "Prometheus RSS")
	require.NotContains(t, out, "vigil/Prometheus")
	for _, want := range []string{
		"| CPU, share of one core | 0.050 |\n",
		"| RSS at the end | 100 MiB |\n",
		"| 1 | 90 MiB | 50 MiB | 60 MiB | 20 MiB | 40 | 0 |\n",
		"vigil's RSS: 100 MiB at minute 10, 105 MiB at the end (+5.0%).",
		"70 MiB at minute 10, 72 MiB at the end.",
	} {
		require.Contains(t, out, want)
	}
}

// TestRunWithoutPrometheus measures vigil alone: no Prometheus is needed
// (the binary named does not exist) and none is reported.
func TestRunWithoutPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds vigil and runs it for about 15 s")
	}
	rep, _, stdout, tmp, port := runShort(t, 2, "-root", "../..", "-targets", "2", "-series", "200",
		"-interval", "1s", "-warmup", "4s", "-window", "4s", "-profile", "0s", "-without-prometheus",
		"-prometheus", "/nonexistent/prometheus")
	require.True(t, rep.WithoutProm)
	require.InDelta(t, 2*200+150, rep.Vigil.Series, 150, "the fleet and vigil's own")
	require.Positive(t, rep.Vigil.RSS)
	require.Zero(t, rep.Prom)
	require.Empty(t, rep.Checks)
	require.Contains(t, stdout, "vigil alone (-without-prometheus)")
	requireCleanedUp(t, tmp, port, "out")
}
