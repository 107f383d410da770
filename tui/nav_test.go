package tui

import (
	"context"
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/util/teststorage"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/store"
	"github.com/vigilterm/vigil/tui/internal/fakenode"
)

func TestNavigation(t *testing.T) {
	m := newTestModel(t, testOptions(t), 80, 24)
	require.Equal(t, viewOverview, m.active)

	for _, tc := range []struct {
		keys []string
		want int
	}{
		{[]string{"2"}, viewTargets},
		{[]string{"3"}, viewAlerts},
		{[]string{"4"}, viewExplore},
		{[]string{"5"}, viewQuery},
		{[]string{"1"}, viewOverview},
		{[]string{"tab"}, viewTargets},
		{[]string{"tab", "tab", "tab"}, viewQuery},
		{[]string{"tab"}, viewOverview},
		{[]string{"shift+tab"}, viewQuery},
	} {
		// The prompt of the Query view has the keys: leave it first.
		if m.active == viewQuery {
			m = press(t, m, "esc")
		}
		m = press(t, m, tc.keys...)
		require.Equal(t, tc.want, m.active, "after %v", tc.keys)
	}
}

func TestNavigationTypingDoesNotSwitch(t *testing.T) {
	m := newTestModel(t, testOptions(t), 80, 24)
	m = press(t, m, "5")
	require.True(t, m.views[viewQuery].capturing(), "the prompt has the keys")
	m = press(t, m, "q", "1", "2", "?", "+")
	require.Equal(t, viewQuery, m.active)
	require.False(t, m.showHelp)
	require.Equal(t, "q12?+", m.views[viewQuery].(*queryView).input.Value())

	// Filters take keys too.
	m = press(t, m, "esc", "2", "/", "q", "3")
	require.Equal(t, viewTargets, m.active)
	require.Equal(t, "q3", m.views[viewTargets].(*targetsView).filter.input.Value())
	m = press(t, m, "esc")
	require.False(t, m.views[viewTargets].capturing())
	require.Empty(t, m.views[viewTargets].(*targetsView).filter.input.Value())
}

func TestRangeKeys(t *testing.T) {
	m := newTestModel(t, testOptions(t), 80, 24)
	require.Equal(t, 15*time.Minute, m.c.rng())
	m = press(t, m, "+")
	require.Equal(t, time.Hour, m.c.rng())
	m = press(t, m, "+", "+", "+", "+")
	require.Equal(t, 24*time.Hour, m.c.rng(), "stops at the longest")
	m = press(t, m, "-", "-", "-", "-", "-", "-")
	require.Equal(t, 5*time.Minute, m.c.rng(), "stops at the shortest")
	require.Contains(t, m.View(), "range 5m")
}

// TestPause: p stops the clock and the data where they are, ticks change
// nothing on screen, and p again catches up with now.
func TestPause(t *testing.T) {
	opts := testOptions(t)
	now := testNow
	opts.Now = func() time.Time { return now }
	m := newTestModel(t, opts, 80, 24)
	m = tick(t, m)
	require.Contains(t, m.View(), "10:00:00")
	m = press(t, m, "p")
	paused := m.View()
	require.Contains(t, paused, "│ paused │")
	for range 3 {
		now = now.Add(5 * time.Second)
		m = drive(t, m, func() tea.Msg { return tickMsg(now) })
		require.Equal(t, paused, m.View(), "a tick moved a paused screen")
	}
	m = press(t, m, "p")
	require.NotContains(t, m.View(), "paused")
	require.Contains(t, m.View(), "10:00:15")
	m = newTestModel(t, opts, 160, 24)
	m = press(t, tick(t, m), "p")
	require.Contains(t, m.View(), "│ paused │ range 15m @5s │ 10:00:15", "the clock stops where it paused")
}

func TestHelpToggle(t *testing.T) {
	m := newTestModel(t, testOptions(t), 80, 24)
	m = press(t, m, "?")
	require.True(t, m.showHelp)
	require.Contains(t, m.View(), "Everywhere")
	m = press(t, m, "2") // ignored while help is up
	require.Equal(t, viewOverview, m.active)
	m = press(t, m, "esc")
	require.False(t, m.showHelp)
	m = press(t, m, "?", "?")
	require.False(t, m.showHelp)
}

func TestOverviewMoveAndDrill(t *testing.T) {
	m := newTestModel(t, testOptions(t), 80, 24)
	m = tick(t, m)
	o := m.views[viewOverview].(*overview)
	require.Len(t, o.hosts, 3)
	require.Equal(t, 0, o.cursor)
	m = press(t, m, "l")
	require.Equal(t, 1, o.cursor)
	m = press(t, m, "j")
	require.Equal(t, 2, o.cursor, "down to the last card")
	m = press(t, m, "k")
	require.Equal(t, 0, o.cursor)
	m = press(t, m, "G")
	require.Equal(t, 2, o.cursor)
	m = press(t, m, "enter")
	require.NotNil(t, o.page)
	require.Equal(t, "web1:9100", o.page.instance)
	require.Contains(t, m.View(), "web1:9100 · 15m")
	m = press(t, m, "esc")
	require.Nil(t, o.page)
}

func TestExploreDrill(t *testing.T) {
	m := newTestModel(t, testOptions(t), 80, 24)
	m = press(t, m, "4")
	e := m.views[viewExplore].(*explore)
	require.Contains(t, e.names, "node_load1")
	m = press(t, m, "/", "load1", "enter", "enter")
	require.Equal(t, levelSeries, e.level)
	require.Equal(t, "node_load1", e.metric)
	require.Len(t, e.allSeries, 3)
	m = press(t, m, "j", "enter")
	require.Equal(t, levelChart, e.level)
	require.Equal(t, "db1:9100", e.chosen.Get("instance"))
	require.NotNil(t, e.chart)
	require.NoError(t, e.chart.err)
	require.Len(t, e.chart.mat, 1)
	m = press(t, m, "esc")
	require.Equal(t, levelSeries, e.level)
	m = press(t, m, "esc")
	require.Equal(t, levelMetrics, e.level)
	require.Equal(t, "load1", e.filters[levelMetrics].input.Value(), "the metric filter is kept")
}

func TestQueryHistory(t *testing.T) {
	m := newTestModel(t, testOptions(t), 80, 24)
	m = press(t, m, "5", "node_load1", "enter")
	q := m.views[viewQuery].(*queryView)
	require.NoError(t, q.res.instErr)
	require.Len(t, q.table.rows, 3)
	require.Len(t, q.res.mat, 3, "a vector has a range chart")
	m = press(t, m, "e")
	require.True(t, q.input.Focused())
	q.input.SetValue("")
	m = press(t, m, "up")
	require.Equal(t, "node_load1", q.input.Value())
	m = press(t, m, "down")
	require.Empty(t, q.input.Value())
}

func TestAlertPanes(t *testing.T) {
	m := newTestModel(t, testOptions(t), 80, 24)
	m = press(t, m, "3")
	a := m.views[viewAlerts].(*alertsView)
	require.Equal(t, paneAlerts, a.pane)
	m = press(t, m, "l")
	require.Equal(t, paneRules, a.pane)
	require.Contains(t, m.View(), "Broken")
	m = press(t, m, "l")
	require.Equal(t, paneEvents, a.pane)
	m = press(t, m, "l")
	require.Equal(t, paneAlerts, a.pane)
	m = press(t, m, "j", "enter")
	require.True(t, a.detail)
	require.Contains(t, m.View(), "HostDiskFull")
}

// TestOutsideEvents sends alert events and status warnings through the
// channels, as alert's ChannelSink and the integrator do.
func TestOutsideEvents(t *testing.T) {
	events := make(chan AlertEvent, 4)
	status := make(chan Status, 4)
	opts := testOptions(t)
	opts.AlertEvents, opts.Status = events, status
	m := newTestModel(t, opts, 80, 24)

	events <- AlertEvent{Time: testNow, State: StateFiring, Labels: labels.FromStrings("alertname", "HostHighLoad", "instance", "x\x1b[2Jy"), Value: 4.2}
	m = deliver(t, m, m.c.waitAlertEvent())
	require.Len(t, m.c.events, 1)

	status <- Status{Source: "events", Text: "events no longer delivered: broken pipe"}
	m = deliver(t, m, m.c.waitStatus())
	require.Contains(t, m.View(), "⚠ events no longer delivered: broken pipe")

	status <- Status{Source: "events"}
	m = deliver(t, m, m.c.waitStatus())
	require.NotContains(t, m.View(), "no longer delivered")

	m = press(t, m, "3", "l", "l")
	screen := m.View()
	require.Contains(t, screen, `instance="x\x1b[2Jy"`)
	requireSafe(t, screen)
}

// TestProgram runs the console as a real bubbletea program and quits it
// with q; goleak in TestMain checks that nothing is left running.
func TestProgram(t *testing.T) {
	opts := testOptions(t)
	opts.Refresh = 20 * time.Millisecond
	events := make(chan AlertEvent)
	opts.AlertEvents = events
	model := New(opts)
	defer model.Close()
	tm := teatest.NewTestModel(t, model, teatest.WithInitialTermSize(80, 24))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return strings.Contains(string(b), "batch1:9100")
	}, teatest.WithDuration(60*time.Second))
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("2")})
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return strings.Contains(string(b), "SAMPLES")
	}, teatest.WithDuration(60*time.Second))
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(60*time.Second))
}

// TestRun runs Run with a context that ends it.
func TestRun(t *testing.T) {
	opts := testOptions(t)
	opts.Refresh = 20 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	pr, pw := io.Pipe()
	defer pw.Close()
	require.NoError(t, Run(ctx, opts, pr, io.Discard))
}

// TestRunQuit quits Run with q typed on its input.
func TestRunQuit(t *testing.T) {
	opts := testOptions(t)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), opts, pr, io.Discard) }()
	go func() {
		time.Sleep(200 * time.Millisecond)
		_, _ = pw.Write([]byte("q"))
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("q did not end Run")
	}
	_ = pw.Close()
}

// TestStore reads vigil's own store through EngineQuerier.
func TestStore(t *testing.T) {
	db := store.New(store.DefaultOptions())
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, fakenode.Write(db.Appender(), fakenode.DefaultHosts, testNow, 30*time.Minute, 15*time.Second))
	opts := testOptions(t)
	opts.Querier = NewEngineQuerier(newTestEngine(), db)
	m := newTestModel(t, opts, 80, 24)
	m = tick(t, m)
	o := m.views[viewOverview].(*overview)
	require.NoError(t, o.err)
	require.Len(t, o.hosts, 3)
	m = press(t, m, "4")
	require.Contains(t, m.views[viewExplore].(*explore).names, "node_cpu_seconds_total")
	m = press(t, m, "enter")
	require.Len(t, m.views[viewExplore].(*explore).allSeries, 28)
}

// deliver runs one command that waits on a channel and hands its message
// to the model, dropping the re-armed command that would wait again.
func deliver(t testing.TB, m Model, cmd tea.Cmd) Model {
	t.Helper()
	require.NotNil(t, cmd)
	nm, _ := m.Update(cmd())
	return nm.(Model)
}

// TestKeyBunches checks that runes arriving together, as over a slow
// link, act as the keys they are.
func TestKeyBunches(t *testing.T) {
	m := newTestModel(t, testOptions(t), 80, 24)
	nm, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("4/load")})
	m = drive(t, nm.(Model), cmd)
	require.Equal(t, viewExplore, m.active)
	e := m.views[viewExplore].(*explore)
	require.True(t, e.capturing())
	require.Equal(t, "load", e.filters[levelMetrics].input.Value())

	// Esc and a key in one read look like alt+key.
	nm, cmd = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("2"), Alt: true})
	m = drive(t, nm.(Model), cmd)
	require.False(t, e.capturing())
	require.Equal(t, viewTargets, m.active)

	// A paste goes to the input as it is.
	m = press(t, m, "esc", "5")
	nm, cmd = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("up{job=\"1\"}"), Paste: true})
	m = drive(t, nm.(Model), cmd)
	require.Equal(t, `up{job="1"}`, m.views[viewQuery].(*queryView).input.Value())
}

func TestPolledWarnings(t *testing.T) {
	opts := testOptions(t)
	var warn []Status
	opts.Warnings = func() []Status { return warn }
	m := newTestModel(t, opts, 80, 24)
	require.NotContains(t, m.View(), "⚠")
	warn = []Status{{Source: "store", Text: "max series reached: 1000000, 12 refused"}, {Source: "snapshot", Text: "snapshot failed:\x1b[31m disk full"}}
	m = tick(t, m)
	screen := m.View()
	require.Contains(t, screen, "⚠ 2")
	require.Contains(t, screen, `⚠ snapshot failed:\x1b[31m disk full · max series reached`)
	requireSafe(t, screen)
	warn = nil
	m = tick(t, m)
	require.NotContains(t, m.View(), "⚠")
}

func TestOverviewScroll(t *testing.T) {
	var hosts []fakenode.Host
	for i := 0; i < 10; i++ {
		h := fakenode.DefaultHosts[i%3]
		h.Instance = "host" + itoa(i) + ":9100"
		hosts = append(hosts, h)
	}
	st := teststorage.New(t)
	require.NoError(t, fakenode.Write(st.Appender(context.Background()), hosts, testNow, 20*time.Minute, 15*time.Second))
	opts := testOptions(t)
	opts.Querier = NewEngineQuerier(newTestEngine(), st)
	m := newTestModel(t, opts, 80, 24)
	m = tick(t, m)
	require.Contains(t, m.View(), "HOST", "ten hosts do not fit as cards: a line each")
	m = press(t, m, "s", "s", "s", "s", "s", "s", "s", "v") // by name, as cards
	require.Contains(t, m.View(), "host0:9100")
	require.NotContains(t, m.View(), "host9:9100")
	m = press(t, m, "j", "j", "j", "j", "l")
	o := m.views[viewOverview].(*overview)
	require.Equal(t, 9, o.cursor)
	screen := m.View()
	require.Contains(t, screen, "host9:9100")
	require.NotContains(t, screen, "host0:9100")
	require.Contains(t, screen, "(10/10)")
	m = press(t, m, "g")
	require.Contains(t, m.View(), "host0:9100")
}

func TestTargetsSort(t *testing.T) {
	m := newTestModel(t, testOptions(t), 80, 24)
	m = press(t, m, "2")
	v := m.views[viewTargets].(*targetsView)
	require.Equal(t, "localhost:8080", v.shown[0].Instance, "by job")
	m = press(t, m, "s")
	require.Equal(t, "batch1:9100", v.shown[0].Instance, "down first")
	require.Contains(t, m.View(), "by health")
	m = press(t, m, "s")
	require.Equal(t, "batch1:9100", v.shown[0].Instance, "slowest first")
	m = press(t, m, "s")
	require.Equal(t, "db1:9100", v.shown[0].Instance, "most samples first")
	m = press(t, m, "s", "s")
	require.Contains(t, m.View(), "by job")
}

// TestRunColours: the console chooses colours for the out it draws on
// (not for stdout, where lipgloss looks by default), with styles made
// before Run, and with a renderer of its own: lipgloss' default renderer
// and its profile stay as they were (ASCII, set in TestMain). out is no
// terminal here, so only --color always draws colours on it.
func TestRunColours(t *testing.T) {
	require.Nil(t, DefaultOptions().Styles, "styles are made for the console's terminal, in Run")
	def := lipgloss.DefaultRenderer()
	unchanged := func() {
		t.Helper()
		require.Same(t, def, lipgloss.DefaultRenderer())
		require.Equal(t, termenv.Ascii, lipgloss.ColorProfile())
	}
	// A foreground colour as an SGR parameter.
	colour := regexp.MustCompile(`\x1b\[([0-9;]*;)?(3[0-7]|38;5;[0-9]+|9[0-7])[;m]`)
	made := DefaultStyles() // with the default renderer, as a caller would
	for _, tc := range []struct {
		color    string
		coloured bool
	}{
		{"always", true},
		{"auto", false},
		{"never", false},
	} {
		t.Run(tc.color, func(t *testing.T) {
			opts := DefaultOptions()
			opts.Color = tc.color
			for _, styles := range []*Styles{nil, &made} {
				opts.Styles = styles
				_, st := newRenderer(io.Discard, opts)
				for _, drawn := range []string{st.Brand.Render("vigil"), st.Firing.Render("firing"), st.HelpKeys.ShortKey.Render("q")} {
					require.Equal(t, tc.coloured, colour.MatchString(drawn), "%q", drawn)
				}
				unchanged()
			}

			// The whole of Run.
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			pr, pw := io.Pipe()
			defer pw.Close()
			o := testOptions(t)
			o.Color = tc.color
			require.NoError(t, Run(ctx, o, pr, io.Discard))
			unchanged()
		})
	}
}

func TestQueryChartOne(t *testing.T) {
	m := newTestModel(t, testOptions(t), 80, 24)
	m = press(t, m, "5", "node_load1", "enter", "esc", "j", "enter")
	q := m.views[viewQuery].(*queryView)
	require.NotEmpty(t, q.only)
	screen := m.View()
	require.Contains(t, screen, "charting the selected series")
	// The table is the chart's legend, highest value first: the second
	// row is drawn, in the first colour; the others are not.
	require.Contains(t, screen, `━ instance="db1:9100"`)
	require.Contains(t, screen, `· instance="batch1:9100"`)
	require.Contains(t, screen, `· instance="web1:9100"`)
	m = press(t, m, "esc")
	require.Empty(t, q.only)
}

// TestExploreEmptyLists: each list level of Explore says why it is empty.
func TestExploreEmptyLists(t *testing.T) {
	m := newTestModel(t, testOptions(t), 80, 24)
	m = press(t, m, "4", "/", "zzzz", "enter")
	require.Contains(t, m.View(), "no metric matches the filter")
	m = press(t, m, "esc", "/", "load1", "enter", "enter", "/", "zzzz", "enter")
	require.Equal(t, levelSeries, m.views[viewExplore].(*explore).level)
	require.Contains(t, m.View(), "no series matches the filter")

	opts := testOptions(t)
	opts.Querier = NewEngineQuerier(newTestEngine(), teststorage.New(t))
	m = newTestModel(t, opts, 80, 24)
	m = press(t, m, "4")
	require.Contains(t, m.View(), "no metrics in the last 15m")
}

// TestOverviewOtherTargets: the targets that are down, hosts or not,
// are listed above the hosts with their error, whatever the order; the
// targets without node_exporter data that are not down (another job, one
// not scraped yet) are listed under them with their health and duration.
func TestOverviewOtherTargets(t *testing.T) {
	opts := testOptions(t)
	targets := append(testTargets(), Target{Job: "node", Instance: "gone:9100", Health: TargetDown,
		URL: "http://gone:9100/metrics", LastScrape: testNow,
		LastError: `Get "http://gone:9100/metrics": dial tcp gone:9100: connect: connection refused`},
		Target{Job: "vigil", Instance: "localhost:9999", Health: TargetUp,
			LastScrape: testNow, LastDuration: 3 * time.Millisecond, Series: 57})
	opts.Targets = TargetsFunc(func() []Target { return targets })
	for _, keys := range [][]string{nil, {"s"}, {"s", "s", "s"}, {"v"}} {
		m := press(t, tick(t, newTestModel(t, opts, 100, 30)), keys...)
		lines := strings.Split(m.View(), "\n")
		require.Regexp(t, `^Hosts 3 · 2 down · by `, lines[2], "keys %q", keys)
		require.Regexp(t, `^✖ down batch1:9100 +node +context deadline exceeded$`, lines[3])
		require.Regexp(t, `^✖ down gone:9100 +node +connect: connection refused$`, lines[4], "the error without what the line says already")
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "Other targets 2") })
		require.Positive(t, i, "no other targets in:\n%s", m.View())
		require.Regexp(t, `^○ unknown +localhost:8080 +app +not scraped yet`, lines[i+1])
		require.Regexp(t, `^● up +localhost:9999 +vigil +3ms +57 series`, lines[i+2])
	}
}

// TestSilence: S asks the Silencer to silence the selected alert for 15m,
// then longer on each press, then off; the alert source reports it back
// and the console shows it: silenced, no longer counted as firing in the
// header or on its host's card, and its events marked as the alert side
// marks them.
func TestSilence(t *testing.T) {
	opts := testOptions(t)
	sil := opts.Silences.(*fakeSilences)
	now := testNow
	opts.Now = func() time.Time { return now }
	m := tick(t, newTestModel(t, opts, 100, 30))
	require.Contains(t, m.View(), "● down ▲1")
	high := testAlerts()[0].Labels
	m = press(t, m, "3", "S")
	require.Equal(t, []silenceCall{{high, testNow.Add(15 * time.Minute)}}, sil.takeCalls(), "S reaches the silencer")
	v := m.View()
	require.Regexp(t, `silenced +HostHighLoad`, v)
	require.Contains(t, v, "alerts 0 firing 1 pending")
	m = press(t, m, "1")
	require.Contains(t, m.View(), "● down━┓", "the host of a silenced alert does not stand out")
	m = press(t, m, "3", "enter")
	require.Contains(t, m.View(), "here, until 10:15:00")
	now = now.Add(5 * time.Minute)
	m = drive(t, m, func() tea.Msg { return tickMsg(now) })
	m = press(t, m, "S")
	require.Equal(t, []silenceCall{{high, now.Add(time.Hour)}}, sil.takeCalls(), "a second press silences for the next step, from now")
	require.Contains(t, m.View(), "here, until 11:05:00")

	now = now.Add(10 * time.Second)
	m = drive(t, m, func() tea.Msg { return tickMsg(now) })
	e := AlertEvent{Time: now, State: StateFiring, Labels: high, SilencedUntil: now.Add(time.Hour)}
	m = drive(t, m, func() tea.Msg { return alertEventMsg(e) })
	e = AlertEvent{Time: now, State: StatePending, Labels: testAlerts()[1].Labels}
	m = drive(t, m, func() tea.Msg { return alertEventMsg(e) })
	m = press(t, m, "esc", "l", "l")
	v = m.View()
	require.Contains(t, v, `(silenced) instance="batch1:9100"`, "the event of the silenced alert says so")
	require.Regexp(t, `pending +HostDiskFull +instance="db1:9100"`, v, "the other one does not")

	m = press(t, m, "h", "h", "S", "S", "S") // 4h, 24h, off
	calls := sil.takeCalls()
	require.Len(t, calls, 3)
	require.Equal(t, now.Add(4*time.Hour), calls[0].until, "59m50s left of 1h: the step after 1h")
	require.Equal(t, now.Add(24*time.Hour), calls[1].until)
	require.True(t, calls[2].until.IsZero(), "the last press lifts the silence")
	v = m.View()
	require.Regexp(t, `firing +HostHighLoad`, v)
	require.Contains(t, v, "alerts 1 firing 1 pending")
	m = press(t, m, "1")
	require.Contains(t, m.View(), "● down ▲1")

	// A silence that ends by the clock ends in the console too.
	m = press(t, m, "3", "S")
	require.Len(t, sil.takeCalls(), 1)
	require.Regexp(t, `silenced +HostHighLoad`, m.View())
	now = now.Add(15 * time.Minute)
	m = drive(t, m, func() tea.Msg { return tickMsg(now) })
	require.Regexp(t, `firing +HostHighLoad`, m.View())

	// A silencer that fails says why, and nothing is shown as silenced.
	sil.err = errors.New("alertmanager \x1b[31mgone")
	m = press(t, m, "S")
	v = m.View()
	require.Contains(t, v, `silence: alertmanager \x1b[31mgone`)
	require.Regexp(t, `firing +HostHighLoad`, v)
}

// TestSilenceWithoutSilencer: with no Silencer, S is off and not in the
// help.
func TestSilenceWithoutSilencer(t *testing.T) {
	opts := testOptions(t)
	opts.Silences = nil
	m := tick(t, newTestModel(t, opts, 100, 30))
	m = press(t, m, "3", "S")
	v := m.View()
	require.Regexp(t, `firing +HostHighLoad`, v)
	require.NotContains(t, v, "silence")
}

// TestQueryErrorCaret: a parse error is pointed at under the query.
func TestQueryErrorCaret(t *testing.T) {
	m := tick(t, newTestModel(t, testOptions(t), 80, 24))
	m = press(t, m, "5", "rate(node_load1)", "enter")
	lines := strings.Split(m.View(), "\n")
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "› rate(node_load1)") })
	require.Positive(t, i, m.View())
	require.Equal(t, "       ^^^^^^^^^^", strings.TrimRight(lines[i+1], " "), "the caret is under node_load1")
	require.Contains(t, lines[i+2], "1:6: parse error")
}

// The alert tables leave out the labels all alerts of one rule share, so
// that the ones telling them apart fit at 80 columns; an alert alone for
// its rule shows all its labels, the filter sees every label, and the
// detail view shows them all.
func TestAlertTablesShowWhatTellsAlertsApart(t *testing.T) {
	opts := testOptions(t)
	busy := func(instance string) Alert {
		return Alert{Rule: "NodeCPUBusy", Group: "node", State: StatePending,
			Labels: labels.FromStrings("alertname", "NodeCPUBusy", "fleet_kind", "normal", "instance", instance, "job", "node", "severity", "warning"),
			Value:  91, ActiveAt: testNow.Add(-time.Minute), LastEval: testNow.Add(-time.Second)}
	}
	alerts := append(testAlerts(), busy("10.0.0.1:9100"), busy("10.0.0.2:9100"))
	opts.Alerts = &fakeSilences{alerts: func() []Alert { return alerts }}
	m := newTestModel(t, opts, 80, 24)
	m = press(t, m, "3")
	screen := m.View()
	require.Contains(t, screen, `instance="10.0.0.1:9100"`)
	require.Contains(t, screen, `instance="10.0.0.2:9100"`)
	require.NotContains(t, screen, "fleet_kind", "shared by both NodeCPUBusy alerts")
	require.Contains(t, screen, `instance="db1:9100", severity=`, "alone for its rule: every label")

	m = press(t, m, "/", "n", "o", "r", "m", "a", "l", "enter")
	require.Len(t, m.views[viewAlerts].(*alertsView).shown, 2, "filtered on a label not shown")
	m = press(t, m, "enter")
	require.Contains(t, m.View(), "fleet_kind")
}

// TestLabelColumnsLeadWithWhatDiffers: labels sorted by name put
// cluster= and env= before instance, and at 80 columns every row read
// alike; the label columns lead with what differs, instance first, show
// what every row shares once above the table, and w shows the selected
// row whole.
func TestLabelColumnsLeadWithWhatDiffers(t *testing.T) {
	opts := testOptions(t)
	var alerts []Alert
	var targets []Target
	for i := range 6 {
		inst := "10.0.0." + itoa(i) + ":9100"
		rule := []string{"NodeCPUBusy", "NodeDiskFull"}[i%2]
		alerts = append(alerts, Alert{Rule: rule, Group: "node", State: StatePending, Value: 91,
			Labels: labels.FromStrings("alertname", rule, "cluster", "production-eu-west-1", "env", "production",
				"instance", inst, "job", "node", "zone", "eu-west-1"+string(rune('a'+i%3))),
			ActiveAt: testNow.Add(-time.Minute)})
		targets = append(targets, Target{Job: "node", Instance: inst, Health: TargetDown,
			URL: "http://" + inst + "/metrics", LastScrape: testNow,
			LastError: `Get "http://` + inst + `/metrics": dial tcp ` + inst + `: connect: connection refused`,
			Labels: labels.FromStrings("cluster", "production-eu-west-1", "env", "production", "instance", inst, "job", "node",
				"zone", "eu-west-1"+string(rune('a'+i%3)))})
	}
	opts.Alerts = &fakeSilences{alerts: func() []Alert { return alerts }}
	opts.Targets = TargetsFunc(func() []Target { return targets })
	m := newTestModel(t, opts, 80, 24)

	screen := press(t, m, "3").View()
	require.Contains(t, screen, `every row: cluster="production-eu-west-1", env="production", job="node"`)
	for i := range 6 {
		require.Regexp(t, `(pending  NodeCPUBusy|pending  NodeDiskFull) +instance="10.0.0.`+itoa(i)+`:9100", zone="eu`, screen)
	}
	require.Equal(t, 1, strings.Count(screen, "production-eu-west-1"))

	wide := press(t, newTestModel(t, opts, 100, 24), "2")
	require.Regexp(t, `10.0.0.0:9100 +down .* zone="eu-west-1a" +connect: connection refused`, wide.View())
	m = press(t, m, "2")
	screen = m.View()
	require.Contains(t, screen, `every target: cluster="production-eu-west-1", env="production", job="node"`)
	require.NotContains(t, screen, "JOB", "every target has the same job")
	require.Regexp(t, `10.0.0.0:9100 +down .* zone="eu-west-1a" +connect: conn`, screen)
	require.NotContains(t, screen, "dial tcp")
	m = press(t, m, "w")
	screen = m.View()
	require.Contains(t, screen, "  ERROR    Get \"http://10.0.0.0:9100/metrics\": dial tcp 10.0.0.0:9100: connect:\n"+
		"           connection refused\n", "w shows the selected row's error whole")
	requireFits(t, screen, 80, 24)
}

// Events repeat an alert's labels at each transition: one label set seen
// many times is still one set, and keeps all its labels.
func TestSharedLabelsCountsDistinctSets(t *testing.T) {
	a := labels.FromStrings("alertname", "A", "instance", "x", "job", "node")
	b := labels.FromStrings("alertname", "A", "instance", "y", "job", "node")
	c := labels.FromStrings("alertname", "C", "instance", "x", "job", "node")
	sets := []labels.Labels{a, a, c, c, b, a}
	got := sharedLabels(len(sets), func(i int) (string, labels.Labels) { return sets[i].Get("alertname"), sets[i] })
	require.Equal(t, map[string]map[string]string{"A": {"alertname": "A", "job": "node"}}, got)
}

// The Events pane does the same: the labels every event of an alert name
// shares are left out once it has more than one label set, and the filter
// still sees them.
func TestAlertEventsShowWhatTellsAlertsApart(t *testing.T) {
	events := make(chan AlertEvent, 4)
	opts := testOptions(t)
	opts.AlertEvents = events
	m := newTestModel(t, opts, 80, 24)
	busy := func(instance string, st AlertState) AlertEvent {
		return AlertEvent{Time: testNow, State: st, Value: 91,
			Labels: labels.FromStrings("alertname", "NodeCPUBusy", "fleet_kind", "normal", "instance", instance)}
	}
	for _, e := range []AlertEvent{busy("10.0.0.1:9100", StatePending), busy("10.0.0.2:9100", StatePending), busy("10.0.0.1:9100", StateFiring)} {
		events <- e
		m = deliver(t, m, m.c.waitAlertEvent())
	}
	m = press(t, m, "3", "l", "l")
	screen := m.View()
	require.Contains(t, screen, `instance="10.0.0.1:9100"`)
	require.Contains(t, screen, `instance="10.0.0.2:9100"`)
	require.Contains(t, screen, `every row: fleet_kind="normal"`)
	require.Equal(t, 1, strings.Count(screen, "fleet_kind"), "shared by every event: once, above the table")

	m = press(t, m, "/", "n", "o", "r", "m", "a", "l", "enter")
	require.Len(t, m.views[viewAlerts].(*alertsView).tables[paneEvents].rows, 3, "filtered on a label not shown")
	m = press(t, m, "esc", "/", "x", "enter")
	require.Empty(t, m.views[viewAlerts].(*alertsView).tables[paneEvents].rows)
}
