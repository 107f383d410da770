package store

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// chunkCost is where one series' chunk bytes go, in bits.
type chunkCost struct {
	series          int
	samples, chunks int
	header          int // chunk headers (sample count, and XOR2's start-time byte) and scale bytes
	first           int // each chunk's first sample: varint timestamp, raw 64-bit value
	second          int // each chunk's second sample: uvarint time delta, value delta
	rest            int // the other samples: joint control bits, timestamp and value
	restFlat        int // what rest would be if every value repeated its predecessor
	changed         int // samples (after each chunk's first) whose value changed
	total           int // bytes, as the store counts them
}

// costOf encodes one series' samples as the store does (a chunk every
// samplesPerChunk, at the scale the store gives it) and splits the bits.
// Byte lengths are read after each append, so a sample's share is rounded
// to the byte it ends in; the sums over a chunk are exact.
func costOf(enc chunkenc.Encoding, ts []int64, vs []float64) chunkCost {
	c := chunkCost{series: 1}
	encode := func(ts []int64, vs []float64) (lens []int) {
		// The scale the store ends with, then the chunk it then holds,
		// encoded afresh (re-encoding on a change of scale gives the
		// same bytes as having had that scale from the start).
		s := newMemSeries(0, labels.EmptyLabels())
		for i := range ts {
			if _, err := s.append(chunkFormat{enc: enc, scaled: true}, ts[i], vs[i], 0); err != nil {
				panic(err)
			}
		}
		ch, _ := chunkenc.NewEmptyChunk(enc)
		app, _ := ch.Appender()
		lens = append(lens, (1+len(ch.Bytes()))*8)
		for i := range ts {
			w, ok := scaleValue(vs[i], s.scale)
			if !ok {
				panic("a value does not fit the scale the store chose")
			}
			app.Append(0, ts[i], w)
			lens = append(lens, (1+len(ch.Bytes()))*8)
		}
		if !bytes.Equal(ch.Bytes(), s.head.Bytes()) {
			panic("not the store's bytes")
		}
		return lens
	}
	for lo := 0; lo < len(ts); lo += samplesPerChunk {
		hi := min(lo+samplesPerChunk, len(ts))
		lens := encode(ts[lo:hi], vs[lo:hi])
		flat := make([]float64, hi-lo)
		for i := range flat {
			flat[i] = vs[lo]
		}
		flatLens := encode(ts[lo:hi], flat)
		n := hi - lo
		c.chunks++
		c.samples += n
		c.header += lens[0]
		c.first += lens[1] - lens[0]
		if n > 1 {
			c.second += lens[2] - lens[1]
		}
		if n > 2 {
			c.rest += lens[n] - lens[2]
			c.restFlat += flatLens[n] - flatLens[2]
		}
		for i := lo + 1; i < hi; i++ {
			if math.Float64bits(vs[i]) != math.Float64bits(vs[i-1]) {
				c.changed++
			}
		}
		c.total += lens[n] / 8
	}
	return c
}

func (c *chunkCost) add(o chunkCost) {
	c.series += o.series
	c.samples += o.samples
	c.chunks += o.chunks
	c.header += o.header
	c.first += o.first
	c.second += o.second
	c.rest += o.rest
	c.restFlat += o.restFlat
	c.changed += o.changed
	c.total += o.total
}

// BenchmarkCompressionBreakdown says where BenchmarkCompression's bytes
// go: by component (chunk headers, each chunk's first and second sample,
// and for the rest the share of timestamps and control bits against that
// of changing values) and by metric family, for both encodings. It checks
// that its sums are the store's own ChunkBytes.
//
//	go test -run '^$' -bench CompressionBreakdown -benchtime 1x -v ./store/
func BenchmarkCompressionBreakdown(b *testing.B) {
	samples, _ := loadFixture(b)
	type series struct {
		lset labels.Labels
		ts   []int64
		vs   []float64
	}
	byKey := map[string]*series{}
	var order []*series
	for _, s := range samples {
		k := s.lset.String()
		ser := byKey[k]
		if ser == nil {
			ser = &series{lset: s.lset}
			byKey[k] = ser
			order = append(order, ser)
		}
		ser.ts = append(ser.ts, s.t)
		ser.vs = append(ser.vs, s.v)
	}
	for _, enc := range []chunkenc.Encoding{chunkenc.EncXOR, chunkenc.EncXOR2} {
		b.Run(enc.String(), func(b *testing.B) {
			var all chunkCost
			families := map[string]*chunkCost{}
			for range b.N {
				all, families = chunkCost{}, map[string]*chunkCost{}
				for _, s := range order {
					c := costOf(enc, s.ts, s.vs)
					all.add(c)
					name := s.lset.Get(labels.MetricName)
					if families[name] == nil {
						families[name] = &chunkCost{}
					}
					families[name].add(c)
				}
			}
			// The same bytes as the store's, or this breakdown is of
			// something else.
			db := New(Options{Retention: -1, encoding: enc})
			defer db.Close()
			for _, s := range samples {
				a := db.Appender()
				if _, err := a.Append(0, s.lset, s.t, s.v); err != nil {
					b.Fatal(err)
				}
				if err := a.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			if st := db.Stats(); st.ChunkBytes != int64(all.total) || st.Samples != int64(all.samples) {
				b.Fatalf("breakdown has %d bytes for %d samples, the store %d for %d", all.total, all.samples, st.ChunkBytes, st.Samples)
			}
			n := float64(all.samples)
			per := func(bits int) float64 { return float64(bits) / 8 / n }
			b.ReportMetric(float64(all.total)/n, "bytes/sample")
			b.ReportMetric(per(all.header), "header-B/sample")
			b.ReportMetric(per(all.first), "first-B/sample")
			b.ReportMetric(per(all.second), "second-B/sample")
			b.ReportMetric(per(all.restFlat), "rest-time+ctl-B/sample")
			b.ReportMetric(per(all.rest-all.restFlat), "rest-values-B/sample")

			var sb strings.Builder
			fmt.Fprintf(&sb, "%s: %d series, %d samples, %d chunks, %d bytes = %.3f bytes/sample\n", enc, len(order), all.samples, all.chunks, all.total, float64(all.total)/n)
			fmt.Fprintf(&sb, "  %-28s %8s %8s\n", "component", "bytes", "B/sample")
			for _, r := range []struct {
				name string
				bits int
			}{
				{"chunk headers", all.header},
				{"first samples (t, raw v)", all.first},
				{"second samples", all.second},
				{"rest: timestamps + control", all.restFlat},
				{"rest: changed values", all.rest - all.restFlat},
			} {
				fmt.Fprintf(&sb, "  %-28s %8.0f %8.3f\n", r.name, float64(r.bits)/8, per(r.bits))
			}
			names := make([]string, 0, len(families))
			for k := range families {
				names = append(names, k)
			}
			sort.Slice(names, func(i, j int) bool { return families[names[i]].total > families[names[j]].total })
			fmt.Fprintf(&sb, "  %-48s %6s %8s %6s %8s %8s %8s\n", "family", "series", "bytes", "share", "B/sample", "changed", "B/change")
			other := chunkCost{}
			otherN := 0
			for i, k := range names {
				f := families[k]
				if i >= 15 {
					other.add(*f)
					otherN++
					continue
				}
				fmt.Fprintf(&sb, "  %-48s %6d %8d %5.1f%% %8.3f %7.0f%% %8.2f\n", k, f.series, f.total, 100*float64(f.total)/float64(all.total),
					float64(f.total)/float64(f.samples), 100*float64(f.changed)/float64(f.samples-f.chunks), changeCost(*f))
			}
			fmt.Fprintf(&sb, "  %-48s %6d %8d %5.1f%% %8.3f %7.0f%% %8.2f\n", fmt.Sprintf("(%d other families)", otherN), other.series, other.total, 100*float64(other.total)/float64(all.total),
				float64(other.total)/float64(other.samples), 100*float64(other.changed)/float64(other.samples-other.chunks), changeCost(other))
			b.Log("\n" + sb.String())
		})
	}
}

// changeCost is the bytes a changed value costs beyond an unchanged one.
func changeCost(c chunkCost) float64 {
	if c.changed == 0 {
		return 0
	}
	return float64(c.rest-c.restFlat) / 8 / float64(c.changed)
}

// TestChunkBytesAreWholeChunks: Stats' ChunkBytes is the length of the
// chunks held, headers included, while chunks are appended, cut and
// dropped past the retention: what BenchmarkCompression reports.
func TestChunkBytesAreWholeChunks(t *testing.T) {
	for _, enc := range []chunkenc.Encoding{chunkenc.EncXOR, chunkenc.EncXOR2} {
		t.Run(enc.String(), func(t *testing.T) {
			db := New(Options{Retention: -1, encoding: enc})
			defer db.Close()
			var want int
			for i := range 3 {
				l := labels.FromStrings("__name__", "m", "i", fmt.Sprint(i))
				var ts []int64
				var vs []float64
				for j := range 100 + 70*i {
					ts, vs = append(ts, int64(j)*1000), append(vs, float64(j*j%17)/7)
				}
				for j := range ts {
					a := db.Appender()
					if _, err := a.Append(0, l, ts[j], vs[j]); err != nil {
						t.Fatal(err)
					}
					if err := a.Commit(); err != nil {
						t.Fatal(err)
					}
				}
				want += costOf(enc, ts, vs).total
			}
			if got := db.Stats().ChunkBytes; got != int64(want) {
				t.Fatalf("ChunkBytes %d, the chunks hold %d", got, want)
			}
			db.gc(math.MaxInt64) // everything is past it: nothing is left
			if got := db.Stats().ChunkBytes; got != 0 {
				t.Fatalf("ChunkBytes %d with no chunks", got)
			}
		})
	}
}
