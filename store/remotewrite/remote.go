package remotewrite

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/prompb"
)

// remote sends the spool to one receiver: a goroutine that reads a chunk
// (up to shards × max_samples_per_send samples, within one segment, or
// what came within batch_send_deadline), splits it by series over the
// shards, sends the shards at once, and moves the remote's cursor past the
// chunk once every shard is through. A series is in one shard of a chunk
// and chunks go one after another, so each series reaches the receiver in
// order.
type remote struct {
	cfg    Config
	sp     *spool
	rs     *readerState
	rd     *reader
	cl     *client
	logger *slog.Logger
	ext    []labels.Label // external labels, sorted
	now    func() time.Time

	// typesOf reads the families' types; typeMap holds the last read.
	typesOf func() map[string]model.MetricType
	typeMap atomic.Pointer[map[string]model.MetricType]

	proto    atomic.Value // Protocol: the configured one, or V1 after a fall-back
	fellBack atomic.Bool
	shards   atomic.Int64

	sent, failed, retried atomic.Uint64
	highestSent           atomic.Int64 // ms; math.MinInt64 before the first
	lastSend              atomic.Int64 // unix ns of the last success; 0 before

	mu        sync.Mutex
	lastErr   string
	lastErrAt time.Time
	failing   bool              // the last attempt failed and is being retried
	failSince time.Time         // when failing began
	dropped   map[string]uint64 // by reason, for what the remote itself drops

	// The relabelled labels of each series of segment relabelSeq.
	relabelSeq uint64
	relabeled  []relabeledSeries

	encoders []*encoder
	parts    [][]sample // a chunk split by shard; reused
	draining atomic.Bool
	drainCh  chan struct{}
	cancel   context.CancelFunc
	done     chan struct{}
}

type relabeledSeries struct {
	lset labels.Labels
	keep bool
	set  bool
}

func newRemote(cfg Config, sp *spool, rs *readerState, cl *client, ext labels.Labels, typesOf func() map[string]model.MetricType, logger *slog.Logger) *remote {
	q := &remote{
		cfg: cfg, sp: sp, rs: rs, cl: cl, typesOf: typesOf, now: time.Now,
		logger:  logger.With("remote", cfg.ID()),
		dropped: map[string]uint64{},
		drainCh: make(chan struct{}),
		done:    make(chan struct{}),
	}
	ext.Range(func(l labels.Label) { q.ext = append(q.ext, l) })
	q.proto.Store(cfg.Protocol)
	q.shards.Store(int64(cfg.Queue.MinShards))
	q.highestSent.Store(math.MinInt64)
	q.rd = newReader(sp, rs)
	return q
}

func (q *remote) start() {
	ctx, cancel := context.WithCancel(context.Background())
	q.cancel = cancel
	go q.run(ctx)
}

// stop ends the goroutine: at once, or, with drain > 0 and a receiver that
// answered its last request, once what the spool holds is sent or drain
// has passed.
func (q *remote) stop(drain time.Duration) {
	if drain > 0 {
		q.mu.Lock()
		healthy := !q.failing
		q.mu.Unlock()
		if healthy {
			q.draining.Store(true)
			close(q.drainCh)
			deadline := time.NewTimer(drain)
			defer deadline.Stop()
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
		wait:
			for {
				pending, _ := q.sp.readerStats(q.rs)
				q.mu.Lock()
				failing := q.failing
				q.mu.Unlock()
				if pending == 0 || failing {
					break
				}
				select {
				case <-deadline.C:
					break wait
				case <-q.done:
					break wait
				case <-tick.C:
				}
			}
		}
	}
	q.cancel()
	<-q.done
	q.rd.close()
	q.cl.hc.CloseIdleConnections()
}

func (q *remote) run(ctx context.Context) {
	defer close(q.done)
	var chunk []sample
	var nextMeta time.Time
	for ctx.Err() == nil {
		if q.cfg.Metadata.Send && q.typesOf != nil && !q.now().Before(nextMeta) {
			q.refreshTypes()
			q.mu.Lock()
			failing := q.failing
			q.mu.Unlock()
			if q.proto.Load() == V1 && !failing { // a failing receiver is already in the log
				q.sendMetadata(ctx)
			}
			nextMeta = q.now().Add(q.cfg.Metadata.SendInterval)
		}
		chunk = q.collect(ctx, chunk[:0], nextMeta)
		if len(chunk) == 0 {
			continue
		}
		full := len(chunk) >= int(q.shards.Load())*q.cfg.Queue.MaxSamplesPerSend
		end := q.rd.pos
		ok, retried := q.sendChunk(ctx, chunk)
		if !ok {
			return // cancelled: the next reader reads the chunk again
		}
		q.sp.commit(q.rs, end)
		q.reshard(full, retried)
	}
}

// collect reads the next chunk: as many samples as the shards send at
// once, or what is there when batch_send_deadline has passed since the
// first of them (at once when draining), or nothing when ctx ends or the
// metadata are due.
func (q *remote) collect(ctx context.Context, buf []sample, nextMeta time.Time) []sample {
	want := int(q.shards.Load()) * q.cfg.Queue.MaxSamplesPerSend
	var deadline <-chan time.Time
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	var meta <-chan time.Time
	if !nextMeta.IsZero() && q.cfg.Metadata.Send && q.typesOf != nil {
		mt := time.NewTimer(max(nextMeta.Sub(q.now()), 0))
		defer mt.Stop()
		meta = mt.C
	}
	drain := q.drainCh
	for {
		wake := q.sp.wait()
		var segEnd bool
		buf, segEnd = q.rd.read(buf, want)
		if len(buf) >= want || segEnd || (len(buf) > 0 && q.draining.Load()) {
			return buf
		}
		if len(buf) > 0 && timer == nil {
			timer = time.NewTimer(q.cfg.Queue.BatchSendDeadline)
			deadline = timer.C
		}
		select {
		case <-ctx.Done():
			return buf[:0]
		case <-deadline:
			return buf
		case <-meta:
			if len(buf) == 0 {
				return buf
			}
			meta = nil
		case <-drain:
			drain = nil // closed: seen once is enough
		case <-wake:
		}
	}
}

// sendChunk sends a chunk over the shards and waits for all of them. ok
// is false when ctx ended first; retried says a request had to be tried
// again.
func (q *remote) sendChunk(ctx context.Context, chunk []sample) (ok, retried bool) {
	chunk = q.prepare(chunk)
	if len(chunk) == 0 {
		return true, false
	}
	n := int(q.shards.Load())
	for len(q.encoders) < n {
		q.encoders = append(q.encoders, newEncoder())
	}
	for len(q.parts) < n {
		q.parts = append(q.parts, nil)
	}
	parts := q.parts[:n]
	for i := range parts {
		parts[i] = parts[i][:0]
	}
	for _, s := range chunk {
		i := int(s.id) % n
		parts[i] = append(parts[i], s)
	}
	var wg sync.WaitGroup
	var cancelled, anyRetry atomic.Bool
	for i, part := range parts {
		if len(part) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for len(part) > 0 {
				k := min(len(part), q.cfg.Queue.MaxSamplesPerSend)
				done, again := q.sendWithRetry(ctx, q.encoders[i], part[:k])
				if again {
					anyRetry.Store(true)
				}
				if !done {
					cancelled.Store(true)
					return
				}
				part = part[k:]
			}
		}()
	}
	wg.Wait()
	return !cancelled.Load(), anyRetry.Load()
}

// prepare applies sample_age_limit, the external labels (when relabelling
// needs them in the labels) and write_relabel_configs, counting what is
// dropped.
func (q *remote) prepare(chunk []sample) []sample {
	if limit := q.cfg.Queue.SampleAgeLimit; limit > 0 {
		oldest := q.now().Add(-limit).UnixMilli()
		kept := chunk[:0]
		for _, s := range chunk {
			if s.t >= oldest {
				kept = append(kept, s)
			}
		}
		q.countDropped(dropTooOld, len(chunk)-len(kept))
		chunk = kept
	}
	if len(q.cfg.WriteRelabel) == 0 || len(chunk) == 0 {
		return chunk
	}
	seq := q.rd.pos.Seq // a chunk is within one segment
	if seq != q.relabelSeq {
		q.relabelSeq, q.relabeled = seq, q.relabeled[:0]
	}
	kept := chunk[:0]
	b := labels.NewBuilder(labels.EmptyLabels())
	for _, s := range chunk {
		for int(s.id) >= len(q.relabeled) {
			q.relabeled = append(q.relabeled, relabeledSeries{})
		}
		r := &q.relabeled[s.id]
		if !r.set {
			b.Reset(s.lset)
			for _, l := range q.ext {
				if !s.lset.Has(l.Name) {
					b.Set(l.Name, l.Value)
				}
			}
			r.keep = relabel.ProcessBuilder(b, q.cfg.WriteRelabel...)
			if r.keep {
				r.lset = b.Labels()
				r.keep = !r.lset.IsEmpty()
			}
			r.set = true
		}
		if r.keep {
			s.lset = r.lset
			kept = append(kept, s)
		}
	}
	q.countDropped(dropRelabel, len(chunk)-len(kept))
	return kept
}

func (q *remote) countDropped(reason string, n int) {
	if n <= 0 {
		return
	}
	q.mu.Lock()
	q.dropped[reason] += uint64(n)
	q.mu.Unlock()
}

// sendWithRetry sends one request's samples until the receiver takes them
// or refuses them for good. done is false when ctx ended first.
func (q *remote) sendWithRetry(ctx context.Context, enc *encoder, samples []sample) (done, retried bool) {
	ext := q.ext
	if len(q.cfg.WriteRelabel) > 0 {
		ext = nil // prepare put them in the labels
	}
	backoff := q.cfg.Queue.MinBackoff
	for {
		proto := q.proto.Load().(Protocol)
		var types TypeFunc
		if q.cfg.Metadata.Send {
			types = q.typeOf
		}
		body, err := enc.encode(proto, samples, ext, types)
		if err != nil {
			q.refused(len(samples), err)
			return true, retried
		}
		res := q.cl.post(ctx, proto, body)
		if ctx.Err() != nil {
			return false, retried
		}
		if proto == V2 && (res.status == http.StatusUnsupportedMediaType || (res.ok() && !res.confirmed)) {
			q.fallBack(res)
			continue
		}
		switch {
		case res.ok():
			q.succeeded(samples)
			return true, retried
		case res.retryable(q.cfg.Queue.RetryOnRateLimit):
			retried = true
			q.retrying(len(samples), res.err)
			wait := max(backoff, res.retryAfter)
			backoff = min(backoff*2, q.cfg.Queue.MaxBackoff)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return false, retried
			case <-t.C:
			}
		default:
			q.refused(len(samples), res.err)
			return true, retried
		}
	}
}

// fallBack switches the remote to Remote-Write 1.0 for good (until a
// reload or a restart): the receiver refused 2.0 (415), or took it without
// saying what it wrote, as 1.0 receivers do that read the body as a 1.0
// message and store nothing. The request is sent again as 1.0.
func (q *remote) fallBack(res result) {
	if q.fellBack.Swap(true) {
		q.proto.Store(V1)
		return
	}
	q.proto.Store(V1)
	why := "it answered 415 Unsupported Media Type"
	if res.status != http.StatusUnsupportedMediaType {
		why = "it answered " + http.StatusText(res.status) + " without the written-samples headers of 2.0"
	}
	q.logger.Warn("remote write: the receiver does not speak Remote-Write 2.0 ("+why+"): falling back to 1.0 and sending again", "url", RedactURL(q.cfg.URL))
}

func (q *remote) succeeded(samples []sample) {
	q.sent.Add(uint64(len(samples)))
	hi := int64(math.MinInt64)
	for _, s := range samples {
		hi = max(hi, s.t)
	}
	for {
		cur := q.highestSent.Load()
		if hi <= cur || q.highestSent.CompareAndSwap(cur, hi) {
			break
		}
	}
	q.lastSend.Store(q.now().UnixNano())
	q.mu.Lock()
	if q.failing {
		q.logger.Info("remote write: the receiver takes samples again", "url", RedactURL(q.cfg.URL))
	}
	q.failing = false
	q.mu.Unlock()
}

func (q *remote) retrying(n int, err error) {
	q.retried.Add(uint64(n))
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.failing {
		q.logger.Warn("remote write: sending failed; retrying with backoff, the samples wait in the spool", "err", err)
		q.failSince = q.now()
	}
	q.failing = true
	q.setErr(err)
}

func (q *remote) refused(n int, err error) {
	q.failed.Add(uint64(n))
	q.mu.Lock()
	defer q.mu.Unlock()
	q.logger.Error("remote write: the receiver refused samples; they are dropped", "samples", n, "err", err)
	q.failing = false
	q.setErr(err)
}

func (q *remote) setErr(err error) {
	if err == nil {
		err = errors.New("unknown error")
	}
	q.lastErr, q.lastErrAt = err.Error(), q.now()
}

// reshard adapts the number of shards to how far the remote is behind
// (in sample time): twice as many (up to max_shards) when it is more than
// two batch_send_deadlines behind after a full chunk that went through
// without retries, that is when the receiver takes samples slower than
// they come (a receiver that fails needs no more requests at once); half
// as many (down to min_shards) once it is within one deadline. The
// encoders of shards no longer used are let go.
func (q *remote) reshard(full, retried bool) {
	n := q.shards.Load()
	deadline := q.cfg.Queue.BatchSendDeadline.Milliseconds()
	lag := int64(0)
	if hi := q.highestSent.Load(); hi != math.MinInt64 {
		lag = q.sp.stats().maxT - hi
	}
	switch {
	case full && !retried && lag > 2*deadline && n < int64(q.cfg.Queue.MaxShards):
		q.shards.Store(min(n*2, int64(q.cfg.Queue.MaxShards)))
	case lag <= deadline && n > int64(q.cfg.Queue.MinShards):
		n = max(n/2, int64(q.cfg.Queue.MinShards))
		q.shards.Store(n)
		clear(q.encoders[n:])
		q.encoders = q.encoders[:n]
		clear(q.parts[n:])
		q.parts = q.parts[:n]
	}
}

// refreshTypes reads the families' types again (every send_interval).
func (q *remote) refreshTypes() {
	if q.typesOf == nil || !q.cfg.Metadata.Send {
		return
	}
	m := q.typesOf()
	q.typeMap.Store(&m)
}

// typeOf is the TypeFunc of the last types read.
func (q *remote) typeOf(family string) model.MetricType {
	m := q.typeMap.Load()
	if m == nil {
		return ""
	}
	return (*m)[family]
}

// sendMetadata sends the families' types in 1.0 requests of their own,
// once; a failure is logged and they go again at the next interval.
func (q *remote) sendMetadata(ctx context.Context) {
	m := q.typeMap.Load()
	if m == nil || len(*m) == 0 {
		return
	}
	fams := make([]prompb.MetricMetadata, 0, len(*m))
	for name, t := range *m {
		fams = append(fams, prompb.MetricMetadata{Type: prompb.FromMetadataType(t), MetricFamilyName: name})
	}
	enc := newEncoder()
	for len(fams) > 0 {
		k := min(len(fams), q.cfg.Metadata.MaxSamplesPerSend)
		body, err := enc.encodeMetadata(fams[:k])
		if err != nil {
			return
		}
		res := q.cl.post(ctx, V1, body)
		if !res.ok() {
			if ctx.Err() == nil {
				q.logger.Warn("remote write: sending metadata failed; they go again at the next send_interval", "err", res.err)
			}
			return
		}
		fams = fams[k:]
	}
}
