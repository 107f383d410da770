package store

import (
	"errors"
	"math"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// memSeries is one series. Everything but ref and lset is guarded by the lock
// of the shard that holds it.
type memSeries struct {
	ref  storage.SeriesRef
	lset labels.Labels

	closed []chunk // full chunks, oldest first: the ring

	head     chunkenc.Chunk    // open chunk, nil before the first sample
	app      chunkenc.Appender // appender on head, nil until needed (lazy after a restore)
	headMint int64

	maxt   int64   // newest sample, math.MinInt64 when there is none
	lastV  float64 // its value, valid when flags has lastKnown
	trimAt int64   // no trim of the oldest chunk is due before this sample time (see trimOldest)

	// headN is head's sample count. The chunk knows it too, in its first
	// two bytes, but reading them on every append touches a cache line the
	// append does not otherwise need: once the series outgrow the CPU's
	// caches, a miss a sample (BenchmarkAppend). (The small fields are
	// together so that the struct fills its size class, 128 bytes, with no
	// padding.)
	headN uint16
	flags seriesFlags
	scale uint8 // head's scale, or the last chunk's while there is no head (see scale.go)

	// Transaction bookkeeping: the number of samples appended but not yet
	// committed or rolled back (the series is not collected while >0), and
	// where the newest of them is in the pending samples of the appender
	// whose id is txnID (0: none). A pointer to the appender and a copy of
	// the sample took 24 bytes and the struct to the 144-byte class.
	pending int32
	txnID   uint32
	txnAt   int32
}

// seriesFlags are a series' yes-or-no facts, in one byte: the struct has
// no room for another field (see headN).
type seriesFlags uint8

const (
	lastKnown seriesFlags = 1 << iota // lastV holds the newest sample's value
	reserved                          // created or kept by AppendReserved: outside MaxSeries
)

func newMemSeries(ref storage.SeriesRef, l labels.Labels) *memSeries {
	return &memSeries{ref: ref, lset: l, maxt: math.MinInt64}
}

// lastValue returns the value of the newest sample, decoding it when the
// series was restored from a snapshot; enc is its chunks' encoding.
func (s *memSeries) lastValue(enc chunkenc.Encoding) float64 {
	if s.flags&lastKnown != 0 || s.maxt == math.MinInt64 {
		return s.lastV
	}
	var data []byte
	scale := s.scale
	if s.head != nil {
		data = s.head.Bytes()
	} else if n := len(s.closed); n > 0 {
		data, scale = s.closed[n-1].enc(), s.closed[n-1].scale()
	}
	if c, err := chunkenc.FromData(enc, data); err == nil {
		it := c.Iterator(nil)
		for it.Next() != chunkenc.ValNone {
			_, s.lastV = it.At()
		}
		s.lastV = unscale(s.lastV, scale)
	}
	s.flags |= lastKnown
	return s.lastV
}

// full reports whether the head chunk is to be cut before a sample at t:
// it holds 120 samples, or spans maxSpan ms (0: no limit) from its first.
func (s *memSeries) full(t, maxSpan int64) bool {
	return s.head != nil && (s.headN >= samplesPerChunk || maxSpan > 0 && t-s.headMint >= maxSpan)
}

// append adds one sample, which the caller has checked is newer than maxt,
// to chunks of format f. It returns the growth of the chunk bytes. A full
// head chunk is cut first.
func (s *memSeries) append(f chunkFormat, t int64, v float64, maxSpan int64) (grew int, err error) {
	if s.full(t, maxSpan) {
		grew += s.cut()
	}
	if s.head == nil {
		c, err := s.newHead(f.enc)
		if err != nil {
			return grew, err
		}
		s.head, s.app, s.headMint, s.headN = c, nil, t, 0
		if f.scaled {
			s.scale = s.firstScale(v) // from the last chunk's
		} else {
			s.scale = scaleNone
		}
		// The header and the scale byte: dropping the chunk takes them
		// off too.
		grew += len(c.Bytes()) + 1
	}
	if s.app == nil {
		if err := s.reopenHead(); err != nil {
			return grew, err
		}
	}
	before := len(s.head.Bytes())
	w, ok := scaleValue(v, s.scale)
	if !ok {
		if err := s.rescale(v); err != nil {
			return grew, err
		}
		w, _ = scaleValue(v, s.scale)
	}
	s.app.Append(0, t, w)
	s.headN++
	grew += len(s.head.Bytes()) - before
	s.maxt, s.lastV = t, v
	s.flags |= lastKnown
	return grew, nil
}

// newHead returns an empty head chunk with room for five eighths of what
// the series' last closed chunk held, or firstHeadBytes for a new series.
// Its bytes then grow once, by append's doubling, to a quarter more than
// the last chunk. A head given that quarter more at once is half empty on
// average over its life, and a new series' head at chunkenc's 128 bytes
// was mostly empty for its first minutes (BenchmarkHeadBytes measures what
// a series holds beyond its chunk bytes, over a new series' first chunk
// and after). The growth is one allocation a chunk more, which
// BenchmarkAppend and scrape's BenchmarkScrapeLoopAppend do not tell from
// none; chunkenc's own growth from 128 bytes, two or three times over 120
// changing values, was a cost they did see.
func (s *memSeries) newHead(enc chunkenc.Encoding) (chunkenc.Chunk, error) {
	size := firstHeadBytes
	if n := len(s.closed); n > 0 {
		size = max(size, len(s.closed[n-1].data)*5/8)
	}
	return emptyChunk(enc, size)
}

// firstScale returns the scale for a new head chunk whose first value is v.
// The chunk before is the best guess of what the next values fit: a chunk
// that starts on a round value and moves to a larger scale at its second
// pays a re-encoding. So a new chunk keeps the scale of the one before
// when that holds decimals and v fits it, and stays unscaled after an
// unscaled one unless v is a decimal that scaling shortens. Otherwise (a
// series' first chunk, one after a chunk of integers, or a v that does
// not fit) it takes what fitScale gives v.
func (s *memSeries) firstScale(v float64) uint8 {
	switch {
	case s.maxt == math.MinInt64: // the series' first chunk
	case s.scale == scaleNone:
		return fitScale(v, 3) // 10^1: a decimal, or none
	case s.scale > 1:
		if _, ok := scaleValue(v, s.scale); ok {
			return s.scale
		}
	}
	return fitScale(v, 1)
}

// rescale moves the head chunk to the smallest scale above its own that v
// fits, or to none when there is no such scale or one of its samples does
// not fit it, re-encoding its samples. A chunk of integers (scale 1) goes
// to none too when scaling would lengthen v (fitScale); one of decimals
// keeps them scaled, whatever v is.
func (s *memSeries) rescale(v float64) error {
	var to uint8
	if s.scale > 1 {
		to, _ = smallestScale(v, s.scale+1)
	} else {
		to = fitScale(v, s.scale+1)
	}
	for {
		c, app, _, err := reencode(s.head.Encoding(), s.head, math.MinInt64, cap(s.head.Bytes()), s.scale, to)
		if errors.Is(err, errNoFit) && to != scaleNone {
			to = scaleNone
			continue
		}
		if err != nil {
			return err
		}
		s.head, s.app, s.scale = c, app, to
		return nil
	}
}

// reopenHead gives a head chunk made from bytes (a restored one) its
// appender. chunkenc's appender on such a chunk goes on where the bytes end
// only where resumes says so; elsewhere the samples are appended to a new
// chunk of the same room.
func (s *memSeries) reopenHead() error {
	if resumes[s.head.Encoding()] {
		app, err := s.head.Appender()
		if err != nil {
			return err
		}
		s.app = app
		return nil
	}
	c, app, _, err := reencode(s.head.Encoding(), s.head, math.MinInt64, cap(s.head.Bytes()), s.scale, s.scale)
	if err != nil {
		return err
	}
	s.head, s.app = c, app
	return nil
}

// firstHeadBytes is the room a new series' first head chunk starts with:
// its first sample (a varint timestamp and a raw value) and a few more.
const firstHeadBytes = 32

// cut closes the head chunk into the ring, copying its scale and bytes to an
// exactly sized slice. It returns the change in chunk bytes (≤ 0).
func (s *memSeries) cut() int {
	if len(s.closed) == 0 {
		s.trimAt = 0 // a new oldest chunk
	}
	if len(s.closed) == cap(s.closed) {
		// Grow by one, not by append's doubling: the ring's length
		// settles at the chunks the retention spans (four at a span of a
		// quarter of it), and a doubled list kept room for eight for every
		// series that once held five, memory that arrived series by
		// series during a soak (BenchmarkRingSoak).
		closed := make([]chunk, len(s.closed), len(s.closed)+1)
		copy(closed, s.closed)
		s.closed = closed
	}
	s.closed = append(s.closed, closeChunk(s.scale, s.head.Bytes(), s.maxt, nil))
	s.head, s.app = nil, nil
	return 0
}

// dropBefore drops closed chunks wholly older than mint. It returns how many
// samples and bytes went.
func (s *memSeries) dropBefore(mint int64) (samples, bytes int) {
	n := 0
	for n < len(s.closed) && s.closed[n].maxt < mint {
		samples += s.closed[n].numSamples()
		bytes += len(s.closed[n].data)
		n++
	}
	if n == 0 {
		return 0, 0
	}
	s.trimAt = 0 // a new oldest chunk
	// Shift in place so the ring does not pin what it dropped; readers hold
	// copies of the entries, never the slice itself.
	m := copy(s.closed, s.closed[n:])
	clear(s.closed[m:])
	s.closed = s.closed[:m]
	if m == 0 {
		s.closed = nil
	}
	return samples, bytes
}

// trimOldest re-encodes the oldest closed chunk, in encoding enc, without
// its samples older than mint (the retention's start), once half of its
// span is older. It returns how many samples and bytes went.
//
// Whole chunks go only once their newest sample expires, so without this a
// series would hold the retention plus up to a chunk's span (a quarter
// more at a short retention); with it, plus up to half of one. Each chunk
// is re-encoded once, when half of it is left: trimAt says when that is
// due, so an append pays one comparison.
func (s *memSeries) trimOldest(enc chunkenc.Encoding, mint, retentionMs int64) (samples, bytes int) {
	if len(s.closed) == 0 {
		s.trimAt = math.MaxInt64 // until cut gives it a chunk
		return 0, 0
	}
	c := s.closed[0]
	mint0 := c.mint(enc)
	half := mint0 + (c.maxt-mint0)/2
	if mint <= half {
		s.trimAt = math.MaxInt64 // saturated
		if half < math.MaxInt64-retentionMs-1 {
			s.trimAt = half + retentionMs + 1 // when the retention's start passes half
		}
		return 0, 0
	}
	s.trimAt = math.MaxInt64 // until the oldest chunk goes
	nc, ok := trimChunk(enc, c, mint)
	if !ok {
		return 0, 0
	}
	s.closed[0] = nc
	return c.numSamples() - nc.numSamples(), len(c.data) - len(nc.data)
}

// chunksIn appends to dst the chunks, in encoding enc, overlapping [mint,
// maxt], the open head chunk as a copy, and returns dst. The copy goes to
// the end of *arena when arena is not nil (the snapshot reuses one buffer
// per shard, so such a chunk lives only until the next shard), else to a
// new slice.
func (s *memSeries) chunksIn(enc chunkenc.Encoding, dst []chunk, arena *[]byte, mint, maxt int64) []chunk {
	for _, c := range s.closed {
		if c.maxt >= mint && c.mint(enc) <= maxt {
			dst = append(dst, c)
		}
	}
	if s.head != nil && s.maxt >= mint && s.headMint <= maxt {
		dst = append(dst, closeChunk(s.scale, s.head.Bytes(), s.maxt, arena))
	}
	return dst
}
