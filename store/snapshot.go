package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"sync"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// The snapshot format, version 2. All integers are little-endian; varint and
// uvarint are encoding/binary's. CRC32C is the Castagnoli polynomial.
//
//	file    = header record* trailer
//	header  = magic "VIGILSNP" [8] | version u16 (2) | chunk encoding u8 |
//	          reserved u8 | reserved u32 | series u64 | samples u64 |
//	          mint i64 | maxt i64 | written (unix ms) i64 | crc32c of the
//	          preceding 56 bytes u32                                   = 60 bytes
//	record  = type u8 | length uvarint | payload [length] |
//	          crc32c of type, length and payload u32
//	series  = record type 1, payload:
//	          labels uvarint | (name len uvarint | name | value len uvarint | value)* |
//	          chunks uvarint | (mint varint | maxt-mint uvarint | len uvarint | scale u8 | chunk bytes)*
//	trailer = record type 2, payload:
//	          series u64 | samples u64 | records u64 | "VIGILEND" [8]
//
// The chunk bytes are tsdb/chunkenc's for the header's encoding, of values
// scaled as the scale before them says (scale.go; len counts the scale
// byte); a series' chunks are in time order and do not overlap, and the last
// one is the open head chunk when it holds fewer than 120 samples. Version 1
// is version 2 without the scale byte (every chunk of scale 0); it is still
// read. The header's counts and
// time range are written last (the file is filled in, then its header, then
// fsynced), so a reader knows how much a damaged file should have held.
const (
	snapshotMagic   = "VIGILSNP"
	trailerMagic    = "VIGILEND"
	snapshotVersion = 2
	headerSize      = 60

	recSeries  = 1
	recTrailer = 2

	trailerSize = 8 + 8 + 8 + 8
)

// SnapshotFileName is the name of the snapshot in the data dir.
const SnapshotFileName = "vigil.snapshot"

// ErrDamagedSnapshot: a snapshot file failed its checks. Restores report it
// (RestoreReport.Damage wraps it), they do not fail on it.
var ErrDamagedSnapshot = errors.New("damaged snapshot")

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

func newSnapshotWriter(w io.Writer) (*snapshotWriter, error) {
	sw := &snapshotWriter{w: bufio.NewWriterSize(w, 1<<20), mint: math.MaxInt64, maxt: math.MinInt64}
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
		mint := c.mint()
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
	h := snapshotHeader{encoding: chunkEncoding, series: sw.series, samples: sw.samples, mint: sw.mint, maxt: sw.maxt, written: written}
	if sw.series == 0 {
		h.mint, h.maxt = 0, 0
	}
	return h.encode(), nil
}

// decodeResult is what a read of a snapshot found.
type decodeResult struct {
	header   snapshotHeader
	headerOK bool

	series, samples int64 // in records that passed every check
	badRecords      int   // records skipped: checksum mismatch or invalid content
	trailer         bool  // a valid trailer ended the file

	// damage is the first thing found wrong (nil for a whole file), with
	// the offset where it was found.
	damage error
	offset int64
}

func (r *decodeResult) damaged(off int64, format string, args ...any) {
	if r.damage == nil {
		r.damage = fmt.Errorf("%w: offset %d: %s", ErrDamagedSnapshot, off, fmt.Sprintf(format, args...))
		r.offset = off
	}
}

// snapshotBytes is a snapshot file on its way into memory: buf is sized to
// the file and filled from the front, by a reader that may still be at work
// while the records already in are decoded.
type snapshotBytes struct {
	buf []byte

	mu     sync.Mutex
	cond   sync.Cond
	filled int  // bytes of buf read so far
	done   bool // the reader has stopped; filled is final
	stop   bool // the decoder needs no more
}

// newSnapshotBytes returns an empty buffer for a file of size bytes.
func newSnapshotBytes(size int) *snapshotBytes {
	sb := &snapshotBytes{buf: make([]byte, size)}
	sb.cond.L = &sb.mu
	return sb
}

// wholeSnapshot wraps a snapshot already in memory.
func wholeSnapshot(b []byte) *snapshotBytes {
	sb := &snapshotBytes{buf: b, filled: len(b), done: true}
	sb.cond.L = &sb.mu
	return sb
}

// upTo waits until the first end bytes are in, or the reader has stopped,
// and returns what is in: at least end bytes unless the file ended first.
func (sb *snapshotBytes) upTo(end int64) []byte {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	for int64(sb.filled) < end && !sb.done {
		sb.cond.Wait()
	}
	return sb.buf[:sb.filled:sb.filled]
}

// fill reads r into buf, a piece at a time, letting upTo's waiters go on
// after each piece. It returns the read's error, io.EOF excepted: a file
// that came up short reads as truncated.
func (sb *snapshotBytes) fill(r io.Reader, piece int) error {
	defer func() {
		sb.mu.Lock()
		sb.done = true
		sb.mu.Unlock()
		sb.cond.Broadcast()
	}()
	n := sb.filled
	for n < len(sb.buf) {
		m, err := io.ReadFull(r, sb.buf[n:min(n+piece, len(sb.buf))])
		n += m
		sb.mu.Lock()
		sb.filled = n
		stop := sb.stop
		sb.mu.Unlock()
		sb.cond.Broadcast()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			sb.mu.Lock()
			sb.buf = sb.buf[:n] // the file is shorter than it was: upTo and size see the end
			sb.mu.Unlock()
			return nil
		}
		if err != nil {
			return err
		}
		if stop {
			return nil
		}
	}
	return nil
}

// halt tells the reader that nothing more is needed.
func (sb *snapshotBytes) halt() {
	sb.mu.Lock()
	sb.stop = true
	sb.mu.Unlock()
}

// size is the file's size as far as it is known: the size it had when it
// was opened, or what the reader got once it came up short.
func (sb *snapshotBytes) size() int64 {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return int64(len(sb.buf))
}

// seriesBatch is how many series records go to a decoding worker at a time.
const seriesBatch = 128

// recordSpan is one series record that passed its checksum.
type recordSpan struct {
	off     int64 // of the record, for damage reports
	payload []byte
	num     uint64 // its number in the file, from 1
}

// decodeSnapshot reads the snapshot in src and calls fn with the header and
// each series record that passes its checksum and its checks. Damage never
// makes it fail: it is described in the result, and decoding goes on where
// it can (a record with a bad checksum is skipped by its length; a bad
// length or a truncation ends the read).
//
// The records are framed and their checksums verified in file order, as
// the bytes come in; decoding them and fn run on workers goroutines. A
// series goes to the worker its labels pick, so fn sees the records of one
// series (a damaged file can hold it twice) in file order, on one
// goroutine: fn's first argument says which. The result is what a
// decoding in file order would say: its damage is the one found first in
// the file.
//
// The chunk slices passed to fn alias src's buffer (each capped at its own
// end, so an append to one never writes over the next): fn may keep them,
// and so keeps the buffer alive.
func decodeSnapshot(src *snapshotBytes, workers int, fn func(worker int, h *snapshotHeader, l labels.Labels, cs []chunk)) decodeResult {
	var res decodeResult
	defer src.halt()
	data := src.upTo(headerSize)
	var err error
	res.header, err = decodeHeader(data[:min(len(data), headerSize)])
	if err != nil {
		res.damaged(0, "%v", err)
		return res
	}
	res.headerOK = true

	workers = max(workers, 1)
	type workerResult struct {
		series, samples int64
		bad             int
		damage          error
		offset          int64
	}
	results := make([]workerResult, workers)
	queues := make([]chan []recordSpan, workers)
	batches := make([][]recordSpan, workers)
	var wg sync.WaitGroup
	for w := range workers {
		queues[w] = make(chan []recordSpan, 4)
		batches[w] = make([]recordSpan, 0, seriesBatch)
		wg.Go(func() {
			var (
				la     labelArena
				chunks slab[chunk]
			)
			defer la.done()
			defer chunks.done()
			r := &results[w]
			for batch := range queues[w] {
				for _, rec := range batch {
					l, cs, err := decodeSeries(&la, &chunks, &res.header, rec.payload)
					if err != nil {
						if r.damage == nil {
							r.damage = fmt.Errorf("%w: offset %d: record %d: %v", ErrDamagedSnapshot, rec.off, rec.num, err)
							r.offset = rec.off
						}
						r.bad++
						continue
					}
					fn(w, &res.header, l, cs)
					r.series++
					for _, c := range cs {
						r.samples += int64(c.numSamples())
					}
				}
			}
		})
	}
	flush := func(w int) {
		if len(batches[w]) > 0 {
			queues[w] <- batches[w]
			batches[w] = make([]recordSpan, 0, seriesBatch)
		}
	}

	frame(src, &res, func(rec recordSpan) {
		w := int(labelsKey(rec.payload) % uint32(workers))
		batches[w] = append(batches[w], rec)
		if len(batches[w]) == seriesBatch {
			flush(w)
		}
	})
	src.halt()
	for w := range workers {
		flush(w)
		close(queues[w])
	}
	wg.Wait()
	for _, r := range results {
		res.series += r.series
		res.samples += r.samples
		res.badRecords += r.bad
		if r.damage != nil && (res.damage == nil || r.offset < res.offset) {
			res.damage, res.offset = r.damage, r.offset
		}
	}
	return res
}

// frame walks the records after the header in file order, verifying each
// one's length and checksum, and hands the series records that pass to
// series. It notes in res the framing damage it finds, the trailer, and the
// records with a bad checksum or an unknown type.
func frame(src *snapshotBytes, res *decodeResult, series func(recordSpan)) {
	size := src.size()
	off := int64(headerSize)
	var (
		data    []byte
		records uint64
		prevBad bool
	)
	// need makes sure data holds the first end bytes, if the file has them.
	need := func(end int64) bool {
		if int64(len(data)) < end {
			data = src.upTo(end)
			size = src.size()
		}
		return int64(len(data)) >= end
	}
	for {
		recOff := off
		if !need(off + 1) {
			res.damaged(recOff, "truncated: no trailer")
			return
		}
		typ := data[off]
		need(off + 1 + binary.MaxVarintLen64)
		length, n := binary.Uvarint(data[off+1:])
		switch {
		case n == 0:
			res.damaged(recOff, "truncated in a record header")
			return
		case n < 0:
			res.damaged(recOff, "record length unreadable")
			return
		}
		off += int64(1 + n)
		// overruns notes the damage when the record and its checksum do
		// not fit in the file's size as now known. While the reader is at
		// work that is the size the file had when it was opened: a file
		// that comes up short while a record is awaited is judged again
		// against what it turned out to hold, so that one file gets one
		// report however the read ran.
		overruns := func() bool {
			switch {
			case size-off < 4:
				res.damaged(recOff, "truncated in a record")
			case length > uint64(size-off-4):
				res.damaged(recOff, "record length %d runs past the end of the file", length)
			default:
				return false
			}
			return true
		}
		if overruns() {
			return
		}
		end := off + int64(length)
		if !need(end + 4) {
			if !overruns() { // the read failed: size is not the file's
				res.damaged(recOff, "truncated in a record")
			}
			return
		}
		payload := data[off:end:end]
		// The checksum covers the type and length bytes as they are in the
		// file, then the payload: one contiguous run.
		crc := crc32.Checksum(data[recOff:end], castagnoli)
		sum := binary.LittleEndian.Uint32(data[end:])
		off = end + 4
		if crc != sum {
			res.damaged(recOff, "record %d: checksum mismatch", records+1)
			res.badRecords++
			records++
			if prevBad {
				// Two in a row: the lengths cannot be trusted any more.
				return
			}
			prevBad = true
			continue
		}
		prevBad = false
		records++
		switch typ {
		case recSeries:
			series(recordSpan{off: recOff, payload: payload, num: records})
		case recTrailer:
			if len(payload) != trailerSize || string(payload[24:]) != trailerMagic {
				res.damaged(recOff, "trailer malformed")
				return
			}
			if got := binary.LittleEndian.Uint64(payload[16:]); got+1 != records {
				res.damaged(recOff, "trailer counts %d records, read %d", got, records-1)
			}
			if off != size {
				res.damaged(off, "%d bytes after the trailer", size-off)
				return
			}
			res.trailer = true
			return
		default:
			res.damaged(recOff, "record %d: unknown type %d", records, typ)
			res.badRecords++
		}
	}
}

// labelsKey is a checksum of the label names and values of a series
// record, as decoded (so two spellings of one length give one key), to
// pick the worker that decodes it. A record whose labels do not parse
// gets whatever key its bytes give; decodeSeries refuses it anyway.
func labelsKey(b []byte) uint32 {
	d := decoder{b: b}
	var crc uint32
	for nl := d.uvarint(); nl > 0 && d.err == nil; nl-- {
		for range 2 {
			v := d.bytes()
			crc = crc32.Update(crc, castagnoli, v)
			crc = crc32.Update(crc, castagnoli, []byte{byte(len(v)), byte(len(v) >> 8)})
		}
	}
	return crc
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
