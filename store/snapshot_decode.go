package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"runtime"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
)

// ErrDamagedSnapshot: a snapshot file failed its checks. Restores report it
// (RestoreReport.Damage wraps it), they do not fail on it.
var ErrDamagedSnapshot = errors.New("damaged snapshot")

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

// restoreWorkers is how many goroutines decode and insert series in a
// restore: the records are independent, and a start should use the cores
// it has.
func restoreWorkers() int { return min(runtime.GOMAXPROCS(0), 4) }

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
