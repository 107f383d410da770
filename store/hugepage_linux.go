package store

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// adviseHugePages asks the kernel to back b's whole pages with transparent
// huge pages (madvise MADV_HUGEPAGE) while b is first filled, and returns
// the function that takes the advice back (MADV_NOHUGEPAGE: the huge pages
// already made stay, none are made later).
//
// b is a fresh heap allocation the size of a snapshot. Faulting it in 4 KiB
// at a time is a large part of a restore (BenchmarkRestore) on a VM where
// each fault is expensive, and a 2 MiB fault costs about what a 4 KiB one
// does. Go does not ask for huge pages for its heap, and the advice is
// taken back once b is filled so that khugepaged never rebuilds huge pages
// out of this memory after the runtime has returned parts of it to the
// system (the RSS growth of golang/go#64332). The kernel may ignore the advice (THP "never", or no
// huge page free): then this costs two system calls. With THP defrag set
// to "madvise" a fault here may compact memory first, the stall of
// golang/go#61718; for one buffer read once at start that is a fair trade.
func adviseHugePages(b []byte) (undo func()) {
	page := uintptr(os.Getpagesize())
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	start := (p + page - 1) &^ (page - 1)
	end := (p + uintptr(len(b))) &^ (page - 1)
	if len(b) == 0 || end <= start {
		return func() {}
	}
	r := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), start-p)), end-start)
	if unix.Madvise(r, unix.MADV_HUGEPAGE) != nil {
		return func() {}
	}
	return func() { _ = unix.Madvise(r, unix.MADV_NOHUGEPAGE) }
}
