package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/cmd/vigil/internal/web"
	"github.com/vigilterm/vigil/store"
)

// countingWriter is a ResponseWriter that keeps nothing but the count,
// so that what is measured is the server's.
type countingWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *countingWriter) Header() http.Header         { return w.h }
func (w *countingWriter) WriteHeader(code int)        { w.code = code }
func (w *countingWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }

// BenchmarkQueryRange measures /api/v1/query_range over 100,000 series
// (12,500 hosts × 8 CPUs of node_cpu_seconds_total, 15s apart): a range
// of 5m at a 30s step, 11 points a series, 1.1 million samples in the
// answer, from the request to the last byte written, without and with
// gzip. Reported per returned sample: CPU time (ns/sample), heap
// allocations (allocs/sample, B/sample) and the answer's size
// (resp-B/sample).
func BenchmarkQueryRange(b *testing.B) {
	const (
		hosts  = 12_500
		cpus   = 8
		series = hosts * cpus
		points = 11
	)
	db := store.New(store.Options{Retention: time.Hour, MaxSeries: 2 * series})
	b.Cleanup(func() { _ = db.Close() })
	now := time.Now().Truncate(time.Minute)
	lsets := make([]labels.Labels, 0, series)
	for h := range hosts {
		for c := range cpus {
			lsets = append(lsets, labels.FromStrings("__name__", "node_cpu_seconds_total", "cpu", fmt.Sprint(c),
				"instance", fmt.Sprintf("host-%05d:9100", h), "job", "node", "mode", "idle"))
		}
	}
	for k := range 41 { // 10 minutes at 15s
		app := db.Appender()
		ts := now.Add(-10 * time.Minute).Add(time.Duration(k) * 15 * time.Second).UnixMilli()
		for i, ls := range lsets {
			_, err := app.Append(0, ls, ts, float64(k)*1.25+float64(i%100))
			require.NoError(b, err)
		}
		require.NoError(b, app.Commit())
	}
	o := web.DefaultOptions()
	o.ListenAddress = "127.0.0.1:0"
	srv, err := web.New(o, web.Sources{Queryable: db, EngineOptions: alert.EngineOptions(nil, time.Minute)}, nil)
	require.NoError(b, err)
	b.Cleanup(func() { _ = srv.Close() })
	h := srv.Handler()
	target := fmt.Sprintf("/api/v1/query_range?query=node_cpu_seconds_total&start=%d&end=%d&step=30",
		now.Add(-5*time.Minute).Unix(), now.Unix())

	for _, gz := range []bool{false, true} {
		name := "json"
		if gz {
			name = "gzip"
		}
		b.Run(name, func(b *testing.B) {
			var (
				w        countingWriter
				before   runtime.MemStats
				after    runtime.MemStats
				respSize int
			)
			runtime.GC()
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for range b.N {
				req := httptest.NewRequest(http.MethodGet, target, nil)
				if gz {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				w = countingWriter{h: http.Header{}}
				h.ServeHTTP(&w, req)
				if w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
				respSize = w.n
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			samples := float64(b.N) * series * points
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/samples, "ns/sample")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/samples, "allocs/sample")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/samples, "B/sample")
			b.ReportMetric(float64(respSize)/(series*points), "resp-B/sample")
		})
	}
}
