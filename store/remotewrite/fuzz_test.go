package remotewrite

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzSegment: a segment of any content, checksums right (what a bug in
// the writer, or damage the checksum misses, would give), never panics a
// reader, never makes it read past what the records say, and everything a
// reader returns is of a series the segment defined.
func FuzzSegment(f *testing.F) {
	// Seeds: real records, uncompressed, one and two in a segment.
	w := newSegWriter()
	cs := commits(3, 4)
	for _, c := range cs {
		rec := w.encode(nil, c, true)
		f.Add(rec[recordHeaderSize:], uint32(len(c)), []byte(nil), uint32(0))
	}
	w = newSegWriter()
	a := w.encode(nil, cs[0], true)
	b := w.encode(nil, cs[1], true)
	f.Add(a[recordHeaderSize:], uint32(len(cs[0])), b[recordHeaderSize:], uint32(len(cs[1])))
	f.Add([]byte{0, 1, 0}, uint32(1), []byte{}, uint32(0))

	f.Fuzz(func(t *testing.T, body1 []byte, n1 uint32, body2 []byte, n2 uint32) {
		dir := t.TempDir()
		seg := []byte(segmentMagic)
		seg = appendRawRecord(seg, body1, n1)
		if len(body2) > 0 {
			seg = appendRawRecord(seg, body2, n2)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, segmentName(1)), seg, 0o600))
		// A cursor at the start of the segment, so the reader reads it.
		sp, err := openSpool(dir, 1<<30, quiet)
		require.NoError(t, err)
		defer sp.close()
		rs := sp.addReader("fuzz")
		sp.mu.Lock()
		rs.cursor = position{Seq: 1, Offset: int64(len(segmentMagic))}
		rs.read = rs.cursor
		sp.mu.Unlock()
		r := newReader(sp, rs)
		defer r.close()
		var got int
		for {
			out, _ := r.read(nil, 1000)
			if len(out) == 0 {
				break
			}
			for _, s := range out {
				require.False(t, s.lset.IsEmpty() && s.id >= uint32(r.sr.ndefs), "a sample of an undefined series")
			}
			got += len(out)
		}
		require.LessOrEqual(t, uint64(got), uint64(n1)+uint64(n2))
		_, dropped := sp.readerStats(rs)
		require.LessOrEqual(t, uint64(got)+dropped[dropDamaged], uint64(n1)+uint64(n2))
	})
}

// appendRawRecord appends a record of an uncompressed body with a right
// checksum.
func appendRawRecord(dst, body []byte, n uint32) []byte {
	h := make([]byte, recordHeaderSize)
	binary.LittleEndian.PutUint32(h[0:4], uint32(len(body)))
	binary.LittleEndian.PutUint32(h[8:12], n)
	h[12] = codecNone
	rec := append(h, body...)
	binary.LittleEndian.PutUint32(rec[4:8], crc32.Checksum(rec[8:], castagnoli))
	return append(dst, rec...)
}

// FuzzRecordCodec: a record whose body claims any codec, snappy-compressed
// or not, with a right checksum, is read or counted as damaged, never
// anything else.
func FuzzRecordCodec(f *testing.F) {
	w := newSegWriter()
	for _, c := range commits(2, 5) {
		rec := w.encode(nil, c, false) // snappy
		f.Add(rec[recordHeaderSize:], uint32(len(c)), codecSnappy)
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, uint32(3), codecSnappy) // a length past the bound
	f.Add([]byte{0, 1, 0}, uint32(1), byte(7))
	f.Fuzz(func(t *testing.T, body []byte, n uint32, codec byte) {
		dir := t.TempDir()
		rec := appendRawRecord(nil, body, n)
		rec[12] = codec
		binary.LittleEndian.PutUint32(rec[4:8], crc32.Checksum(rec[8:], castagnoli))
		seg := append([]byte(segmentMagic), rec...)
		require.NoError(t, os.WriteFile(filepath.Join(dir, segmentName(1)), seg, 0o600))
		sp, err := openSpool(dir, 1<<30, quiet)
		require.NoError(t, err)
		defer sp.close()
		rs := sp.addReader("fuzz")
		sp.mu.Lock()
		rs.cursor = position{Seq: 1, Offset: int64(len(segmentMagic))}
		rs.read = rs.cursor
		sp.mu.Unlock()
		r := newReader(sp, rs)
		defer r.close()
		got := 0
		for {
			out, _ := r.read(nil, 1000)
			if len(out) == 0 {
				break
			}
			got += len(out)
		}
		_, dropped := sp.readerStats(rs)
		require.LessOrEqual(t, uint64(got)+dropped[dropDamaged], uint64(n))
	})
}
