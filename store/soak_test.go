package store

import (
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// heapFigures reads the Go heap's split from runtime/metrics without forcing
// a collection: live objects (and those not yet swept), the free space inside
// spans that hold objects (fragmentation), and the pages Go holds that no
// span uses, retained or released to the OS.
type heapFigures struct {
	objects, unused, free, released uint64
}

// inUse is what the heap's spans take: the part of RSS that the scavenger
// cannot give back, whatever its pace.
func (h heapFigures) inUse() uint64 { return h.objects + h.unused }

func readHeap() heapFigures {
	s := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	metrics.Read(s)
	return heapFigures{s[0].Value.Uint64(), s[1].Value.Uint64(), s[2].Value.Uint64(), s[3].Value.Uint64()}
}

// soakValues gives each series the kind of values the fleet serves: counters
// that grow by a jittered rate, gauges that wander, constants. Chunk sizes
// then vary from series to series and from chunk to chunk, as they do in
// vigil.
type soakValues struct {
	rng *rand.Rand
	v   []float64
}

func newSoakValues(n int) *soakValues {
	sv := &soakValues{rng: rand.New(rand.NewPCG(1, 2)), v: make([]float64, n)}
	for k := range sv.v {
		sv.v[k] = float64(sv.rng.IntN(1e6)) + sv.rng.Float64()
	}
	return sv
}

func (sv *soakValues) next(k int) float64 {
	switch k % 4 {
	case 0, 1: // counter
		sv.v[k] += sv.v[k] * 1e-4 * (0.5 + sv.rng.Float64())
	case 2: // gauge
		sv.v[k] *= 1 + (sv.rng.Float64()-0.5)*0.02
	}
	return sv.v[k]
}

// BenchmarkRingSoak runs the ring the way `cmd/compare -soak 30m -retention
// 10m` does, in sample time: 50,000 node_exporter-like series scraped every
// 5 s by "targets" of 1,000, for six retention periods, at vigil's GOGC of
// 10, forcing no collection while it runs (vigil does not); and the same
// with vigil's default retention of an hour, for two. It reports the live
// heap per series (after a forced collection) once the ring has just
// filled (minute 10, hour 1) and at the end, and the growth between them;
// the chunk bytes and the ring's chunk lists per series at the end; and
// the CPU per sample. With -v it logs the heap every half retention.
//
// Both points are just before a chunk is cut. At minute 10 of the 10m
// retention a series holds exactly the retention (three closed chunks and
// a full head); at the end the retention and half a chunk more (four
// closed chunks, the oldest trimmed to the retention when half of it
// expired, and a full head), so its chunk bytes are about a sixth higher,
// and the live heap should grow by that and no more: the trim
// (memSeries.trimOldest), and the ring dropping its expired chunk at each
// cut and growing its chunk list by one (Commit, memSeries.cut), are what
// hold it there.
//
//	go test ./store -run '^$' -bench RingSoak -benchtime 1x -v
func BenchmarkRingSoak(b *testing.B) {
	b.Run("retention=10m", func(b *testing.B) { ringSoak(b, 10*time.Minute, 6) })
	b.Run("retention=1h", func(b *testing.B) { ringSoak(b, time.Hour, 2) })
}

func ringSoak(b *testing.B, retention time.Duration, periods int) {
	const (
		n         = 50_000
		perTarget = 1000
		interval  = 5_000 // ms
	)
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	lsets := nodeLikeSeries(n)
	perPeriod := int(retention.Milliseconds() / interval)
	rounds := periods * perPeriod
	for range b.N {
		runtime.GC()
		db := New(Options{Retention: retention})
		sv := newSoakValues(n)
		refs := make([]storage.SeriesRef, n)
		cpu0 := cpuTime()
		var liveFull, liveEnd uint64
		for r := 1; r <= rounds; r++ {
			for lo := 0; lo < n; lo += perTarget {
				a := db.Appender()
				// Each target at its own offset in the interval.
				t := int64(r)*interval + int64(lo/perTarget*97%interval)
				for k := lo; k < lo+perTarget; k++ {
					var err error
					if refs[k], err = a.Append(refs[k], lsets[k], t, sv.next(k)); err != nil {
						b.Fatal(err)
					}
				}
				if err := a.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			if r%(perPeriod/2) == 0 {
				h := readHeap()
				b.Logf("minute %2d: spans in use %5.1f MB (objects %5.1f, free space in them %4.1f), free %4.1f, released %4.1f; chunk bytes %4.1f MB",
					r*interval/60_000, mb(h.inUse()), mb(h.objects), mb(h.unused), mb(h.free), mb(h.released), mb(uint64(db.Stats().ChunkBytes)))
			}
			if r == perPeriod || r == rounds {
				runtime.GC()
				if r == perPeriod {
					liveFull = readHeap().objects
				} else {
					liveEnd = readHeap().objects
				}
			}
		}
		cpu := cpuTime() - cpu0
		var lists int
		for i := range db.shards {
			sh := &db.shards[i]
			sh.mu.Lock()
			for _, s := range sh.slots {
				if s != nil {
					lists += cap(s.closed) * int(unsafe.Sizeof(chunk{}))
				}
			}
			sh.mu.Unlock()
		}
		b.ReportMetric(float64(liveFull)/n, "live-B/series@full")
		b.ReportMetric(float64(liveEnd)/n, "live-B/series@end")
		b.ReportMetric(100*(float64(liveEnd)/float64(liveFull)-1), "live-growth-%")
		b.ReportMetric(float64(db.Stats().ChunkBytes)/n, "chunk-B/series")
		b.ReportMetric(float64(lists)/n, "list-B/series")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(rounds*n), "cpu-ns/sample")
		runtime.KeepAlive(lsets)
		db.Close()
	}
}

func mb(v uint64) float64 { return float64(v) / (1 << 20) }

// BenchmarkHeadBytes measures what a series holds beyond its chunks' bytes
// over the life of its head chunks: the recorded node_exporter scrapes
// (loadFixture), their 505 series copied to 50,500 by a label, appended
// three times over (360 samples, three chunks, nothing expiring), the live
// heap less the chunk bytes read every ten samples. It reports the mean per
// series over the first chunk (a new series, as in cmd/compare's window),
// over the next two (heads sized from the series' last chunk: the steady
// state), and the CPU per sample.
//
//	go test ./store -run '^$' -bench HeadBytes -count 6
func BenchmarkHeadBytes(b *testing.B) {
	const (
		copies = 100
		rounds = 3
		every  = 10
	)
	samples, scrapes := loadFixture(b)
	per := len(samples) / scrapes
	// Scrapes are replayed by position: each must list the same series
	// in the same order, or samples would land on other series.
	for i, s := range samples {
		if i >= per*scrapes || !labels.Equal(s.lset, samples[i%per].lset) {
			b.Fatalf("the fixture's scrapes do not all list the same %d series in one order (sample %d: %s)", per, i, s.lset)
		}
	}
	lsets := make([]labels.Labels, copies*per)
	for c := range copies {
		for k := range per {
			lb := labels.NewBuilder(samples[k].lset)
			lb.Set("copy", strconv.Itoa(c))
			lsets[c*per+k] = lb.Labels()
		}
	}
	n := len(lsets)
	span := samples[len(samples)-1].t - samples[0].t + samples[per].t - samples[0].t
	for range b.N {
		runtime.GC()
		base := readHeap().objects
		db := New(Options{Retention: -1})
		refs := make([]storage.SeriesRef, n)
		var cpu time.Duration
		var first, later float64
		var nFirst, nLater int
		for i := range rounds * scrapes {
			scrape := samples[i%scrapes*per : (i%scrapes+1)*per]
			shift := int64(i/scrapes) * span
			cpu0 := cpuTime()
			for c := range copies {
				a := db.Appender()
				for k, s := range scrape {
					var err error
					if refs[c*per+k], err = a.Append(refs[c*per+k], lsets[c*per+k], s.t+shift, s.v); err != nil {
						b.Fatal(err)
					}
				}
				if err := a.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			cpu += cpuTime() - cpu0
			if (i+1)%every != 0 {
				continue
			}
			runtime.GC()
			held := float64(int64(readHeap().objects-base)-db.Stats().ChunkBytes) / float64(n)
			if i < samplesPerChunk {
				first, nFirst = first+held, nFirst+1
			} else {
				later, nLater = later+held, nLater+1
			}
		}
		b.ReportMetric(first/float64(nFirst), "B/series-first")
		b.ReportMetric(later/float64(nLater), "B/series-later")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(rounds*scrapes*n), "cpu-ns/sample")
		runtime.KeepAlive(lsets)
		db.Close()
	}
}
