package store

import "unsafe"

// slabBytes is the size of a slab's allocations: a few huge pages. (Making
// them start on a huge page boundary, by allocating one more and skipping
// to it, took more memory and page faults, not less, in BenchmarkRestore.)
const slabBytes = 4 << 20

// slab hands out small slices carved from large allocations, for a restore
// that makes 100,000 series at once: one allocation instead of one per
// series, and memory advised to huge pages while it is first touched (see
// adviseHugePages), where a new process pays dearly for each 4 KiB page.
//
// A slice from take is capped at its own end, so an append to it never
// writes over its neighbour. An allocation lives while any slice of it
// does: a series that leaves the store early leaves its piece unused
// until its neighbours go too. Not safe for concurrent use.
type slab[T any] struct {
	free []T
	undo []func()
}

// take returns a zeroed slice of n elements.
func (s *slab[T]) take(n int) []T {
	if n > len(s.free) {
		size := int(unsafe.Sizeof(*new(T)))
		per := max(slabBytes/max(size, 1), 1)
		if n > per/4 {
			return make([]T, n) // too large to share a slab
		}
		s.free = make([]T, per)
		s.undo = append(s.undo, adviseHugePages(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s.free))), per*size)))
	}
	out := s.free[:n:n]
	s.free = s.free[n:]
	return out
}

// done takes back the huge-page advice; the slices handed out stay valid.
func (s *slab[T]) done() {
	for _, u := range s.undo {
		u()
	}
	s.undo = nil
	s.free = nil
}
