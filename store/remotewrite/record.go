package remotewrite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/bits"
	"slices"
	"unsafe"

	"github.com/klauspost/compress/s2"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilterm/vigil/store"
)

// A segment is segmentMagic followed by records. A record is the samples of
// one store commit:
//
//	[0:4]   length L of the body, little endian
//	[4:8]   CRC-32C (Castagnoli) of bytes [8:16+L]
//	[8:12]  the number of samples in it
//	[12]    the body's codec: codecNone or codecSnappy
//	[13:16] zero
//	[16:]   the body, L bytes
//
// The body, once decompressed:
//
//	uvarint         series defined here, then each: uvarint label count,
//	                and per label uvarint-length-prefixed name and value
//	uvarint         samples, then each: uvarint series id, varint t minus
//	                the previous sample's t (the first: minus 0), the
//	                value XORed with the series' previous value in the
//	                segment (the first: with 0) as one byte
//	                (leading zero bytes << 4 | trailing zero bytes) and
//	                the bytes between
//
// A series gets the next id (from 0) the first time a segment holds it, in
// the record that defines it; later records refer to the id. So a record
// is read only after every record before it in its segment, and the first
// damaged record ends what can be read of a segment.
const (
	segmentMagic     = "VIGILRW\x01"
	recordHeaderSize = 16

	codecNone   byte = 0
	codecSnappy byte = 1 // snappy's block format

	// maxRecordBody bounds what a record header may claim, against a
	// damaged length: far above any commit (a scrape has sample_limit).
	maxRecordBody = 256 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errDamaged: a record's checksum, length or body does not hold up.
var errDamaged = errors.New("damaged spool record")

// segWriter is the state of the segment being written: the ids given so
// far, each series' last value, and the labels of each id (the store's
// own, not copied), which readers of the segment share rather than decode.
type segWriter struct {
	ids  map[storage.SeriesRef]uint32
	last []uint64
	defs []labels.Labels
	body []byte
}

func newSegWriter() *segWriter {
	return &segWriter{ids: map[storage.SeriesRef]uint32{}}
}

// encode appends a whole record for samples to dst, its body
// snappy-compressed unless raw.
func (w *segWriter) encode(dst []byte, samples []store.CommittedSample, raw bool) []byte {
	b := w.body[:0]
	var fresh []store.CommittedSample // first time in this segment
	for i := range samples {
		if _, ok := w.ids[samples[i].Ref]; !ok {
			w.ids[samples[i].Ref] = uint32(len(w.defs))
			w.defs = append(w.defs, samples[i].Labels)
			w.last = append(w.last, 0)
			fresh = append(fresh, samples[i])
		}
	}
	b = binary.AppendUvarint(b, uint64(len(fresh)))
	for _, s := range fresh {
		b = binary.AppendUvarint(b, uint64(s.Labels.Len()))
		s.Labels.Range(func(l labels.Label) {
			b = binary.AppendUvarint(b, uint64(len(l.Name)))
			b = append(b, l.Name...)
			b = binary.AppendUvarint(b, uint64(len(l.Value)))
			b = append(b, l.Value...)
		})
	}
	b = binary.AppendUvarint(b, uint64(len(samples)))
	prevT := int64(0)
	for _, s := range samples {
		id := w.ids[s.Ref]
		b = binary.AppendUvarint(b, uint64(id))
		b = binary.AppendVarint(b, s.T-prevT)
		prevT = s.T
		v := math.Float64bits(s.V)
		b = appendXOR(b, v^w.last[id])
		w.last[id] = v
	}
	w.body = b

	start := len(dst)
	dst = append(dst, make([]byte, recordHeaderSize)...)
	codec := codecNone
	if !raw {
		codec = codecSnappy
		n := s2.MaxEncodedLen(len(b))
		dst = slices.Grow(dst, n)
		dst = dst[:len(dst)+len(s2.EncodeSnappy(dst[len(dst):len(dst)+n], b))]
	} else {
		dst = append(dst, b...)
	}
	h := dst[start : start+recordHeaderSize]
	binary.LittleEndian.PutUint32(h[0:4], uint32(len(dst)-start-recordHeaderSize))
	binary.LittleEndian.PutUint32(h[8:12], uint32(len(samples)))
	h[12] = codec
	binary.LittleEndian.PutUint32(h[4:8], crc32.Checksum(dst[start+8:], castagnoli))
	return dst
}

// appendXOR appends x as a byte of its leading and trailing zero bytes and
// the bytes between them: an unchanged value takes one byte.
func appendXOR(b []byte, x uint64) []byte {
	if x == 0 {
		return append(b, 8<<4)
	}
	lz, tz := bits.LeadingZeros64(x)/8, bits.TrailingZeros64(x)/8
	b = append(b, byte(lz<<4|tz))
	for i := 7 - lz; i >= tz; i-- {
		b = append(b, byte(x>>(8*i)))
	}
	return b
}

// recordHeader is a record's header, read.
type recordHeader struct {
	bodyLen int
	crc     uint32
	samples int
	codec   byte
}

func parseHeader(h []byte) (recordHeader, error) {
	rh := recordHeader{
		bodyLen: int(binary.LittleEndian.Uint32(h[0:4])),
		crc:     binary.LittleEndian.Uint32(h[4:8]),
		samples: int(binary.LittleEndian.Uint32(h[8:12])),
		codec:   h[12],
	}
	if rh.bodyLen > maxRecordBody || (rh.codec != codecNone && rh.codec != codecSnappy) || h[13]|h[14]|h[15] != 0 {
		return rh, fmt.Errorf("%w: bad header", errDamaged)
	}
	return rh, nil
}

// checkRecord verifies a whole record (header and body) against its
// checksum.
func checkRecord(rec []byte, rh recordHeader) error {
	if crc32.Checksum(rec[8:], castagnoli) != rh.crc {
		return fmt.Errorf("%w: checksum mismatch", errDamaged)
	}
	return nil
}

// entry is one decoded sample: its series' id in the segment.
type entry struct {
	id uint32
	t  int64
	v  float64
}

// segReader is the state of reading one segment's records in order.
type segReader struct {
	// defs are the labels of each id: decoded from the records, or the
	// writer's own (shared) when this process wrote the segment.
	defs   []labels.Labels
	shared bool
	ndefs  int // ids defined so far; len(defs) when not shared
	last   []uint64
	sb     labels.ScratchBuilder
}

// decodeBody reads a record's body (decompressed) and appends its samples
// to out. With a shared writer's defs, it only skips the definitions.
func (r *segReader) decodeBody(b []byte, want int, out []entry) ([]entry, error) {
	bad := func(what string) error { return fmt.Errorf("%w: %s", errDamaged, what) }
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return out, bad("series count")
	}
	b = b[k:]
	if n > 0 && !r.shared {
		for range n {
			cnt, k := binary.Uvarint(b)
			if k <= 0 || cnt > uint64(len(b)) {
				return out, bad("label count")
			}
			b = b[k:]
			r.sb.Reset()
			for range cnt {
				var name, value string
				var ok bool
				if name, b, ok = readString(b); !ok {
					return out, bad("label name")
				}
				if value, b, ok = readString(b); !ok {
					return out, bad("label value")
				}
				r.sb.Add(name, value)
			}
			r.sb.Sort()
			r.defs = append(r.defs, r.sb.Labels())
		}
	} else {
		for range n {
			cnt, k := binary.Uvarint(b)
			if k <= 0 || cnt > uint64(len(b)) {
				return out, bad("label count")
			}
			b = b[k:]
			for range 2 * cnt {
				l, k := binary.Uvarint(b)
				if k <= 0 || l > uint64(len(b)-k) {
					return out, bad("label")
				}
				b = b[k+int(l):]
			}
		}
	}
	r.ndefs += int(n)
	if r.shared && r.ndefs > len(r.defs) {
		return out, bad("series the writer does not know")
	}
	for len(r.last) < r.ndefs {
		r.last = append(r.last, 0)
	}
	ns, k := binary.Uvarint(b)
	if k <= 0 || ns != uint64(want) || ns > uint64(len(b)) {
		return out, bad("sample count")
	}
	b = b[k:]
	t := int64(0)
	for range ns {
		id, k := binary.Uvarint(b)
		if k <= 0 || id >= uint64(r.ndefs) {
			return out, bad("series id")
		}
		b = b[k:]
		dt, k := binary.Varint(b)
		if k <= 0 {
			return out, bad("timestamp")
		}
		b = b[k:]
		t += dt
		if len(b) == 0 {
			return out, bad("value")
		}
		lz, tz := int(b[0]>>4), int(b[0]&0xf)
		var x uint64
		switch {
		case lz == 8 && tz == 0:
			b = b[1:]
		case lz+tz >= 8 || len(b) < 1+8-lz-tz:
			return out, bad("value")
		default:
			for _, c := range b[1 : 1+8-lz-tz] {
				x = x<<8 | uint64(c)
			}
			x <<= 8 * tz
			b = b[1+8-lz-tz:]
		}
		v := r.last[id] ^ x
		r.last[id] = v
		out = append(out, entry{id: uint32(id), t: t, v: math.Float64frombits(v)})
	}
	if len(b) != 0 {
		return out, bad("trailing bytes")
	}
	return out, nil
}

// readString reads a length-prefixed string without copying it: the
// ScratchBuilder copies names and values into the Labels it makes, before
// b is used again.
func readString(b []byte) (string, []byte, bool) {
	l, k := binary.Uvarint(b)
	if k <= 0 || l > uint64(len(b)-k) {
		return "", b, false
	}
	if l == 0 {
		return "", b[k:], true
	}
	return unsafe.String(&b[k], int(l)), b[k+int(l):], true
}
