package remotewrite

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilterm/vigil/store"
	"github.com/vigilterm/vigil/store/fileutil"
)

// spool is the queue of samples every remote reads: segments of records
// (record.go), on disk or in memory, oldest first, the last one being
// written. Each remote has a reader with two positions: how far it has
// read (what is in flight) and how far the receiver has taken (its cursor,
// kept in a file). A segment is removed once every reader's cursor is past
// it, or when the spool is over its bound (the oldest first, counted as
// dropped for each reader that had not read it).
type spool struct {
	dir     string // "" in memory
	bound   int64
	segSize int64
	logger  *slog.Logger

	mu      sync.Mutex
	segs    []*segment // oldest first; the last is being written
	total   int64      // bytes of all segments
	w       *segWriter // for the last segment
	buf     []byte
	readers map[string]*readerState
	notify  chan struct{} // closed and replaced when records are added
	closed  bool
	// The spool's own counts (since start).
	spooled    uint64 // samples written to the spool
	writeFails uint64 // samples lost because a write failed
	lastErr    error  // the last write error
	maxT       int64  // newest timestamp written
	// syncNeeded says the last segment was written since its last fsync.
	syncNeeded bool
	// broken says a write failed: the next record starts a new segment.
	broken bool
}

// segment is one segment of the spool.
type segment struct {
	seq     uint64
	path    string   // "" in memory
	file    *os.File // the last segment's, for appends; nil otherwise
	mem     []byte   // in memory: the bytes
	size    int64
	samples int64
	sealed  bool
	// defs are the writer's labels for each id, while a reader may need
	// them: the last segment's, and a sealed one's while a reader is in
	// it. Readers that find none decode the records' own.
	defs []labels.Labels
}

// position is a place in the spool: the record at Offset of segment Seq,
// after its first Index samples; Before counts the segment's samples
// before it.
type position struct {
	Seq    uint64 `json:"seq"`
	Offset int64  `json:"offset"`
	Index  int    `json:"index"`
	Before int64  `json:"before"`
}

// readerState is what the spool knows of one remote's reader.
type readerState struct {
	name   string
	read   position // how far it has read
	cursor position // how far the receiver has taken
	// dropped counts samples the reader lost before reading them, by
	// reason (dropSpoolFull, dropDamaged, dropWriteFailed).
	dropped map[string]uint64
	// jumped tells the reader that read moved under it: a segment it was
	// in was removed.
	jumped bool
}

// Reasons for dropped samples.
const (
	dropSpoolFull   = "spool_full"
	dropDamaged     = "damaged"
	dropWriteFailed = "spool_write_failed"
	dropTooOld      = "too_old"
	dropRelabel     = "write_relabel"
	dropShutdown    = "shutdown"
)

const (
	segmentExt = ".seg"
	cursorExt  = ".cursor"
	// SpoolDirName is the spool's directory inside the data directory.
	SpoolDirName = "remote-write"
)

// segmentSize is how large a segment grows before the next one starts:
// a sixteenth of the bound, so that dropping the oldest frees a little of
// it at a time, within [256 KiB, 64 MiB].
func segmentSize(bound int64) int64 {
	return min(max(bound/16, 256<<10), 64<<20)
}

// openSpool opens the spool in dir (created 0700), or in memory when dir
// is "": the segments and cursors a previous run left are read, a torn
// record at the end of the last segment is cut off, and a new segment is
// started.
func openSpool(dir string, bound int64, logger *slog.Logger) (*spool, error) {
	sp := &spool{
		dir: dir, bound: bound, segSize: segmentSize(bound), logger: logger,
		readers: map[string]*readerState{},
		notify:  make(chan struct{}),
		maxT:    math.MinInt64,
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("open remote-write spool: %w", err)
		}
		if err := sp.load(); err != nil {
			return nil, fmt.Errorf("open remote-write spool %s: %w", dir, err)
		}
	}
	if err := sp.startSegment(); err != nil {
		return nil, fmt.Errorf("open remote-write spool: %w", err)
	}
	return sp, nil
}

// load reads the segments and cursors in the spool's directory.
func (sp *spool) load() error {
	entries, err := os.ReadDir(sp.dir)
	if err != nil {
		return err
	}
	var seqs []uint64
	for _, e := range entries {
		name := e.Name()
		if s, ok := strings.CutSuffix(name, segmentExt); ok {
			if seq, err := strconv.ParseUint(s, 10, 64); err == nil {
				seqs = append(seqs, seq)
			}
		}
	}
	slices.Sort(seqs)
	for i, seq := range seqs {
		seg, err := sp.scanSegment(seq, i == len(seqs)-1)
		if err != nil {
			return err
		}
		sp.segs = append(sp.segs, seg)
		sp.total += seg.size
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, cursorExt) {
			continue
		}
		path := filepath.Join(sp.dir, name)
		_ = fileutil.RemoveTemps(path)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var c cursorFile
		if err := json.Unmarshal(b, &c); err != nil || c.Remote == "" || name != cursorName(c.Remote) {
			sp.logger.Warn("remote write: an unreadable cursor file is removed; its remote starts again from the newest samples", "file", path)
			_ = os.Remove(path)
			continue
		}
		sp.readers[c.Remote] = &readerState{name: c.Remote, cursor: c.Pos, read: c.Pos, dropped: map[string]uint64{}}
	}
	for _, rs := range sp.readers {
		sp.settle(rs)
	}
	return nil
}

// cursorFile is what a remote's cursor file holds.
type cursorFile struct {
	Remote string   `json:"remote"`
	Pos    position `json:"position"`
}

// cursorName is the file name of a remote's cursor: a hash of its name,
// which may hold any character.
func cursorName(remote string) string {
	h := fnv.New64a()
	h.Write([]byte(remote))
	return fmt.Sprintf("%016x%s", h.Sum64(), cursorExt)
}

func segmentName(seq uint64) string { return fmt.Sprintf("%020d%s", seq, segmentExt) }

// scanSegment walks the record headers of a segment a previous run wrote,
// counting its samples; the last one (possibly cut short by a crash) has
// its checksums verified too. The file is cut at the first record that does
// not hold up.
func (sp *spool) scanSegment(seq uint64, last bool) (*segment, error) {
	path := filepath.Join(sp.dir, segmentName(seq))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	readOnly := false
	if errors.Is(err, fs.ErrPermission) {
		f, err = os.Open(path)
		readOnly = true
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	seg := &segment{seq: seq, path: path, sealed: true}
	magic := make([]byte, len(segmentMagic))
	if _, err := f.ReadAt(magic, 0); err != nil || string(magic) != segmentMagic {
		sp.logger.Warn("remote write: a spool segment without its header is emptied", "file", path)
		if !readOnly {
			_ = f.Truncate(0)
		}
		return seg, nil
	}
	off := int64(len(segmentMagic))
	hdr := make([]byte, recordHeaderSize)
	var rec []byte
	for off+recordHeaderSize <= fi.Size() {
		if _, err := f.ReadAt(hdr, off); err != nil {
			break
		}
		rh, err := parseHeader(hdr)
		if err != nil || off+recordHeaderSize+int64(rh.bodyLen) > fi.Size() {
			break
		}
		if last {
			rec = slices.Grow(rec[:0], recordHeaderSize+rh.bodyLen)[:recordHeaderSize+rh.bodyLen]
			if _, err := f.ReadAt(rec, off); err != nil || checkRecord(rec, rh) != nil {
				break
			}
		}
		off += recordHeaderSize + int64(rh.bodyLen)
		seg.samples += int64(rh.samples)
	}
	if off < fi.Size() {
		sp.logger.Warn("remote write: a spool segment ends in a torn or damaged record, which is cut off",
			"file", path, "kept_bytes", off, "cut_bytes", fi.Size()-off)
		if !readOnly {
			if err := f.Truncate(off); err != nil {
				return nil, err
			}
		}
	}
	seg.size = off
	return seg, nil
}

// startSegment seals the last segment and starts a new one. Caller holds
// mu (or owns sp alone).
func (sp *spool) startSegment() error {
	seq := uint64(1)
	if n := len(sp.segs); n > 0 {
		seq = sp.segs[n-1].seq + 1
	}
	seg := &segment{seq: seq}
	if sp.dir == "" {
		seg.mem = append(make([]byte, 0, 64<<10), segmentMagic...)
	} else {
		seg.path = filepath.Join(sp.dir, segmentName(seq))
		f, err := os.OpenFile(seg.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		if _, err := f.Write([]byte(segmentMagic)); err != nil {
			f.Close()
			os.Remove(seg.path)
			return err
		}
		seg.file = f
		// The new name is made durable with the directory; its
		// records are synced by syncActive.
		if err := (fileutil.OS{}).SyncDir(sp.dir); err != nil {
			sp.logger.Warn("remote write: fsync of the spool directory failed", "err", err)
		}
	}
	seg.size = int64(len(segmentMagic))
	if n := len(sp.segs); n > 0 {
		prev := sp.segs[n-1]
		sp.seal(prev)
	}
	sp.segs = append(sp.segs, seg)
	sp.total += seg.size
	sp.w = newSegWriter()
	seg.defs = nil
	return nil
}

// seal ends writing to seg: its file is synced and closed, and its labels
// are kept only while a reader is in it.
func (sp *spool) seal(seg *segment) {
	if seg.sealed {
		return
	}
	seg.sealed = true
	if sp.w != nil {
		seg.defs = sp.w.defs
	}
	if seg.file != nil {
		if err := seg.file.Sync(); err != nil {
			sp.logger.Warn("remote write: fsync of a spool segment failed", "file", seg.path, "err", err)
		}
		seg.file.Close()
		seg.file = nil
	}
	sp.syncNeeded = false
	sp.releaseDefs(seg)
}

// releaseDefs drops a sealed segment's shared labels when no reader is in
// it.
func (sp *spool) releaseDefs(seg *segment) {
	if !seg.sealed || seg.defs == nil {
		return
	}
	for _, rs := range sp.readers {
		if rs.read.Seq == seg.seq {
			return
		}
	}
	seg.defs = nil
}

// append writes the samples of one commit as one record. A write that
// fails loses them, counted for every reader.
func (sp *spool) append(samples []store.CommittedSample) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.closed || len(sp.readers) == 0 || len(samples) == 0 {
		return
	}
	if sp.broken {
		if err := sp.startSegment(); err != nil {
			sp.writeFailed(nil, samples, err)
			return
		}
		sp.broken = false
	}
	seg := sp.segs[len(sp.segs)-1]
	sp.buf = sp.w.encode(sp.buf[:0], samples, false)
	if seg.file != nil {
		if _, err := seg.file.Write(sp.buf); err != nil {
			sp.writeFailed(seg, samples, err)
			return
		}
		sp.syncNeeded = true
	} else {
		seg.mem = append(seg.mem, sp.buf...)
	}
	seg.size += int64(len(sp.buf))
	seg.samples += int64(len(samples))
	sp.total += int64(len(sp.buf))
	sp.spooled += uint64(len(samples))
	for i := range samples {
		sp.maxT = max(sp.maxT, samples[i].T)
	}
	seg.defs = sp.w.defs
	close(sp.notify)
	sp.notify = make(chan struct{})
	if seg.size >= sp.segSize {
		if err := sp.startSegment(); err != nil {
			sp.logger.Error("remote write: cannot start a new spool segment; the current one grows on", "err", err)
		}
	}
	sp.enforceBound()
}

// writeFailed handles a failed write (a full or read-only disk): the
// record's samples are lost and counted; the segment is sealed where it
// was intact, and a new one is started, since ids defined in the lost
// record cannot be referred to.
func (sp *spool) writeFailed(seg *segment, samples []store.CommittedSample, err error) {
	n := uint64(len(samples))
	sp.writeFails += n
	if sp.lastErr == nil || sp.lastErr.Error() != err.Error() {
		sp.logger.Error("remote write: writing to the spool failed; these samples are lost for every remote", "err", err, "samples", n)
	}
	sp.lastErr = err
	for _, rs := range sp.readers {
		rs.dropped[dropWriteFailed] += n
	}
	if seg != nil && seg.file != nil {
		_ = seg.file.Truncate(seg.size) // a partial record would read as damage
	}
	// The ids the lost record gave cannot be referred to: the next
	// record goes to a new segment.
	sp.broken = true
}

// enforceBound removes the oldest segments while the spool is over its
// bound, counting what each reader had not read as dropped.
func (sp *spool) enforceBound() {
	for sp.total > sp.bound && len(sp.segs) > 1 {
		seg := sp.segs[0]
		for _, rs := range sp.readers {
			if rs.read.Seq <= seg.seq {
				lost := seg.samples - rs.read.Before
				if rs.read.Seq < seg.seq {
					lost = seg.samples
				}
				if lost > 0 {
					rs.dropped[dropSpoolFull] += uint64(lost)
				}
				rs.read = position{Seq: sp.segs[1].seq, Offset: int64(len(segmentMagic))}
				rs.jumped = true
			}
			if rs.cursor.Seq <= seg.seq {
				rs.cursor = rs.read
			}
		}
		sp.removeSegment(seg)
	}
}

func (sp *spool) removeSegment(seg *segment) {
	if seg.file != nil {
		seg.file.Close()
		seg.file = nil
	}
	if seg.path != "" {
		if err := os.Remove(seg.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			sp.logger.Warn("remote write: cannot remove a spool segment", "file", seg.path, "err", err)
		}
	}
	sp.total -= seg.size
	seg.mem, seg.defs = nil, nil
	sp.segs = slices.DeleteFunc(sp.segs, func(s *segment) bool { return s == seg })
}

// removeConsumed removes the segments every reader's cursor is past. The
// last segment stays.
func (sp *spool) removeConsumed() {
	for len(sp.segs) > 1 {
		seg := sp.segs[0]
		for _, rs := range sp.readers {
			if rs.cursor.Seq <= seg.seq || rs.read.Seq <= seg.seq {
				return
			}
		}
		sp.removeSegment(seg)
	}
}

// settle moves a reader's positions to a segment that exists: a cursor
// into a segment that is gone (removed past the bound, or lost) moves to
// the oldest one there is.
func (sp *spool) settle(rs *readerState) {
	if len(sp.segs) == 0 {
		rs.cursor, rs.read = position{}, position{}
		return
	}
	for _, seg := range sp.segs {
		if seg.seq == rs.cursor.Seq {
			if rs.cursor.Offset > seg.size || rs.cursor.Before > seg.samples {
				// The cursor was written, the records it is past
				// were lost with a power failure.
				rs.cursor = position{Seq: seg.seq, Offset: seg.size, Before: seg.samples}
			}
			rs.read = rs.cursor
			return
		}
		if seg.seq > rs.cursor.Seq {
			rs.cursor = position{Seq: seg.seq, Offset: int64(len(segmentMagic))}
			rs.read = rs.cursor
			return
		}
	}
	last := sp.segs[len(sp.segs)-1]
	rs.cursor = position{Seq: last.seq, Offset: last.size, Before: last.samples}
	rs.read = rs.cursor
}

// end is the position after the last record. Caller holds mu.
func (sp *spool) end() position {
	last := sp.segs[len(sp.segs)-1]
	return position{Seq: last.seq, Offset: last.size, Before: last.samples}
}

// addReader registers a remote's reader: at its cursor from an earlier
// run when there is one, else at the end (a new remote gets what comes
// from now on).
func (sp *spool) addReader(name string) *readerState {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if rs, ok := sp.readers[name]; ok {
		rs.read = rs.cursor // what was in flight is read again
		return rs
	}
	rs := &readerState{name: name, dropped: map[string]uint64{}}
	rs.cursor = sp.end()
	rs.read = rs.cursor
	sp.readers[name] = rs
	sp.writeCursor(rs)
	return rs
}

// removeReader forgets a remote no longer configured: its cursor file goes,
// and so do the segments only it still needed. It returns how many samples
// it had not sent.
func (sp *spool) removeReader(name string) int64 {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	rs, ok := sp.readers[name]
	if !ok {
		return 0
	}
	pending := sp.pendingAfter(rs.cursor)
	delete(sp.readers, name)
	if sp.dir != "" {
		if err := os.Remove(filepath.Join(sp.dir, cursorName(name))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			sp.logger.Warn("remote write: cannot remove a cursor file", "remote", name, "err", err)
		}
	}
	sp.removeConsumed()
	for _, seg := range sp.segs {
		sp.releaseDefs(seg)
	}
	return pending
}

// readerNames lists the readers, those from cursor files of an earlier
// run included.
func (sp *spool) readerNames() []string {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	var names []string
	for n := range sp.readers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// pendingAfter counts the samples after p. Caller holds mu.
func (sp *spool) pendingAfter(p position) int64 {
	var n int64
	for _, seg := range sp.segs {
		switch {
		case seg.seq == p.Seq:
			n += seg.samples - p.Before
		case seg.seq > p.Seq:
			n += seg.samples
		}
	}
	return max(n, 0)
}

// commit records that the receiver took everything before p: the cursor
// moves there (and is written), and segments no reader needs go. A reader
// whose position moved under it (jumped) keeps the cursor it was given.
func (sp *spool) commit(rs *readerState, p position) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.readers[rs.name] != rs {
		return // removed meanwhile
	}
	if less(rs.cursor, p) {
		rs.cursor = p
	}
	sp.writeCursor(rs)
	sp.removeConsumed()
}

// less orders positions.
func less(a, b position) bool {
	if a.Seq != b.Seq {
		return a.Seq < b.Seq
	}
	if a.Offset != b.Offset {
		return a.Offset < b.Offset
	}
	return a.Index < b.Index
}

// writeCursor writes a reader's cursor file (atomically). Caller holds mu.
// A failure is logged: the cursor then lags, and samples may be sent
// again after a restart.
func (sp *spool) writeCursor(rs *readerState) {
	if sp.dir == "" {
		return
	}
	b, _ := json.Marshal(cursorFile{Remote: rs.name, Pos: rs.cursor})
	if err := fileutil.WriteFile(filepath.Join(sp.dir, cursorName(rs.name)), b); err != nil {
		sp.logger.Warn("remote write: cannot write a cursor", "remote", rs.name, "err", err)
	}
}

// syncActive fsyncs the segment being written, if it was written since.
// It runs outside mu so that commits do not wait for the disk.
func (sp *spool) syncActive() {
	sp.mu.Lock()
	if !sp.syncNeeded || len(sp.segs) == 0 {
		sp.mu.Unlock()
		return
	}
	f := sp.segs[len(sp.segs)-1].file
	sp.syncNeeded = false
	sp.mu.Unlock()
	if f == nil {
		return
	}
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
		sp.logger.Warn("remote write: fsync of the spool failed", "err", err)
	}
}

// close syncs and closes the last segment; later appends are ignored.
func (sp *spool) close() {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.closed {
		return
	}
	sp.closed = true
	if n := len(sp.segs); n > 0 {
		seg := sp.segs[n-1]
		if seg.file != nil {
			if err := seg.file.Sync(); err != nil {
				sp.logger.Warn("remote write: fsync of the spool failed", "err", err)
			}
			seg.file.Close()
			seg.file = nil
		}
	}
	for _, rs := range sp.readers {
		sp.writeCursor(rs)
	}
	close(sp.notify)
}

// segInfo is what a reader needs to know of a segment, taken under mu.
type segInfo struct {
	seg     *segment
	mem     []byte // in memory: the bytes written, taken under mu
	size    int64
	sealed  bool
	defs    []labels.Labels
	next    uint64 // the next segment's seq, 0 when none
	removed bool
}

func (sp *spool) info(seq uint64) segInfo {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for i, seg := range sp.segs {
		if seg.seq < seq {
			continue
		}
		if seg.seq > seq {
			return segInfo{removed: true, next: seg.seq}
		}
		in := segInfo{seg: seg, mem: seg.mem, size: seg.size, sealed: seg.sealed, defs: seg.defs}
		if i+1 < len(sp.segs) {
			in.next = sp.segs[i+1].seq
		}
		return in
	}
	return segInfo{removed: true}
}

// readAt reads a segment's bytes at off: from memory, or from f.
func (in segInfo) readAt(f *os.File, p []byte, off int64) error {
	if in.seg.path == "" {
		if off+int64(len(p)) > int64(len(in.mem)) {
			return io.ErrUnexpectedEOF
		}
		copy(p, in.mem[off:])
		return nil
	}
	_, err := f.ReadAt(p, off)
	return err
}

// stats is a moment's picture of the spool.
type spoolStats struct {
	bytes, segments int64
	spooled         uint64
	writeFails      uint64
	lastErr         error
	maxT            int64
}

func (sp *spool) stats() spoolStats {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return spoolStats{bytes: sp.total, segments: int64(len(sp.segs)), spooled: sp.spooled,
		writeFails: sp.writeFails, lastErr: sp.lastErr, maxT: sp.maxT}
}

// readerStats is a moment's picture of one reader.
func (sp *spool) readerStats(rs *readerState) (pending int64, dropped map[string]uint64) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.pendingAfter(rs.cursor), maps.Clone(rs.dropped)
}

// wait returns a channel closed when records are added (or the spool
// closes).
func (sp *spool) wait() <-chan struct{} {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.notify
}

// skipDamaged counts the samples of the segment at p and after it as
// dropped for rs, which cannot read past a damaged record there, and
// has the next record start a new segment if p's is being written. It
// returns how many were dropped.
func (sp *spool) skipDamaged(rs *readerState, p position) int64 {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for _, seg := range sp.segs {
		if seg.seq != p.Seq {
			continue
		}
		if !seg.sealed {
			sp.broken = true
		}
		lost := max(seg.samples-p.Before, 0)
		rs.dropped[dropDamaged] += uint64(lost)
		return lost
	}
	return 0
}
