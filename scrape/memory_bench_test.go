package scrape

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilterm/vigil/store"
)

// hugeTargetBody is a body of n series in 20 families, a 7-digit id label
// each: about 21 bytes a series, so that 2 million fit in the default
// 64 MiB body limit, as the runaway target of issue 19 did.
func hugeTargetBody(n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 22)
	for i := range n {
		b.WriteString("fam_")
		b.WriteString(strconv.Itoa(i % 20))
		b.WriteString(`{id="`)
		fmt.Fprintf(&b, "%07d", i)
		b.WriteString("\"} 1\n")
	}
	return b.Bytes()
}

// BenchmarkMaxSeriesMemory scrapes a target of 2,000,000 series three
// times into a store whose --max-series is 100,000, as vigil does (the
// loop, its body buffers, the store), and reports the heap it holds
// afterwards (after a collection), which the series the store refused must
// not add to: docs/performance.md compares it with what 100,000 series
// cost. MAXSERIES_TARGET and MAXSERIES_CAP change the sizes.
//
//	go test -run '^$' -bench MaxSeriesMemory -benchtime 1x ./scrape/
func BenchmarkMaxSeriesMemory(b *testing.B) {
	n, limit := envInt(b, "MAXSERIES_TARGET", 2_000_000), envInt(b, "MAXSERIES_CAP", 100_000)
	body := hugeTargetBody(n)
	b.ReportMetric(float64(len(body))/(1<<20), "body-MiB")
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		db := store.New(store.Options{Retention: time.Hour, MaxSeries: limit, SnapshotInterval: -1})
		l := benchLoop(db, staticScraper{ct: "text/plain; version=0.0.4", body: body})
		start := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
		b.StartTimer()
		t0 := time.Now()
		const scrapes = 3
		for k := range scrapes {
			l.scrapeOnce(context.Background(), start.Add(time.Duration(k)*15*time.Second))
		}
		perScrape := time.Since(t0) / scrapes
		b.StopTimer()
		h := l.healthSnapshot()
		if h.Health != HealthUp || h.SeriesRefused != n-limit {
			b.Fatalf("health %s, %d series refused (want %d): %s", h.Health, h.SeriesRefused, n-limit, h.LastError)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		b.ReportMetric(held/(1<<20), "heap-MiB")
		b.ReportMetric(held/float64(limit), "heap-bytes/stored-series")
		b.ReportMetric(perScrape.Seconds(), "s/scrape")
		b.ReportMetric(float64(len(l.series.all)), "cached-series")
		runtime.KeepAlive(l)
		_ = db.Close()
	}
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		b.Fatalf("%s=%q: %v", name, s, err)
	}
	return n
}

// BenchmarkHeapAfterHugeBody runs a Manager with vigil's GOGC (10) on a
// node_exporter-like target scraped every second, and a second target that
// once sends a 200 MB body (refused at the 64 MiB body_size_limit, after
// reading that much, as a runaway exporter or a gzip bomb are) and then a
// small one. It reports the heap a minute later against the heap before
// it: the goal is within 20% (ratio ≤ 1.2). HUGEBODY_WAIT changes the
// minute.
//
//	go test -run '^$' -bench HeapAfterHugeBody -benchtime 1x ./scrape/
func BenchmarkHeapAfterHugeBody(b *testing.B) {
	wait := time.Minute
	if s := os.Getenv("HUGEBODY_WAIT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			b.Fatal(err)
		}
		wait = d
	}
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	node, err := os.ReadFile("../testdata/fleet/node_exporter.prom.txt")
	if err != nil {
		b.Fatal(err)
	}
	small := srvOf(func(w http.ResponseWriter) { w.Write(node) })
	defer small.Close()
	var huge atomic.Bool
	chunk := bytes.Repeat([]byte("m 1\n"), 1<<18) // 1 MiB
	big := srvOf(func(w http.ResponseWriter) {
		if !huge.Swap(false) {
			w.Write([]byte("m 1\n"))
			return
		}
		w.(http.Flusher).Flush() // chunked: read to the limit, not refused by its length
		for range 200 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	defer big.Close()
	for i := 0; i < b.N; i++ {
		db := store.New(store.Options{Retention: time.Hour, SnapshotInterval: -1})
		m := NewManager(db, Options{Logger: discardLogger()})
		cfg, err := NewStaticConfig([]string{small.Listener.Addr().String(), big.Listener.Addr().String()}, time.Second)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.ApplyConfig(cfg); err != nil {
			b.Fatal(err)
		}
		time.Sleep(10 * time.Second) // the store and caches fill, the heap settles
		base := heapFigures()
		huge.Store(true)
		deadline := time.Now().Add(10 * time.Second)
		for huge.Load() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if huge.Load() {
			b.Fatal("the huge body was never asked for")
		}
		for end := time.Now().Add(wait); time.Now().Before(end); time.Sleep(5 * time.Second) {
			if os.Getenv("HUGEBODY_TRACE") != "" {
				h := heapFigures()
				b.Logf("heap in use %.1f MiB, held from the OS %.1f MiB", h.inuse/(1<<20), h.held/(1<<20))
			}
		}
		after := heapFigures()
		var downs int
		for _, th := range m.Targets() {
			if strings.Contains(th.LastError, "body size limit") {
				downs++
			}
		}
		m.Close()
		_ = db.Close()
		b.ReportMetric(base.inuse/(1<<20), "baseline-heap-MiB")
		b.ReportMetric(after.inuse/(1<<20), "after-heap-MiB")
		b.ReportMetric(after.inuse/base.inuse, "heap-ratio")
		b.ReportMetric(after.held/base.held, "os-held-ratio")
		b.ReportMetric(after.held/(1<<20), "after-os-held-MiB")
	}
}

// heapStat is the heap in use (spans with objects, live or not yet
// collected) and what the heap holds from the OS (not yet released).
type heapStat struct{ inuse, held float64 }

func heapFigures() heapStat {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return heapStat{float64(ms.HeapInuse), float64(ms.HeapSys - ms.HeapReleased)}
}

func srvOf(write func(http.ResponseWriter)) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		write(w)
	}))
}
