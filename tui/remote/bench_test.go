package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

// vectorBody is an answer of /api/v1/query with n series of a
// node_exporter-like family: about 200 bytes a series.
func vectorBody(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"metric":{"__name__":"node_network_receive_bytes_total","device":"eth%d","instance":"host-%06d.example:9100","job":"node"},"value":[1700000000.123,"%d"]}`, i%4, i/4, i*1000)
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}

// endlessTransport answers with a vector that never ends: a query over a
// million series of a large Mimir, and more.
type endlessTransport struct{}

func (endlessTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	head := strings.NewReader(`{"status":"success","data":{"resultType":"vector","result":[`)
	series := `{"metric":{"__name__":"x","instance":"host.example:9100","job":"node"},"value":[1700000000,"1"]},`
	return &http.Response{StatusCode: 200, Header: http.Header{}, ContentLength: -1, Request: req,
		Body: io.NopCloser(io.MultiReader(head, &repeatReader{s: series}))}, nil
}

type repeatReader struct {
	s string
	i int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.s[r.i:])
		n += c
		r.i = (r.i + c) % len(r.s)
	}
	return n, nil
}

// BenchmarkAnswer: what reading an answer costs, by its series: the
// bytes allocated for each byte of the body (alloc/body-byte), which
// bounds what an answer of MaxBytes takes of vigil's memory.
func BenchmarkAnswer(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		body := vectorBody(n)
		b.Run(fmt.Sprintf("series=%d", n), func(b *testing.B) {
			s, err := newSource(Options{URL: &url.URL{Scheme: "http", Host: "remote"}, MaxSeries: -1}, bodyTransport{status: 200, body: body})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			var total uint64
			peak := watchHeap()
			for b.Loop() {
				before := allocated()
				if _, err := s.Instant(context.Background(), "x", time.Unix(1700000000, 0)); err != nil {
					b.Fatal(err)
				}
				total += allocated() - before
			}
			b.ReportMetric(float64(total)/float64(b.N)/float64(len(body)), "alloc/body-byte")
			b.ReportMetric(float64(peak())/float64(len(body)), "peak-heap/body-byte")
			b.ReportMetric(float64(len(body)), "body-bytes")
		})
	}
}

// BenchmarkEndlessAnswer: an answer that does not end costs what
// MaxBytes of it does, then fails.
func BenchmarkEndlessAnswer(b *testing.B) {
	s, err := newSource(Options{URL: &url.URL{Scheme: "http", Host: "remote"}}, endlessTransport{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	var total uint64
	peak := watchHeap()
	for b.Loop() {
		before := allocated()
		_, err := s.Instant(context.Background(), "x", time.Unix(1700000000, 0))
		if !errors.Is(err, ErrTooLarge) {
			b.Fatalf("want ErrTooLarge, got %v", err)
		}
		total += allocated() - before
	}
	b.ReportMetric(float64(total)/float64(b.N)/DefaultMaxBytes, "alloc/MaxBytes")
	b.ReportMetric(float64(peak())/DefaultMaxBytes, "peak-heap/MaxBytes")
}

// allocated is the bytes this process has allocated so far.
func allocated() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// watchHeap samples the heap in use until the returned func is called,
// which returns the most it saw above what was in use at the start.
func watchHeap() func() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	done := make(chan struct{})
	most := make(chan uint64)
	go func() {
		var top uint64
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				most <- top
				return
			case <-t.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > base {
					top = max(top, ms.HeapInuse-base)
				}
			}
		}
	}()
	return func() uint64 {
		close(done)
		return <-most
	}
}
