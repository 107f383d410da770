package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// snapshotBytes is a snapshot file on its way into memory: buf is sized to
// the file and filled from the front, by a reader that may still be at work
// while the records already in are decoded.
type snapshotBytes struct {
	buf []byte

	mu     sync.Mutex
	cond   sync.Cond
	filled int  // bytes of buf read so far
	done   bool // the reader has stopped; filled is final
	stop   bool // the decoder needs no more
}

// newSnapshotBytes returns an empty buffer for a file of size bytes.
func newSnapshotBytes(size int) *snapshotBytes {
	sb := &snapshotBytes{buf: make([]byte, size)}
	sb.cond.L = &sb.mu
	return sb
}

// wholeSnapshot wraps a snapshot already in memory.
func wholeSnapshot(b []byte) *snapshotBytes {
	sb := &snapshotBytes{buf: b, filled: len(b), done: true}
	sb.cond.L = &sb.mu
	return sb
}

// upTo waits until the first end bytes are in, or the reader has stopped,
// and returns what is in: at least end bytes unless the file ended first.
func (sb *snapshotBytes) upTo(end int64) []byte {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	for int64(sb.filled) < end && !sb.done {
		sb.cond.Wait()
	}
	return sb.buf[:sb.filled:sb.filled]
}

// fill reads r into buf, a piece at a time, letting upTo's waiters go on
// after each piece. It returns the read's error, io.EOF excepted: a file
// that came up short reads as truncated.
func (sb *snapshotBytes) fill(r io.Reader, piece int) error {
	defer func() {
		sb.mu.Lock()
		sb.done = true
		sb.mu.Unlock()
		sb.cond.Broadcast()
	}()
	n := sb.filled
	for n < len(sb.buf) {
		m, err := io.ReadFull(r, sb.buf[n:min(n+piece, len(sb.buf))])
		n += m
		sb.mu.Lock()
		sb.filled = n
		stop := sb.stop
		sb.mu.Unlock()
		sb.cond.Broadcast()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			sb.mu.Lock()
			sb.buf = sb.buf[:n] // the file is shorter than it was: upTo and size see the end
			sb.mu.Unlock()
			return nil
		}
		if err != nil {
			return err
		}
		if stop {
			return nil
		}
	}
	return nil
}

// halt tells the reader that nothing more is needed.
func (sb *snapshotBytes) halt() {
	sb.mu.Lock()
	sb.stop = true
	sb.mu.Unlock()
}

// size is the file's size as far as it is known: the size it had when it
// was opened, or what the reader got once it came up short.
func (sb *snapshotBytes) size() int64 {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return int64(len(sb.buf))
}

// readPiece is how much of a snapshot is read before the decoder may go on
// with it.
const readPiece = 4 << 20

// openSnapshotFile opens the snapshot at path and starts reading it whole,
// into one buffer the restored chunks then point into, while the records
// already read are decoded. wait ends the read (the file is closed) and
// returns its error.
//
// Reading the file with a few large reads into one buffer, instead of
// copying each record from a bufio buffer into a buffer of its own, is most
// of what makes a start fast (issue #6, BenchmarkRestore): a process
// touching fresh memory pays a page fault for every 4 KiB, and the
// record-by-record copy paid them all before anything was decoded. The
// buffer is advised to huge pages while it fills (see adviseHugePages),
// and the read overlaps the decoding.
//
// Only a file whose header checks is read past its header, so a stray large
// file in the snapshot's place costs 60 bytes of memory, not its size.
func openSnapshotFile(path string) (src *snapshotBytes, wait func() error, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	var hdr [headerSize]byte
	n, err := io.ReadFull(f, hdr[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, nil, err
	}
	size := fi.Size()
	if _, herr := decodeHeader(hdr[:n]); herr != nil || size <= headerSize {
		f.Close()
		// What decodeSnapshot needs to say what is wrong.
		return wholeSnapshot(hdr[:n:n]), func() error { return nil }, nil
	}
	if int64(int(size)) != size {
		f.Close()
		return nil, nil, fmt.Errorf("%d bytes do not fit in memory", size)
	}
	src = newSnapshotBytes(int(size))
	src.filled = copy(src.buf, hdr[:])
	done := make(chan error, 1)
	go func() {
		undo := adviseHugePages(src.buf)
		err := src.fill(f, readPiece)
		undo()
		f.Close()
		done <- err
	}()
	return src, func() error { return <-done }, nil
}
