package remote

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilterm/vigil/tui"
)

// resolvedRetention is how long a resolved alert stays listed, as vigil's
// own do (alert.ResolvedRetention).
const resolvedRetention = 15 * time.Minute

// RuleSource is the source as the console's tui.RuleSource (with
// tui.Reporting).
func (s *Source) RuleSource() tui.RuleSource { return rulesSource{s} }

// AlertSource is the source as the console's tui.AlertSource (with
// tui.Reporting): the remote's alerts, the ones the console saw resolve,
// and the console's own silences.
func (s *Source) AlertSource() tui.AlertSource { return alertsSource{s} }

// Rules implements tui.RuleSource.
func (s rulesSource) Rules() []tui.Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]tui.Rule(nil), s.rules.items...)
}

// Reporting implements tui.Reporting.
func (s rulesSource) Reporting() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return reporting(s.Source, &s.rules)
}

// Alerts implements tui.AlertSource.
func (s alertsSource) Alerts() []tui.Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	out := make([]tui.Alert, 0, len(s.alerts.items)+len(s.resolved))
	out = append(out, s.alerts.items...)
	for _, a := range s.resolved {
		out = append(out, a)
	}
	for i := range out {
		if u, ok := s.silences[out[i].Labels.String()]; ok && u.After(now) {
			out[i].SilencedUntil = u
		}
	}
	return out
}

// Reporting implements tui.Reporting.
func (s alertsSource) Reporting() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return reporting(s.Source, &s.alerts)
}

// Silence implements tui.Silencer: the silence is the console's own, in
// memory, for as long as it runs; the remote knows nothing of it.
func (s *Source) Silence(_ context.Context, ls labels.Labels, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until.IsZero() {
		delete(s.silences, ls.String())
		return nil
	}
	s.silences[ls.String()] = until
	return nil
}

// pollRules reads the rules, and the alerts of the alerting ones, which
// name their rule and group as /api/v1/alerts does not. A remote that
// serves no rules (or lists none) is asked for /api/v1/alerts instead.
func (s *Source) pollRules(ctx context.Context) {
	now := s.opts.Now()
	s.mu.Lock()
	rulesGone, alertsGone := s.rules.gone, s.alerts.gone
	s.mu.Unlock()

	var status int
	if rulesGone.IsZero() || now.Sub(rulesGone) >= recheckNotServed {
		pctx, cancel := s.pollCtx(ctx)
		res, err := s.api.Rules(withStatus(pctx, &status), nil)
		cancel()
		switch {
		case err != nil && notServed(status):
			s.setRules(nil, fmt.Errorf("%w: it serves no /api/v1/rules", tui.ErrNotReported), now)
		case err != nil:
			s.pollFailed(err)
			s.failedList("rules", err)
			return
		case len(res.Groups) == 0:
			s.setRules(nil, fmt.Errorf("%w: it lists no rules", tui.ErrNotReported), now)
		default:
			rules, alerts := consoleRules(res, s.opts.MaxSeries)
			s.setRules(rules, nil, time.Time{})
			s.setAlerts(alerts, nil, time.Time{}, now)
			return
		}
	}
	// No rules: the alerts alone, if the remote lists any.
	if !alertsGone.IsZero() && now.Sub(alertsGone) < recheckNotServed {
		return
	}
	pctx, cancel := s.pollCtx(ctx)
	res, err := s.api.Alerts(withStatus(pctx, &status))
	cancel()
	switch {
	case err != nil && notServed(status):
		s.setAlerts(nil, fmt.Errorf("%w: it serves no /api/v1/alerts", tui.ErrNotReported), now, now)
	case err != nil:
		s.pollFailed(err)
		s.failedList("alerts", err)
	case len(res.Alerts) == 0:
		// Without rules, no alerts says nothing: they may be kept
		// elsewhere (VictoriaMetrics without -vmalert.proxyURL).
		s.setAlerts(nil, fmt.Errorf("%w: it lists no rules and no alerts", tui.ErrNotReported), now, now)
	default:
		as := make([]*v1.Alert, len(res.Alerts))
		for i := range res.Alerts {
			as[i] = &res.Alerts[i]
		}
		s.setAlerts(consoleAlerts(as, "", "", time.Time{}, s.opts.MaxSeries), nil, time.Time{}, now)
	}
}

func (s *Source) setRules(rs []tui.Rule, err error, gone time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil && s.rules.gone.IsZero() {
		s.opts.Logger.Info("the remote reports no rules", "url", s.where, "why", err.Error())
	}
	s.rules = list[tui.Rule]{items: rs, read: true, err: err, gone: gone}
	delete(s.notes, "rules")
}

// setAlerts takes the alerts just read, and tells the console what
// changed since the last read: the events of the Alerts view's log, at
// now. The first read is the baseline: what was active before the
// console looked is no news.
func (s *Source) setAlerts(as []tui.Alert, err error, gone, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, first := s.alerts.items, !s.alerts.read
	s.alerts = list[tui.Alert]{items: as, read: true, err: err, gone: gone}
	delete(s.notes, "alerts")
	for k, a := range s.resolved {
		if now.Sub(a.ResolvedAt) > resolvedRetention {
			delete(s.resolved, k)
		}
	}
	if first {
		return
	}
	was := make(map[string]tui.Alert, len(prev))
	for _, a := range prev {
		was[alertKey(a)] = a
	}
	for _, a := range as {
		k := alertKey(a)
		delete(s.resolved, k)
		p, ok := was[k]
		delete(was, k)
		if ok && p.State == a.State {
			continue
		}
		s.emit(a, a.State, now)
	}
	if err != nil {
		// Not reported is not resolved.
		return
	}
	for k, a := range was {
		a.State, a.ResolvedAt = tui.StateResolved, now
		s.resolved[k] = a
		s.emit(a, tui.StateResolved, now)
	}
}

// emit sends the event of a's change to state, at now, unless the
// console is behind (the channel is full).
func (s *Source) emit(a tui.Alert, state tui.AlertState, now time.Time) {
	e := tui.AlertEvent{
		Time: now, State: state, Labels: a.Labels, Annotations: a.Annotations,
		Value: a.Value, StartsAt: a.ActiveAt, Rule: a.Rule, Group: a.Group,
	}
	if state == tui.StateResolved {
		e.EndsAt = now
	}
	if u, ok := s.silences[a.Labels.String()]; ok && u.After(now) {
		e.SilencedUntil = u
	}
	select {
	case s.events <- e:
	default:
	}
}

// alertKey tells alerts apart: by group, rule and labels.
func alertKey(a tui.Alert) string {
	return a.Group + "\x00" + a.Rule + "\x00" + a.Labels.String()
}

// consoleRules are the rules of res in the console's types, and the
// alerts of its alerting rules; at most max alerts (max < 0: all).
func consoleRules(res v1.RulesResult, max int) ([]tui.Rule, []tui.Alert) {
	var rules []tui.Rule
	var alerts []tui.Alert
	for _, g := range res.Groups {
		interval := seconds(g.Interval)
		for _, r := range g.Rules {
			switch r := r.(type) {
			case v1.AlertingRule:
				cr := tui.Rule{
					Group: g.Name, File: g.File, Name: r.Name, Expr: r.Query, For: secondsAny(r.Duration),
					Labels: labelsOf(r.Labels), Annotations: labelsOf(r.Annotations), Interval: interval,
					Health: ruleHealth(r.Health), State: alertState(r.State, tui.StateInactive),
					LastEval: evalTime(r.LastEvaluation), LastDuration: seconds(r.EvaluationTime), LastError: r.LastError,
				}
				as := consoleAlerts(r.Alerts, r.Name, g.Name, cr.LastEval, -1)
				for _, a := range as {
					switch a.State {
					case tui.StateFiring:
						cr.Firing++
					case tui.StatePending:
						cr.Pending++
					}
				}
				rules = append(rules, cr)
				alerts = append(alerts, as...)
			case v1.RecordingRule:
				rules = append(rules, tui.Rule{
					Group: g.Name, File: g.File, Name: r.Name, Recording: true, Expr: r.Query,
					Labels: labelsOf(r.Labels), Interval: interval,
					Health: ruleHealth(r.Health), State: tui.StateInactive,
					LastEval: evalTime(r.LastEvaluation), LastDuration: seconds(r.EvaluationTime), LastError: r.LastError,
				})
			}
		}
	}
	if max >= 0 && len(alerts) > max {
		alerts = alerts[:max]
	}
	return rules, alerts
}

// consoleAlerts are as in the console's type, of the rule and group
// named (from the labels when not: /api/v1/alerts names neither), at most
// max of them (max < 0: all).
func consoleAlerts(as []*v1.Alert, rule, group string, lastEval time.Time, max int) []tui.Alert {
	out := make([]tui.Alert, 0, len(as))
	for _, a := range as {
		if a == nil {
			continue
		}
		if max >= 0 && len(out) >= max {
			break
		}
		ls := labelsOf(a.Labels)
		name := rule
		if name == "" {
			name = ls.Get(labels.AlertName)
		}
		grp := group
		if grp == "" {
			grp = ls.Get("alertgroup") // vmalert's
		}
		out = append(out, tui.Alert{
			Rule: name, Group: grp, State: alertState(string(a.State), tui.StatePending),
			Labels: ls, Annotations: labelsOf(a.Annotations), Value: parseValue(a.Value),
			ActiveAt: evalTime(a.ActiveAt), LastEval: lastEval,
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return labels.Compare(out[i].Labels, out[j].Labels) < 0 })
	return out
}

func ruleHealth(h v1.RuleHealth) tui.RuleHealth {
	switch strings.ToLower(string(h)) {
	case "ok":
		return tui.RuleOK
	case "err", "error":
		return tui.RuleErr
	}
	return tui.RuleUnknown
}

// alertState is a state of the API as the console's, or def when it is
// none of firing, pending and inactive.
func alertState(s string, def tui.AlertState) tui.AlertState {
	switch strings.ToLower(s) {
	case "firing":
		return tui.StateFiring
	case "pending":
		return tui.StatePending
	case "inactive":
		return tui.StateInactive
	}
	return def
}

// parseValue reads an alert's value, which the API gives as a string;
// NaN when it is not a number.
func parseValue(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// evalTime is t, or zero when it is no time (Prometheus says 0001-01-01
// for never).
func evalTime(t time.Time) time.Time {
	if t.Year() <= 1970 {
		return time.Time{}
	}
	return t
}

// secondsAny is a rule's for (seconds) as a duration, without the day's
// bound of seconds: a for of a week is fine. 0 when it is no duration.
func secondsAny(f float64) time.Duration {
	if math.IsNaN(f) || f < 0 || f > float64(math.MaxInt64/int64(time.Second)) {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}
