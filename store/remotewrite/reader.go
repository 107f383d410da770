package remotewrite

import (
	"errors"
	"fmt"
	"os"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/labels"
)

// sample is a sample read from the spool: its series' labels (as the store
// holds them), and the series' id in its segment, which a chunk (never
// spanning two segments) groups and shards by.
type sample struct {
	lset labels.Labels
	id   uint32
	t    int64
	v    float64
}

// reader reads one remote's samples from the spool, in order, from its
// position on. It belongs to the remote's goroutine.
type reader struct {
	sp  *spool
	rs  *readerState
	pos position // where the next sample is

	f    *os.File // the segment's file, open while reading it
	fseq uint64

	// The decoding state of segment srSeq, valid for the records before
	// srOff.
	sr    segReader
	srSeq uint64
	srOff int64

	// ents are the samples of the record at pos.Offset, ending at next.
	ents []entry
	next int64

	hdr, rec, body []byte
}

func newReader(sp *spool, rs *readerState) *reader {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return &reader{sp: sp, rs: rs, pos: rs.read, hdr: make([]byte, recordHeaderSize)}
}

func (r *reader) close() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// read appends to out what the spool holds after the reader's position,
// up to max samples in all, and moves the position past them. It stops at
// the end of a segment when out already holds samples, so that a chunk
// never spans two: segEnd then says so. It returns at once when nothing
// more is there.
func (r *reader) read(out []sample, max int) (_ []sample, segEnd bool) {
	r.sp.mu.Lock()
	if r.rs.jumped {
		// A segment went past the bound: the spool moved the reader
		// on and counted what it had not read. A chunk begun in it
		// ends first.
		if len(out) > 0 {
			r.sp.mu.Unlock()
			return out, true
		}
		r.rs.jumped = false
		r.pos = r.rs.read
		r.ents = r.ents[:0]
	}
	r.sp.mu.Unlock()
	start := len(out)
	for len(out) < max {
		if r.pos.Index < len(r.ents) {
			k := min(max-len(out), len(r.ents)-r.pos.Index)
			for _, e := range r.ents[r.pos.Index : r.pos.Index+k] {
				out = append(out, sample{lset: r.sr.defs[e.id], id: e.id, t: e.t, v: e.v})
			}
			r.pos.Index += k
			r.pos.Before += int64(k)
			if r.pos.Index == len(r.ents) {
				r.pos = position{Seq: r.pos.Seq, Offset: r.next, Before: r.pos.Before}
				r.ents = r.ents[:0]
			}
			continue
		}
		in := r.sp.info(r.pos.Seq)
		if in.removed {
			break // the bound took it: jumped, seen on the next read
		}
		if r.pos.Offset+recordHeaderSize > in.size {
			if !in.sealed || in.next == 0 {
				break
			}
			if len(out) > 0 {
				segEnd = true
				break
			}
			if !r.enter(position{Seq: in.next, Offset: int64(len(segmentMagic))}) {
				break
			}
			continue
		}
		if err := r.load(in); err != nil {
			lost := r.sp.skipDamaged(r.rs, r.pos)
			r.sp.logger.Error("remote write: a damaged spool record; the rest of its segment is dropped",
				"remote", r.rs.name, "segment", in.seg.path, "offset", r.pos.Offset, "samples", lost, "err", err)
			r.pos = position{Seq: r.pos.Seq, Offset: 1 << 62, Before: r.pos.Before + lost}
			r.ents = r.ents[:0]
			continue
		}
		if len(r.ents) == 0 { // no record has none, but a damaged one may say so
			r.pos = position{Seq: r.pos.Seq, Offset: r.next, Before: r.pos.Before}
		}
	}
	if len(out) > start {
		r.sp.mu.Lock()
		if r.rs.jumped {
			// What was read meanwhile was counted as dropped.
			out, segEnd = out[:start], false
		} else {
			r.rs.read = r.pos
		}
		r.sp.mu.Unlock()
	}
	return out, segEnd
}

// enter moves the reader to p, the start of the next segment, and tells
// the spool, so that the bound counts from there. False when the spool
// moved the reader meanwhile.
func (r *reader) enter(p position) bool {
	r.sp.mu.Lock()
	defer r.sp.mu.Unlock()
	if r.rs.jumped {
		return false
	}
	prev := r.pos.Seq
	r.pos, r.rs.read = p, p
	r.ents = r.ents[:0]
	for _, seg := range r.sp.segs {
		if seg.seq == prev {
			r.sp.releaseDefs(seg)
		}
	}
	return true
}

// load decodes the record at r.pos into r.ents, after decoding the
// segment's records before it when the reader has not (a start, or a
// jump).
func (r *reader) load(in segInfo) error {
	if r.srSeq != r.pos.Seq || r.srOff > r.pos.Offset {
		r.sr = segReader{}
		if in.defs != nil {
			r.sr.defs, r.sr.shared = in.defs, true
		}
		r.srSeq, r.srOff = r.pos.Seq, int64(len(segmentMagic))
	}
	if r.sr.shared {
		r.sr.defs = in.defs // the writer's, which grow with the segment
	}
	if in.seg.path != "" && (r.f == nil || r.fseq != in.seg.seq) {
		r.close()
		f, err := os.Open(in.seg.path)
		if err != nil {
			return err
		}
		r.f, r.fseq = f, in.seg.seq
	}
	for {
		var err error
		r.ents, err = r.decodeAt(in, r.srOff, r.ents[:0])
		if err != nil {
			return err
		}
		if r.srOff == r.pos.Offset {
			r.next = r.srOff + int64(len(r.rec))
			r.srOff = r.next
			if r.pos.Index > len(r.ents) {
				return fmt.Errorf("%w: cursor past the record's samples", errDamaged)
			}
			return nil
		}
		r.srOff += int64(len(r.rec))
		if r.srOff > r.pos.Offset || r.srOff+recordHeaderSize > in.size {
			return fmt.Errorf("%w: cursor between records", errDamaged)
		}
	}
}

// decodeAt reads, checks and decodes the record at off.
func (r *reader) decodeAt(in segInfo, off int64, out []entry) ([]entry, error) {
	if err := in.readAt(r.f, r.hdr, off); err != nil {
		return out, err
	}
	rh, err := parseHeader(r.hdr)
	if err != nil {
		return out, err
	}
	if off+recordHeaderSize+int64(rh.bodyLen) > in.size {
		return out, fmt.Errorf("%w: record past the end of its segment", errDamaged)
	}
	n := recordHeaderSize + rh.bodyLen
	if cap(r.rec) < n {
		r.rec = make([]byte, n)
	}
	r.rec = r.rec[:n]
	if err := in.readAt(r.f, r.rec, off); err != nil {
		return out, err
	}
	if err := checkRecord(r.rec, rh); err != nil {
		return out, err
	}
	body := r.rec[recordHeaderSize:]
	if rh.codec == codecSnappy {
		n, err := snappy.DecodedLen(body)
		if err != nil || n > maxRecordBody {
			return out, fmt.Errorf("%w: snappy length", errDamaged)
		}
		if cap(r.body) < n {
			r.body = make([]byte, n)
		}
		body, err = snappy.Decode(r.body[:n], body)
		if err != nil {
			return out, errors.Join(errDamaged, err)
		}
	}
	return r.sr.decodeBody(body, rh.samples, out)
}
