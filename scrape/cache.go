package scrape

import (
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// keepUnseen is how many scrapes a series may be missing before its cache
// entry goes (its stale marker is written on the first).
const keepUnseen = 10

// quietScrapes is how many scrapes in a row may find every series by its
// place in the last body before the loop lets its maps go.
const quietScrapes = 3

// entry is what the loop remembers of one series of its target.
type entry struct {
	ref       storage.SeriesRef
	lset      labels.Labels
	key       uint64 // keyOf the series as the body wrote it: its key in the cache
	iter      uint64 // last scrape that had it
	keyLen    uint32 // with key, the hint for the parser
	dropped   bool   // metric relabeling drops it
	stale     bool   // a stale marker was written since it was last seen
	explicit  bool   // the last sample had its own timestamp
	forgotten bool   // the store refused it: the next sweep lets it go, without a stale marker
}

// seriesCache is what a loop remembers of its target's series between
// scrapes, so that a series it has seen costs no label work and no store
// lookup.
//
// all holds every entry once; seq finds nearly all of them in a body (see
// loop.appendSeries). The two maps are only for what seq does not find: a
// series at a new place, a new series. A map costs more an entry than the
// entry itself, so they are built from all when first needed and let go
// after quietScrapes scrapes without use: a target whose series keep their
// order holds none (BenchmarkLoopMemory measures what a loop holds).
type seriesCache struct {
	all       []*entry
	seq       []*entry          // the series of the last body, in its order
	byKey     map[uint64]*entry // by seriesKey.h, or nil: see lookup
	byHash    map[uint64]*entry // by the labels' hash, or nil: see hashes
	aliased   bool              // byKey has a key other than its entry's own
	quiet     int               // scrapes since byKey or byHash was used
	fresh     int               // all[fresh:] were made by this scrape: see forgetNew
	iter      uint64            // the scrape under way (or the last one)
	inherited []*entry          // live series of the loop this one replaced: see loop.adopt
}

// adopt takes over old's entries and maps (a reload that left the job's
// sample handling as it was).
func (c *seriesCache) adopt(old *seriesCache) {
	c.all, c.byKey, c.byHash, c.aliased = old.all, old.byKey, old.byHash, old.aliased
}

// begin starts a scrape: it notes which entries are older than it, and
// lets the maps go when they have not been used for quietScrapes.
func (c *seriesCache) begin() {
	c.fresh = len(c.all)
	if c.quiet++; c.quiet > quietScrapes {
		c.byKey, c.byHash, c.aliased = nil, nil, false
	}
}

// lookup returns the entry of the series whose key hashes to h, or nil.
// It builds byKey from all if it was let go.
func (c *seriesCache) lookup(h uint64) *entry {
	c.quiet = 0
	if c.byKey == nil {
		c.byKey = make(map[uint64]*entry, len(c.all))
		for _, ce := range c.all {
			c.byKey[ce.key] = ce
		}
	}
	return c.byKey[h]
}

// hashes returns the map of the entries by their labels' hash, building it
// from all if it was let go.
func (c *seriesCache) hashes() map[uint64]*entry {
	c.quiet = 0
	if c.byHash == nil {
		c.byHash = make(map[uint64]*entry, len(c.all))
		for _, ce := range c.all {
			if !ce.dropped {
				c.byHash[ce.lset.Hash()] = ce
			}
		}
	}
	return c.byHash
}

// add returns the entry of the series with the stored labels lset,
// making it if there is none (isNew reports that). Two forms of one series
// in the bodies (their labels in another order, say) share one entry.
func (c *seriesCache) add(lset labels.Labels) (ce *entry, isNew bool) {
	h, byHash := lset.Hash(), c.hashes()
	if ce, ok := byHash[h]; ok && labels.Equal(ce.lset, lset) {
		return ce, false
	}
	ce = &entry{lset: lset}
	byHash[h] = ce
	c.all = append(c.all, ce)
	return ce, true
}

// addDropped makes the entry of a series that metric relabeling drops.
func (c *seriesCache) addDropped() *entry {
	ce := &entry{dropped: true, iter: c.iter}
	c.all = append(c.all, ce)
	return ce
}

// keyAs files ce under the key k of the form the body wrote it in.
func (c *seriesCache) keyAs(ce *entry, k seriesKey) {
	if ce.keyLen == 0 {
		ce.key, ce.keyLen = k.h, k.n
	}
	c.byKey[k.h] = ce
	c.aliased = c.aliased || ce.key != k.h
}

// place records ce as the i-th series of the body being read.
func (c *seriesCache) place(i int, ce *entry) {
	if i < len(c.seq) {
		c.seq[i] = ce
	} else {
		c.seq = append(c.seq, ce)
	}
}

// forget lets go of ce, a series the store refused, so that the cache
// holds only series that are stored. One made by this scrape (nearly
// always the case: the store refuses new series) goes at once; an older
// one (whose series left the store past the retention and was refused on
// its way back) at the next sweep.
func (c *seriesCache) forget(ce *entry) {
	if c.aliased {
		c.byKey, c.aliased = nil, false // its other keys are not known
	} else if c.byKey[ce.key] == ce {
		delete(c.byKey, ce.key)
	}
	if c.byHash != nil && c.byHash[ce.lset.Hash()] == ce {
		delete(c.byHash, ce.lset.Hash())
	}
	if n := len(c.all); n > c.fresh && c.all[n-1] == ce {
		c.all[n-1] = nil
		c.all = c.all[:n-1]
		return
	}
	ce.forgotten = true
}

// sweep calls gone for every entry this scrape did not see, and forgets
// those unseen for more than keepUnseen scrapes, and those forgotten.
func (c *seriesCache) sweep(gone func(*entry)) {
	kept := c.all[:0]
	for _, ce := range c.all {
		if ce.iter != c.iter && !ce.forgotten {
			gone(ce)
		}
		if c.iter-ce.iter <= keepUnseen && !ce.forgotten {
			kept = append(kept, ce)
			continue
		}
		// It goes (it is not in seq: every entry there was in this body).
		if c.aliased {
			c.byKey, c.aliased = nil, false // its other keys are not known
		} else if c.byKey[ce.key] == ce {
			delete(c.byKey, ce.key)
		}
		if c.byHash != nil && !ce.dropped && c.byHash[ce.lset.Hash()] == ce {
			delete(c.byHash, ce.lset.Hash())
		}
	}
	clear(c.all[len(kept):])
	c.all = kept
}

// forgetNew drops the entries made by a scrape that failed, so no stale
// marker is written for a series that never had a sample.
func (c *seriesCache) forgetNew() {
	c.seq = c.seq[:0] // it may hold entries about to go
	if len(c.all) > c.fresh {
		clear(c.all[c.fresh:])
		c.all = c.all[:c.fresh]
		// The maps hold them too, and key older entries found in new
		// forms: both are built again when next needed.
		c.byKey, c.byHash, c.aliased = nil, nil, false
	}
}
