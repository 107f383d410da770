package tui

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/util/teststorage"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/tui/internal/fakenode"
)

// TestAlertDetailChart: enter on an alert shows the chart of what its
// rule compares, for its own series, centred on when it fired, with the
// threshold and the pending and firing periods: from the ALERTS series
// for an earlier episode, and from the alert's own times for this one.
func TestAlertDetailChart(t *testing.T) {
	st := teststorage.New(t)
	require.NoError(t, fakenode.Write(st.Appender(context.Background()), fakenode.DefaultHosts, testNow, 2*time.Hour, 15*time.Second))
	// An earlier episode, firing from 09:46 to 09:48.
	app := st.Appender(context.Background())
	ls := labels.FromStrings("__name__", "ALERTS", "alertname", "HostHighLoad", "alertstate", "firing",
		"instance", "batch1:9100", "job", "node", "severity", "warning")
	for ts := testNow.Add(-14 * time.Minute); !ts.After(testNow.Add(-12 * time.Minute)); ts = ts.Add(15 * time.Second) {
		_, err := app.Append(0, ls, ts.UnixMilli(), 1)
		require.NoError(t, err)
	}
	rule := testRules()
	rule[0].Interval = 15 * time.Second
	// No stale marker after it, as after a crash: a range query would
	// carry the last sample on for the lookback.
	require.NoError(t, app.Commit())

	opts := testOptions(t)
	opts.Querier = NewEngineQuerier(newTestEngine(), st)
	opts.Rules = RulesFunc(func() []Rule { return rule })
	m := newTestModel(t, opts, 120, 40)
	m = press(t, m, "3", "enter")
	v := m.views[viewAlerts].(*alertsView)
	d := v.chart.data
	require.NotNil(t, d)
	require.NoError(t, d.err)
	require.Equal(t, "node_load1", d.expr)
	require.Equal(t, 4.0, d.threshold)
	require.True(t, d.centred)
	fired := testNow.Add(-8 * time.Minute)
	require.WithinDuration(t, fired.Add(m.c.rng()/2), d.span.end, d.span.step, "centred on when it fired")
	require.Len(t, d.mat, 1, "the alert's series only")
	require.Equal(t, "batch1:9100", d.mat[0].Metric.Get("instance"))
	require.Equal(t, 2, d.others)

	var past, now *chartBand
	for i, b := range d.bands {
		if b.firing && b.from.Before(testNow.Add(-10*time.Minute)) {
			past = &d.bands[i]
		}
		if b.firing && b.from.Equal(fired) {
			now = &d.bands[i]
		}
	}
	require.NotNil(t, past, "the earlier episode, from ALERTS: %v", d.bands)
	require.True(t, testNow.Add(-14*time.Minute).Equal(past.from), "%v", past.from)
	require.True(t, testNow.Add(-12*time.Minute).Equal(past.to), "%v: its last sample, not the lookback after it", past.to)
	require.NotNil(t, now, "this episode: %v", d.bands)

	screen := m.View()
	require.Contains(t, screen, "centred on when it fired")
	require.Contains(t, screen, "fires at > 4")
	require.Contains(t, screen, "node_load1 > 4")
	strip := ""
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, "██") {
			strip = l
		}
	}
	require.NotEmpty(t, strip, "the firing periods are marked:\n%s", screen)
	require.Contains(t, strip, "▒", "and the pending one")
	require.Regexp(t, `█+ +▒+█+`, strip, "two episodes, apart")

	// [ pans from what the chart shows, not from now.
	m = press(t, m, "[")
	require.Equal(t, fired, m.c.at, "half a range back from the centred chart's end")
	require.False(t, v.chart.data.centred)
}

// TestRuleDetailChart: a rule's detail charts every series of what it
// compares, with a legend of what tells them apart; e opens the whole
// expression in Query.
func TestRuleDetailChart(t *testing.T) {
	m := newTestModel(t, testOptions(t), 120, 40)
	m = press(t, m, "3", "l", "enter")
	v := m.views[viewAlerts].(*alertsView)
	require.Len(t, v.chart.series, 3)
	screen := m.View()
	require.Contains(t, screen, `━  7.66 instance="batch1:9100"`)
	require.Contains(t, screen, "fires at > 4")
	m = press(t, m, "t")
	require.Equal(t, showHidden, v.chart.series[0].show)
	m = press(t, m, "e")
	require.Equal(t, viewQuery, m.active)
	require.Equal(t, "node_load1 > 4", m.views[viewQuery].(*queryView).input.Value())
}

// TestKeys: no key of the whole console (what works in every view, but
// for a text prompt) means two things, none is tmux's prefix ctrl+b,
// and every binding is in the ? help of some view.
func TestKeys(t *testing.T) {
	k := DefaultKeyMap()
	global := []key.Binding{k.Quit, k.Help, k.NextView, k.PrevView, k.Overview, k.Targets, k.Alerts, k.Explore, k.Query,
		k.RangeUp, k.RangeDown, k.Pause, k.PanBack, k.PanAhead, k.Live, k.GoTo, k.ZeroAxis, k.Mouse}
	seen := map[string]string{}
	for _, b := range global {
		for _, s := range b.Keys() {
			require.NotContains(t, seen, s, "%q is %q and %q", s, seen[s], b.Help().Desc)
			seen[s] = b.Help().Desc
		}
	}
	// What views bind must not be a key of the whole console.
	v := reflect.ValueOf(k)
	for i := range v.NumField() {
		b := v.Field(i).Interface().(key.Binding)
		for _, s := range b.Keys() {
			require.NotEqual(t, "ctrl+b", s, "%s takes tmux's prefix", v.Type().Field(i).Name)
			if d, ok := seen[s]; ok && !contains(global, b) && v.Type().Field(i).Name != "ForceQuit" {
				t.Errorf("%s takes %q, which is %q everywhere", v.Type().Field(i).Name, s, d)
			}
		}
	}

	// Every binding in some ? page, at 80 columns: a group of keys that
	// does not fit is not cut.
	help := ""
	for _, keys := range [][]string{nil, {"2"}, {"3"}, {"4"}, {"5", "esc"}} {
		m := newTestModel(t, testOptions(t), 80, 60)
		m = press(t, m, keys...)
		m = press(t, m, "?")
		help += m.View()
	}
	for i := range v.NumField() {
		h := v.Field(i).Interface().(key.Binding).Help()
		require.NotEmpty(t, h.Desc, v.Type().Field(i).Name)
		require.Contains(t, help, h.Key, "%s (%s) is in no help page", v.Type().Field(i).Name, h.Desc)
	}
}

func contains(bs []key.Binding, b key.Binding) bool {
	for _, x := range bs {
		if reflect.DeepEqual(x.Keys(), b.Keys()) {
			return true
		}
	}
	return false
}

// TestAlertDetailFollowsItsAlert: the detail stays on the alert it was
// opened on as the rows move, and says so when that alert is gone rather
// than showing another one.
func TestAlertDetailFollowsItsAlert(t *testing.T) {
	alerts := testAlerts()
	opts := testOptions(t)
	opts.Alerts = AlertsFunc(func() []Alert { return alerts })
	m := newTestModel(t, opts, 120, 40)
	m = press(t, m, "3", "j", "enter")
	require.Contains(t, m.View(), "pending HostDiskFull")

	// A new alert sorts first: the detail stays.
	alerts = append([]Alert{{Rule: "AAA", State: StateFiring, Labels: labels.FromStrings("alertname", "AAA")}}, alerts...)
	m = tick(t, m)
	require.Contains(t, m.View(), "pending HostDiskFull")
	require.NotContains(t, m.View(), "no longer active")

	// Gone: shown as last seen, and S silences nothing.
	alerts = alerts[:1]
	m = tick(t, m)
	screen := m.View()
	require.Contains(t, screen, "pending HostDiskFull")
	require.Contains(t, screen, "no longer active: as last seen")
	sil := opts.Silences.(*fakeSilences)
	sil.takeCalls()
	press(t, m, "S")
	require.Empty(t, sil.takeCalls(), "S silenced another alert")
}

// TestAlertDetailWrapsItsExpression: an expression longer than the line
// is wrapped whole, its for with it, at 80 columns and in colour too.
func TestAlertDetailWrapsItsExpression(t *testing.T) {
	lipgloss.SetColorProfile(termenv.ANSI256)
	defer lipgloss.SetColorProfile(termenv.Ascii)
	rules := testRules()
	rules[0].Expr = `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[1m]))) > 80`
	rules[0].For = 30 * time.Second
	opts := testOptions(t)
	opts.Rules = RulesFunc(func() []Rule { return rules })
	m := newTestModel(t, opts, 80, 24)
	m = press(t, m, "3", "enter")
	screen := ansi.Strip(m.View())
	require.Contains(t, screen, `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle`)
	require.Contains(t, screen, `"}[1m]))) > 80  for 30s`)
}
