package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/template"
)

// The synthetic series alerting rules write, as in Prometheus.
const (
	MetricAlerts         = "ALERTS"
	MetricAlertsForState = "ALERTS_FOR_STATE"
	labelAlertState      = "alertstate"
)

// ResolvedRetention is how long a resolved alert is kept (shown in
// Alerts and re-sent to Alertmanager), as in Prometheus.
const ResolvedRetention = 15 * time.Minute

// Evaluation errors, returned wrapped in RuleStatus.LastError's source.
var (
	// ErrDuplicateLabelSet: two results of a recording rule have the same
	// labels once the rule's labels are applied.
	ErrDuplicateLabelSet = errors.New("vector contains metrics with the same labelset after applying rule labels")
	// ErrDuplicateAlertLabelSet: two results of an alerting rule have the
	// same labels once the rule's labels are applied.
	ErrDuplicateAlertLabelSet = errors.New("vector contains metrics with the same labelset after applying alert labels")
	// ErrLimit: a rule produced more alerts or series than its group's
	// limit. The error that matches it reads as Prometheus' ("exceeded
	// limit of 1 with 2 alerts").
	ErrLimit = errors.New("rule exceeded its group's limit")
)

// limitError is a rule over its group's limit, in Prometheus' words.
type limitError struct {
	limit, got int
	what       string // "alerts" or "series"
}

func (e *limitError) Error() string {
	return fmt.Sprintf("exceeded limit of %d with %d %s", e.limit, e.got, e.what)
}

func (e *limitError) Is(target error) bool { return target == ErrLimit }

// instance is one alert of an alerting rule: Prometheus' Alert.
type instance struct {
	state       State // pending, firing or resolved
	labels      labels.Labels
	annotations labels.Labels // expanded: see annotationsOf
	tmpl        *tmplInput    // when not nil, the annotations are yet to be expanded from it
	value       float64

	activeAt, firedAt, resolvedAt time.Time
	keepFiringSince               time.Time
	lastSentAt, validUntil        time.Time
	// silencedUntil is the local silence its last event reported, so a
	// silence that starts, changes or ends gets an event of its own.
	silencedUntil time.Time
}

// tmplInput is what an alert's annotation templates are expanded from:
// the sample of the evaluation that last saw it.
type tmplInput struct {
	env    *evalEnv
	sample promql.Sample
	ts     time.Time
}

// rule is an alerting or a recording rule with its state.
type rule struct {
	name          string
	record        bool
	expr          parser.Expr
	exprText      string
	hold          time.Duration
	keepFiringFor time.Duration
	labels        labels.Labels
	annotations   labels.Labels
	templated     bool // an annotation holds a template

	// seriesPrev is what the last successful evaluation wrote, so series
	// that went away get a staleness marker. Only the group's evaluation
	// touches it.
	seriesPrev map[string]labels.Labels

	mu       sync.Mutex
	active   map[uint64]*instance
	lastEval time.Time
	lastDur  time.Duration
	lastErr  error
}

func newRule(r rulefmt.Rule) (*rule, error) {
	expr, err := exprParser.ParseExpr(r.Expr)
	if err != nil {
		return nil, fmt.Errorf("parse expression: %w", err)
	}
	nr := &rule{
		name:          r.Alert,
		expr:          expr,
		exprText:      expr.String(),
		hold:          time.Duration(r.For),
		keepFiringFor: time.Duration(r.KeepFiringFor),
		labels:        labels.FromMap(r.Labels),
		annotations:   labels.FromMap(r.Annotations),
		active:        map[uint64]*instance{},
	}
	nr.annotations.Range(func(l labels.Label) { nr.templated = nr.templated || strings.Contains(l.Value, "{{") })
	if r.Record != "" {
		nr.name, nr.record = r.Record, true
	}
	return nr, nil
}

// evalEnv is what a rule evaluation needs from its group and manager.
type evalEnv struct {
	query          QueryFunc
	queryOffset    time.Duration
	limit          int
	externalLabels map[string]string
	externalURL    string
	parsedURL      *url.URL
	restored       bool
	logger         *slog.Logger
	group          string
	silences       *silences // nil: none
}

// silencedUntil is the until of the local silence of ls in force at ts.
func (env *evalEnv) silencedUntil(ls labels.Labels, ts time.Time) time.Time {
	if env.silences == nil {
		return time.Time{}
	}
	return env.silences.until(ls, ts)
}

// evalRecord evaluates a recording rule at ts.
func (r *rule) evalRecord(ctx context.Context, ts time.Time, env *evalEnv) (promql.Vector, error) {
	vec, err := env.query(ctx, r.exprText, ts.Add(-env.queryOffset))
	if err != nil {
		return nil, err
	}
	lb := labels.NewBuilder(labels.EmptyLabels())
	for i := range vec {
		lb.Reset(vec[i].Metric)
		lb.Set(labels.MetricName, r.name)
		r.labels.Range(func(l labels.Label) { lb.Set(l.Name, l.Value) })
		vec[i].Metric = lb.Labels()
	}
	if vec.ContainsSameLabelset() {
		return nil, ErrDuplicateLabelSet
	}
	if env.limit > 0 && len(vec) > env.limit {
		return nil, &limitError{limit: env.limit, got: len(vec), what: "series"}
	}
	return vec, nil
}

// templateDefs are the convenience variables Prometheus defines for rule
// templates.
const templateDefs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// expand expands text, a label or annotation value of the rule, for the
// sample in in. Text without a template is returned as it is.
func (r *rule) expand(ctx context.Context, text string, in *tmplInput) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	env := in.env
	data := template.AlertTemplateData(in.sample.Metric.Map(), env.externalLabels, env.externalURL, in.sample)
	tmpl := template.NewTemplateExpander(ctx, templateDefs+text, "__alert_"+r.name, data,
		model.Time(timestamp.FromTime(in.ts)), template.QueryFunc(env.query), env.parsedURL, nil)
	out, err := tmpl.Expand()
	if err != nil {
		env.logger.Warn("expand alert template", "group", env.group, "rule", r.name, "err", err)
		return fmt.Sprintf("<error expanding template: %s>", err)
	}
	return out
}

// annotationsOf returns the annotations of a, expanding them if the
// evaluation that last saw a left them to be expanded. Prometheus expands
// every alert's annotations on every evaluation; vigil does it when they
// are read (an event, a send to Alertmanager, the console), from the same
// sample and time, at most once an evaluation: when nothing reads them,
// as in --headless without Alertmanager while an alert stays firing, the
// templates cost nothing. r.mu must be held.
func (r *rule) annotationsOf(a *instance) labels.Labels {
	if in := a.tmpl; in != nil {
		a.tmpl = nil
		ab := labels.NewScratchBuilder(r.annotations.Len())
		r.annotations.Range(func(l labels.Label) {
			ab.Add(l.Name, r.expand(context.Background(), l.Value, in))
		})
		a.annotations = ab.Labels()
	}
	return a.annotations
}

// evalAlert evaluates an alerting rule at ts: runs the query, moves every
// alert through the state machine and returns the ALERTS and
// ALERTS_FOR_STATE samples to write (none until the for state is restored)
// and the events of the transitions.
func (r *rule) evalAlert(ctx context.Context, ts time.Time, env *evalEnv) (promql.Vector, []Event, error) {
	res, err := env.query(ctx, r.exprText, ts.Add(-env.queryOffset))
	if err != nil {
		return nil, nil, err
	}

	fresh := make(map[uint64]*instance, len(res))
	lb := labels.NewBuilder(labels.EmptyLabels())
	for _, smpl := range res {
		in := &tmplInput{env: env, sample: smpl, ts: ts}
		lb.Reset(smpl.Metric)
		lb.Del(labels.MetricName)
		r.labels.Range(func(l labels.Label) { lb.Set(l.Name, r.expand(ctx, l.Value, in)) })
		lb.Set(labels.AlertName, r.name)
		annotations := r.annotations
		if !r.templated {
			in = nil
		}

		ls := lb.Labels()
		h := ls.Hash()
		if _, dup := fresh[h]; dup {
			return nil, nil, ErrDuplicateAlertLabelSet
		}
		fresh[h] = &instance{
			state:       StatePending,
			labels:      ls,
			annotations: annotations,
			tmpl:        in,
			value:       smpl.F,
			activeAt:    ts,
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()

	// prev holds every alert's state before this evaluation, to report the
	// transitions once the state machine has run.
	type before struct {
		a     *instance
		state State
	}
	prev := make(map[uint64]before, len(r.active))
	for h, a := range r.active {
		prev[h] = before{a, a.state}
	}
	for h, a := range fresh {
		if cur, ok := r.active[h]; ok && cur.state != StateResolved {
			cur.value = a.value
			cur.annotations, cur.tmpl = a.annotations, a.tmpl
			continue
		}
		r.active[h] = a
	}

	var (
		events    []Event
		vec       promql.Vector
		numActive int
		sampleTS  = ts.Add(-env.queryOffset)
	)
	for h, a := range r.active {
		if _, ok := fresh[h]; !ok {
			keepFiring := false
			if a.state == StateFiring && r.keepFiringFor > 0 {
				if a.keepFiringSince.IsZero() {
					a.keepFiringSince = ts
				}
				keepFiring = ts.Sub(a.keepFiringSince) < r.keepFiringFor
			}
			if a.state == StatePending || (a.state == StateResolved && ts.Sub(a.resolvedAt) > ResolvedRetention) {
				delete(r.active, h)
			}
			if a.state != StateResolved && !keepFiring {
				a.state = StateResolved
				a.resolvedAt = ts
				a.silencedUntil = env.silencedUntil(a.labels, ts)
				events = append(events, r.event(a, ts, env.group))
			}
			if !keepFiring {
				continue
			}
		} else {
			a.keepFiringSince = time.Time{}
		}
		numActive++

		if a.state == StatePending && ts.Sub(a.activeAt) >= r.hold {
			a.state = StateFiring
			a.firedAt = ts
		}
		if a.state == StateFiring && ts.Sub(a.activeAt) < r.hold {
			// The hold grew (restored clock): back to pending.
			a.state = StatePending
			a.firedAt, a.lastSentAt, a.keepFiringSince = time.Time{}, time.Time{}, time.Time{}
		}
		// One event per transition, and one when the local silence
		// changes (in the same state: the alert did not move).
		silenced := env.silencedUntil(a.labels, ts)
		if p, seen := prev[h]; !seen || p.state != a.state || !silenced.Equal(a.silencedUntil) {
			a.silencedUntil = silenced
			events = append(events, r.event(a, ts, env.group))
		}

		if env.restored {
			vec = append(vec, r.seriesSample(a, MetricAlerts, sampleTS, 1), r.seriesSample(a, MetricAlertsForState, sampleTS, float64(a.activeAt.Unix())))
		}
	}

	if env.limit > 0 && numActive > env.limit {
		// Prometheus drops every alert of the rule, and they start over
		// once the limit holds. Those that were pending or firing end
		// here: each gets its resolved event, so that no reader sees an
		// alert fire again without having resolved. Alertmanager hears
		// nothing, as from Prometheus: its alerts end at their endsAt.
		events = events[:0]
		for _, p := range prev {
			if p.state == StateResolved {
				continue
			}
			a := p.a
			a.state, a.resolvedAt = StateResolved, ts
			a.silencedUntil = env.silencedUntil(a.labels, ts)
			events = append(events, r.event(a, ts, env.group))
		}
		r.active = map[uint64]*instance{}
		return nil, events, &limitError{limit: env.limit, got: numActive, what: "alerts"}
	}
	return vec, events, nil
}

func (r *rule) event(a *instance, ts time.Time, group string) Event {
	ev := Event{
		Time:        ts,
		State:       a.state,
		Labels:      a.labels,
		Annotations: r.annotationsOf(a),
		Value:       a.value,
		StartsAt:    a.activeAt,
		Rule:        r.name,
		Group:       group,
	}
	if a.state == StateResolved {
		ev.EndsAt = a.resolvedAt
	}
	ev.SilencedUntil = a.silencedUntil
	return ev
}

// seriesSample is an ALERTS (with alertstate) or ALERTS_FOR_STATE sample.
func (r *rule) seriesSample(a *instance, metric string, ts time.Time, v float64) promql.Sample {
	lb := labels.NewBuilder(r.labels)
	a.labels.Range(func(l labels.Label) { lb.Set(l.Name, l.Value) })
	lb.Set(labels.MetricName, metric)
	lb.Set(labels.AlertName, r.name)
	if metric == MetricAlerts {
		lb.Set(labelAlertState, string(a.state))
	}
	return promql.Sample{Metric: lb.Labels(), T: timestamp.FromTime(ts), F: v}
}

// forStateMatchers select every ALERTS_FOR_STATE series of the rule.
func (r *rule) forStateMatchers() []*labels.Matcher {
	ms := []*labels.Matcher{
		labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, MetricAlertsForState),
		labels.MustNewMatcher(labels.MatchEqual, labels.AlertName, r.name),
	}
	r.labels.Range(func(l labels.Label) {
		if strings.Contains(l.Value, "{{") || l.Name == labels.AlertName || l.Name == labels.MetricName {
			return // expanded per alert: cannot match on it
		}
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, l.Name, l.Value))
	})
	return ms
}

// needsSending reports whether Alertmanager must hear of the alert now:
// firing alerts every resendDelay, resolved ones at once and then every
// resendDelay while they are kept.
func (a *instance) needsSending(ts time.Time, resendDelay time.Duration) bool {
	if a.state == StatePending {
		return false
	}
	if a.resolvedAt.After(a.lastSentAt) {
		return true
	}
	return a.lastSentAt.Add(resendDelay).Before(ts)
}

func (a *instance) public(r *rule, group string) Alert {
	out := Alert{
		Rule:        r.name,
		Group:       group,
		State:       a.state,
		Labels:      a.labels,
		Annotations: r.annotationsOf(a),
		Value:       a.value,
		ActiveAt:    a.activeAt,
		FiredAt:     a.firedAt,
		LastEval:    r.lastEval,
	}
	if a.state == StateResolved {
		out.ResolvedAt = a.resolvedAt
	}
	return out
}
