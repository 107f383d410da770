package scrape

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/vigilterm/vigil/scrape/peertest"
	"github.com/vigilterm/vigil/store"
)

// benchBodies returns n bodies of 1,000 series each, shaped like
// node_exporter's output (families of counters and gauges with a few
// labels, HELP and TYPE lines), with values that move between bodies as
// counters and gauges do.
func benchBodies(n int) [][]byte {
	rng := rand.New(rand.NewSource(1))
	const families, perFamily = 50, 20
	counters := make([]float64, families*perFamily)
	out := make([][]byte, n)
	for i := range out {
		var b bytes.Buffer
		for f := 0; f < families; f++ {
			name := fmt.Sprintf("node_bench_family_%d", f)
			typ := "gauge"
			if f%2 == 0 {
				name += "_total"
				typ = "counter"
			}
			fmt.Fprintf(&b, "# HELP %s Benchmark family %d.\n# TYPE %s %s\n", name, f, name, typ)
			for s := 0; s < perFamily; s++ {
				k := f*perFamily + s
				if typ == "counter" {
					counters[k] += float64(rng.Intn(1000))
				} else {
					counters[k] = float64(rng.Intn(100)) / 4
				}
				fmt.Fprintf(&b, "%s{device=\"dev%d\",mode=\"mode%d\",cpu=\"%d\"} %g\n", name, s, s%8, s%4, counters[k])
			}
		}
		out[i] = b.Bytes()
	}
	return out
}

func benchLoop(db store.Appendable, s scraper) *loop {
	t := &target{
		labels:   labels.FromStrings("job", "node", "instance", "bench:9100"),
		display:  "http://bench:9100/metrics",
		interval: 15 * time.Second, timeout: 10 * time.Second,
	}
	return newLoop(t, s, db, loopOptions{honorTimestamps: true, fallback: "text/plain"}, discardLogger())
}

// BenchmarkScrapeLoopAppend measures what Prometheus' benchmark of the
// same name does: parse a 1,000-series body and append it (with the
// synthetic series and the staleness check) into the real store, one
// transaction per scrape.
//
//	go test -run '^$' -bench ScrapeLoopAppend -benchtime 2000x ./scrape/
func BenchmarkScrapeLoopAppend(b *testing.B) {
	bodies := benchBodies(16)
	db := store.New(store.Options{Retention: -1})
	defer db.Close()
	l := benchLoop(db, nil)
	ts := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC).UnixMilli()
	// Warm up: the series exist, as they do after the first scrape.
	app := db.Appender()
	if _, err := l.append(app, bodies[0], "text/plain; version=0.0.4", ts); err != nil {
		b.Fatal(err)
	}
	_ = app.Commit()
	b.ReportAllocs()
	m0 := startPerSample(b)
	for i := 0; i < b.N; i++ {
		ts += 15000
		app := db.Appender()
		st, err := l.append(app, bodies[i%len(bodies)], "text/plain; version=0.0.4", ts)
		if err != nil {
			b.Fatal(err)
		}
		l.appendReport(app, ts, 1, &reportValues{0.01, st.total, st.added, st.seriesAdded}, nil)
		if err := app.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	reportPerSample(b, 1000, m0)
}

// BenchmarkScrapeHTTP adds the HTTP request to the above: a whole scrape
// of a gzipped 1,000-series body from a loopback server. The bodies are
// compressed before the timer starts, so the figure holds the
// decompression (as an exporter's scrapes do) but not the compression,
// which an exporter pays.
//
//	go test -run '^$' -bench ScrapeHTTP -benchtime 1000x ./scrape/
func BenchmarkScrapeHTTP(b *testing.B) {
	bodies := benchBodies(16)
	for i, body := range bodies {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		if _, err := w.Write(body); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		bodies[i] = z.Bytes()
	}
	var n int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			http.Error(w, "the benchmark serves gzip only", http.StatusNotAcceptable)
			return
		}
		mu.Lock()
		body := bodies[n%len(bodies)]
		n++
		mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(body)
	}))
	defer srv.Close()
	db := store.New(store.Options{Retention: -1})
	defer db.Close()
	l := benchLoop(db, &httpScraper{client: srv.Client(), url: srv.URL + "/metrics", accept: acceptHeader(DefaultScrapeProtocols), timeout: 10 * time.Second, compression: true})
	start := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	l.scrapeOnce(context.Background(), start)
	b.ReportAllocs()
	m0 := startPerSample(b)
	for i := 0; i < b.N; i++ {
		l.scrapeOnce(context.Background(), start.Add(time.Duration(i+1)*15*time.Second))
	}
	reportPerSample(b, 1000, m0)
	if h := l.healthSnapshot(); h.Health != HealthUp {
		b.Fatal(h.LastError)
	}
}

// perSample is where a timed part started: allocations and process CPU
// time. On a shared machine the CPU time per sample is the steadier figure:
// wall time also counts the time other processes had the cores.
type perSample struct {
	mallocs uint64
	cpu     time.Duration
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startPerSample notes the allocation count and CPU time at the start of
// the timed part.
func startPerSample(b *testing.B) perSample {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ResetTimer()
	return perSample{ms.Mallocs, cpuTime()}
}

// reportPerSample reports time and allocations per sample of the timed
// part, samples being the samples per iteration.
func reportPerSample(b *testing.B, samples int, start perSample) {
	b.StopTimer()
	cpu := cpuTime() - start.cpu
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	n := float64(b.N * samples)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/sample")
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/sample")
	b.ReportMetric(float64(ms.Mallocs-start.mallocs)/n, "allocs/sample")
}

// neBodies caches bodies scraped from a real node_exporter, so that both
// compression benchmarks see the same values.
var neBodies struct {
	sync.Mutex
	bodies [][]byte
	ct     string
}

func nodeExporterBody(b *testing.B, url string, i int) ([]byte, string) {
	neBodies.Lock()
	defer neBodies.Unlock()
	for len(neBodies.bodies) <= i {
		resp, err := http.Get(url + "/metrics")
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		neBodies.bodies = append(neBodies.bodies, body)
		neBodies.ct = resp.Header.Get("Content-Type")
	}
	return neBodies.bodies[i], neBodies.ct
}

// BenchmarkCompression stores b.N scrapes of a real node_exporter, stamped
// as a 15s loop on a loaded machine would stamp them (each scrape starts
// 0–3 ms after its slot), with and without snapping to the slot, and
// reports the store's bytes per sample.
//
//	go test -run '^$' -bench Compression -benchtime 240x ./scrape/
func BenchmarkCompression(b *testing.B) {
	ne := peertest.NodeExporter(b)
	for _, snapped := range []bool{true, false} {
		b.Run(fmt.Sprintf("snapped=%v", snapped), func(b *testing.B) {
			rng := rand.New(rand.NewSource(1))
			db := store.New(store.Options{Retention: -1})
			defer db.Close()
			l := benchLoop(db, nil)
			const interval = 15 * time.Second
			slot0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
			var prev time.Time
			for i := 0; i < b.N; i++ {
				body, ct := nodeExporterBody(b, ne.URL, i)
				start := slot0.Add(time.Duration(i)*interval + time.Duration(rng.Intn(3000))*time.Microsecond)
				ts := start
				if snapped {
					ts = snap(prev, start, interval, l.tolerance)
				}
				prev = ts
				app := db.Appender()
				if _, err := l.append(app, body, ct, ts.UnixMilli()); err != nil {
					b.Fatal(err)
				}
				if err := app.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			st := db.Stats()
			b.ReportMetric(float64(st.ChunkBytes)/float64(st.Samples), "bytes/sample")
		})
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// BenchmarkParseOnly is the floor under BenchmarkScrapeLoopAppend on the
// same machine: textparse alone over the same bodies, nothing stored.
func BenchmarkParseOnly(b *testing.B) {
	bodies := benchBodies(16)
	st := labels.NewSymbolTable()
	b.ReportAllocs()
	m0 := startPerSample(b)
	for i := 0; i < b.N; i++ {
		p, _ := textparse.New(bodies[i%len(bodies)], "text/plain; version=0.0.4", st, textparse.ParserOptions{})
		for {
			e, err := p.Next()
			if err != nil {
				break
			}
			if e == textparse.EntrySeries {
				p.Series()
			}
		}
	}
	reportPerSample(b, 1000, m0)
}

// BenchmarkLoopMemory reports the heap 100 scrape loops hold for their
// targets once a real node_exporter body (505 series, 282 families,
// testdata/fleet) has been scraped often enough for the loops to let their
// lookup maps go (see quietScrapes): the series cache, the label sets
// (which the store shares), the comment lines and family types. The store
// is left out: the loops append to nopAppendable, which keeps nothing.
//
//	go test -run '^$' -bench LoopMemory -benchtime 3x ./scrape/
func BenchmarkLoopMemory(b *testing.B) {
	body, err := os.ReadFile("../testdata/fleet/node_exporter.prom.txt")
	if err != nil {
		b.Fatal(err)
	}
	bodies := slices.Repeat([][]byte{body}, quietScrapes+2)
	const targets = 100
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		app := nopAppendable{}
		loops := make([]*loop, targets)
		series := 0
		for j := range loops {
			l := benchLoop(app, nil)
			l.t.labels = labels.FromStrings("job", "node", "instance", fmt.Sprintf("host%d:9100", j))
			for k, body := range bodies {
				st, err := l.append(app.Appender(), body, "text/plain; version=0.0.4", int64(k)*15000)
				if err != nil {
					b.Fatal(err)
				}
				if k == 0 {
					series += st.series
				}
			}
			loops[j] = l
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(loops)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(series), "bytes/series")
	}
}
