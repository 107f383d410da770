package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/stretchr/testify/require"
)

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
	for _, want := range []int{300, 1000, 3000} {
		fams := rec.scaled(want)
		tg := newTarget(0, Normal, fams, rec.uptime, time.Now())
		got, err := parse(t, tg.render(time.Now()))
		require.NoError(t, err, "series %d", want)
		require.InDelta(t, want, len(got), float64(want)/10, "series at -series %d", want)
		// What vigil's rules and cards read is always there, once.
		n := 0
		for k := range got {
			if strings.HasPrefix(k, `{__name__="node_cpu_seconds_total"`) {
				n++
			}
			require.NotContains(t, k, `__name__="node_load1", fleet_copy`)
		}
		require.Positive(t, n, "node_cpu_seconds_total at -series %d", want)
		require.Contains(t, got, `{__name__="node_load1"}`)
	}
}

func TestValuesMove(t *testing.T) {
	rec := loadRecording(t)
	start := time.Now()
	tg := newTarget(3, Normal, rec.scaled(1000), rec.uptime, start)
	first, err := parse(t, bytes.Clone(tg.render(start.Add(5*time.Second))))
	require.NoError(t, err)
	second, err := parse(t, tg.render(start.Add(65*time.Second)))
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
	third, err := parse(t, other.render(start.Add(5*time.Second)))
	require.NoError(t, err)
	require.NotEqual(t, first[`{__name__="node_load1"}`], third[`{__name__="node_load1"}`])
}

func TestHostileBody(t *testing.T) {
	rec := loadRecording(t)
	tg := newTarget(0, Hostile, rec.scaled(1000), rec.uptime, time.Now())
	failed := 0
	for i := 1; i <= 2*garbageEvery; i++ {
		body := tg.render(time.Now())
		for _, raw := range []string{"\x1b[2J", "\x1b]0;", "\x07", "\u009b", "\u202e", "} NaN\n", "} +Inf\n", "} -Inf\n"} {
			require.Contains(t, string(body), raw)
		}
		require.Contains(t, string(body), strings.Repeat("A", hugeLabel))
		if _, err := parse(t, body); err != nil {
			failed++
			require.Zero(t, i%garbageEvery, "scrape %d failed: %v", i, err)
		}
	}
	require.Equal(t, 2, failed, "one scrape in %d fails", garbageEvery)
}

func TestRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	base := addr.Port
	sd := filepath.Join(t.TempDir(), "sd.json")

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-targets", "4", "-series", "500", "-hostile", "1", "-slow", "1", "-slow-delay", "300ms",
			"-down", "1", "-listen", addr.String(), "-sd-file", sd, "-body", recorded}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "fleet: ready 4 targets\n", line)

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

	resp, _, _ = get(2, true)
	require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))

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

	cancel()
	require.NoError(t, <-done)
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-targets", "0"},
		{"-targets", "2", "-down", "2", "-slow", "1"},
		{"-listen", "nowhere"},
		{"extra"},
	} {
		err := run(context.Background(), append(args, "-body", recorded), io.Discard, io.Discard)
		require.Error(t, err, "%v", args)
	}
}

// BenchmarkBody measures what one scrape of a 1,000-series target costs
// the fleet: at 300 targets every 5 s that is 60 bodies a second.
func BenchmarkBody(b *testing.B) {
	rec := loadRecording(b)
	tg := newTarget(0, Normal, rec.scaled(1000), rec.uptime, time.Now())
	now := time.Now()
	var size int
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now = now.Add(5 * time.Second)
		size = len(tg.render(now))
	}
	n := float64(len(tg.lines))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/series")
	b.ReportMetric(float64(size), "bytes/body")

}
