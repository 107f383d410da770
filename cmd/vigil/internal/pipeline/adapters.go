package pipeline

import (
	"context"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/tui"
)

// Targets reports m's targets to the console. It copies, as the console
// asks of a TargetSource: cheap, never blocking.
func Targets(m *scrape.Manager) tui.TargetsFunc {
	return func() []tui.Target {
		ths := m.Targets()
		out := make([]tui.Target, len(ths))
		for i, th := range ths {
			out[i] = consoleTarget(th)
		}
		return out
	}
}

// Metadata reports the metric families m's targets declare to the console.
func Metadata(m *scrape.Manager) tui.MetadataFunc {
	return func(ctx context.Context, metric string) (map[string][]tui.Metadata, error) {
		md, err := m.Metadata(ctx, metric)
		if err != nil {
			return nil, err
		}
		out := make(map[string][]tui.Metadata, len(md))
		for name, ms := range md {
			cm := make([]tui.Metadata, len(ms))
			for i, x := range ms {
				cm[i] = tui.Metadata{Type: x.Type}
			}
			out[name] = cm
		}
		return out, nil
	}
}

// Alerts reports m's alerts to the console.
func Alerts(m *alert.Manager) tui.AlertsFunc {
	return func() []tui.Alert {
		as := m.Alerts()
		out := make([]tui.Alert, len(as))
		for i, a := range as {
			out[i] = consoleAlert(a)
		}
		return out
	}
}

// Rules reports m's rules and their health to the console.
func Rules(m *alert.Manager) tui.RulesFunc {
	return func() []tui.Rule {
		rs := m.Rules()
		out := make([]tui.Rule, len(rs))
		for i, r := range rs {
			out[i] = consoleRule(r)
		}
		return out
	}
}

func consoleTarget(th scrape.TargetHealth) tui.Target {
	return tui.Target{
		Job:            th.Job,
		Instance:       th.Instance,
		URL:            th.URL,
		Labels:         th.Labels,
		Health:         tui.TargetHealth(th.Health),
		LastScrape:     th.LastScrape,
		LastDuration:   th.LastDuration,
		LastError:      th.LastError,
		LastWarning:    th.LastWarning,
		LastSamples:    th.LastSamples,
		Series:         th.Series,
		SeriesRefused:  th.SeriesRefused,
		ScrapeInterval: th.ScrapeInterval,
		ScrapeTimeout:  th.ScrapeTimeout,
	}
}

func consoleAlert(a alert.Alert) tui.Alert {
	return tui.Alert{
		Rule:          a.Rule,
		Group:         a.Group,
		State:         tui.AlertState(a.State),
		Labels:        a.Labels,
		Annotations:   a.Annotations,
		Value:         a.Value,
		ActiveAt:      a.ActiveAt,
		FiredAt:       a.FiredAt,
		ResolvedAt:    a.ResolvedAt,
		LastEval:      a.LastEval,
		SilencedUntil: a.SilencedUntil,
	}
}

func consoleRule(r alert.RuleStatus) tui.Rule {
	return tui.Rule{
		Group:         r.Group,
		File:          r.File,
		Name:          r.Name,
		Recording:     r.Recording,
		Expr:          r.Expr,
		For:           r.For,
		KeepFiringFor: r.KeepFiringFor,
		Labels:        r.Labels,
		Annotations:   r.Annotations,
		Interval:      r.Interval,
		Health:        tui.RuleHealth(r.Health),
		State:         tui.AlertState(r.State),
		Firing:        r.Firing,
		Pending:       r.Pending,
		LastEval:      r.LastEval,
		LastDuration:  r.LastDuration,
		LastError:     r.LastError,
	}
}

func consoleEvent(e alert.Event) tui.AlertEvent {
	return tui.AlertEvent{
		Time:          e.Time,
		State:         tui.AlertState(e.State),
		Labels:        e.Labels,
		Annotations:   e.Annotations,
		Value:         e.Value,
		StartsAt:      e.StartsAt,
		EndsAt:        e.EndsAt,
		SilencedUntil: e.SilencedUntil,
		Rule:          e.Rule,
		Group:         e.Group,
	}
}
