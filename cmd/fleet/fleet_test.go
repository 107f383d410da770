package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain checks that run leaves no goroutine behind once stopped: every
// target's server and connection ends with it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const recorded = "../../testdata/fleet/node_exporter.prom.txt"

func loadRecording(t testing.TB) *recording {
	t.Helper()
	raw, err := os.ReadFile(recorded)
	require.NoError(t, err)
	rec, err := parseRecording(raw)
	require.NoError(t, err)
	return rec
}

// parse reads a body with Prometheus' own parser and returns its samples
// by series.
func parse(t testing.TB, body []byte) (map[string]float64, error) {
	t.Helper()
	p := textparse.NewPromParser(body, labels.NewSymbolTable(), false)
	out := map[string]float64{}
	for {
		e, err := p.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if e != textparse.EntrySeries {
			continue
		}
		_, _, v := p.Series()
		var l labels.Labels
		p.Labels(&l)
		key := l.String()
		if _, dup := out[key]; dup {
			return out, errors.New("duplicate series " + key)
		}
		out[key] = v
	}
}

func TestBodiesParseAndScale(t *testing.T) {
	rec := loadRecording(t)
	for _, want := range []int{300, 1000, 3000, 10000} {
		fams := rec.scaled(want)
		tg := newTarget(0, Normal, fams, rec.uptime, time.Now())
		got, err := parse(t, tg.render(time.Now(), nil))
		require.NoError(t, err, "series %d", want)
		require.InDelta(t, want, len(got), float64(want)/10, "series at -series %d", want)
		// What vigil's rules and cards read is always there, once.
		n := 0
		for k := range got {
			if strings.HasPrefix(k, `{__name__="node_cpu_seconds_total"`) {
				n++
			}
			if strings.Contains(k, "fleet_copy") {
				name, _, _ := strings.Cut(strings.TrimPrefix(k, `{__name__="`), `"`)
				require.False(t, isEssential(name), "copied %s", k)
			}
		}
		require.Equal(t, 1.0, got[`{__name__="node_timex_sync_status"}`], "the clock is synchronised")
		require.Positive(t, n, "node_cpu_seconds_total at -series %d", want)
		require.Contains(t, got, `{__name__="node_load1"}`)
	}
}

func TestValuesMove(t *testing.T) {
	rec := loadRecording(t)
	start := time.Now()
	tg := newTarget(3, Normal, rec.scaled(1000), rec.uptime, start)
	first, err := parse(t, bytes.Clone(tg.render(start.Add(5*time.Second), nil)))
	require.NoError(t, err)
	second, err := parse(t, tg.render(start.Add(65*time.Second), nil))
	require.NoError(t, err)

	grew, moved := 0, 0
	for k, v := range first {
		w := second[k]
		switch {
		case strings.Contains(k, "_total\"") || strings.Contains(k, "_bucket\""):
			require.GreaterOrEqual(t, w, v, "counter %s went down", k)
			if w > v {
				grew++
			}
		case strings.Contains(k, `"node_load1"`), strings.Contains(k, `"node_memory_MemAvailable_bytes"`):
			require.NotEqual(t, v, w, "gauge %s did not move", k)
			moved++
		}
	}
	require.Greater(t, grew, 50, "counters that grew")
	require.Equal(t, 2, moved)
	// Available stays under the total, and the clock is the clock.
	require.Less(t, second[`{__name__="node_memory_MemAvailable_bytes"}`], second[`{__name__="node_memory_MemTotal_bytes"}`])
	require.InDelta(t, float64(start.Add(65*time.Second).Unix()), second[`{__name__="node_time_seconds"}`], 1)
	// Histogram buckets stay in order.
	prev := -1.0
	for _, le := range []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"} {
		v, ok := second[`{__name__="prometheus_http_request_duration_seconds_bucket", handler="/metrics", le="`+le+`"}`]
		if !ok {
			continue
		}
		require.GreaterOrEqual(t, v, prev, "bucket le=%s", le)
		prev = v
	}
	// Hosts differ.
	other := newTarget(4, Normal, rec.scaled(1000), rec.uptime, start)
	third, err := parse(t, other.render(start.Add(5*time.Second), nil))
	require.NoError(t, err)
	require.NotEqual(t, first[`{__name__="node_load1"}`], third[`{__name__="node_load1"}`])
}

// TestValuesStayPlausible steps a target through an hour of 5 s scrapes
// and checks what vigil's cards and rules compute from it.
func TestValuesStayPlausible(t *testing.T) {
	rec := loadRecording(t)
	recorded, err := parse(t, tg0(t, rec))
	require.NoError(t, err)
	for _, index := range []int{0, 1, hotEvery - 1} {
		start := time.Now()
		tg := newTarget(index, Normal, rec.scaled(1000), rec.uptime, start)
		prev, err := parse(t, tg.render(start, nil))
		require.NoError(t, err)
		for step := 1; step <= 360; step++ {
			cur, err := parse(t, tg.render(start.Add(time.Duration(step)*5*time.Second), nil))
			require.NoError(t, err)
			// A CPU's modes add up to the 5 s that passed, give or take
			// their hundredths; idle takes 0..5 s.
			spent, modes := map[string]float64{}, map[string]int{}
			for k, v := range cur {
				if !strings.HasPrefix(k, `{__name__="node_cpu_seconds_total"`) {
					continue
				}
				d := v - prev[k]
				require.GreaterOrEqual(t, d, 0.0, k)
				_, c, _ := strings.Cut(k, ` cpu="`)
				spent[c[:strings.IndexByte(c, '"')]] += d
				modes[c[:strings.IndexByte(c, '"')]]++
				if strings.Contains(k, `mode="idle"`) {
					require.LessOrEqual(t, d, 5.0, k)
				}
			}
			require.Len(t, spent, 2)
			for c, d := range spent {
				require.InDelta(t, 5, d, 0.01*float64(modes[c])+1e-9, "cpu %s at step %d", c, step)
			}
			require.Less(t, cur[`{__name__="node_memory_MemAvailable_bytes"}`], cur[`{__name__="node_memory_MemTotal_bytes"}`])
			root := `device="/dev/vda", fstype="ext4", mountpoint="/"}`
			require.LessOrEqual(t, cur[`{__name__="node_filesystem_avail_bytes", `+root], cur[`{__name__="node_filesystem_size_bytes", `+root])
			require.LessOrEqual(t, cur[`{__name__="node_filesystem_files_free", `+root], cur[`{__name__="node_filesystem_files", `+root])
			// Untyped counters of the netstat collector only grow.
			require.GreaterOrEqual(t, cur[`{__name__="node_netstat_Tcp_InSegs"}`], prev[`{__name__="node_netstat_Tcp_InSegs"}`])
			// A gauge stays within a quarter of its recorded value.
			require.InDelta(t, recorded[`{__name__="node_load1"}`], cur[`{__name__="node_load1"}`], recorded[`{__name__="node_load1"}`]/4+0.005)
			prev = cur
		}
	}
}

// TestValuesKeepRecordedDecimals checks that a series recorded as a whole
// number, or with a few decimals, keeps to as many: node_exporter writes
// bytes and counts, not the last bits of a float64, and how well both
// scrapers compress the fleet's samples depends on it.
func TestValuesKeepRecordedDecimals(t *testing.T) {
	rec := loadRecording(t)
	decimals := map[string]int{} // by series, for those with few
	recorded, err := parse(t, tg0(t, rec))
	require.NoError(t, err)
	for k, v := range recorded {
		if name, _, _ := strings.Cut(strings.TrimPrefix(k, `{__name__="`), `"`); synchronised[name] != 0 {
			continue // not the recorded value
		}
		if strings.HasPrefix(k, `{__name__="node_cpu_seconds_total"`) {
			decimals[k] = 2 // hundredths, whatever the recording's value
			continue
		}
		for d, ten := 0, 1.0; d <= maxDecimals; d, ten = d+1, ten*10 {
			if math.Round(v*ten)/ten == v {
				decimals[k] = d
				break
			}
		}
	}
	require.Greater(t, len(decimals), len(recorded)*3/4, "series with few decimals in the recording")
	start := time.Now()
	tg := newTarget(9, Normal, rec.scaled(len(recorded)), rec.uptime, start)
	changed := map[string]bool{}
	var prev map[string]float64
	for step := 1; step <= 120; step++ {
		cur, err := parse(t, tg.render(start.Add(time.Duration(step)*5*time.Second), nil))
		require.NoError(t, err)
		for k, v := range cur {
			if d, ok := decimals[k]; ok {
				s := strconv.FormatFloat(v, 'f', -1, 64)
				_, frac, _ := strings.Cut(s, ".")
				require.LessOrEqual(t, len(frac), d, "%s = %s at step %d, recorded with %d decimals", k, s, step, d)
			}
			if prev != nil && prev[k] != v {
				changed[k] = true
			}
		}
		prev = cur
	}
	// The values still move: most counters and gauges change in ten minutes.
	require.Greater(t, len(changed), len(recorded)/3, "series that changed in 120 scrapes")
}

// tg0 is the recording's body as fleet renders it before any time passes.
func tg0(t *testing.T, rec *recording) []byte {
	t.Helper()
	var b []byte
	for _, f := range rec.families {
		b = append(b, f.header...)
		for _, s := range f.series {
			b = append(b, s.prefix...)
			b = strconv.AppendFloat(b, s.value, 'g', -1, 64)
			b = append(b, '\n')
		}
	}
	return b
}

// TestBusyHosts checks that hosts differ in CPU use and that the hot ones
// are busy enough for NodeCPUBusy (> 90%).
func TestBusyHosts(t *testing.T) {
	rec := loadRecording(t)
	idle := func(index int) float64 {
		start := time.Now()
		tg := newTarget(index, Normal, rec.scaled(1000), rec.uptime, start)
		first, err := parse(t, bytes.Clone(tg.render(start, nil)))
		require.NoError(t, err)
		for step := 1; step < 24; step++ {
			tg.render(start.Add(time.Duration(step)*5*time.Second), nil)
		}
		last, err := parse(t, tg.render(start.Add(120*time.Second), nil))
		require.NoError(t, err)
		k := `{__name__="node_cpu_seconds_total", cpu="0", mode="idle"}`
		return (last[k] - first[k]) / 120
	}
	hot := idle(hotEvery - 1)
	require.Less(t, hot, 0.1, "hot host idle share")
	seen := map[float64]bool{}
	for i := range hotEvery - 1 {
		r := idle(i)
		require.Greater(t, r, 0.25, "host %d idle share", i)
		seen[r] = true
	}
	require.Len(t, seen, hotEvery-1, "hosts' CPU use differs")
}

func TestHostileBody(t *testing.T) {
	rec := loadRecording(t)
	tg := newTarget(0, Hostile, rec.scaled(1000), rec.uptime, time.Now())
	// Two scrapers at a 5 s interval, 1.3 s apart, as vigil and Prometheus
	// scrape one target in cmd/compare: each sees one scrape in four fail,
	// not one of them every other scrape and the other never.
	start := time.Unix(1_800_000_000, 0)
	offsets := []time.Duration{0, 1300 * time.Millisecond}
	failed := make([]int, len(offsets))
	for i := range 4 * garbageEvery {
		for s, offset := range offsets {
			now := start.Add(offset + time.Duration(i)*5*time.Second)
			body := tg.render(now, nil)
			for _, raw := range []string{"\x1b[2J", "\x1b]0;", "\x07", "\x08", "\x7f", "\u009b", "\x9b31m", "\u202e", "\xff\xfe", "} NaN\n", "} +Inf\n", "} -Inf\n"} {
				require.Contains(t, string(body), raw)
			}
			require.Contains(t, string(body), strings.Repeat("A", hugeLabel))
			if _, err := parse(t, body); err != nil {
				require.True(t, garbageAt(now), "scraper %d, scrape %d failed: %v", s, i, err)
				require.Contains(t, string(body), "this is not { a metric line\n")
				failed[s]++
			}
		}
	}
	require.Equal(t, []int{4, 4}, failed, "one scrape in %d fails, for each scraper", garbageEvery)
	// A normal target never carries garbage, whatever the clock says.
	normal := newTarget(1, Normal, rec.scaled(1000), rec.uptime, start)
	for i := range garbageEvery {
		_, err := parse(t, normal.render(start.Add(time.Duration(i)*5*time.Second), nil))
		require.NoError(t, err)
	}
}

// freePorts returns the first of n consecutive loopback ports that are
// free now.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		base := ln.Addr().(*net.TCPAddr).Port
		lns := []net.Listener{ln}
		for i := 1; i < n; i++ {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(base+i)))
			if err != nil {
				break
			}
			lns = append(lns, l)
		}
		for _, l := range lns {
			l.Close()
		}
		if len(lns) == n {
			return base
		}
	}
	t.Fatal("no free loopback ports")
	return 0
}

// startRun runs fleet with args on n targets from a free port, waits for
// its ready line, and returns the first port and a stop function that
// returns what fleet wrote on stdout after the ready line.
func startRun(t *testing.T, n int, args ...string) (int, func() string) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		base := freePorts(t, n)
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, append(args, "-targets", strconv.Itoa(n),
				"-listen", net.JoinHostPort("127.0.0.1", strconv.Itoa(base))), pw, io.Discard)
			pw.Close()
		}()
		rd := bufio.NewReader(pr)
		line, err := rd.ReadString('\n')
		if err != nil { // run failed before it was ready
			cancel()
			runErr := <-done
			if strings.Contains(fmt.Sprint(runErr), "address already in use") && attempt < 5 {
				continue // another process took a port in between
			}
			t.Fatalf("fleet never got ready: %v", runErr)
		}
		require.Equal(t, "fleet: ready "+strconv.Itoa(n)+" targets\n", line)
		rest := make(chan string, 1)
		go func() {
			b, _ := io.ReadAll(rd)
			rest <- string(b)
		}()
		return base, func() string {
			cancel()
			require.NoError(t, <-done)
			return <-rest
		}
	}
}

func TestRun(t *testing.T) {
	sd := filepath.Join(t.TempDir(), "sd.json")
	base, stop := startRun(t, 4, "-series", "500", "-hostile", "1", "-slow", "1", "-slow-delay", "300ms",
		"-down", "1", "-sd-file", sd, "-body", recorded)

	url := func(i int) string {
		return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(base+i)) + "/metrics"
	}
	get := func(i int, gz bool) (*http.Response, []byte, time.Duration) {
		req, _ := http.NewRequest("GET", url(i), nil)
		req.Header.Set("Accept-Encoding", "identity")
		if gz { // asked for explicitly, the transport leaves the body compressed
			req.Header.Set("Accept-Encoding", "gzip")
		}
		t0 := time.Now()
		resp, err := http.DefaultTransport.RoundTrip(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, b, time.Since(t0)
	}
	resp, body, _ := get(2, false)
	require.Equal(t, "text/plain; version=0.0.4; charset=utf-8", resp.Header.Get("Content-Type"))
	samples, err := parse(t, body)
	require.NoError(t, err)
	require.InDelta(t, 500, len(samples), 50)

	resp, body, _ = get(2, true)
	require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	zr, err := gzip.NewReader(bytes.NewReader(body))
	require.NoError(t, err)
	body, err = io.ReadAll(zr)
	require.NoError(t, err)
	_, err = parse(t, body)
	require.NoError(t, err, "the gzipped body")

	_, body, _ = get(0, false)
	require.Contains(t, string(body), "\x1b]0;")

	_, _, took := get(1, false)
	require.GreaterOrEqual(t, took, 300*time.Millisecond, "the slow target answered at once")

	_, err = http.Get(url(3))
	require.ErrorContains(t, err, "connection refused")

	sdBody, err := os.ReadFile(sd)
	require.NoError(t, err)
	for _, kind := range []string{"normal", "hostile", "slow", "down"} {
		require.Contains(t, string(sdBody), `"fleet_kind": "`+kind+`"`)
	}

	require.Empty(t, stop(), "stdout after the ready line")
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-targets", "0"},
		{"-targets", "2", "-down", "2", "-slow", "1"},
		{"-listen", "nowhere"},
		{"-expect", "x.json"}, // without -steady
		{"extra"},
	} {
		err := run(context.Background(), append(args, "-body", recorded), io.Discard, io.Discard)
		require.Error(t, err, "%v", args)
	}
}

// TestReadBody finds the recording from a subdirectory of the repository,
// as go run ./cmd/fleet does from cmd/fleet, but not what is not there.
func TestReadBody(t *testing.T) {
	raw, err := readBody("testdata/fleet/node_exporter.prom.txt") // the test runs in cmd/fleet
	require.NoError(t, err)
	want, err := os.ReadFile(recorded)
	require.NoError(t, err)
	require.Equal(t, want, raw)
	_, err = readBody("testdata/fleet/missing.prom.txt")
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = readBody(filepath.Join(t.TempDir(), "missing.prom.txt"))
	require.ErrorIs(t, err, fs.ErrNotExist)
}

// BenchmarkBody measures what one scrape of a 1,000-series target costs
// the fleet: at 300 targets every 5 s that is 60 bodies a second. Both
// vigil and Prometheus ask for gzip, so that case is measured too.
func BenchmarkBody(b *testing.B) {
	rec := loadRecording(b)
	for _, bc := range []struct {
		name string
		gz   bool
	}{{"plain", false}, {"gzip", true}} {
		b.Run(bc.name, func(b *testing.B) {
			tg := newTarget(0, Normal, rec.scaled(1000), rec.uptime, time.Now())
			zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
			var (
				now  = time.Now()
				buf  []byte
				wire countingWriter
			)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				now = now.Add(5 * time.Second)
				buf = tg.render(now, buf[:0])
				if bc.gz {
					zw.Reset(&wire)
					_, _ = zw.Write(buf)
					_ = zw.Close()
				}
			}
			n := float64(len(tg.lines))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/series")
			b.ReportMetric(n, "series/body")
			b.ReportMetric(float64(len(buf)), "bytes/body")
			if bc.gz {
				b.ReportMetric(float64(wire)/float64(b.N), "gzbytes/body")
			}
		})
	}
}

type countingWriter int64

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}

// TestBinary runs the built command: one ready line on stdout, nothing
// after it, and a clean exit on SIGINT and on SIGTERM.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "fleet")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			base := freePorts(t, 2)
			cmd := exec.Command(bin, "-targets", "2", "-down", "1", "-body", recorded,
				"-listen", net.JoinHostPort("127.0.0.1", strconv.Itoa(base)))
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			rd := bufio.NewReader(stdout)
			line, err := rd.ReadString('\n')
			if err != nil {
				_ = cmd.Wait() // stderr is complete after Wait
				t.Fatalf("no ready line: %v; stderr: %s", err, stderr.String())
			}
			require.Equal(t, "fleet: ready 2 targets\n", line)
			require.NoError(t, cmd.Process.Signal(sig))
			rest, err := io.ReadAll(rd)
			require.NoError(t, err)
			err = cmd.Wait()
			require.NoError(t, err, "stderr: %s", stderr.String())
			require.Empty(t, string(rest), "stdout after the ready line")
		})
	}
}
