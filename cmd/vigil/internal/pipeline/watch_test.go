package pipeline

import (
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/store"
)

// TestEventDropsSaidOnce: dropped events are one failure while drops go
// on, said once, and over once none came for eventDropQuiet.
func TestEventDropsSaidOnce(t *testing.T) {
	db := store.New(store.DefaultOptions())
	defer db.Close()
	var log syncBuffer
	p := &Pipeline{db: db, console: alert.NewChannelSink(1), failures: NewFailures(slog.New(slog.NewTextHandler(&log, nil)))}
	p.observe()
	require.Empty(t, p.failures.Failing())
	for range 3 {
		p.console.Send(alert.Event{State: alert.StateFiring, Labels: labels.FromStrings("alertname", "X")})
	}
	for range 5 {
		p.observe()
	}
	require.Equal(t, []string{"2 events dropped: their reader is too slow"}, failingTexts(p))
	p.console.Send(alert.Event{State: alert.StateFiring, Labels: labels.FromStrings("alertname", "X")})
	p.observe()
	require.Equal(t, []string{"3 events dropped: their reader is too slow"}, failingTexts(p))
	require.Equal(t, 1, strings.Count(log.String(), "msg=failing component=events"), log.String())

	p.drops.at = p.drops.at.Add(-eventDropQuiet - time.Second) // no drop for that long
	p.observe()
	require.Empty(t, p.failures.Failing())
	require.Equal(t, 1, strings.Count(log.String(), "msg=recovered component=events"), log.String())
}

func failingTexts(p *Pipeline) []string {
	var out []string
	for _, f := range p.failures.Failing() {
		out = append(out, f.Err)
	}
	return out
}

// TestRuleFailuresSaidOnce: a rule that fails evaluation after
// evaluation is one failure, said once, with the rule named; it is over
// when the rule evaluates again.
func TestRuleFailuresSaidOnce(t *testing.T) {
	db := store.New(store.DefaultOptions())
	defer db.Close()
	logger := slog.New(slog.DiscardHandler)
	gs, err := alert.ParseGroups("test.yml", []byte("groups:\n  - name: g\n    rules:\n      - alert: Twins\n        expr: '{__name__=~\"a|b\"}'\n"))
	require.NoError(t, err)
	m, err := alert.NewManager(gs, alert.Options{Queryable: db, Appendable: db, Engine: promql.NewEngine(alert.DefaultEngineOptions(logger)), Logger: logger})
	require.NoError(t, err)
	defer m.Close()
	var log syncBuffer
	p := &Pipeline{db: db, rules: m, failures: NewFailures(slog.New(slog.NewTextHandler(&log, nil)))}
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	add := func(name string, ts time.Time, v float64) {
		app := db.Appender()
		_, err := app.Append(0, labels.FromStrings("__name__", name, "x", "1"), ts.UnixMilli(), v)
		require.NoError(t, err)
		require.NoError(t, app.Commit())
	}
	for i := range 3 {
		ts := t0.Add(time.Duration(i) * time.Minute)
		add("a", ts, 1)
		add("b", ts, 1) // a and b are one alert twice: the rule fails
		m.Eval(t.Context(), ts)
		p.observe()
	}
	require.Len(t, p.failures.Failing(), 1)
	require.Contains(t, p.failures.Failing()[0].Err, "rule Twins (group g) fails: ")
	require.Equal(t, 1, strings.Count(log.String(), "msg=failing component=rules"), log.String())

	ts := t0.Add(3 * time.Minute)
	add("a", ts, 1)
	add("b", ts, math.Float64frombits(value.StaleNaN)) // b is gone
	m.Eval(t.Context(), ts)
	p.observe()
	require.Empty(t, p.failures.Failing())
	require.Equal(t, 1, strings.Count(log.String(), "msg=recovered component=rules"), log.String())
}
