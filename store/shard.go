package store

import (
	"sync"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// numShards is the number of lock stripes. A series lives in the shard its
// label hash picks.
//
// A series ref says where the series is: id<<32 | slot<<shardBits | shard,
// where slot indexes the shard's slots and id is a counter never reused,
// so a ref to a removed series never finds the series that took its slot.
// Scrape loops pass the ref back with every sample; finding the series is
// then an index into a slice. A map from ref to series missed the cache in
// its groups on nearly every lookup once series were many, a large share
// of an append's CPU (BenchmarkAppend with refs, and scrape's
// BenchmarkScrapeLoopAppend). Refs of newer series are larger, as the
// index wants.
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
