package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"
)

// recordSpans returns [start, end) of each record after the header.
func recordSpans(t testing.TB, b []byte) [][2]int {
	t.Helper()
	var spans [][2]int
	off := headerSize
	for off < len(b) {
		l, n := binary.Uvarint(b[off+1:])
		require.Positive(t, n)
		end := off + 1 + n + int(l) + 4
		spans = append(spans, [2]int{off, end})
		off = end
	}
	require.Equal(t, len(b), off)
	return spans
}

func TestSnapshotDamage(t *testing.T) {
	const series, rounds = 10, 130 // two chunks each: one closed, one open
	// A whole snapshot and what it holds.
	src := t.TempDir()
	db, err := Open(src, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	fill(t, db, series, rounds)
	require.NoError(t, db.Close())
	whole, err := os.ReadFile(filepath.Join(src, SnapshotFileName))
	require.NoError(t, err)
	spans := recordSpans(t, whole)
	require.Len(t, spans, series+1)
	trailer := spans[series]

	flip := func(off int) func([]byte) []byte {
		return func(b []byte) []byte { b[off] ^= 0x40; return b }
	}
	cases := []struct {
		name       string
		damage     func([]byte) []byte
		keep, lost int64 // series; lost -1: unknown
	}{
		{"header truncated", func(b []byte) []byte { return b[:30] }, 0, -1},
		{"header flipped", flip(20), 0, -1},
		{"magic flipped", flip(2), 0, -1},
		{"record flipped in payload", flip(spans[3][0] + 20), series - 1, 1},
		{"record flipped in checksum", flip(spans[5][1] - 1), series - 1, 1},
		{"two records flipped", func(b []byte) []byte {
			b[spans[4][0]+20] ^= 1
			b[spans[5][0]+20] ^= 1
			return b
		}, 4, 6},
		{"record length flipped", flip(spans[2][0] + 1), 2, 8},
		{"truncated in a record", func(b []byte) []byte { return b[:spans[6][0]+40] }, 6, 4},
		{"truncated at a record boundary", func(b []byte) []byte { return b[:spans[7][0]] }, 7, 3},
		{"trailer truncated", func(b []byte) []byte { return b[:len(b)-3] }, series, 0},
		{"trailer flipped", flip(trailer[0] + 5), series, 0},
		{"trailer magic flipped", flip(trailer[1] - 6), series, 0},
		{"bytes after the trailer", func(b []byte) []byte { return append(b, 0, 1, 2) }, series, 0},
		{"empty file", func([]byte) []byte { return []byte{} }, 0, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, SnapshotFileName)
			damaged := tc.damage(bytes.Clone(whole))
			require.NoError(t, os.WriteFile(path, damaged, 0o600))

			// vigil query's read-only view reports and moves nothing.
			ro, err := OpenSnapshot(dir, Options{Retention: -1})
			require.NoError(t, err)
			require.ErrorIs(t, ro.Stats().Restore.Damage, ErrDamagedSnapshot)
			require.Empty(t, ro.Stats().Restore.MovedTo)
			require.NoError(t, ro.Close())
			require.FileExists(t, path)

			db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
			require.NoError(t, err, "a damaged snapshot never fails Open")
			rep := db.Stats().Restore
			require.ErrorIs(t, rep.Damage, ErrDamagedSnapshot)
			require.Equal(t, tc.keep, rep.Series)
			require.Equal(t, tc.keep*rounds, rep.Samples)
			require.Equal(t, tc.lost, rep.LostSeries)
			if tc.lost >= 0 {
				require.Equal(t, tc.lost*rounds, rep.LostSamples)
			}
			require.Contains(t, rep.Warning(), "lost")
			t.Log(rep.Warning())

			// Moved aside, byte for byte; the intact series are whole.
			require.NoFileExists(t, path)
			require.True(t, strings.HasPrefix(filepath.Base(rep.MovedTo), SnapshotFileName+".damaged-"))
			kept, err := os.ReadFile(rep.MovedTo)
			require.NoError(t, err)
			require.Equal(t, damaged, kept)
			got := readAll(t, db, math.MinInt64, math.MaxInt64, allSeries)
			require.Len(t, got, int(tc.keep))
			for _, s := range got {
				require.Len(t, s, rounds)
			}

			// The next snapshot is whole again.
			require.NoError(t, db.Close())
			db, err = Open(dir, Options{Retention: -1, SnapshotInterval: -1})
			require.NoError(t, err)
			require.NoError(t, db.Stats().Restore.Damage)
			require.Equal(t, tc.keep, db.Stats().Restore.Series)
			require.NoError(t, db.Close())
		})
	}
}

// TestRestoreWhileReading feeds a snapshot to the restore in small pieces,
// as a slow disk would: the decoder waits for the bytes it needs, and a file
// that ends early or fails to read is truncated or an error, never a hang.
func TestRestoreWhileReading(t *testing.T) {
	const series, rounds = 300, 130
	src := t.TempDir()
	db, err := Open(src, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	for i := range rounds {
		a := db.Appender()
		for k := range series {
			_, err := a.Append(0, labels.FromStrings("__name__", "m", "k", fmt.Sprint(k)), int64(i)*1000, float64(i*k))
			require.NoError(t, err)
		}
		require.NoError(t, a.Commit())
	}
	require.NoError(t, db.Close())
	whole, err := os.ReadFile(filepath.Join(src, SnapshotFileName))
	require.NoError(t, err)

	cases := []struct {
		name   string
		sent   int   // bytes the reader gets before it ends
		err    error // how it ends after them; nil: EOF
		series int64
		damage string
		pause  bool // the end comes a while after the bytes: the decoder waits in a record
	}{
		{"whole", len(whole), nil, series, "", false},
		{"ends early", len(whole) / 2, nil, -1, "runs past the end of the file", false},
		{"ends while a record is awaited", len(whole) / 2, nil, -1, "runs past the end of the file", true},
		{"read fails", len(whole) / 2, errors.New("disk on fire"), -1, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			go func() {
				for off := 0; off < tc.sent; off += 97 {
					if _, err := pw.Write(whole[off:min(off+97, tc.sent)]); err != nil {
						return
					}
				}
				if tc.pause {
					time.Sleep(50 * time.Millisecond)
				}
				pw.CloseWithError(tc.err)
			}()
			sb := newSnapshotBytes(len(whole))
			done := make(chan error, 1)
			piece := 1000
			if tc.pause {
				// Small pieces: the awaited record's header is in before
				// the end is known.
				piece = 16
			}
			go func() { done <- sb.fill(pr, piece) }()
			db := New(Options{Retention: -1})
			defer db.Close()
			var rep RestoreReport
			res := db.restore(sb, &rep)
			readErr := <-done
			if tc.err != nil {
				require.ErrorIs(t, readErr, tc.err)
				return
			}
			require.NoError(t, readErr)
			if tc.damage == "" {
				require.NoError(t, res.damage)
				require.True(t, res.trailer)
				require.Equal(t, tc.series, rep.Series)
				require.Equal(t, tc.series*rounds, rep.Samples)
				got := readAll(t, db, math.MinInt64, math.MaxInt64, allSeries)
				require.Len(t, got, series)
				return
			}
			require.ErrorContains(t, res.damage, tc.damage)
			require.Positive(t, rep.Series)
			require.Less(t, rep.Series, int64(series))
		})
	}
}

// TestRestoreKeepsFirstOfTwins: a file that holds a series twice (each
// record intact) loads the first, whichever goroutine decodes it.
func TestRestoreKeepsFirstOfTwins(t *testing.T) {
	for range 20 {
		h := snapshotHeader{encoding: defaultEncoding, series: 3}
		file := h.encode()
		var records []byte
		for i, v := range []float64{1, 2, 3} {
			c := chunkenc.NewXOR2Chunk()
			app, err := c.Appender()
			require.NoError(t, err)
			app.Append(0, int64(1000*(i+1)), v)
			var p []byte
			p = binary.AppendUvarint(p, 1)
			p = binary.AppendUvarint(p, uint64(len("__name__")))
			p = append(p, "__name__"...)
			p = binary.AppendUvarint(p, 4)
			p = append(p, "twin"...)
			p = binary.AppendUvarint(p, 1)
			p = binary.AppendVarint(p, int64(1000*(i+1)))
			p = binary.AppendUvarint(p, 0)
			p = binary.AppendUvarint(p, uint64(1+len(c.Bytes())))
			p = append(p, 1) // scale 1: integers as they are
			p = append(p, c.Bytes()...)
			records = appendRecord(records, recSeries, p)
		}
		file = append(file, records...)
		var tr [trailerSize]byte
		binary.LittleEndian.PutUint64(tr[16:], 3)
		copy(tr[24:], trailerMagic)
		file = appendRecord(file, recTrailer, tr[:])

		db := New(Options{Retention: -1})
		var rep RestoreReport
		res := db.restore(wholeSnapshot(file), &rep)
		require.NoError(t, res.damage)
		require.EqualValues(t, 1, rep.Series)
		require.EqualValues(t, 2, rep.DroppedSeries)
		got := readAll(t, db, math.MinInt64, math.MaxInt64, allSeries)
		require.Len(t, got, 1)
		for _, s := range got {
			require.Len(t, s, 1)
			require.Equal(t, 1.0, s[0].v)
		}
		require.NoError(t, db.Close())
	}
}

// A chunk's start is read from its bytes (chunk.mint), so a record whose
// recorded start is not its chunk's first sample is damaged, in either
// encoding.
func TestDecodeSeriesChecksChunkStart(t *testing.T) {
	for _, enc := range []chunkenc.Encoding{chunkenc.EncXOR, chunkenc.EncXOR2} {
		t.Run(enc.String(), func(t *testing.T) {
			c, err := chunkenc.NewEmptyChunk(enc)
			require.NoError(t, err)
			_, ok := firstTime(enc, c.Bytes())
			require.False(t, ok, "an empty chunk has no first sample")
			app, err := c.Appender()
			require.NoError(t, err)
			for i := range int64(10) {
				app.Append(0, -5000+i*1000, float64(i))
			}
			first, ok := firstTime(enc, c.Bytes())
			require.True(t, ok)
			require.Equal(t, int64(-5000), first)

			record := func(mint int64) []byte {
				b := binary.AppendUvarint(nil, 1)
				b = binary.AppendUvarint(b, 8)
				b = append(b, "__name__"...)
				b = binary.AppendUvarint(b, 1)
				b = append(b, 'm')
				b = binary.AppendUvarint(b, 1)
				b = binary.AppendVarint(b, mint)
				b = binary.AppendUvarint(b, uint64(4000-mint))
				b = binary.AppendUvarint(b, uint64(1+len(c.Bytes())))
				b = append(b, 1) // scale 1: integers as they are
				return append(b, c.Bytes()...)
			}
			var la labelArena
			var chunks slab[chunk]
			defer la.done()
			defer chunks.done()
			h := &snapshotHeader{version: snapshotVersion, encoding: enc}
			_, cs, err := decodeSeries(&la, &chunks, h, record(-5000))
			require.NoError(t, err)
			require.Len(t, cs, 1)
			_, _, err = decodeSeries(&la, &chunks, h, record(-4000))
			require.ErrorContains(t, err, "chunk 0 does not start at -4000")
			// A scale past the last one is damage, not an index out of
			// range when the chunk is read.
			bad := record(-5000)
			bad[len(bad)-len(c.Bytes())-1] = maxScale + 1
			_, _, err = decodeSeries(&la, &chunks, h, bad)
			require.ErrorContains(t, err, fmt.Sprintf("chunk 0: scale %d, at most %d", maxScale+1, maxScale))
		})
	}
}

// TestRestoredHeadTakesSamples: a restored head chunk goes on where its
// bytes end, in either encoding, and reads back whole. EncXOR's appender on
// a chunk made from bytes does not (see resumes), which no test of the
// default encoding would show.
func TestRestoredHeadTakesSamples(t *testing.T) {
	for _, enc := range []chunkenc.Encoding{chunkenc.EncXOR, chunkenc.EncXOR2} {
		t.Run(enc.String(), func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{Retention: -1, SnapshotInterval: -1, encoding: enc}
			db, err := Open(dir, opts)
			require.NoError(t, err)
			fill(t, db, 3, 7) // a head each, its last byte part-written
			require.NoError(t, db.Close())

			db, err = Open(dir, opts)
			require.NoError(t, err)
			defer db.Close()
			for i := 7; i < 10; i++ {
				a := db.Appender()
				for k := range 3 {
					_, err := a.Append(0, labels.FromStrings("__name__", "m", "k", string(rune('a'+k))), int64(i)*1000, float64(i*k)+0.5)
					require.NoError(t, err)
				}
				require.NoError(t, a.Commit())
			}
			got := readAll(t, db, math.MinInt64, math.MaxInt64, allSeries)
			require.Len(t, got, 3)
			for k := range 3 {
				var want []sample
				for i := range 10 {
					v := float64(i * k)
					if i >= 7 {
						v += 0.5
					}
					want = append(want, sample{int64(i) * 1000, v})
				}
				require.Equal(t, want, got[`{__name__="m", k="`+string(rune('a'+k))+`"}`], "series %d", k)
			}
		})
	}
}

// A snapshot written in the other float encoding is re-encoded on restore
// (transcode), closed chunks and the open head alike, sample for sample;
// chunk starts are read from the bytes in the encoding they are in.
func TestRestoreOtherEncoding(t *testing.T) {
	for _, from := range []chunkenc.Encoding{chunkenc.EncXOR, chunkenc.EncXOR2} {
		t.Run(from.String(), func(t *testing.T) {
			dir := t.TempDir()
			db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1, encoding: from})
			require.NoError(t, err)
			fill(t, db, 5, 2*samplesPerChunk+7)    // two closed chunks and a head each
			for i := range 2*samplesPerChunk + 7 { // the same, of scaled decimals
				a := db.Appender()
				_, err := a.Append(0, labels.FromStrings("__name__", "decimal"), int64(i)*1000, float64(i*3+7)/100)
				require.NoError(t, err)
				require.NoError(t, a.Commit())
			}
			want := readAll(t, db, math.MinInt64, math.MaxInt64, allSeries)
			require.NoError(t, db.Close())

			db, err = Open(dir, Options{Retention: -1, SnapshotInterval: -1, encoding: otherEncoding(from)})
			require.NoError(t, err)
			defer db.Close()
			require.Equal(t, int64(6), db.Stats().Restore.Series)
			require.Equal(t, want, readAll(t, db, math.MinInt64, math.MaxInt64, allSeries))
			a := db.Appender()
			_, err = a.Append(0, labels.FromStrings("__name__", "m", "k", "a"), int64(2*samplesPerChunk+7)*1000, 1)
			require.NoError(t, err, "the restored head takes the next sample")
			require.NoError(t, a.Commit())
		})
	}
}

// TestRestoredSeriesRefusals checks the duplicate and out-of-order rules on
// a series whose last value must first be decoded from a restored chunk.
func TestRestoredSeriesRefusals(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	l := labels.FromStrings("__name__", "m")
	a := db.Appender()
	for i := range int64(130) {
		_, err := a.Append(0, l, i*1000, float64(i)/3)
		require.NoError(t, err)
	}
	require.NoError(t, a.Commit())
	require.NoError(t, db.Close())

	db, err = Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	defer db.Close()
	a = db.Appender()
	_, err = a.Append(0, l, 129_000, float64(129)/3)
	require.NoError(t, err, "the same sample again")
	_, err = a.Append(0, l, 129_000, 1)
	require.ErrorIs(t, err, ErrDuplicate)
	_, err = a.Append(0, l, 128_000, 1)
	require.ErrorIs(t, err, ErrOutOfOrder)
	_, err = a.Append(0, l, 130_000, 7)
	require.NoError(t, err)
	require.NoError(t, a.Commit())
	got := readAll(t, db, 128_000, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m"))[l.String()]
	require.Equal(t, []sample{{128_000, float64(128) / 3}, {129_000, float64(129) / 3}, {130_000, 7}}, got)
}

func TestRestoreOverMaxSeries(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	fill(t, db, 5, 3)
	require.NoError(t, db.Close())
	db, err = Open(dir, Options{Retention: -1, MaxSeries: 3, SnapshotInterval: -1})
	require.NoError(t, err)
	defer db.Close()
	rep := db.Stats().Restore
	require.NoError(t, rep.Damage)
	require.EqualValues(t, 3, rep.Series)
	require.EqualValues(t, 2, rep.DroppedSeries)
	require.Contains(t, rep.Warning(), "2 intact series were not loaded")
}

// otherEncoding is the float encoding that is not e.
func otherEncoding(e chunkenc.Encoding) chunkenc.Encoding {
	if e == chunkenc.EncXOR {
		return chunkenc.EncXOR2
	}
	return chunkenc.EncXOR
}
