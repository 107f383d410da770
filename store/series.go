package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"sync"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// samplesPerChunk is where a head chunk is cut, as in Prometheus' head.
const samplesPerChunk = 120

// chunkEncoding is the float encoding of every chunk. EncXOR2 was chosen over
// EncXOR by BenchmarkCompression and BenchmarkAppend (see the package doc);
// it is a variable only so those benchmarks can measure the alternative.
var chunkEncoding = chunkenc.EncXOR2

// scaleDecimals says whether new chunks may hold scaled values (scale.go).
// It is a variable only so BenchmarkCompression can measure chunkenc's
// encodings without it.
var scaleDecimals = true

// chunk is one closed (full, immutable) chunk. Every series holds a list
// of them, so it is kept to 24 bytes: its bytes are a string, since they
// are never written again and need no capacity, and its first timestamp
// is read from them (mint) rather than kept. Readers may keep a chunk
// after the shard lock is released.
//
// data is the chunk's scale (a byte, see scale.go) and then its chunkenc
// bytes: a snapshot writes it as it is, and a restored chunk points into
// the snapshot.
type chunk struct {
	maxt int64
	data string
}

// newChunk makes a closed chunk of b (scale byte and chunkenc bytes), which
// no one may write again.
func newChunk(b []byte, maxt int64) chunk {
	return chunk{maxt: maxt, data: unsafe.String(unsafe.SliceData(b), len(b))}
}

// closeChunk makes a closed chunk of scale s from chunkenc bytes b, copied
// to the end of *arena when arena is not nil (earlier chunks there keep the
// old array if append moves it), else to an exactly sized new slice.
func closeChunk(s uint8, b []byte, maxt int64, arena *[]byte) chunk {
	var data []byte
	if arena != nil {
		n := len(*arena)
		*arena = append(append(*arena, s), b...)
		data = (*arena)[n:len(*arena):len(*arena)]
	} else {
		data = make([]byte, 1+len(b))
		data[0] = s
		copy(data[1:], b)
	}
	return newChunk(data, maxt)
}

// bytes returns the chunk's bytes: its scale, then its chunkenc bytes.
func (c chunk) bytes() []byte {
	return unsafe.Slice(unsafe.StringData(c.data), len(c.data))
}

// scale returns the chunk's scale; 0 (none) for an empty one.
func (c chunk) scale() uint8 {
	if len(c.data) == 0 {
		return scaleNone
	}
	return c.data[0]
}

// enc returns the chunk's chunkenc bytes.
func (c chunk) enc() []byte {
	if len(c.data) == 0 {
		return nil
	}
	return c.bytes()[1:]
}

func (c chunk) numSamples() int {
	if len(c.data) < 3 {
		return 0
	}
	return int(binary.BigEndian.Uint16(c.enc()))
}

// mint returns the timestamp of the chunk's first sample.
func (c chunk) mint() int64 {
	t, _ := firstTime(chunkEncoding, c.enc())
	return t
}

// firstTime reads the timestamp of the first sample of a chunk in encoding
// enc: a varint right after the header, in both float encodings. ok is
// false when there is none to read.
func firstTime(enc chunkenc.Encoding, b []byte) (t int64, ok bool) {
	hdr := emptyChunkLen[enc]
	if hdr == 0 || len(b) <= hdr {
		return 0, false
	}
	t, n := binary.Varint(b[hdr:])
	return t, n > 0
}

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
	lastV  float64 // its value, valid when lastKnown
	trimAt int64   // no trim of the oldest chunk is due before this sample time (see trimOldest)

	// headN is head's sample count. The chunk knows it too, in its first
	// two bytes, but reading them on every append touches a cache line the
	// append does not otherwise need: with 100,000 series that miss was 8%
	// of a scrape's CPU. (The small fields are together so that the
	// struct fills its size class, 128 bytes, with no padding.)
	headN     uint16
	lastKnown bool
	scale     uint8 // head's scale, or the last chunk's while there is no head (see scale.go)

	// Transaction bookkeeping: the number of samples appended but not yet
	// committed or rolled back (the series is not collected while >0), and
	// where the newest of them is in the pending samples of the appender
	// whose id is txnID (0: none). A pointer to the appender and a copy of
	// the sample took 24 bytes and the struct to the 144-byte class.
	pending int32
	txnID   uint32
	txnAt   int32
}

func newMemSeries(ref storage.SeriesRef, l labels.Labels) *memSeries {
	return &memSeries{ref: ref, lset: l, maxt: math.MinInt64}
}

// lastValue returns the value of the newest sample, decoding it when the
// series was restored from a snapshot.
func (s *memSeries) lastValue() float64 {
	if s.lastKnown || s.maxt == math.MinInt64 {
		return s.lastV
	}
	var data []byte
	scale := s.scale
	if s.head != nil {
		data = s.head.Bytes()
	} else if n := len(s.closed); n > 0 {
		data, scale = s.closed[n-1].enc(), s.closed[n-1].scale()
	}
	if c, err := chunkenc.FromData(chunkEncoding, data); err == nil {
		it := c.Iterator(nil)
		for it.Next() != chunkenc.ValNone {
			_, s.lastV = it.At()
		}
		s.lastV = unscale(s.lastV, scale)
	}
	s.lastKnown = true
	return s.lastV
}

// full reports whether the head chunk is to be cut before a sample at t:
// it holds 120 samples, or spans maxSpan ms (0: no limit) from its first.
func (s *memSeries) full(t, maxSpan int64) bool {
	return s.head != nil && (s.headN >= samplesPerChunk || maxSpan > 0 && t-s.headMint >= maxSpan)
}

// append adds one sample, which the caller has checked is newer than maxt.
// It returns the growth of the chunk bytes. A full head chunk is cut
// first.
func (s *memSeries) append(t int64, v float64, maxSpan int64) (grew int, err error) {
	if s.full(t, maxSpan) {
		grew += s.cut()
	}
	if s.head == nil {
		c, err := s.newHead()
		if err != nil {
			return grew, err
		}
		s.head, s.app, s.headMint, s.headN = c, nil, t, 0
		s.scale = s.firstScale(v)
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
	s.maxt, s.lastV, s.lastKnown = t, v, true
	return grew, nil
}

// newHead returns an empty head chunk with room for five eighths of what
// the series' last closed chunk held, or firstHeadBytes for a new series.
// Its bytes then grow once, by append's doubling, to a quarter more than
// the last chunk. A head given that quarter more at once is half empty on
// average over its life, and a new series' head at chunkenc's 128 bytes
// was mostly empty for its first minutes: BenchmarkHeadBytes holds 462
// bytes a series beyond the chunk bytes instead of 586, and 358 instead
// of 425 over a new series' first chunk. The growth is one allocation a
// chunk more, and no CPU that BenchmarkAppend or BenchmarkScrapeLoopAppend
// can tell; it was chunkenc's own growth from 128 bytes, two or three
// times over 120 changing values, that cost 7% of the latter's.
func (s *memSeries) newHead() (chunkenc.Chunk, error) {
	size := firstHeadBytes
	if n := len(s.closed); n > 0 {
		size = max(size, len(s.closed[n-1].data)*5/8)
	}
	return emptyChunk(size)
}

// emptyChunk returns an empty chunk in the store's encoding with room for
// size bytes before append has to grow it.
func emptyChunk(size int) (chunkenc.Chunk, error) {
	if hdr := emptyChunkLen[chunkEncoding]; hdr > 0 {
		return chunkenc.FromData(chunkEncoding, make([]byte, hdr, max(size, hdr)))
	}
	return chunkenc.NewEmptyChunk(chunkEncoding)
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
	if !scaleDecimals {
		return scaleNone
	}
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
		c, app, _, err := reencode(s.head, math.MinInt64, cap(s.head.Bytes()), s.scale, to)
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

// errNoFit: a sample does not fit the scale asked for.
var errNoFit = errors.New("store: value does not fit the scale")

// reencode appends the samples of src from mint on to an empty chunk in the
// store's encoding with room for size bytes, moving their values from scale
// from to scale to. It returns that chunk, its appender, open where the
// samples end, and how many samples it took; errNoFit when a value does not
// fit scale to.
func reencode(src chunkenc.Chunk, mint int64, size int, from, to uint8) (chunkenc.Chunk, chunkenc.Appender, int, error) {
	dst, err := emptyChunk(size)
	if err != nil {
		return nil, nil, 0, err
	}
	app, err := dst.Appender()
	if err != nil {
		return nil, nil, 0, err
	}
	n := 0
	it := src.Iterator(nil)
	for it.Next() == chunkenc.ValFloat {
		t, v := it.At()
		if t < mint {
			continue
		}
		if from != to {
			var ok bool
			if v, ok = scaleValue(unscale(v, from), to); !ok {
				return nil, nil, 0, errNoFit
			}
		}
		app.Append(0, t, v)
		n++
	}
	return dst, app, n, it.Err()
}

// reopenHead gives a head chunk made from bytes (a restored one) its
// appender. chunkenc's appender on such a chunk goes on where the bytes end
// only where resumes says so; elsewhere the samples are appended to a new
// chunk of the same room.
func (s *memSeries) reopenHead() error {
	if resumes[chunkEncoding] {
		app, err := s.head.Appender()
		if err != nil {
			return err
		}
		s.app = app
		return nil
	}
	c, app, _, err := reencode(s.head, math.MinInt64, cap(s.head.Bytes()), s.scale, s.scale)
	if err != nil {
		return err
	}
	s.head, s.app = c, app
	return nil
}

// resumes says by encoding whether chunkenc's Appender, on a chunk made from
// bytes, goes on where the bytes end. EncXOR2's does. EncXOR's (v0.316)
// starts at the next whole byte and leaves the chunk unreadable from there:
// it does not restore how much of the last byte is written.
var resumes = func() (ok [256]bool) {
	for _, e := range []chunkenc.Encoding{chunkenc.EncXOR, chunkenc.EncXOR2} {
		c, err := chunkenc.NewEmptyChunk(e)
		if err != nil {
			continue
		}
		app, err := c.Appender()
		if err != nil {
			continue
		}
		// The first sample takes whole bytes; the second leaves the last
		// one part-written.
		app.Append(0, 1000, 1.5)
		app.Append(0, 2000, 2.5)
		if c, err = chunkenc.FromData(e, bytes.Clone(c.Bytes())); err != nil {
			continue
		}
		if app, err = c.Appender(); err != nil {
			continue
		}
		app.Append(0, 3000, 3.5)
		var got []float64
		it := c.Iterator(nil)
		for it.Next() == chunkenc.ValFloat {
			_, v := it.At()
			got = append(got, v)
		}
		ok[e] = it.Err() == nil && slices.Equal(got, []float64{1.5, 2.5, 3.5})
	}
	return ok
}()

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
		// quarter of it), and a doubled list kept room for eight, then 40
		// bytes each, for every series that once held five: 16 MB at
		// 100,000 series, arriving series by series during a soak.
		closed := make([]chunk, len(s.closed), len(s.closed)+1)
		copy(closed, s.closed)
		s.closed = closed
	}
	s.closed = append(s.closed, closeChunk(s.scale, s.head.Bytes(), s.maxt, nil))
	s.head, s.app = nil, nil
	return 0
}

// emptyChunkLen is the length of an empty chunk (its header) by encoding;
// 0 for encodings not measured.
var emptyChunkLen = func() (n [256]int) {
	for _, e := range []chunkenc.Encoding{chunkenc.EncXOR, chunkenc.EncXOR2} {
		if c, err := chunkenc.NewEmptyChunk(e); err == nil {
			n[e] = len(c.Bytes())
		}
	}
	return n
}()

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

// trimOldest re-encodes the oldest closed chunk without its samples older
// than mint (the retention's start), once half of its span is older. It
// returns how many samples and bytes went.
//
// Whole chunks go only once their newest sample expires, so without this a
// series would hold the retention plus up to a chunk's span (a quarter
// more at a short retention); with it, plus up to half of one. Each chunk
// is re-encoded once, when half of it is left: trimAt says when that is
// due, so an append pays one comparison.
func (s *memSeries) trimOldest(mint, retentionMs int64) (samples, bytes int) {
	if len(s.closed) == 0 {
		s.trimAt = math.MaxInt64 // until cut gives it a chunk
		return 0, 0
	}
	c := s.closed[0]
	mint0 := c.mint()
	half := mint0 + (c.maxt-mint0)/2
	if mint <= half {
		s.trimAt = math.MaxInt64 // saturated
		if half < math.MaxInt64-retentionMs-1 {
			s.trimAt = half + retentionMs + 1 // when the retention's start passes half
		}
		return 0, 0
	}
	s.trimAt = math.MaxInt64 // until the oldest chunk goes
	nc, ok := trimChunk(c, mint)
	if !ok {
		return 0, 0
	}
	s.closed[0] = nc
	return c.numSamples() - nc.numSamples(), len(c.data) - len(nc.data)
}

// trimChunk returns c without its samples older than mint, in a new exactly
// sized slice (readers may still hold c's). ok is false when c cannot be
// decoded or re-encoded, or would keep nothing; c then stays as it is, to
// go whole once its newest sample expires.
func trimChunk(c chunk, mint int64) (_ chunk, ok bool) {
	src, err := chunkenc.FromData(chunkEncoding, c.enc())
	if err != nil {
		return c, false
	}
	dst, _, n, err := reencode(src, mint, len(c.data), c.scale(), c.scale())
	if err != nil || n == 0 {
		return c, false
	}
	return closeChunk(c.scale(), dst.Bytes(), c.maxt, nil), true
}

// chunksIn appends to dst the chunks overlapping [mint, maxt], the open head
// chunk as a copy, and returns dst. The copy goes to the end of *arena when
// arena is not nil (the snapshot reuses one buffer per shard, so such a
// chunk lives only until the next shard), else to a new slice.
func (s *memSeries) chunksIn(dst []chunk, arena *[]byte, mint, maxt int64) []chunk {
	for _, c := range s.closed {
		if c.maxt >= mint && c.mint() <= maxt {
			dst = append(dst, c)
		}
	}
	if s.head != nil && s.maxt >= mint && s.headMint <= maxt {
		dst = append(dst, closeChunk(s.scale, s.head.Bytes(), s.maxt, arena))
	}
	return dst
}

// numShards is the number of lock stripes. A series lives in the shard its
// label hash picks.
//
// A series ref says where the series is: id<<32 | slot<<shardBits | shard,
// where slot indexes the shard's slots and id is a counter never reused,
// so a ref to a removed series never finds the series that took its slot.
// Scrape loops pass the ref back with every sample; finding the series is
// then an index into a slice. A map from ref to series cost a fifth of a
// scrape's CPU at 100,000 series, nearly all of it cache misses in the
// map's groups. Refs of newer series are larger, as the index wants.
const (
	shardBits = 8
	numShards = 1 << shardBits
	shardMask = numShards - 1
	slotBits  = 32 - shardBits
)

func makeRef(id uint64, slot int, shard uint64) storage.SeriesRef {
	return storage.SeriesRef(id<<32 | uint64(slot)<<shardBits | shard&shardMask)
}

func refSlot(ref storage.SeriesRef) int { return int(uint64(ref) >> shardBits & (1<<slotBits - 1)) }

// shard is one lock stripe of series.
type shard struct {
	mu        sync.Mutex
	byHash    map[uint64]*memSeries
	conflicts map[uint64][]*memSeries // label-hash collisions, rare
	slots     []*memSeries            // by the slot in their ref; nil where free
	free      []int                   // free slots

	// Figures for Stats, guarded by mu.
	samples    int64
	chunkBytes int64
	chunks     int64

	_ [40]byte // keep neighbouring shards' locks off one cache line
}

func (sh *shard) init() {
	sh.byHash = map[uint64]*memSeries{}
}

// byRef returns the series of ref, or nil. Caller holds mu.
func (sh *shard) byRef(ref storage.SeriesRef) *memSeries {
	if i := refSlot(ref); i < len(sh.slots) {
		if s := sh.slots[i]; s != nil && s.ref == ref {
			return s
		}
	}
	return nil
}

// get returns the series with these labels and hash, or nil. Caller holds mu.
func (sh *shard) get(hash uint64, l labels.Labels) *memSeries {
	if s := sh.byHash[hash]; s != nil && labels.Equal(s.lset, l) {
		return s
	}
	for _, s := range sh.conflicts[hash] {
		if labels.Equal(s.lset, l) {
			return s
		}
	}
	return nil
}

// put adds a new series and gives it its ref, made with id. Caller holds mu.
func (sh *shard) put(hash uint64, s *memSeries, id uint64) {
	var slot int
	if n := len(sh.free); n > 0 {
		slot, sh.free = sh.free[n-1], sh.free[:n-1]
	} else {
		slot = len(sh.slots)
		sh.slots = append(sh.slots, nil)
	}
	sh.slots[slot] = s
	s.ref = makeRef(id, slot, hash)
	if _, taken := sh.byHash[hash]; taken {
		if sh.conflicts == nil {
			sh.conflicts = map[uint64][]*memSeries{}
		}
		sh.conflicts[hash] = append(sh.conflicts[hash], s)
	} else {
		sh.byHash[hash] = s
	}
}

// remove takes a series out. Caller holds mu.
func (sh *shard) remove(hash uint64, s *memSeries) {
	if i := refSlot(s.ref); i < len(sh.slots) && sh.slots[i] == s {
		sh.slots[i] = nil
		sh.free = append(sh.free, i)
	}
	if sh.byHash[hash] == s {
		delete(sh.byHash, hash)
		if c := sh.conflicts[hash]; len(c) > 0 {
			sh.byHash[hash] = c[0]
			if len(c) == 1 {
				delete(sh.conflicts, hash)
			} else {
				sh.conflicts[hash] = c[1:]
			}
		}
		return
	}
	c := sh.conflicts[hash]
	for i, o := range c {
		if o == s {
			c = append(c[:i], c[i+1:]...)
			break
		}
	}
	if len(c) == 0 {
		delete(sh.conflicts, hash)
	} else {
		sh.conflicts[hash] = c
	}
}
