package scrape

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"os"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilterm/vigil/store"
)

// Options configure a Manager. Zero fields take the DefaultOptions value.
type Options struct {
	// Logger gets scrape failures at debug level and problems with the
	// config (a target that cannot be built, a bad file_sd file) as
	// warnings. Never a secret.
	Logger *slog.Logger
	// Internal targets are scraped whatever the config says: vigil's own
	// metrics under job "vigil", for instance.
	Internal []InternalTarget
	// BodySizeLimit caps every body when the config sets no
	// body_size_limit: an exporter is untrusted.
	BodySizeLimit int64
	// FileSDPoll is how often file_sd files are checked for changes.
	FileSDPoll time.Duration
	// TimestampTolerance is how far a scrape may start from one interval
	// after the last one and still be stamped exactly one interval after
	// it (Prometheus' --scrape.timestamp-tolerance), at most 1% of the
	// interval: regular timestamps compress to almost nothing. A negative
	// value stamps every scrape with its own start.
	TimestampTolerance time.Duration
	// UserAgent is the User-Agent header of every scrape request.
	UserAgent string
}

// DefaultOptions returns the defaults: a discarding logger, a 64 MiB body
// limit, file_sd files checked every second, a 2ms timestamp tolerance (as
// Prometheus), and "vigil/0.1" as the User-Agent.
func DefaultOptions() Options {
	return Options{
		Logger:             slog.New(slog.DiscardHandler),
		BodySizeLimit:      64 << 20,
		FileSDPoll:         time.Second,
		TimestampTolerance: defaultTimestampTolerance,
		UserAgent:          "vigil/0.1",
	}
}

// Manager runs one scrape loop per target and keeps them in step with the
// config. Its methods are safe for concurrent use.
type Manager struct {
	app  store.Appendable
	opts Options
	seed uint64

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	cfg    *Config
	pools  map[string]*pool
	closed bool
}

// pool is one scrape config (or one internal target) and its loops.
type pool struct {
	key    string
	sc     *ScrapeConfig   // nil for an internal target
	it     *InternalTarget // nil for a scrape config
	global GlobalConfig
	client *http.Client
	opts   loopOptions
	limit  int64
	groups map[string][]group
	loops  map[uint64]*loop
	cancel context.CancelFunc // file_sd watchers
	gone   bool
}

// NewManager returns a Manager that appends to app. It scrapes nothing
// until ApplyConfig.
func NewManager(app store.Appendable, opts Options) *Manager {
	def := DefaultOptions()
	if opts.Logger == nil {
		opts.Logger = def.Logger
	}
	if opts.BodySizeLimit == 0 {
		opts.BodySizeLimit = def.BodySizeLimit
	}
	if opts.FileSDPoll <= 0 {
		opts.FileSDPoll = def.FileSDPoll
	}
	if opts.TimestampTolerance == 0 {
		opts.TimestampTolerance = def.TimestampTolerance
	}
	if opts.UserAgent == "" {
		opts.UserAgent = def.UserAgent
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := fnv.New64a()
	host, _ := os.Hostname()
	h.Write([]byte(host))
	return &Manager{app: app, opts: opts, seed: h.Sum64(), ctx: ctx, cancel: cancel, pools: map[string]*pool{}}
}

// ErrClosed is returned by ApplyConfig after Close.
var ErrClosed = errors.New("scrape manager closed")

// ApplyConfig makes the running targets those of cfg (plus the internal
// targets from the options). Targets in both the old and the new config
// keep their loop, or hand their series over to the new one, so a reload
// loses nothing; targets that are gone get stale markers for their first
// missed slot, written a tenth of an interval after the second, as in
// Prometheus. On error nothing changes.
func (m *Manager) ApplyConfig(cfg *Config) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if cfg == nil {
		return errors.New("apply scrape config: no config")
	}
	// Build every new pool first, so that a failure changes nothing.
	next := map[string]*pool{}
	var errs []error
	for _, sc := range cfg.ScrapeConfigs {
		p, err := m.newPool(sc, cfg.Global)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		next[p.key] = p
	}
	internal := append(append([]InternalTarget(nil), m.opts.Internal...), cfg.Internal...)
	for i := range internal {
		it := internal[i]
		if it.Collect == nil || it.Job == "" {
			errs = append(errs, fmt.Errorf("internal target %d: needs a Job and a Collect func", i))
			continue
		}
		p := m.newInternalPool(&it, cfg.Global)
		next[p.key] = p
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	for key, old := range m.pools {
		if np, ok := next[key]; ok && old.same(np) {
			next[key] = old // unchanged: keep it running as it is
			continue
		}
		old.gone = true
		if old.cancel != nil {
			old.cancel()
		}
	}
	for key, p := range next {
		old := m.pools[key]
		if old == p {
			continue
		}
		m.startPool(p, old)
		if old != nil {
			old.client.CloseIdleConnections()
		}
	}
	for key, old := range m.pools {
		if _, ok := next[key]; !ok {
			m.stopLoops(old.loops, nil)
			old.client.CloseIdleConnections()
		}
	}
	m.pools = next
	m.cfg = cfg
	return nil
}

func (m *Manager) newPool(sc *ScrapeConfig, g GlobalConfig) (*pool, error) {
	client, err := config.NewClientFromConfig(sc.HTTPClientConfig, sc.JobName)
	if err != nil {
		return nil, fmt.Errorf("job %q: http client: %w", sc.JobName, err)
	}
	limit := int64(sc.BodySizeLimit)
	if limit <= 0 {
		limit = m.opts.BodySizeLimit
	}
	fallback := ""
	if sc.FallbackScrapeProtocol != "" {
		fallback = protocolHeaders[sc.FallbackScrapeProtocol]
	} else {
		// Prometheus 2 read a body without a Content-Type as text; so does
		// vigil, as many small exporters send none.
		fallback = "text/plain"
	}
	p := &pool{
		key: "job/" + sc.JobName, sc: sc, global: g, client: client, limit: limit,
		groups: map[string][]group{}, loops: map[uint64]*loop{},
		opts: loopOptions{
			honorLabels: sc.HonorLabels, honorTimestamps: sc.HonorTimestamps, trackTSStaleness: sc.TrackTimestampsStaleness,
			sampleLimit: int(sc.SampleLimit), labelLimit: int(sc.LabelLimit),
			nameLenLimit: int(sc.LabelNameLengthLimit), valueLenLimit: int(sc.LabelValueLengthLimit),
			fallback: fallback, metricRelabel: nonNil(sc.MetricRelabelConfigs),
		},
	}
	for i, st := range sc.StaticConfigs {
		p.groups[fmt.Sprintf("static/%d", i)] = []group{{Targets: st.Targets, Labels: st.Labels}}
	}
	return p, nil
}

func (m *Manager) newInternalPool(it *InternalTarget, g GlobalConfig) *pool {
	g = globalDefaults(g)
	return &pool{
		key: "internal/" + it.Job + "/" + it.Instance, it: it, global: g,
		client: &http.Client{}, limit: m.opts.BodySizeLimit,
		loops: map[uint64]*loop{}, opts: loopOptions{honorTimestamps: true, fallback: "text/plain", reserved: it.Reserved},
	}
}

// same reports whether two pools would scrape the same way.
func (p *pool) same(q *pool) bool {
	if p.it != nil || q.it != nil {
		if p.it == nil || q.it == nil {
			return false
		}
		pt, qt := p.internalTarget(), q.internalTarget()
		return pt.hash == qt.hash && pt.interval == qt.interval && pt.timeout == qt.timeout &&
			reflect.ValueOf(p.it.Collect).Pointer() == reflect.ValueOf(q.it.Collect).Pointer()
	}
	return reflect.DeepEqual(p.sc, q.sc) && reflect.DeepEqual(p.global, q.global)
}

// startPool starts p's loops, taking over the series of old's loops for
// targets both have, and its file_sd watchers.
func (m *Manager) startPool(p *pool, old *pool) {
	var inherit map[uint64]*loop
	if old != nil {
		inherit = old.loops
	}
	if p.it != nil {
		m.syncTargets(p, []*target{p.internalTarget()}, inherit)
		return
	}
	var watchers []*fileWatcher
	for i, fc := range p.sc.FileSDConfigs {
		w := &fileWatcher{m: m, p: p, source: fmt.Sprintf("file_sd/%d", i), cfg: fc, poll: m.opts.FileSDPoll}
		w.load() // the first read happens before the pool starts
		watchers = append(watchers, w)
	}
	m.syncPool(p, inherit)
	if len(watchers) > 0 {
		ctx, cancel := context.WithCancel(m.ctx)
		p.cancel = cancel
		for _, w := range watchers {
			m.wg.Add(1)
			go func() {
				defer m.wg.Done()
				w.run(ctx)
			}()
		}
	}
}

func (p *pool) internalTarget() *target {
	it := p.it
	b := labels.NewBuilder(labels.EmptyLabels())
	for k, v := range it.Labels {
		b.Set(k, v)
	}
	b.Set(model.JobLabel, it.Job)
	inst := it.Instance
	if inst == "" {
		inst, _ = os.Hostname()
	}
	b.Set(model.InstanceLabel, inst)
	interval := it.Interval
	if interval <= 0 {
		interval = time.Duration(p.global.ScrapeInterval)
	}
	timeout := it.Timeout
	if timeout <= 0 {
		timeout = min(time.Duration(p.global.ScrapeTimeout), interval)
	}
	display := it.URL
	if display == "" {
		display = "internal:" + it.Job
	}
	ls := b.Labels()
	return &target{labels: ls, display: display, interval: interval, timeout: timeout, collect: it.Collect, hash: hashTarget(ls, display)}
}

// syncPool recomputes p's targets from its groups and starts and stops
// loops to match. inherit holds loops of a previous pool to take over.
func (m *Manager) syncPool(p *pool, inherit map[uint64]*loop) {
	var all []*target
	sources := make([]string, 0, len(p.groups))
	for s := range p.groups {
		sources = append(sources, s)
	}
	sort.Strings(sources)
	for _, s := range sources {
		for _, g := range p.groups[s] {
			ts, errs := targetsFromGroup(p.sc, g)
			for _, err := range errs {
				m.opts.Logger.Warn("skip target", "err", Sanitize(err.Error(), DefaultSanitizeLen))
			}
			all = append(all, ts...)
		}
	}
	m.syncTargets(p, all, inherit)
}

func (m *Manager) syncTargets(p *pool, all []*target, inherit map[uint64]*loop) {
	want := map[uint64]*target{}
	for _, t := range all {
		if _, dup := want[t.hash]; !dup {
			want[t.hash] = t
		}
	}
	var stop []*loop
	for h, l := range p.loops {
		if _, ok := want[h]; !ok {
			stop = append(stop, l)
			delete(p.loops, h)
		}
	}
	// Loops of the old pool for targets that live on are stopped without
	// stale markers and hand their cache to the new loop.
	handover := map[uint64]*loop{}
	for h, l := range inherit {
		if _, ok := want[h]; ok {
			l.noStaleness = true
			handover[h] = l
		}
	}
	for h, l := range inherit {
		if _, ok := handover[h]; !ok {
			stop = append(stop, l)
		}
	}
	m.stopLoops(handover, nil)
	m.stopLoops(nil, stop)
	for h, t := range want {
		if _, ok := p.loops[h]; ok {
			continue
		}
		l := m.newLoop(p, t)
		if old, ok := handover[h]; ok {
			l.adopt(old)
		}
		p.loops[h] = l
		ctx, cancel := context.WithCancel(m.ctx)
		l.cancel = cancel
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			l.run(m.ctx, ctx)
		}()
	}
}

func (m *Manager) newLoop(p *pool, t *target) *loop {
	var s scraper
	if t.collect != nil {
		s = &funcScraper{collect: t.collect, limit: p.limit}
	} else {
		protocols := p.sc.ScrapeProtocols
		s = &httpScraper{
			client: p.client, url: t.url.String(), accept: acceptHeader(protocols),
			timeout: t.timeout, compression: p.sc.EnableCompression, bodyLimit: p.limit,
			userAgent: m.opts.UserAgent,
		}
	}
	l := newLoop(t, s, m.app, p.opts, m.opts.Logger)
	l.seed, l.tolerance = m.seed, m.opts.TimestampTolerance
	return l
}

// stopLoops stops loops and waits until each has finished its scrape.
// Loops not in a handover write their end-of-run stale markers later, in
// their own goroutine.
func (m *Manager) stopLoops(byHash map[uint64]*loop, list []*loop) {
	for _, l := range byHash {
		list = append(list, l)
	}
	for _, l := range list {
		l.cancel()
	}
	for _, l := range list {
		<-l.stopped
	}
}

// Targets returns the health of every target, sorted by job and instance.
func (m *Manager) Targets() []TargetHealth {
	m.mu.Lock()
	var out []TargetHealth
	for _, p := range m.pools {
		for _, l := range p.loops {
			out = append(out, l.healthSnapshot())
		}
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Job != out[j].Job {
			return out[i].Job < out[j].Job
		}
		if out[i].Instance != out[j].Instance {
			return out[i].Instance < out[j].Instance
		}
		return out[i].URL < out[j].URL
	})
	return out
}

// Close stops every loop and watcher and waits for them. No stale markers
// are written: the targets are still there when vigil starts again.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
	m.mu.Lock()
	for _, p := range m.pools {
		p.client.CloseIdleConnections()
	}
	m.mu.Unlock()
}
