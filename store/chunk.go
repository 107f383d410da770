package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"unsafe"

	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// samplesPerChunk is where a head chunk is cut, as in Prometheus' head.
const samplesPerChunk = 120

// defaultEncoding is the float encoding of a DB's chunks. EncXOR2 was
// chosen over EncXOR by BenchmarkCompression and BenchmarkAppend (see the
// package doc); Options.encoding picks the other only so that tests and
// those benchmarks can exercise and measure it.
const defaultEncoding = chunkenc.EncXOR2

// chunkFormat is how a DB encodes its chunks: the float encoding of every
// chunk, and whether a new chunk may hold scaled decimals (scale.go).
type chunkFormat struct {
	enc    chunkenc.Encoding
	scaled bool
}

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

// mint returns the timestamp of the chunk's first sample; enc is the
// chunk's encoding.
func (c chunk) mint(enc chunkenc.Encoding) int64 {
	t, _ := firstTime(enc, c.enc())
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

// emptyChunk returns an empty chunk in encoding enc with room for size
// bytes before append has to grow it.
func emptyChunk(enc chunkenc.Encoding, size int) (chunkenc.Chunk, error) {
	if hdr := emptyChunkLen[enc]; hdr > 0 {
		return chunkenc.FromData(enc, make([]byte, hdr, max(size, hdr)))
	}
	return chunkenc.NewEmptyChunk(enc)
}

// errNoFit: a sample does not fit the scale asked for.
var errNoFit = errors.New("store: value does not fit the scale")

// reencode appends the samples of src from mint on to an empty chunk in
// encoding enc with room for size bytes, moving their values from scale
// from to scale to. It returns that chunk, its appender, open where the
// samples end, and how many samples it took; errNoFit when a value does not
// fit scale to.
func reencode(enc chunkenc.Encoding, src chunkenc.Chunk, mint int64, size int, from, to uint8) (chunkenc.Chunk, chunkenc.Appender, int, error) {
	dst, err := emptyChunk(enc, size)
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

// trimChunk returns c, in encoding enc, without its samples older than
// mint, in a new exactly sized slice (readers may still hold c's). ok is
// false when c cannot be decoded or re-encoded, or would keep nothing; c
// then stays as it is, to go whole once its newest sample expires.
func trimChunk(enc chunkenc.Encoding, c chunk, mint int64) (_ chunk, ok bool) {
	src, err := chunkenc.FromData(enc, c.enc())
	if err != nil {
		return c, false
	}
	dst, _, n, err := reencode(enc, src, mint, len(c.data), c.scale(), c.scale())
	if err != nil || n == 0 {
		return c, false
	}
	return closeChunk(c.scale(), dst.Bytes(), c.maxt, nil), true
}
