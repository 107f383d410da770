package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilterm/vigil/store"
)

// Options configure a Writer. A zero field takes its default.
type Options struct {
	// Dir is the spool's directory, SpoolDirName in the data directory;
	// "" keeps the queue in memory.
	Dir string
	// SpoolBytes bounds the spool (--remote-write-spool): past it the
	// oldest samples are dropped and counted. Default 1 GiB.
	SpoolBytes int64
	Logger     *slog.Logger
	// UserAgent is the User-Agent of every request.
	UserAgent string
	// FlushDeadline is how long Close gives remotes whose receiver
	// answers to send what the spool holds: 10s.
	FlushDeadline time.Duration
	// SyncInterval is how often the segment being written is fsynced:
	// 2s.
	SyncInterval time.Duration
	// Types, optional, reads the types the targets declare for metric
	// families (family name → type), for metadata_config.
	Types func() map[string]model.MetricType
}

// DefaultSpoolBytes is --remote-write-spool's default.
const DefaultSpoolBytes = 1 << 30

// MinSpoolBytes is the smallest bound --remote-write-spool takes: a few
// segments of the smallest size.
const MinSpoolBytes = 1 << 20

func (o Options) withDefaults() Options {
	if o.SpoolBytes <= 0 {
		o.SpoolBytes = DefaultSpoolBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.UserAgent == "" {
		o.UserAgent = "vigil"
	}
	if o.FlushDeadline <= 0 {
		o.FlushDeadline = 10 * time.Second
	}
	if o.SyncInterval <= 0 {
		o.SyncInterval = 2 * time.Second
	}
	return o
}

// Writer is remote write: the spool that every sample the store accepts
// goes to (Append, the store's Options.OnCommit), and a sender for each
// remote (ApplyConfig). Its methods are safe for concurrent use.
type Writer struct {
	opts Options

	sp atomic.Pointer[spool] // nil until the first remote, or a spool left by an earlier run

	mu      sync.Mutex // guards what follows
	remotes map[string]*remote
	applied bool // ApplyConfig ran once
	closed  bool

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a Writer. A spool an earlier run left in opts.Dir is opened
// (and checked) now; otherwise nothing is written until a remote is
// configured.
func New(opts Options) (*Writer, error) {
	opts = opts.withDefaults()
	if opts.SpoolBytes < MinSpoolBytes {
		return nil, fmt.Errorf("remote write spool bound %d bytes: want at least %d", opts.SpoolBytes, MinSpoolBytes)
	}
	w := &Writer{opts: opts, remotes: map[string]*remote{}}
	if opts.Dir != "" {
		if _, err := os.Stat(opts.Dir); err == nil {
			if err := w.openSpool(); err != nil {
				return nil, err
			}
		}
	}
	return w, nil
}

func (w *Writer) openSpool() error {
	sp, err := openSpool(w.opts.Dir, w.opts.SpoolBytes, w.opts.Logger)
	if err != nil {
		return err
	}
	w.sp.Store(sp)
	if w.opts.Dir != "" {
		ctx, cancel := context.WithCancel(context.Background())
		w.cancel = cancel
		w.wg.Add(1)
		go w.syncLoop(ctx, sp)
	}
	return nil
}

// syncLoop fsyncs the segment being written every SyncInterval.
func (w *Writer) syncLoop(ctx context.Context, sp *spool) {
	defer w.wg.Done()
	t := time.NewTicker(w.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sp.syncActive()
		}
	}
}

// Append writes the samples of one commit to the spool, for every remote.
// It is the store's Options.OnCommit: with no remote it returns at once.
func (w *Writer) Append(samples []store.CommittedSample) {
	if sp := w.sp.Load(); sp != nil {
		sp.append(samples)
	}
}

// ApplyConfig makes the remotes those of cfgs, with the external labels
// ext: a new remote starts with the samples that come from now on; a
// remote of the same name keeps its queue, and, when its config changed,
// is sent the rest with the new one; a remote no longer configured is
// stopped and what it had not sent is dropped (and logged). The first
// call also drops the queues that an earlier run left for remotes that are
// no longer configured. A config that cannot run is refused whole, and the
// running remotes stay.
func (w *Writer) ApplyConfig(cfgs []Config, ext labels.Labels) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errors.New("remote write: closed")
	}
	clients := map[string]*client{}
	seen := map[string]bool{}
	for _, c := range cfgs {
		if err := c.validate(); err != nil {
			return err
		}
		id := c.ID()
		if seen[id] {
			return fmt.Errorf("remote_write: two remotes named %q: give each a name", id)
		}
		seen[id] = true
		hc, err := config.NewClientFromConfig(c.HTTPClient, "remote_write")
		if err != nil {
			return fmt.Errorf("remote_write %s: %w", id, err)
		}
		clients[id] = &client{url: c.URL, hc: hc, headers: c.Headers, timeout: c.Timeout, userAgent: w.opts.UserAgent}
	}
	sp := w.sp.Load()
	if sp == nil {
		if len(cfgs) == 0 {
			w.applied = true
			return nil
		}
		if err := w.openSpool(); err != nil {
			return err
		}
		sp = w.sp.Load()
		if w.opts.Dir == "" {
			w.opts.Logger.Warn("remote write: no data directory (--data-dir \"\"): the queue is in memory, bounded by --remote-write-spool, and lost on exit")
		}
	}
	for id, q := range w.remotes {
		if !seen[id] {
			q.stop(0)
			delete(w.remotes, id)
			if n := sp.removeReader(id); n > 0 {
				w.opts.Logger.Warn("remote write: a remote is no longer configured; the samples it had not sent are dropped", "remote", id, "samples", n)
			}
		}
	}
	if !w.applied {
		for _, id := range sp.readerNames() {
			if !seen[id] {
				n := sp.removeReader(id)
				w.opts.Logger.Warn("remote write: the spool holds a queue for a remote that is no longer configured; it is dropped", "remote", id, "samples", n)
			}
		}
		w.applied = true
	}
	if len(cfgs) == 0 {
		sp.mu.Lock()
		sp.removeConsumed() // no reader needs any segment but the last
		sp.mu.Unlock()
	}
	for _, c := range cfgs {
		id := c.ID()
		if q, ok := w.remotes[id]; ok {
			if reflect.DeepEqual(q.cfg, c) && labels.Equal(labels.New(q.ext...), ext) {
				continue
			}
			q.stop(0)
		}
		rs := sp.addReader(id)
		q := newRemote(c, sp, rs, clients[id], ext, w.opts.Types, w.opts.Logger)
		if pending, _ := sp.readerStats(rs); pending > 0 && !w.hadRemote(id) {
			w.opts.Logger.Info("remote write: samples from before the restart wait in the spool and are sent first", "remote", id, "samples", pending)
		}
		w.remotes[id] = q
		q.start()
	}
	return nil
}

// hadRemote says whether a remote of that name runs. Caller holds mu.
func (w *Writer) hadRemote(id string) bool {
	_, ok := w.remotes[id]
	return ok
}

// Close stops the remotes (those whose receiver answers get
// FlushDeadline to send what is queued) and closes the spool: on disk,
// what was not sent is there at the next start; in memory, it is lost and
// logged. The store must have stopped appending.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	var wg sync.WaitGroup
	for _, q := range w.remotes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.stop(w.opts.FlushDeadline)
		}()
	}
	wg.Wait()
	sp := w.sp.Load()
	if sp != nil {
		spooled := sp.stats().spooled
		for id, q := range w.remotes {
			pending, _ := sp.readerStats(q.rs)
			w.opts.Logger.Info("remote write: stopped", "remote", id, "sent", q.sent.Load(), "pending", pending, "spooled_since_start", spooled)
			switch {
			case pending == 0:
			case w.opts.Dir == "":
				w.opts.Logger.Warn("remote write: samples not sent are lost on exit: the queue is in memory (--data-dir \"\")", "remote", id, "samples", pending)
			default:
				w.opts.Logger.Info("remote write: samples not sent yet wait in the spool for the next start", "remote", id, "samples", pending)
			}
		}
	}
	if w.cancel != nil {
		w.cancel()
		w.wg.Wait()
	}
	if sp != nil {
		sp.close()
	}
	return nil
}

// Status is a moment's picture of remote write, for vigil's own metrics
// and the console.
type Status struct {
	InMemory      bool  // no data directory: the queue is lost on exit
	SpoolBytes    int64 // bytes the spool holds
	SpoolBound    int64 // --remote-write-spool
	Segments      int64
	Spooled       uint64 // samples written to the spool since start
	WriteFailures uint64 // samples lost because the spool could not be written
	LastWriteErr  string
	Remotes       []RemoteStatus // by name
}

// RemoteStatus is one remote's state.
type RemoteStatus struct {
	Name     string
	URL      string // without credentials
	Protocol Protocol
	// FellBack says the remote was configured for 2.0 and its receiver
	// did not take it: it is sent 1.0.
	FellBack bool
	Shards   int

	Sent    uint64            // samples the receiver took
	Failed  uint64            // samples the receiver refused (4xx): dropped
	Retried uint64            // samples of requests that failed and were tried again
	Dropped map[string]uint64 // samples not sent, by reason: spool_full, damaged, spool_write_failed, write_relabel, too_old
	Pending int64             // samples in the spool not yet taken

	LastSend    time.Time // the last request the receiver took; zero before
	LastError   string    // the last failure, with the receiver's message
	LastErrorAt time.Time
	// Failing says the last request failed and is being retried, since
	// FailingSince.
	Failing      bool
	FailingSince time.Time
	// Lag is how far what the receiver took is behind what was spooled,
	// in sample time; 0 when nothing waits.
	Lag time.Duration
	// LagKnown is false when nothing was sent yet while samples wait.
	LagKnown bool
}

// DroppedTotal counts the samples dropped for every reason but
// write_relabel (what the config asks to leave out).
func (r RemoteStatus) DroppedTotal() uint64 {
	var n uint64
	for reason, v := range r.Dropped {
		if reason != dropRelabel {
			n += v
		}
	}
	return n + r.Failed
}

// Status returns the spool's and the remotes' state.
func (w *Writer) Status() Status {
	st := Status{InMemory: w.opts.Dir == "", SpoolBound: w.opts.SpoolBytes}
	sp := w.sp.Load()
	if sp == nil {
		return st
	}
	ss := sp.stats()
	st.SpoolBytes, st.Segments, st.Spooled, st.WriteFailures = ss.bytes, ss.segments, ss.spooled, ss.writeFails
	if ss.lastErr != nil {
		st.LastWriteErr = ss.lastErr.Error()
	}
	w.mu.Lock()
	qs := make([]*remote, 0, len(w.remotes))
	for _, q := range w.remotes {
		qs = append(qs, q)
	}
	w.mu.Unlock()
	for _, q := range qs {
		pending, dropped := sp.readerStats(q.rs)
		q.mu.Lock()
		for k, v := range q.dropped {
			dropped[k] += v
		}
		rst := RemoteStatus{
			Name: q.cfg.ID(), URL: RedactURL(q.cfg.URL),
			Protocol: q.proto.Load().(Protocol), FellBack: q.fellBack.Load(),
			Shards: int(q.shards.Load()),
			Sent:   q.sent.Load(), Failed: q.failed.Load(), Retried: q.retried.Load(),
			Dropped: dropped, Pending: pending,
			LastError: q.lastErr, LastErrorAt: q.lastErrAt, Failing: q.failing, FailingSince: q.failSince,
		}
		q.mu.Unlock()
		if ns := q.lastSend.Load(); ns != 0 {
			rst.LastSend = time.Unix(0, ns)
		}
		hi := q.highestSent.Load()
		switch {
		case pending == 0:
			rst.LagKnown = true
		case hi != math.MinInt64 && ss.maxT != math.MinInt64:
			rst.Lag, rst.LagKnown = time.Duration(max(ss.maxT-hi, 0))*time.Millisecond, true
		}
		st.Remotes = append(st.Remotes, rst)
	}
	sortRemotes(st.Remotes)
	return st
}

func sortRemotes(rs []RemoteStatus) {
	slices.SortFunc(rs, func(a, b RemoteStatus) int { return strings.Compare(a.Name, b.Name) })
}
