package store

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// restoreFrom loads the snapshot at path into the empty db. A missing file
// is an empty store. moveAside says whether a damaged file is renamed.
func (db *DB) restoreFrom(path string, moveAside bool) error {
	src, read, err := openSnapshotFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read snapshot %s: %w", path, err)
	}
	rep := RestoreReport{Path: path}
	res := db.restore(src, &rep)
	if err := read(); err != nil {
		// Not damage: the disk failed under the read. Nothing is loaded
		// from a file that could not be read whole.
		return fmt.Errorf("read snapshot %s: %w", path, err)
	}
	if res.headerOK {
		rep.Written = time.UnixMilli(res.header.written)
	}
	if res.damage != nil {
		rep.Damage = res.damage
		if res.headerOK {
			rep.LostSeries = max(int64(res.header.series)-res.series, 0)
			rep.LostSamples = max(int64(res.header.samples)-res.samples, 0)
		} else {
			rep.LostSeries, rep.LostSamples = -1, -1
		}
		if moveAside {
			to := fmt.Sprintf("%s.damaged-%s", path, time.Now().UTC().Format("20060102T150405Z"))
			if err := db.fs.Rename(path, to); err == nil {
				rep.MovedTo = to
				_ = db.fs.SyncDir(filepath.Dir(path))
			}
		}
	}
	db.nextGC.Store(db.maxT.Load())
	db.statsMu.Lock()
	db.restored = rep
	db.statsMu.Unlock()
	return nil
}

// restore loads the snapshot in src into the empty db, adding to rep what
// it loaded and dropped. The restored chunks point into src's buffer.
func (db *DB) restore(src *snapshotBytes, rep *RestoreReport) decodeResult {
	type worker struct {
		rep    RestoreReport
		added  []*memSeries
		series slab[memSeries]
	}
	workers := make([]worker, restoreWorkers())
	var sized sync.Once
	res := decodeSnapshot(src, len(workers), func(i int, h *snapshotHeader, l labels.Labels, cs []chunk) {
		sized.Do(func() { db.sizeFor(h.series) })
		// The retention is measured back from the newest sample in the
		// snapshot, as the ring would have done had vigil kept running.
		mint := int64(math.MinInt64)
		if db.retentionMs >= 0 && h.maxt >= math.MinInt64+db.retentionMs {
			mint = h.maxt - db.retentionMs
		}
		w := &workers[i]
		if w.added == nil {
			w.added = make([]*memSeries, 0, min(h.series, 1<<24)/uint64(len(workers))+1)
		}
		if s := db.insertRestored(l, cs, h.encoding, mint, &w.rep, &w.series); s != nil {
			w.added = append(w.added, s)
		}
	})
	lists := make([][]*memSeries, len(workers))
	for i := range workers {
		w := &workers[i]
		w.series.done()
		rep.Series += w.rep.Series
		rep.Samples += w.rep.Samples
		rep.ExpiredSeries += w.rep.ExpiredSeries
		rep.ExpiredSamples += w.rep.ExpiredSamples
		rep.DroppedSeries += w.rep.DroppedSeries
		lists[i] = w.added
	}
	db.index.addAll(lists)
	return res
}

// sizeFor makes room in the empty db's shards for the series of a snapshot,
// so their maps are not rebuilt as they grow (a header is checksummed, but
// its count is only trusted up to a few million).
func (db *DB) sizeFor(series uint64) {
	per := int(min(series, 4<<20)/numShards) + 1
	per += per / 8 // the hash spreads them unevenly
	for i := range db.shards {
		sh := &db.shards[i]
		sh.mu.Lock()
		if len(sh.byHash) == 0 && len(sh.slots) == 0 {
			sh.byHash = make(map[uint64]*memSeries, per)
			sh.slots = make([]*memSeries, 0, per)
		}
		sh.mu.Unlock()
	}
}

// insertRestored adds one series read from a snapshot, without the chunks
// older than mint. It returns the series it added, nil when it added none;
// the caller indexes it.
//
// The closed chunks keep pointing into the snapshot's buffer instead of
// being copied one by one (restore speed): that buffer, the size of the
// file, lives until the last of them leaves the ring, so for one retention
// after a restart the store may hold up to twice its chunk bytes.
//
// The series is made in the caller's slab.
func (db *DB) insertRestored(l labels.Labels, cs []chunk, enc chunkenc.Encoding, mint int64, rep *RestoreReport, series *slab[memSeries]) *memSeries {
	i := 0
	for i < len(cs) && cs[i].maxt < mint {
		rep.ExpiredSamples += int64(cs[i].numSamples())
		i++
	}
	cs = cs[i:]
	if len(cs) == 0 {
		rep.ExpiredSeries++
		return nil
	}
	if enc != db.format.enc {
		var err error
		if cs, err = transcode(cs, enc, db.format.enc); err != nil {
			rep.DroppedSeries++
			return nil
		}
	}
	hash := l.Hash()
	sh := &db.shards[hash&shardMask]
	sh.mu.Lock()
	if sh.get(hash, l) != nil {
		sh.mu.Unlock()
		rep.DroppedSeries++ // a series twice: keep the first
		return nil
	}
	if !db.admit(false) {
		sh.mu.Unlock()
		rep.DroppedSeries++
		db.refused.tooManySeries.Add(1)
		return nil
	}
	s := &series.take(1)[0]
	*s = *newMemSeries(0, l)
	last := cs[len(cs)-1]
	s.maxt = last.maxt
	s.scale = last.scale() // the head's, or the one a new head starts from
	var samples, bytes int64
	for _, c := range cs {
		samples += int64(c.numSamples())
		bytes += int64(len(c.data))
	}
	if last.numSamples() < samplesPerChunk {
		// The open head chunk: a private copy, appended to in place later.
		b := last.enc()
		data := make([]byte, len(b), len(b)+64)
		copy(data, b)
		c, err := chunkenc.FromData(db.format.enc, data)
		if err == nil {
			s.head, s.headMint, s.headN = c, last.mint(db.format.enc), uint16(last.numSamples())
			cs = cs[:len(cs)-1]
		}
	}
	if len(cs) > 0 {
		s.closed = cs
	}
	sh.samples += samples
	sh.chunkBytes += bytes
	sh.chunks += int64(len(cs))
	if s.head != nil {
		sh.chunks++
	}
	sh.put(hash, s, db.nextRef.Add(1))
	sh.mu.Unlock()
	for {
		cur := db.maxT.Load()
		if s.maxt <= cur || db.maxT.CompareAndSwap(cur, s.maxt) {
			break
		}
	}
	rep.Series++
	rep.Samples += samples
	return s
}

// transcode re-encodes chunks from encoding from, in which a snapshot was
// written, into encoding to, the store's.
func transcode(cs []chunk, from, to chunkenc.Encoding) ([]chunk, error) {
	out := make([]chunk, 0, len(cs))
	for _, c := range cs {
		src, err := chunkenc.FromData(from, c.enc())
		if err != nil {
			return nil, err
		}
		dst, _, _, err := reencode(to, src, math.MinInt64, len(c.data), c.scale(), c.scale())
		if err != nil {
			return nil, err
		}
		out = append(out, closeChunk(c.scale(), dst.Bytes(), c.maxt, nil))
	}
	return out, nil
}
