package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// The snapshot format, written down once in docs/snapshot-format.md: a
// 60-byte header (written last, when its counts are known), series records,
// a trailer, each record checksummed. This file holds its bytes both ways:
// the header, the writer of records, and the decoder of a series record.
const (
	snapshotMagic   = "VIGILSNP"
	trailerMagic    = "VIGILEND"
	snapshotVersion = 2
	headerSize      = 60

	recSeries  = 1
	recTrailer = 2

	trailerSize = 8 + 8 + 8 + 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type snapshotHeader struct {
	version    uint16 // as read; encode writes snapshotVersion
	encoding   chunkenc.Encoding
	series     uint64
	samples    uint64
	mint, maxt int64
	written    int64 // unix ms
}

func (h snapshotHeader) encode() []byte {
	b := make([]byte, headerSize)
	copy(b, snapshotMagic)
	binary.LittleEndian.PutUint16(b[8:], snapshotVersion)
	b[10] = byte(h.encoding)
	binary.LittleEndian.PutUint64(b[16:], h.series)
	binary.LittleEndian.PutUint64(b[24:], h.samples)
	binary.LittleEndian.PutUint64(b[32:], uint64(h.mint))
	binary.LittleEndian.PutUint64(b[40:], uint64(h.maxt))
	binary.LittleEndian.PutUint64(b[48:], uint64(h.written))
	binary.LittleEndian.PutUint32(b[56:], crc32.Checksum(b[:56], castagnoli))
	return b
}

func decodeHeader(b []byte) (snapshotHeader, error) {
	var h snapshotHeader
	if len(b) < headerSize {
		return h, fmt.Errorf("header: truncated at %d of %d bytes", len(b), headerSize)
	}
	if string(b[:8]) != snapshotMagic {
		return h, fmt.Errorf("header: not a vigil snapshot (magic %q)", b[:8])
	}
	if got, want := crc32.Checksum(b[:56], castagnoli), binary.LittleEndian.Uint32(b[56:]); got != want {
		return h, fmt.Errorf("header: checksum mismatch")
	}
	if h.version = binary.LittleEndian.Uint16(b[8:]); h.version < 1 || h.version > snapshotVersion {
		return h, fmt.Errorf("header: version %d, this vigil reads versions 1 to %d", h.version, snapshotVersion)
	}
	h.encoding = chunkenc.Encoding(b[10])
	if h.encoding != chunkenc.EncXOR && h.encoding != chunkenc.EncXOR2 {
		return h, fmt.Errorf("header: unknown chunk encoding %d", b[10])
	}
	h.series = binary.LittleEndian.Uint64(b[16:])
	h.samples = binary.LittleEndian.Uint64(b[24:])
	h.mint = int64(binary.LittleEndian.Uint64(b[32:]))
	h.maxt = int64(binary.LittleEndian.Uint64(b[40:]))
	h.written = int64(binary.LittleEndian.Uint64(b[48:]))
	return h, nil
}

// snapshotWriter encodes records onto w, counting what it wrote.
type snapshotWriter struct {
	w       *bufio.Writer
	enc     chunkenc.Encoding // of every chunk written
	buf     []byte
	cuts    []int
	pieces  [][]byte
	n       int64 // bytes written, the header included
	records uint64
	series  uint64
	samples uint64
	mint    int64
	maxt    int64
}

func newSnapshotWriter(w io.Writer, enc chunkenc.Encoding) (*snapshotWriter, error) {
	sw := &snapshotWriter{w: bufio.NewWriterSize(w, 1<<20), enc: enc, mint: math.MaxInt64, maxt: math.MinInt64}
	// A placeholder: the real header is written at offset 0 once the
	// counts are known.
	if _, err := sw.w.Write(make([]byte, headerSize)); err != nil {
		return nil, err
	}
	sw.n = headerSize
	return sw, nil
}

func (sw *snapshotWriter) record(typ byte, payload []byte) error {
	return sw.recordPieces(typ, len(payload), payload)
}

// recordPieces writes a record whose payload is the pieces in order, n bytes
// in all, so chunk bytes go to the buffer without an extra copy.
func (sw *snapshotWriter) recordPieces(typ byte, n int, pieces ...[]byte) error {
	var hdr [1 + binary.MaxVarintLen64]byte
	hdr[0] = typ
	hn := 1 + binary.PutUvarint(hdr[1:], uint64(n))
	crc := crc32.Checksum(hdr[:hn], castagnoli)
	if _, err := sw.w.Write(hdr[:hn]); err != nil {
		return err
	}
	for _, p := range pieces {
		crc = crc32.Update(crc, castagnoli, p)
		if _, err := sw.w.Write(p); err != nil {
			return err
		}
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], crc)
	if _, err := sw.w.Write(sum[:]); err != nil {
		return err
	}
	sw.n += int64(hn + n + 4)
	sw.records++
	return nil
}

// writeSeries writes one series record; chunks must be non-empty and in order.
func (sw *snapshotWriter) writeSeries(l labels.Labels, cs []chunk) error {
	// The labels and the chunks' small fields go to sw.buf; cuts[i] is
	// where chunk i's bytes come in between.
	b := sw.buf[:0]
	nl := 0
	l.Range(func(lb labels.Label) {
		b = binary.AppendUvarint(b, uint64(len(lb.Name)))
		b = append(b, lb.Name...)
		b = binary.AppendUvarint(b, uint64(len(lb.Value)))
		b = append(b, lb.Value...)
		nl++
	})
	var pre [binary.MaxVarintLen64]byte
	np := binary.PutUvarint(pre[:], uint64(nl))
	b = binary.AppendUvarint(b, uint64(len(cs)))
	cuts := sw.cuts[:0]
	n := np + len(b)
	for i, c := range cs {
		before := len(b)
		mint := c.mint(sw.enc)
		if i == 0 {
			sw.mint = min(sw.mint, mint) // chunks are in time order
		}
		b = binary.AppendVarint(b, mint)
		b = binary.AppendUvarint(b, uint64(c.maxt-mint))
		b = binary.AppendUvarint(b, uint64(len(c.data)))
		cuts = append(cuts, len(b))
		n += len(b) - before + len(c.data)
		sw.samples += uint64(c.numSamples())
	}
	pieces := append(sw.pieces[:0], pre[:np])
	from := 0
	for i, cut := range cuts {
		pieces = append(pieces, b[from:cut], cs[i].bytes())
		from = cut
	}
	sw.buf, sw.cuts, sw.pieces = b, cuts, pieces
	sw.series++
	sw.maxt = max(sw.maxt, cs[len(cs)-1].maxt)
	return sw.recordPieces(recSeries, n, pieces...)
}

// finish writes the trailer and flushes, and returns the header to put at
// offset 0.
func (sw *snapshotWriter) finish(written int64) ([]byte, error) {
	b := make([]byte, 0, trailerSize)
	b = binary.LittleEndian.AppendUint64(b, sw.series)
	b = binary.LittleEndian.AppendUint64(b, sw.samples)
	b = binary.LittleEndian.AppendUint64(b, sw.records)
	b = append(b, trailerMagic...)
	if err := sw.record(recTrailer, b); err != nil {
		return nil, err
	}
	if err := sw.w.Flush(); err != nil {
		return nil, err
	}
	h := snapshotHeader{encoding: sw.enc, series: sw.series, samples: sw.samples, mint: sw.mint, maxt: sw.maxt, written: written}
	if sw.series == 0 {
		h.mint, h.maxt = 0, 0
	}
	return h.encode(), nil
}

// decodeSeries parses and checks a series record's payload, in the version
// and encoding of h: labels sorted and unique, chunks well-formed, starting
// at the time recorded for them, in order and not overlapping.
// The chunk list is carved from chunks. A version 1 chunk is copied, to
// put its scale (none) before it.
func decodeSeries(la *labelArena, chunks *slab[chunk], h *snapshotHeader, b []byte) (labels.Labels, []chunk, error) {
	d := decoder{b: b}
	nl := d.uvarint()
	if nl == 0 || nl > uint64(len(b)) {
		return labels.EmptyLabels(), nil, fmt.Errorf("series: %d labels", nl)
	}
	la.reset()
	prev := ""
	for i := uint64(0); i < nl && d.err == nil; i++ {
		// The strings alias the payload only until la.labels copies them.
		name := yolo(d.bytes())
		value := yolo(d.bytes())
		if d.err != nil {
			break
		}
		if name == "" || (i > 0 && name <= prev) {
			return labels.EmptyLabels(), nil, fmt.Errorf("series: labels not sorted or repeated at %q", name)
		}
		prev = name
		la.add(name, value)
	}
	nc := d.uvarint()
	if d.err == nil && (nc == 0 || nc > uint64(len(b))) {
		return labels.EmptyLabels(), nil, fmt.Errorf("series: %d chunks", nc)
	}
	cs := chunks.take(int(nc))[:0]
	prevMax := int64(math.MinInt64)
	for i := uint64(0); i < nc && d.err == nil; i++ {
		mint := d.varint()
		span := d.uvarint()
		data := d.bytes()
		if d.err != nil {
			break
		}
		maxt := mint + int64(span)
		var c chunk
		if h.version == 1 {
			c = closeChunk(scaleNone, data, maxt, nil)
		} else {
			c = newChunk(data, maxt)
		}
		first, ok := firstTime(h.encoding, c.enc())
		switch ns := c.numSamples(); {
		case len(c.data) == 0:
			return labels.EmptyLabels(), nil, fmt.Errorf("series: chunk %d is empty", i)
		case c.scale() > maxScale:
			return labels.EmptyLabels(), nil, fmt.Errorf("series: chunk %d: scale %d, at most %d", i, c.scale(), maxScale)
		case span > math.MaxInt64/2 || maxt < mint:
			return labels.EmptyLabels(), nil, fmt.Errorf("series: chunk %d: time range overflows", i)
		case !ok || first != mint:
			return labels.EmptyLabels(), nil, fmt.Errorf("series: chunk %d does not start at %d, its recorded start", i, mint)
		case i > 0 && mint <= prevMax:
			return labels.EmptyLabels(), nil, fmt.Errorf("series: chunk %d overlaps the one before", i)
		case ns == 0 || ns > samplesPerChunk:
			return labels.EmptyLabels(), nil, fmt.Errorf("series: chunk %d holds %d samples", i, ns)
		case ns > 1 && mint == maxt:
			return labels.EmptyLabels(), nil, fmt.Errorf("series: chunk %d: %d samples in one millisecond", i, ns)
		}
		prevMax = maxt
		cs = append(cs, c)
	}
	if d.err != nil {
		return labels.EmptyLabels(), nil, fmt.Errorf("series: %w", d.err)
	}
	if len(d.b) != 0 {
		return labels.EmptyLabels(), nil, fmt.Errorf("series: %d bytes left over", len(d.b))
	}
	l, err := la.labels()
	if err != nil {
		return labels.EmptyLabels(), nil, fmt.Errorf("series: %w", err)
	}
	return l, cs, nil
}

var errShort = errors.New("record too short")

// decoder reads the fields of a record payload, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errShort
		return nil
	}
	b := d.b[:n:n]
	d.b = d.b[n:]
	return b
}

// yolo views b as a string without copying; b must not change while the
// string is in use.
func yolo(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
