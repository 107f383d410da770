package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"math"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"
)

// seedSnapshot returns a small whole snapshot to start fuzzing from.
func seedSnapshot(f *testing.F) []byte {
	db, err := Open(f.TempDir(), Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(f, err)
	fill(f, db, 3, 130)
	a := db.Appender()
	_, err = a.Append(0, labels.FromStrings("__name__", "stale", "a", ""), 5000, math.Float64frombits(0x7ff0000000000002))
	require.NoError(f, err)
	for i := range 130 { // chunks of scale 3, then of none
		v := float64(i) / 100
		if i >= 120 {
			v = float64(i) / 3
		}
		_, err = a.Append(0, labels.FromStrings("__name__", "decimal"), int64(i)*1000, v)
		require.NoError(f, err)
	}
	require.NoError(f, a.Commit())
	var buf bytes.Buffer
	require.NoError(f, encodeSnapshot(db, &buf))
	require.NoError(f, db.Close())
	return buf.Bytes()
}

// exercise loads data into a fresh store the way Open does, then reads
// every sample and appends to every series: none of it may panic, and a
// whole file must survive a round trip.
func exercise(t *testing.T, data []byte) {
	db := New(Options{Retention: -1})
	defer db.Close()
	var rep RestoreReport
	res := db.restore(wholeSnapshot(data), &rep)
	require.LessOrEqual(t, rep.Series, res.series)
	// Chunk bytes that passed their checksum can still be garbage (the
	// checksum only proves they are what was written): reading them may
	// end in an iterator error, never in a panic or time going backwards.
	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	require.NoError(t, err)
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".*"))
	for ss.Next() {
		it := ss.At().Iterator(nil)
		prev := int64(math.MinInt64)
		for it.Next() != chunkenc.ValNone {
			ts, _ := it.At()
			require.Greater(t, ts, prev)
			prev = ts
		}
		it.Seek(0)
	}
	a := db.Appender()
	for _, ref := range db.index.match() {
		sh := db.shardOf(ref)
		sh.mu.Lock()
		s := sh.byRef(ref)
		sh.mu.Unlock()
		if s != nil {
			_, _ = a.Append(ref, s.lset, math.MaxInt64-1, 1)
		}
	}
	_ = a.Commit()
	if res.damage == nil {
		var buf bytes.Buffer
		db2 := New(Options{Retention: -1})
		defer db2.Close()
		db2.restore(wholeSnapshot(data), &RestoreReport{})
		require.NoError(t, encodeSnapshot(db2, &buf))
		var rep2 RestoreReport
		res2 := New(Options{Retention: -1}).restore(wholeSnapshot(buf.Bytes()), &rep2)
		require.NoError(t, res2.damage)
		require.Equal(t, rep.Series, rep2.Series)
	}
}

// FuzzDecodeSnapshot feeds whole files to the decoder and the restore.
func FuzzDecodeSnapshot(f *testing.F) {
	whole := seedSnapshot(f)
	f.Add(whole)
	f.Add(whole[:headerSize])
	f.Add(whole[:len(whole)/2])
	f.Add([]byte(snapshotMagic))
	f.Fuzz(func(t *testing.T, data []byte) { exercise(t, data) })
}

// FuzzDecodeSeriesRecord fuzzes a series record's payload behind a valid
// header and checksum, which a mutated file rarely gets past, in both
// versions of the format.
func FuzzDecodeSeriesRecord(f *testing.F) {
	whole := seedSnapshot(f)
	off := headerSize
	for off < len(whole) {
		l, n := binary.Uvarint(whole[off+1:])
		if whole[off] == recSeries {
			f.Add(whole[off+1+n : off+1+n+int(l)])
		}
		off += 1 + n + int(l) + 4
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		h := snapshotHeader{encoding: defaultEncoding, series: 1, mint: 0, maxt: math.MaxInt64 - 2}
		file := h.encode()
		file = appendRecord(file, recSeries, payload)
		var tr [trailerSize]byte
		binary.LittleEndian.PutUint64(tr[16:], 1)
		copy(tr[24:], trailerMagic)
		file = appendRecord(file, recTrailer, tr[:])
		exercise(t, file)
		// The same record in a version 1 file, whose chunks have no
		// scale byte.
		binary.LittleEndian.PutUint16(file[8:], 1)
		binary.LittleEndian.PutUint32(file[56:], crc32.Checksum(file[:56], castagnoli))
		exercise(t, file)
	})
}

// encodeSnapshot writes db as a snapshot file into buf.
func encodeSnapshot(db *DB, buf *bytes.Buffer) error {
	_, hdr, err := db.encode(buf)
	if err != nil {
		return err
	}
	copy(buf.Bytes(), hdr)
	return nil
}

func appendRecord(b []byte, typ byte, payload []byte) []byte {
	start := len(b)
	b = append(b, typ)
	b = binary.AppendUvarint(b, uint64(len(payload)))
	b = append(b, payload...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}
