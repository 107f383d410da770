package alert

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilterm/vigil/store"
)

// Defaults of Options.
const (
	DefaultEvalInterval    = 5 * time.Second
	DefaultOutageTolerance = time.Hour
	DefaultForGracePeriod  = 10 * time.Minute
	DefaultResendDelay     = time.Minute
)

// Sink receives every event. Send is called from the groups' goroutines,
// possibly at once, and must not block: sinks queue and count what they
// cannot take.
type Sink interface {
	Send(Event)
}

// NotifyFunc receives the alerts Alertmanager must hear about after an
// evaluation of one rule: firing ones every ResendDelay, resolved ones at
// once and then every ResendDelay for ResolvedRetention. It must not block;
// Notifier.Send is one.
type NotifyFunc func(ctx context.Context, alerts ...NotifyAlert)

// NotifyAlert is an alert as Alertmanager's API v2 takes it.
type NotifyAlert struct {
	Labels       labels.Labels // alert labels plus the external labels they lack
	Annotations  labels.Labels
	StartsAt     time.Time // when it fired
	EndsAt       time.Time // when it resolved, or until when it is valid without news
	GeneratorURL string
}

// Options configure a Manager. Queryable is required.
type Options struct {
	// Queryable is what rules query (the store).
	Queryable storage.Queryable
	// Appendable receives recording-rule results, ALERTS and
	// ALERTS_FOR_STATE; nil writes nothing (and nothing can be restored).
	Appendable store.Appendable
	// Engine runs the queries; nil makes one from EngineOptions at
	// EvalInterval. One given should be made from EngineOptions at the same
	// interval, so that subqueries without a step use it.
	Engine promql.QueryEngine
	// EvalInterval is the interval of groups that set none (the config's
	// evaluation_interval, or --eval-interval); 0 is DefaultEvalInterval.
	EvalInterval time.Duration
	// ExternalLabels are $externalLabels in templates and are added to the
	// alerts sent to Alertmanager.
	ExternalLabels labels.Labels
	// ExternalURL is $externalURL and the base of generator URLs.
	ExternalURL string
	// OutageTolerance is how long vigil may have been down for alerts to
	// keep their for clock (Prometheus' --rules.alert.for-outage-tolerance);
	// 0 is DefaultOutageTolerance.
	OutageTolerance time.Duration
	// ForGracePeriod is the least time an alert whose clock was restored
	// waits before firing (--rules.alert.for-grace-period); 0 is
	// DefaultForGracePeriod.
	ForGracePeriod time.Duration
	// ResendDelay is how often Alertmanager hears of a firing alert again
	// (--rules.alert.resend-delay); 0 is DefaultResendDelay.
	ResendDelay time.Duration
	// Logger gets evaluation failures; nil discards.
	Logger *slog.Logger
	// Sinks receive every event, in order.
	Sinks []Sink
	// Notify, when set, receives what Alertmanager must hear.
	Notify NotifyFunc
	// NoRestore writes ALERTS and ALERTS_FOR_STATE from the first
	// evaluation and never reads the for state back, as promtool test rules
	// runs rules; by default, as a Prometheus server, a group restores
	// after its second evaluation and writes only then.
	NoRestore bool
}

// Manager evaluates rule groups: one loop per group after Start, or one
// cycle at a given time with Eval.
type Manager struct {
	opts         Options
	logger       *slog.Logger
	query        QueryFunc
	groups       []*group
	extLabelsMap map[string]string
	extURL       *url.URL
	stats        counters
	silences     silences

	mu      sync.Mutex
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started bool
}

type counters struct {
	ruleEvals, ruleFailures, groupEvals, missed atomic.Uint64
	evalNanos, samples, appendFailures          atomic.Uint64
	events, notified                            atomic.Uint64
}

// NewManager compiles the groups. An error names every rule that does not
// compile (rule files from LoadFiles have been validated already).
func NewManager(groups []GroupConfig, o Options) (*Manager, error) {
	if o.Queryable == nil {
		return nil, errors.New("new rule manager: no queryable")
	}
	if o.EvalInterval <= 0 {
		o.EvalInterval = DefaultEvalInterval
	}
	if o.OutageTolerance <= 0 {
		o.OutageTolerance = DefaultOutageTolerance
	}
	if o.ForGracePeriod <= 0 {
		o.ForGracePeriod = DefaultForGracePeriod
	}
	if o.ResendDelay <= 0 {
		o.ResendDelay = DefaultResendDelay
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Engine == nil {
		o.Engine = promql.NewEngine(EngineOptions(o.Logger, o.EvalInterval))
	}
	m := &Manager{
		opts:         o,
		logger:       o.Logger,
		query:        EngineQueryFunc(o.Engine, o.Queryable),
		extLabelsMap: o.ExternalLabels.Map(),
	}
	if o.ExternalURL != "" {
		u, err := url.Parse(o.ExternalURL)
		if err != nil {
			return nil, fmt.Errorf("new rule manager: external URL: %w", err)
		}
		m.extURL = u
	}
	var errs []error
	for _, gc := range groups {
		g := &group{
			name:     gc.Name,
			file:     gc.File,
			interval: time.Duration(gc.Interval),
			limit:    gc.Limit,
			m:        m,
			restored: o.NoRestore,
		}
		if g.interval <= 0 {
			g.interval = o.EvalInterval
		}
		if gc.QueryOffset != nil {
			g.queryOffset = time.Duration(*gc.QueryOffset)
		}
		for i, rc := range gc.Rules {
			r, err := newRule(rc)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: group %q, rule %d: %w", gc.File, gc.Name, i+1, err))
				continue
			}
			// Group labels apply to every rule; the rule's own win.
			for k, v := range gc.Labels {
				if !r.labels.Has(k) {
					r.labels = labels.NewBuilder(r.labels).Set(k, v).Labels()
				}
			}
			g.rules = append(g.rules, r)
		}
		m.groups = append(m.groups, g)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// Start starts one evaluation loop per group. Close stops them.
func (m *Manager) Start() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		return
	}
	m.started = true
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	for _, g := range m.groups {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			g.run(ctx)
		}()
	}
}

// Close stops the loops and waits for them; an evaluation under way is
// cancelled. The sinks and the notifier are the caller's to close, after.
func (m *Manager) Close() error {
	m.mu.Lock()
	cancel := m.cancel
	m.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	m.wg.Wait()
	return nil
}

// Eval evaluates every group once at ts, in order, as the loops do. It is
// for tests, benchmarks and one-shot use; it must not overlap Start's loops
// in time order (ts must not go backwards).
func (m *Manager) Eval(ctx context.Context, ts time.Time) {
	for _, g := range m.groups {
		g.eval(ctx, ts)
	}
}

func (m *Manager) emit(ev Event) {
	m.stats.events.Add(1)
	for _, s := range m.opts.Sinks {
		s.Send(ev)
	}
}

// notify hands the alerts of r that need sending to Options.Notify.
func (m *Manager) notify(ctx context.Context, g *group, r *rule, ts time.Time) {
	if m.opts.Notify == nil {
		return
	}
	delta := max(g.interval, m.opts.ResendDelay)
	gen := strings.TrimSuffix(m.opts.ExternalURL, "/") + "/graph?g0.expr=" + url.QueryEscape(r.exprText) + "&g0.tab=1"
	var out []NotifyAlert
	r.mu.Lock()
	for _, a := range r.active {
		if !a.needsSending(ts, m.opts.ResendDelay) {
			continue
		}
		a.lastSentAt = ts
		a.validUntil = ts.Add(4 * delta)
		na := NotifyAlert{
			Labels:       withExternal(a.labels, m.opts.ExternalLabels),
			Annotations:  r.annotationsOf(a),
			StartsAt:     a.firedAt,
			EndsAt:       a.validUntil,
			GeneratorURL: gen,
		}
		if a.state == StateResolved {
			na.EndsAt = a.resolvedAt
		}
		out = append(out, na)
	}
	r.mu.Unlock()
	if len(out) > 0 {
		m.stats.notified.Add(uint64(len(out)))
		m.opts.Notify(ctx, out...)
	}
}

func withExternal(ls, ext labels.Labels) labels.Labels {
	if ext.IsEmpty() {
		return ls
	}
	b := labels.NewBuilder(ls)
	ext.Range(func(l labels.Label) {
		if !ls.Has(l.Name) {
			b.Set(l.Name, l.Value)
		}
	})
	return b.Labels()
}

// Alerts returns every pending, firing and recently resolved alert: firing
// first, then pending, then resolved; by name and labels within a state.
func (m *Manager) Alerts() []Alert {
	var out []Alert
	for _, g := range m.groups {
		for _, r := range g.rules {
			if r.record {
				continue
			}
			r.mu.Lock()
			for _, a := range r.active {
				out = append(out, a.public(r, g.name))
			}
			r.mu.Unlock()
		}
	}
	for i := range out {
		out[i].SilencedUntil = m.silences.get(out[i].Labels)
	}
	rank := map[State]int{StateFiring: 0, StatePending: 1, StateResolved: 2}
	slices.SortFunc(out, func(a, b Alert) int {
		return cmp.Or(cmp.Compare(rank[a.State], rank[b.State]), cmp.Compare(a.Rule, b.Rule), labels.Compare(a.Labels, b.Labels))
	})
	return out
}

// Health is a rule's evaluation health, as Prometheus reports it.
type Health string

// The healths of a rule.
const (
	HealthUnknown Health = "unknown" // not evaluated yet
	HealthOK      Health = "ok"
	HealthErr     Health = "err"
)

// RuleStatus is one rule as the console lists it.
type RuleStatus struct {
	Group         string
	File          string
	Name          string
	Recording     bool
	Expr          string
	For           time.Duration
	KeepFiringFor time.Duration
	Labels        labels.Labels
	Annotations   labels.Labels
	Interval      time.Duration // the group's

	Health       Health
	State        State // firing, pending or inactive; inactive for recording rules
	Firing       int
	Pending      int
	LastEval     time.Time     // zero before the first evaluation
	LastDuration time.Duration // how long the last evaluation took
	LastError    string        // empty when healthy
}

// Rules lists every rule in group and file order with its health.
func (m *Manager) Rules() []RuleStatus {
	var out []RuleStatus
	for _, g := range m.groups {
		for _, r := range g.rules {
			rs := RuleStatus{
				Group: g.name, File: g.file, Name: r.name, Recording: r.record,
				Expr: r.exprText, For: r.hold, KeepFiringFor: r.keepFiringFor,
				Labels: r.labels, Annotations: r.annotations, Interval: g.interval,
				Health: HealthUnknown, State: StateInactive,
			}
			r.mu.Lock()
			rs.LastEval, rs.LastDuration = r.lastEval, r.lastDur
			switch {
			case r.lastErr != nil:
				rs.Health, rs.LastError = HealthErr, r.lastErr.Error()
			case !r.lastEval.IsZero():
				rs.Health = HealthOK
			}
			for _, a := range r.active {
				switch a.state {
				case StateFiring:
					rs.Firing++
				case StatePending:
					rs.Pending++
				}
			}
			r.mu.Unlock()
			switch {
			case rs.Firing > 0:
				rs.State = StateFiring
			case rs.Pending > 0:
				rs.State = StatePending
			}
			out = append(out, rs)
		}
	}
	return out
}

// Stats are the manager's counters, for vigil's own metrics.
type Stats struct {
	Groups, Rules     int
	RuleEvaluations   uint64        // rule evaluations, failed or not
	RuleFailures      uint64        // failed rule evaluations
	GroupEvaluations  uint64        // evaluation cycles of a group
	MissedIterations  uint64        // group cycles skipped because one ran late
	EvalTime          time.Duration // total time spent evaluating groups
	SamplesWritten    uint64        // recording results, ALERTS and ALERTS_FOR_STATE samples
	SamplesRefused    uint64        // refused by the store
	Events            uint64        // events handed to the sinks
	Notifications     uint64        // alerts handed to Notify
	Firing, Pending   int
	LastGroupDuration map[string]time.Duration // by group name, of the last cycle
}

// Stats returns the counters so far.
func (m *Manager) Stats() Stats {
	s := Stats{
		Groups:            len(m.groups),
		RuleEvaluations:   m.stats.ruleEvals.Load(),
		RuleFailures:      m.stats.ruleFailures.Load(),
		GroupEvaluations:  m.stats.groupEvals.Load(),
		MissedIterations:  m.stats.missed.Load(),
		EvalTime:          time.Duration(m.stats.evalNanos.Load()),
		SamplesWritten:    m.stats.samples.Load(),
		SamplesRefused:    m.stats.appendFailures.Load(),
		Events:            m.stats.events.Load(),
		Notifications:     m.stats.notified.Load(),
		LastGroupDuration: map[string]time.Duration{},
	}
	for _, g := range m.groups {
		s.Rules += len(g.rules)
		for _, r := range g.rules {
			r.mu.Lock()
			for _, a := range r.active {
				switch a.state {
				case StateFiring:
					s.Firing++
				case StatePending:
					s.Pending++
				}
			}
			r.mu.Unlock()
		}
		g.statMu.Lock()
		s.LastGroupDuration[g.name] = g.lastDur
		g.statMu.Unlock()
	}
	return s
}
