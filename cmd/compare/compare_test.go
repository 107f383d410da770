package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	require.NoError(t, parseStatus([]byte("Name:\tvigil\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t9\n"), &s))
	require.Equal(t, procSample{RSS: 100 << 20, HWM: 200 << 20, Threads: 9}, s)
	require.Error(t, parseStatus([]byte("Name:\tkthreadd\nThreads:\t1\n"), &s))
}

func TestParseFlatMetrics(t *testing.T) {
	m, err := parseFlatMetrics(strings.NewReader("# HELP x y\n# TYPE x gauge\nx 1.5\ny{a=\"b\"} 2\nz 3e+06\n\nbad\n"))
	require.NoError(t, err)
	require.Equal(t, map[string]float64{"x": 1.5, "z": 3e6}, m)
}

func TestReport(t *testing.T) {
	r := report{Command: "go run ./cmd/compare -targets 2", Targets: 2, Series: 1000, Interval: 5 * time.Second,
		Warmup: time.Minute, Window: time.Minute,
		Vigil: measured{CPU: 0.05, RSS: 100 << 20, RSSMax: 110 << 20, Series: 2000, Samples: 200000, ChunkBytes: 260000},
		Prom:  measured{CPU: 0.20, RSS: 400 << 20, RSSMax: 420 << 20, Series: 2000, Samples: 200000},
		Soak: []soakPoint{
			{At: time.Minute, RSS: 90 << 20, Goroutines: 40},
			{At: 10 * time.Minute, RSS: 100 << 20, Goroutines: 41},
			{At: 30 * time.Minute, RSS: 105 << 20, Goroutines: 40},
		}}
	var b bytes.Buffer
	r.markdown(&b)
	out := b.String()
	for _, want := range []string{
		"| CPU, share of one core | 0.050 | 0.200 | 0.25 |",
		"| RSS at the end | 100 MiB | 400 MiB | 0.25 |",
		"| RSS bytes per series | 52429 | 209715 | 0.25 |",
		"| chunk bytes per sample | 1.30 | | |",
		"RSS: 100 MiB at minute 10, 105 MiB at the end (+5.0%).",
		"Goroutines: 40 at minute 1, 40 at the end.",
		"`go run ./cmd/compare -targets 2`",
	} {
		require.Contains(t, out, want)
	}
	require.Equal(t, "–", ratio(1, 0))
}

func TestConfigFor(t *testing.T) {
	cfg := configFor(1500*time.Millisecond, "/r.yml", "/sd.json")
	require.Contains(t, cfg, "scrape_interval: 1500ms")
	require.Contains(t, cfg, `rule_files: ["/r.yml"]`)
	require.Equal(t, "5s", durationYAML(5*time.Second))
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-targets", "0"}, {"-window", "0s"}, {"extra"}} {
		_, err := parseFlags(args, &bytes.Buffer{})
		require.Error(t, err, "%v", args)
	}
}

// TestRunShort is the whole runner, small: a fleet of 3, vigil and a real
// Prometheus, a short window. It checks that both scraped the same fleet
// and that nothing is left running.
func TestRunShort(t *testing.T) {
	peertest.Need(t, "prometheus", "prometheus")
	if testing.Short() {
		t.Skip("builds vigil and runs Prometheus for about 30 s")
	}
	out := t.TempDir()
	port := freeRange(t, 6)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-root", "../..", "-targets", "3", "-series", "300",
		"-interval", "1s", "-warmup", "6s", "-window", "4s", "-profile", "1s",
		"-port", strconv.Itoa(port + 2), "-out", out}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())

	var rep report
	raw, err := os.ReadFile(filepath.Join(out, "report.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &rep))
	// Both hold the fleet's series (plus a few of their own).
	for _, m := range []measured{rep.Vigil, rep.Prom} {
		require.InDelta(t, 3*300, m.Series, 150, "%+v", m)
		require.Positive(t, m.Samples)
		require.Positive(t, m.RSS)
		require.GreaterOrEqual(t, m.RSSMax, m.RSS)
	}
	require.Contains(t, stdout.String(), "| CPU, share of one core |")
	require.FileExists(t, filepath.Join(out, "cpu.pprof"))
	require.FileExists(t, filepath.Join(out, "heap.top.txt"))

	// Nothing it started is still listening.
	for i := range 5 {
		require.True(t, portFree(port+i), "port %d still taken", port+i)
	}
}

// freeRange finds n consecutive free loopback ports and returns the first.
func freeRange(t *testing.T, n int) int {
	t.Helper()
	for range 100 {
		base := 20000 + rand.IntN(30000)
		ok := true
		for i := range n {
			if !portFree(base + i) {
				ok = false
				break
			}
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

func portFree(port int) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}
