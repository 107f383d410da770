package alert

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// group is a rule group being evaluated: its rules run in order, one
// evaluation at a time.
type group struct {
	name        string
	file        string
	interval    time.Duration
	queryOffset time.Duration
	limit       int
	rules       []*rule
	m           *Manager

	evalMu   sync.Mutex // one evaluation at a time; guards evals and restored
	evals    int        // evaluations before restoring
	restored bool       // for state restored: ALERTS series are written

	statMu  sync.Mutex // guards lastDur, read by Stats
	lastDur time.Duration
}

// offset is where in each interval the group evaluates, spread by a hash of
// its file and name as Prometheus spreads groups.
func (g *group) evalTimestamp(now time.Time) time.Time {
	h := labels.New(labels.Label{Name: "name", Value: g.name}, labels.Label{Name: "file", Value: g.file}).Hash()
	offset := int64(h % uint64(g.interval))
	adj := now.UnixNano() - offset
	base := adj - adj%int64(g.interval)
	return time.Unix(0, base+offset).UTC()
}

// run evaluates the group at every interval until ctx ends. Missed
// iterations (an evaluation longer than the interval) are skipped and
// counted, as in Prometheus.
func (g *group) run(ctx context.Context) {
	next := g.evalTimestamp(time.Now()).Add(g.interval)
	t := time.NewTimer(time.Until(next))
	select {
	case <-ctx.Done():
		t.Stop()
		return
	case <-t.C:
	}
	g.eval(ctx, next)

	tick := time.NewTicker(g.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			missed := time.Since(next)/g.interval - 1
			if missed > 0 {
				g.m.stats.missed.Add(uint64(missed))
			}
			next = next.Add((missed + 1) * g.interval)
			g.eval(ctx, next)
		}
	}
}

// eval evaluates every rule of the group at ts. After the second
// evaluation it restores the for state of the alerts from
// ALERTS_FOR_STATE, as Prometheus does (the first evaluations may run
// before the first scrapes).
func (g *group) eval(ctx context.Context, ts time.Time) {
	g.evalMu.Lock()
	defer g.evalMu.Unlock()
	start := time.Now()
	m := g.m
	env := &evalEnv{
		query:          m.query,
		queryOffset:    g.queryOffset,
		limit:          g.limit,
		externalLabels: m.extLabelsMap,
		externalURL:    m.opts.ExternalURL,
		parsedURL:      m.extURL,
		restored:       g.restored,
		logger:         m.logger,
		group:          g.name,
		silences:       &m.silences,
	}
	m.silences.prune(ts)
	for _, r := range g.rules {
		if ctx.Err() != nil {
			return
		}
		g.evalRule(ctx, r, ts, env)
	}
	if !g.restored {
		g.evals++
		if g.evals >= 2 {
			g.restore(ctx, ts)
			g.restored = true
		}
	}
	dur := time.Since(start)
	g.statMu.Lock()
	g.lastDur = dur
	g.statMu.Unlock()
	m.stats.groupEvals.Add(1)
	m.stats.evalNanos.Add(uint64(dur))
}

func (g *group) evalRule(ctx context.Context, r *rule, ts time.Time, env *evalEnv) {
	m := g.m
	start := time.Now()
	var (
		vec    promql.Vector
		events []Event
		err    error
	)
	if r.record {
		vec, err = r.evalRecord(ctx, ts, env)
	} else {
		vec, events, err = r.evalAlert(ctx, ts, env)
	}
	if err != nil && ctx.Err() != nil {
		return // stopped: not the rule's fault
	}
	m.stats.ruleEvals.Add(1)
	r.mu.Lock()
	r.lastEval, r.lastDur, r.lastErr = ts, time.Since(start), err
	r.mu.Unlock()
	// A failed evaluation can still end alerts (a rule over its limit).
	for _, ev := range events {
		m.emit(ev)
	}
	if err != nil {
		m.stats.ruleFailures.Add(1)
		// Each failure at debug level: the operator is told once when
		// rules start failing and once when they stop (Manager.Rules'
		// health, which vigil's pipeline watches).
		m.logger.Debug("evaluate rule", "group", g.name, "rule", r.name, "err", err)
		return
	}
	if !r.record {
		m.notify(ctx, g, r, ts)
	}
	g.write(r, vec, ts.Add(-g.queryOffset))
}

// write appends a rule's results and marks the series it no longer
// produces stale.
func (g *group) write(r *rule, vec promql.Vector, ts time.Time) {
	m := g.m
	if m.opts.Appendable == nil {
		return
	}
	app := m.opts.Appendable.Appender()
	seen := make(map[string]labels.Labels, len(vec))
	var failed int
	var firstErr error
	add := app.Append
	if !r.record {
		add = app.AppendReserved // ALERTS and ALERTS_FOR_STATE: never refused for --max-series
	}
	for _, s := range vec {
		if _, err := add(0, s.Metric, s.T, s.F); err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		seen[string(s.Metric.Bytes(nil))] = s.Metric
	}
	stale := math.Float64frombits(value.StaleNaN)
	for k, ls := range r.seriesPrev {
		if _, ok := seen[k]; !ok {
			// A refusal here means another rule wrote the series at this
			// time: nothing to report.
			_, _ = app.Append(0, ls, timestamp.FromTime(ts), stale)
		}
	}
	if err := app.Commit(); err != nil {
		// The store commits what it can and reports the rest.
		failed++
		firstErr = err
	}
	m.stats.samples.Add(uint64(max(len(vec)-failed, 0)))
	if failed > 0 {
		m.stats.appendFailures.Add(uint64(failed))
		// At debug level: vigil's pipeline says when the store is full.
		m.logger.Debug("rule results refused by the store", "group", g.name, "rule", r.name, "refused", failed, "err", firstErr)
	}
	r.seriesPrev = seen
}

// restore gives pending and firing alerts their for clock back from the
// last ALERTS_FOR_STATE sample within the outage tolerance, with
// Prometheus' grace period for alerts that were about to fire.
func (g *group) restore(ctx context.Context, ts time.Time) {
	m := g.m
	tolerance, grace := m.opts.OutageTolerance, m.opts.ForGracePeriod
	q, err := m.opts.Queryable.Querier(timestamp.FromTime(ts.Add(-tolerance)), timestamp.FromTime(ts))
	if err != nil {
		m.logger.Error("restore for state: open querier", "group", g.name, "err", err)
		return
	}
	defer q.Close()

	for _, r := range g.rules {
		if r.record {
			continue
		}
		last := map[string]model.SamplePair{}
		ss := q.Select(ctx, false, nil, r.forStateMatchers()...)
		for ss.Next() {
			s := ss.At()
			var t int64
			var v float64
			it := s.Iterator(nil)
			for it.Next() == chunkenc.ValFloat {
				t, v = it.At()
			}
			if it.Err() != nil || t == 0 {
				continue
			}
			key := s.Labels().DropReserved(func(n string) bool { return n == labels.MetricName }).String()
			last[key] = model.SamplePair{Timestamp: model.Time(t), Value: model.SampleValue(v)}
		}
		if err := ss.Err(); err != nil {
			m.logger.Error("restore for state: select", "group", g.name, "rule", r.name, "err", err)
			continue
		}
		if len(last) == 0 {
			continue
		}
		r.mu.Lock()
		for _, a := range r.active {
			if a.state == StateResolved {
				continue
			}
			p, ok := last[a.labels.String()]
			if !ok || value.IsStaleNaN(float64(p.Value)) {
				continue
			}
			downAt := p.Timestamp.Time()
			activeAt := time.Unix(int64(p.Value), 0).UTC()
			remaining := r.hold - downAt.Sub(activeAt)
			switch {
			case remaining <= 0:
				// It was firing: keep the old clock, it fires at the next
				// evaluation.
			case r.hold < grace:
				continue // short holds start again
			case remaining < grace:
				activeAt = ts.Add(grace).Add(-r.hold)
			default:
				activeAt = activeAt.Add(ts.Sub(downAt))
			}
			a.activeAt = activeAt
			m.logger.Debug("for state restored", "rule", r.name, "labels", a.labels.String(), "active_at", activeAt)
		}
		r.mu.Unlock()
	}
}
