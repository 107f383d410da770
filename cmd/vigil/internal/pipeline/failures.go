package pipeline

import (
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/vigilterm/vigil/scrape"
)

// The parts of vigil whose failures it runs through, as Failures names
// them (the component label of vigil_failing).
const (
	failSnapshot     = "snapshot"     // the data directory cannot be written
	failRules        = "rules"        // rule evaluations fail
	failEvents       = "events"       // events cannot be written to stdout, or are dropped
	failAlertmanager = "alertmanager" // an Alertmanager does not take alerts
	failMaxSeries    = "max_series"   // the store holds --max-series: new series are refused
	failRemoteWrite  = "remote_write" // a remote falls behind or drops samples
)

// Failures says each failure vigil keeps running through once when it
// starts and once when it ends, not once per retry: a line in the log
// (stderr in --headless, vigil.log under the console), the console's
// header warnings (Failing) and vigil's own metrics (WriteMetrics). Each
// part reports its state with Observe, after each attempt or whenever it
// is polled (Pipeline.watch); a part may be observed failing any number
// of times in a row, and only the first and the recovery are said.
type Failures struct {
	logger *slog.Logger
	now    func() time.Time

	mu    sync.Mutex
	parts map[string]*failure
	order []string // registered, in order
}

// failure is one part's state.
type failure struct {
	err      string    // why it fails now; "" when it does not
	since    time.Time // when it started failing
	count    uint64    // failed observations since then
	episodes uint64    // times it started failing
}

// Failure is a part that fails now.
type Failure struct {
	Component string
	Err       string // sanitised, one line
	Since     time.Time
}

// NewFailures returns a tracker that logs to logger.
func NewFailures(logger *slog.Logger) *Failures {
	return &Failures{logger: logger, now: time.Now, parts: map[string]*failure{}}
}

// Register makes parts known before their first observation, so that
// their metrics exist (at 0) from the start and an alert on them sees a
// value.
func (f *Failures) Register(components ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range components {
		f.part(c)
	}
}

// part returns c's state, registering it. f.mu is held.
func (f *Failures) part(c string) *failure {
	p := f.parts[c]
	if p == nil {
		p = &failure{}
		f.parts[c] = p
		f.order = append(f.order, c)
	}
	return p
}

// Observe reports component's state: failing with err, or working with
// nil. It logs when the state changes, and only then; a failing part
// whose reason changes keeps failing, with the new reason shown. A nil
// *Failures (a Pipeline that was never opened) tracks nothing.
func (f *Failures) Observe(component string, err error) {
	if f == nil {
		return
	}
	f.mu.Lock()
	p := f.part(component)
	var started, ended bool
	var was time.Duration
	var count uint64
	if err != nil {
		msg := scrape.Sanitize(err.Error(), scrape.DefaultSanitizeLen)
		if p.err == "" {
			started = true
			p.since, p.count = f.now(), 0
			p.episodes++
		}
		p.err = msg
		p.count++
	} else if p.err != "" {
		ended = true
		was, count = f.now().Sub(p.since), p.count
		p.err = ""
	}
	msg := p.err
	f.mu.Unlock()
	switch {
	case started:
		f.logger.Warn("failing", "component", component, "err", msg)
	case ended:
		f.logger.Info("recovered", "component", component, "failed_for", was.Round(time.Millisecond), "failures", count)
	}
}

// Failing lists the parts that fail now, in the order they were
// registered.
func (f *Failures) Failing() []Failure {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Failure
	for _, c := range f.order {
		if p := f.parts[c]; p.err != "" {
			out = append(out, Failure{Component: c, Err: p.err, Since: p.since})
		}
	}
	return out
}

// WriteMetrics writes vigil_failing (1 while a part fails) and
// vigil_failures_total (how many times it started failing) for every part
// registered or observed.
func (f *Failures) WriteMetrics(w io.Writer) error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	type row struct {
		c        string
		failing  bool
		episodes uint64
	}
	rows := make([]row, 0, len(f.order))
	for _, c := range f.order {
		p := f.parts[c]
		rows = append(rows, row{c, p.err != "", p.episodes})
	}
	f.mu.Unlock()
	t := scrape.NewTextWriter(w)
	t.Header("vigil_failing", "gauge", "Whether a part of vigil fails now (1) or not (0); said once in the log when it starts and once when it ends.")
	for _, r := range rows {
		v := 0.0
		if r.failing {
			v = 1
		}
		t.Sample("vigil_failing", v, "component", r.c)
	}
	t.Header("vigil_failures_total", "counter", "Times a part of vigil started failing.")
	for _, r := range rows {
		t.Sample("vigil_failures_total", float64(r.episodes), "component", r.c)
	}
	return t.Err()
}
