package store

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"
)

// oddValues are values a scale must store bit for bit, or refuse.
var oddValues = []float64{
	0, math.Copysign(0, -1), 1, -1, 3, 0.5, 0.1, 0.30000000000000004, 1.0 / 3, 12345.67, -3.25,
	0.000532127, 1.2e-05, 24.996000000000002, 1.7955755360073643e+09,
	1 << 53, 1<<53 + 2, 1e22, 1e23, 1.8446744073709552e+19, math.MaxFloat64, -math.MaxFloat64,
	math.SmallestNonzeroFloat64, 2.2250738585072014e-308, 1e-300,
	math.Inf(1), math.Inf(-1), math.NaN(), staleNaN, math.Float64frombits(0x7ff8000000000001),
}

// noScale is a value no scale fits: a time in seconds to the nanosecond,
// 17 digits, from nanoseconds divided by 10⁹.
const noScale = 1.7955755360073643e+09

// divScale and mulScale are the scales that divide by 10^k and multiply
// by 10^−k.
func divScale(k int) uint8 { return uint8(2*k + 1) }
func mulScale(k int) uint8 { return uint8(2*k + 2) }

// Every scale either refuses a value or gives it back to the bit, and
// fitScale finds the smallest that takes it, unless that lengthens it.
func TestScaleValue(t *testing.T) {
	for _, v := range oddValues {
		for s := uint8(0); s <= maxScale; s++ {
			w, ok := scaleValue(v, s)
			if !ok {
				continue
			}
			require.Equal(t, math.Float64bits(v), math.Float64bits(unscale(w, s)), "%v at scale %d (stored %v)", v, s, w)
			if s > 0 && !math.IsNaN(v) && !math.IsInf(v, 0) {
				require.Equal(t, math.Trunc(w), w, "%v at scale %d: not an integer", v, s)
				require.LessOrEqual(t, math.Abs(w), float64(1<<53))
			}
		}
	}
	for _, tc := range []struct {
		v    float64
		want uint8
	}{
		{3, 1},
		{0, 1},
		{-3.7, divScale(1)},
		{-3.25, scaleNone}, // 13/4: -325 takes more bits than -3.25
		{12345.67, divScale(2)},
		{0.000532127, divScale(9)},
		{1.2e-05, divScale(6)},
		{1e22, scaleNone},                  // an integer, but past 2⁵³
		{1.0 / 3, divScale(16)},            // 0.3333333333333333: 16 digits, 3333333333333333 < 2⁵³
		{0.30000000000000004, mulScale(1)}, // 0.1 + 0.2: 17 digits, but 3 × 0.1
		{24.996000000000002, mulScale(3)},  // 24996 × 0.001, not the double nearest 24.996
		{staleNaN, 1},                      // stored as it is at any scale
		{noScale, scaleNone},
	} {
		require.Equal(t, tc.want, fitScale(tc.v, 1), "%v", tc.v)
	}
}

// A series keeps every value it is given, bit for bit, as its head chunk
// moves to larger scales and to none, and across a snapshot; and each case
// ends at the scale it should (a store that did not scale would fail here).
func TestScaledSeriesKeepsEveryValue(t *testing.T) {
	cases := []struct {
		name  string
		vs    []float64
		scale uint8 // of the head after the last value
	}{
		{"integers", []float64{1, 5, 1 << 40, -7}, 1},
		{"widening", []float64{3, 2.1, 2.13, 0.127, 1e-9, 7}, divScale(9)},
		{"dividing to multiplying", []float64{0.37, 24.996000000000002, 25.01}, mulScale(3)},
		{"binary fractions", []float64{3, 2.5, 2.25, 0.1}, scaleNone},
		{"a binary fraction among decimals", []float64{0.37, 0.41, 0.0009765625, 0.5}, divScale(10)},
		{"to none", []float64{0.21, 0.52, noScale, 0.75}, scaleNone},
		{"nan first", []float64{math.NaN(), 0.001, 2}, divScale(3)},
		{"stale among decimals", []float64{0.01, staleNaN, 0.02, math.Inf(1), 0.03}, divScale(2)},
		{"past 2^53 when scaled", []float64{0.3, 1e17}, scaleNone},
		{"odd values", oddValues, scaleNone},
	}
	dir := t.TempDir()
	db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	want := map[string][]sample{}
	for _, tc := range cases {
		l := labels.FromStrings("__name__", "m", "case", tc.name)
		a := db.Appender()
		for i, v := range tc.vs {
			_, err := a.Append(0, l, int64(i+1)*1000, v)
			require.NoError(t, err)
			want[l.String()] = append(want[l.String()], sample{int64(i+1) * 1000, v})
		}
		require.NoError(t, a.Commit())
		s := db.series(t, l)
		require.Equal(t, tc.scale, s.scale, tc.name)
	}
	requireBitForBit(t, db, want)
	require.NoError(t, db.Close())
	db, err = Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	require.Zero(t, db.Stats().Restore.Damage)
	requireBitForBit(t, db, want)
	require.NoError(t, db.Close())
}

// requireBitForBit fails unless db holds exactly the series and samples of
// want (by the series' label string), values compared bit for bit.
func requireBitForBit(t *testing.T, db *DB, want map[string][]sample) {
	t.Helper()
	got := readAll(t, db, math.MinInt64, math.MaxInt64, allSeries)
	require.Len(t, got, len(want))
	for k, ss := range want {
		require.Len(t, got[k], len(ss), k)
		for i, s := range ss {
			require.Equal(t, s.t, got[k][i].t, k)
			require.Equal(t, math.Float64bits(s.v), math.Float64bits(got[k][i].v), "%s at %d: %v", k, s.t, s.v)
		}
	}
}

// A new chunk starts at the scale of the chunk before when its first value
// fits it, and an unscaled series stays unscaled on a round value but not
// on a decimal.
func TestNewChunkScale(t *testing.T) {
	for _, tc := range []struct {
		name        string
		first, next float64 // the last value of the first chunk, the first of the next
		before      uint8   // the first chunk's scale
		after       uint8   // the next one's
	}{
		{"keeps the scale on a round value", 0.37, 5, divScale(2), divScale(2)},
		{"moves on from the scale", 0.37, 0.371, divScale(2), divScale(3)},
		{"integers", 7, 8, 1, 1},
		{"integers to a decimal", 7, 0.3, 1, divScale(1)},
		{"unscaled on a round value", noScale, 5, scaleNone, scaleNone},
		{"unscaled to a decimal", noScale, 0.37, scaleNone, divScale(2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Options{}.withDefaults().format()
			s := newMemSeries(0, labels.FromStrings("__name__", "m"))
			for i := range samplesPerChunk {
				_, err := s.append(f, int64(i)*1000, tc.first, 0)
				require.NoError(t, err)
			}
			require.Equal(t, tc.before, s.scale)
			_, err := s.append(f, samplesPerChunk*1000, tc.next, 0)
			require.NoError(t, err)
			require.Len(t, s.closed, 1)
			require.Equal(t, tc.before, s.closed[0].scale())
			require.Equal(t, tc.after, s.scale)
			s.flags &^= lastKnown // decoded from the head, at its scale
			require.Equal(t, tc.next, s.lastValue(f.enc))
		})
	}
}

// A series restored with a full last chunk starts its next chunk from that
// chunk's scale, as it would have without the restart.
func TestRestoredSeriesKeepsItsScale(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	l := labels.FromStrings("__name__", "m")
	for i := range samplesPerChunk {
		a := db.Appender()
		_, err := a.Append(0, l, int64(i)*1000, float64(i*3+7)/100)
		require.NoError(t, err)
		require.NoError(t, a.Commit())
	}
	require.NoError(t, db.Close())
	db, err = Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	defer db.Close()
	s := db.series(t, l)
	require.Nil(t, s.head, "the chunk was full: it is restored closed")
	a := db.Appender()
	_, err = a.Append(0, l, samplesPerChunk*1000, 5)
	require.NoError(t, err)
	require.NoError(t, a.Commit())
	require.Equal(t, divScale(2), s.closed[0].scale())
	require.Equal(t, divScale(2), s.scale, "a whole number after hundredths")
}

// series returns the series of l, for tests.
func (db *DB) series(t *testing.T, l labels.Labels) *memSeries {
	t.Helper()
	sh := &db.shards[l.Hash()&shardMask]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.get(l.Hash(), l)
	require.NotNil(t, s, l.String())
	return s
}

// Decimals take fewer bytes scaled than as they are: a collector's
// duration, as node_exporter prints it, over a chunk.
func TestScalingShrinksDecimals(t *testing.T) {
	db := New(Options{Retention: -1})
	defer db.Close()
	raw, err := chunkenc.NewEmptyChunk(db.format.enc)
	require.NoError(t, err)
	app, err := raw.Appender()
	require.NoError(t, err)
	l := labels.FromStrings("__name__", "node_scrape_collector_duration_seconds")
	x := uint64(12345)
	for i := range samplesPerChunk {
		x = x*6364136223846793005 + 1442695040888963407
		v, err := strconv.ParseFloat("0.000"+strconv.Itoa(int(x>>40%900000+100000)), 64)
		require.NoError(t, err)
		a := db.Appender()
		_, err = a.Append(0, l, int64(i)*1000, v)
		require.NoError(t, err)
		require.NoError(t, a.Commit())
		app.Append(0, int64(i)*1000, v)
	}
	scaled := db.Stats().ChunkBytes
	require.Less(t, float64(scaled), 0.7*float64(1+len(raw.Bytes())), "scaled %d bytes, as they are %d", scaled, len(raw.Bytes()))
}

// Real node_exporter output (BenchmarkCompression's recorded scrapes)
// comes back from the store exactly as it was parsed, sample for sample,
// before and after a snapshot; and many of its series are scaled.
func TestRecordedScrapesReadBack(t *testing.T) {
	samples, _ := loadFixture(t)
	dir := t.TempDir()
	db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	appendFixture(t, db, samples)
	want := map[string][]sample{}
	for _, s := range samples {
		want[s.lset.String()] = append(want[s.lset.String()], sample{s.t, s.v})
	}
	scaled := 0
	for i := range db.shards {
		for _, s := range db.shards[i].slots {
			if s != nil && s.scale > 1 {
				scaled++
			}
		}
	}
	// 74 of the 505: the collectors' durations, CPU seconds, disk times
	// and more; most of the rest are whole numbers.
	require.GreaterOrEqual(t, scaled, 50, "series holding scaled decimals")
	requireBitForBit(t, db, want)
	require.NoError(t, db.Close())
	db, err = Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	defer db.Close()
	require.Zero(t, db.Stats().Restore.Damage)
	requireBitForBit(t, db, want)
}

// v1Value is the value of series k at round i in testdata/store/snapshot-v1.vigil.
func v1Value(i, k int) float64 { return float64(i*k)/100 + float64(k)*0.001 }

// A version 1 snapshot (written by vigil before chunks had a scale:
// three series m{k="a"…"c"} of 130 samples 1 s apart, v1Value, and a
// staleness marker on k="a" at 130 s) restores whole, takes new samples,
// and is written back as version 2.
func TestRestoreVersion1(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "store", "snapshot-v1.vigil"))
	require.NoError(t, err)
	require.Equal(t, uint16(1), binary.LittleEndian.Uint16(data[8:]), "the file is version 1")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, SnapshotFileName), data, 0o600))
	db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	require.Zero(t, db.Stats().Restore.Damage)
	check := func(db *DB, extra bool) {
		t.Helper()
		got := readAll(t, db, math.MinInt64, math.MaxInt64, allSeries)
		require.Len(t, got, 3)
		for k := range 3 {
			ss := got[labels.FromStrings("__name__", "m", "k", string(rune('a'+k))).String()]
			n := 130
			if k == 0 {
				n++
				require.True(t, value.IsStaleNaN(ss[130].v), "the staleness marker")
			}
			if extra {
				n++
				require.Equal(t, sample{200_000, 0.001}, ss[n-1])
			}
			require.Len(t, ss, n)
			for i := range 130 {
				require.Equal(t, sample{int64(i) * 1000, v1Value(i, k)}, ss[i], "k=%d i=%d", k, i)
			}
		}
	}
	check(db, false)
	a := db.Appender()
	for k := range 3 {
		_, err := a.Append(0, labels.FromStrings("__name__", "m", "k", string(rune('a'+k))), 200_000, 0.001)
		require.NoError(t, err)
	}
	require.NoError(t, a.Commit())
	check(db, true)
	require.NoError(t, db.Close())

	data, err = os.ReadFile(filepath.Join(dir, SnapshotFileName))
	require.NoError(t, err)
	require.Equal(t, uint16(snapshotVersion), binary.LittleEndian.Uint16(data[8:]))
	db, err = Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	require.Zero(t, db.Stats().Restore.Damage)
	check(db, true)
	require.NoError(t, db.Close())
}

// FuzzScaledValues appends any values to a series and reads them back, bit
// for bit, before and after a snapshot. Each 9 bytes of the input are a
// value: a float64's bits (first byte even); or an integer of up to eight
// digits and a shift of the point, the first byte's second bit saying how:
// parsed as a decimal, as exporters print them, or multiplied by 10^−k,
// as a program computes them.
func FuzzScaledValues(f *testing.F) {
	f.Add([]byte{})
	seed := func(vs ...float64) []byte {
		var b []byte
		for _, v := range vs {
			b = append(b, 0)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
		return b
	}
	f.Add(seed(3, 2.5, 0.000532127, 1.0/3, staleNaN, 7))
	f.Add(seed(oddValues...))
	f.Add([]byte{1, 5, 0, 0, 0, 0, 0, 0, 0, 17, 0, 1, 2, 3, 0, 0, 0, 0})
	f.Add([]byte{15, 5, 0, 0, 0, 0, 0, 0, 0, 15, 0, 1, 2, 3, 0, 0, 0, 0}) // × 0.001
	f.Fuzz(func(t *testing.T, in []byte) {
		var vs []float64
		for ; len(in) >= 9; in = in[9:] {
			if in[0]&1 == 0 {
				vs = append(vs, math.Float64frombits(binary.LittleEndian.Uint64(in[1:])))
				continue
			}
			digits := int64(binary.LittleEndian.Uint32(in[1:])%100_000_000) - 50_000_000
			k := int(in[0]>>2) % 30
			if in[0]&2 != 0 {
				vs = append(vs, float64(digits)*math.Pow10(-k))
				continue
			}
			v, err := strconv.ParseFloat(strconv.FormatInt(digits, 10)+"e-"+strconv.Itoa(k), 64)
			if err != nil {
				t.Fatal(err)
			}
			vs = append(vs, v)
		}
		if len(vs) == 0 {
			return
		}
		db := New(Options{Retention: -1})
		defer db.Close()
		l := labels.FromStrings("__name__", "m")
		for i, v := range vs {
			a := db.Appender()
			if _, err := a.Append(0, l, int64(i)*1000, v); err != nil {
				t.Fatal(err)
			}
			if err := a.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		check := func(db *DB) {
			got := readAll(t, db, math.MinInt64, math.MaxInt64, allSeries)[l.String()]
			if len(got) != len(vs) {
				t.Fatalf("%d samples back of %d", len(got), len(vs))
			}
			for i, v := range vs {
				if math.Float64bits(got[i].v) != math.Float64bits(v) {
					t.Fatalf("sample %d: %v (%#x) back as %v (%#x)", i, v, math.Float64bits(v), got[i].v, math.Float64bits(got[i].v))
				}
			}
		}
		check(db)
		var buf bytes.Buffer
		if err := encodeSnapshot(db, &buf); err != nil {
			t.Fatal(err)
		}
		db2 := New(Options{Retention: -1})
		defer db2.Close()
		if res := db2.restore(wholeSnapshot(buf.Bytes()), &RestoreReport{}); res.damage != nil {
			t.Fatal(res.damage)
		}
		check(db2)
	})
}

var staleNaN = math.Float64frombits(value.StaleNaN)
