package store

import (
	"cmp"
	"slices"
	"sort"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// index is the inverted index: for every label name and value, the sorted
// ids of the series that carry it, and the refs of all series. Ids grow
// with creation, so postings are appended at the end in the common case.
//
// A postings list holds a ref's id, its upper half (see makeRef), not the
// ref: every series is in about six lists, and halving an entry is a
// saving BenchmarkSeriesOverhead sees. Ids sort as their refs do and
// all live series have distinct ids, so all, in the same order, turns the
// ids a match found into refs (see refsOf).
//
// It has its own lock, apart from the shards: only creating and collecting
// series write it, so appends to existing series never wait for a query.
type index struct {
	mu       sync.RWMutex
	postings map[string]map[string][]uint32
	all      []storage.SeriesRef
}

func newIndex() *index {
	return &index{postings: map[string]map[string][]uint32{}}
}

// idOf is the id part of a ref: what postings lists hold.
func idOf(ref storage.SeriesRef) uint32 { return uint32(ref >> 32) }

func insertSorted[T cmp.Ordered](list []T, v T) []T {
	if n := len(list); n == 0 || list[n-1] < v {
		return append(list, v)
	}
	i, found := slices.BinarySearch(list, v)
	if found {
		return list
	}
	return slices.Insert(list, i, v)
}

// add indexes one series.
func (ix *index) add(ref storage.SeriesRef, l labels.Labels) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.addLocked(ref, l)
}

func (ix *index) addLocked(ref storage.SeriesRef, l labels.Labels) {
	ix.all = insertSorted(ix.all, ref)
	id := idOf(ref)
	l.Range(func(lb labels.Label) {
		vals := ix.postings[lb.Name]
		if vals == nil {
			vals = map[string][]uint32{}
			ix.postings[lb.Name] = vals
		}
		vals[lb.Value] = insertSorted(vals[lb.Value], id)
	})
}

// remove drops a batch of series from the index, filtering each touched
// postings list once.
func (ix *index) remove(gone []*memSeries) {
	if len(gone) == 0 {
		return
	}
	dead := make(map[uint32]struct{}, len(gone))
	type key struct{ name, value string }
	touched := map[key]struct{}{}
	for _, s := range gone {
		dead[idOf(s.ref)] = struct{}{}
		s.lset.Range(func(lb labels.Label) { touched[key{lb.Name, lb.Value}] = struct{}{} })
	}
	keep := func(list []uint32) []uint32 {
		return slices.DeleteFunc(list, func(id uint32) bool { _, d := dead[id]; return d })
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.all = slices.DeleteFunc(ix.all, func(r storage.SeriesRef) bool { _, d := dead[idOf(r)]; return d })
	for k := range touched {
		vals := ix.postings[k.name]
		list := keep(vals[k.value])
		if len(list) == 0 {
			delete(vals, k.value)
			if len(vals) == 0 {
				delete(ix.postings, k.name)
			}
		} else {
			vals[k.value] = list
		}
	}
}

// match returns the sorted refs of the series that match every matcher.
//
// A matcher that does not match the empty string selects the union of the
// postings of the values it matches; one that does (l!="x", l=~".*", l="")
// also matches series without the label, so it subtracts the union of the
// values it does not match instead.
func (ix *index) match(ms ...*labels.Matcher) []storage.SeriesRef {
	ix.mu.RLock()
	defer ix.mu.RUnlock()

	var its, subs [][]uint32
	for _, m := range ms {
		vals := ix.postings[m.Name]
		if m.Matches("") {
			var minus []uint32
			if m.Type == labels.MatchNotEqual {
				minus = vals[m.Value]
			} else {
				minus = unionMatching(vals, func(v string) bool { return !m.Matches(v) })
			}
			if len(minus) > 0 {
				subs = append(subs, minus)
			}
			continue
		}
		var list []uint32
		if m.Type == labels.MatchEqual {
			list = vals[m.Value]
		} else if set := m.SetMatches(); m.Type == labels.MatchRegexp && len(set) > 0 {
			lists := make([][]uint32, 0, len(set))
			for _, v := range set {
				if l := vals[v]; len(l) > 0 {
					lists = append(lists, l)
				}
			}
			list = union(lists)
		} else {
			list = unionMatching(vals, m.Matches)
		}
		if len(list) == 0 {
			return nil
		}
		its = append(its, list)
	}

	var res []uint32
	if len(its) == 0 {
		res = make([]uint32, len(ix.all))
		for i, r := range ix.all {
			res[i] = idOf(r)
		}
	} else {
		sort.Slice(its, func(i, j int) bool { return len(its[i]) < len(its[j]) })
		res = slices.Clone(its[0])
		for _, l := range its[1:] {
			res = intersect(res, l)
		}
	}
	for _, l := range subs {
		res = subtract(res, l)
	}
	return ix.refsOf(res)
}

// refsOf returns the refs of the series with the given sorted ids, every
// one of which is in all. It walks all once, skipping ahead by doubling
// steps: a match of a few series out of many costs a few searches, not a
// pass over every series.
func (ix *index) refsOf(ids []uint32) []storage.SeriesRef {
	if len(ids) == 0 {
		return nil
	}
	refs := make([]storage.SeriesRef, 0, len(ids))
	all := ix.all
	for _, id := range ids {
		// all[:lo] are below id: double the step until all[lo+step] is
		// at or past it, then search between.
		lo, step := 0, 1
		for lo+step < len(all) && idOf(all[lo+step]) < id {
			lo += step
			step *= 2
		}
		i := lo + sort.Search(min(lo+step+1, len(all))-lo, func(k int) bool { return idOf(all[lo+k]) >= id })
		if i < len(all) && idOf(all[i]) == id {
			refs = append(refs, all[i])
			i++
		}
		all = all[i:]
	}
	return refs
}

// labelValues returns the sorted values of name over all series.
func (ix *index) labelValues(name string) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	vals := make([]string, 0, len(ix.postings[name]))
	for v := range ix.postings[name] {
		vals = append(vals, v)
	}
	slices.Sort(vals)
	return vals
}

// labelNames returns the sorted label names over all series.
func (ix *index) labelNames() []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	names := make([]string, 0, len(ix.postings))
	for n := range ix.postings {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func unionMatching(vals map[string][]uint32, match func(string) bool) []uint32 {
	var lists [][]uint32
	for v, l := range vals {
		if match(v) {
			lists = append(lists, l)
		}
	}
	return union(lists)
}

// union merges sorted lists into a new sorted list without duplicates.
func union(lists [][]uint32) []uint32 {
	switch len(lists) {
	case 0:
		return nil
	case 1:
		return lists[0]
	}
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	res := make([]uint32, 0, n)
	for _, l := range lists {
		res = append(res, l...)
	}
	slices.Sort(res)
	return slices.Compact(res)
}

// intersect keeps in a (which it owns) the refs also in b.
func intersect(a, b []uint32) []uint32 {
	out := a[:0]
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// subtract drops from a (which it owns) the refs in b.
func subtract(a, b []uint32) []uint32 {
	out := a[:0]
	j := 0
	for _, r := range a {
		for j < len(b) && b[j] < r {
			j++
		}
		if j < len(b) && b[j] == r {
			continue
		}
		out = append(out, r)
	}
	return out
}

// addAll indexes the series of each list, every list in ref order, as one
// list in ref order, so every postings list grows at its end.
func (ix *index) addAll(lists [][]*memSeries) {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.all = slices.Grow(ix.all, n)
	for {
		next := -1
		for i, l := range lists {
			if len(l) > 0 && (next < 0 || l[0].ref < lists[next][0].ref) {
				next = i
			}
		}
		if next < 0 {
			return
		}
		s := lists[next][0]
		lists[next] = lists[next][1:]
		ix.addLocked(s.ref, s.lset)
	}
}
