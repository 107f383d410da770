package tui

import (
	"math/rand/v2"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

// TestPan: [ and ] move the range by half its length and pause; ] stops
// at now, [ at what the store keeps; 0 goes back to live.
func TestPan(t *testing.T) {
	opts := testOptions(t)
	opts.Retention = time.Hour
	m := newTestModel(t, opts, 120, 40)
	m = press(t, m, "4", "/", "load1", "enter", "enter", "c")
	e := m.views[viewExplore].(*explore)
	live := e.chart.span

	m = press(t, m, "[")
	require.True(t, m.c.paused)
	require.Equal(t, testNow.Add(-7*time.Minute-30*time.Second), m.c.at)
	require.Contains(t, m.View(), "paused 09:37–09:52")
	require.WithinDuration(t, live.end.Add(-7*time.Minute-30*time.Second), e.chart.span.end, live.step, "the chart was read again")
	m = press(t, m, "[")
	require.Equal(t, testNow.Add(-15*time.Minute), m.c.at)
	m = press(t, m, "]")
	require.Equal(t, testNow.Add(-7*time.Minute-30*time.Second), m.c.at)
	m = press(t, m, "]", "]")
	require.Equal(t, testNow, m.c.at, "not past now")
	require.True(t, m.c.paused, "still paused")
	require.Contains(t, m.View(), "this is now: 0 goes live")

	for range 10 {
		m = press(t, m, "[")
	}
	require.Equal(t, testNow.Add(-45*time.Minute), m.c.at, "the range starts where the store's history does")
	require.Contains(t, m.View(), "the store keeps 1h of history (--retention)")

	m = press(t, m, "0")
	require.True(t, m.c.live())
	require.False(t, m.c.paused)
	require.Equal(t, live, e.chart.span)
	require.Contains(t, m.View(), "range 15m @5s")

	// p resumes a panned view at now as well.
	m = press(t, m, "[", "p")
	require.True(t, m.c.live())
	require.False(t, m.c.paused)
}

// TestRangesStopAtRetention: + offers what the store keeps and no more,
// and says so when asked for longer.
func TestRangesStopAtRetention(t *testing.T) {
	require.Equal(t, DefaultRanges, offeredRanges(DefaultRanges, 0))
	require.Equal(t, []time.Duration{5 * time.Minute, 15 * time.Minute, time.Hour}, offeredRanges(DefaultRanges, time.Hour))
	require.Equal(t, []time.Duration{5 * time.Minute, 15 * time.Minute, time.Hour, 2 * time.Hour}, offeredRanges(DefaultRanges, 2*time.Hour))
	require.Equal(t, []time.Duration{time.Minute}, offeredRanges(DefaultRanges, time.Minute))

	opts := testOptions(t)
	opts.Retention = time.Hour
	m := newTestModel(t, opts, 120, 40)
	m = press(t, m, "+")
	require.Equal(t, time.Hour, m.c.rng())
	m = press(t, m, "+")
	require.Equal(t, time.Hour, m.c.rng())
	require.Contains(t, m.View(), "the store keeps 1h of history (--retention)")
	m = press(t, m, "-")
	require.NotContains(t, m.View(), "the store keeps", "the note goes at the next key")
}

// TestGoTo: @ takes a time, centres the range on it and puts the cursor
// there; a time to come or older than the store keeps is refused, and
// the prompt stays for another try.
func TestGoTo(t *testing.T) {
	opts := testOptions(t)
	opts.Retention = 2 * time.Hour
	m := newTestModel(t, opts, 120, 40)
	m = press(t, m, "@")
	require.True(t, m.c.jump.Focused())
	require.Contains(t, m.View(), "@ ")
	m = press(t, m, "09:40", "enter")
	require.False(t, m.c.jump.Focused())
	require.Equal(t, time.Date(2026, 11, 24, 9, 47, 30, 0, time.UTC), m.c.at)
	require.Equal(t, time.Date(2026, 11, 24, 9, 40, 0, 0, time.UTC), m.c.cursor)
	require.True(t, m.c.paused)

	m = press(t, m, "@", "2026-11-24 07:00", "enter")
	require.True(t, m.c.jump.Focused(), "refused: the prompt stays")
	require.Contains(t, m.View(), "is older than the store keeps 2h")
	m = press(t, m, "esc")
	require.False(t, m.c.jump.Focused())
	m = press(t, m, "@", "2026-11-24 10:30", "enter")
	require.Contains(t, m.View(), "is still to come")
	m = press(t, m, "esc", "@", "-1m", "enter")
	require.Equal(t, testNow, m.c.at, "the range ends now at the latest")
	require.Equal(t, testNow.Add(-time.Minute), m.c.cursor)
	m = press(t, m, "@", "nonsense", "enter")
	require.Contains(t, m.View(), "want a time such as 14:05")
}

func TestParseAt(t *testing.T) {
	now := time.Date(2026, 12, 7, 1, 30, 0, 0, time.UTC)
	berlin := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		in   string
		loc  *time.Location
		want time.Time
	}{
		{"01:05", time.UTC, time.Date(2026, 12, 7, 1, 5, 0, 0, time.UTC)},
		{"@01:05:30", time.UTC, time.Date(2026, 12, 7, 1, 5, 30, 0, time.UTC)},
		{"14:05", time.UTC, time.Date(2026, 12, 6, 14, 5, 0, 0, time.UTC)}, // today's is to come
		{"02:00", berlin, time.Date(2026, 12, 7, 2, 0, 0, 0, berlin)},      // 01:00 UTC
		{"2026-12-05 14:05", time.UTC, time.Date(2026, 12, 5, 14, 5, 0, 0, time.UTC)},
		{" 2026-12-05T14:05:09 ", berlin, time.Date(2026, 12, 5, 14, 5, 9, 0, berlin)},
		{"2026-12-05T14:05:09Z", berlin, time.Date(2026, 12, 5, 14, 5, 9, 0, time.UTC)},
		{"-30m", time.UTC, now.Add(-30 * time.Minute)},
		{"-1h30m", time.UTC, now.Add(-90 * time.Minute)},
		{"-2d", time.UTC, now.Add(-48 * time.Hour)},
	} {
		got, err := parseAt(tc.in, now, tc.loc)
		require.NoError(t, err, tc.in)
		require.True(t, tc.want.Equal(got), "%q: %v, want %v", tc.in, got, tc.want)
	}
	for _, bad := range []string{"", "@", "25:00", "14:5x", "-", "-0m", "--5m", "yesterday", "2026-13-01 10:00"} {
		_, err := parseAt(bad, now, time.UTC)
		require.ErrorIs(t, err, errBadTime, "%q", bad)
	}
}

func FuzzParseAt(f *testing.F) {
	for _, s := range []string{"14:05", "2026-12-07 14:05", "-30m", "2026-12-05T14:05:09Z", "@"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 7, 1, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		at, err := parseAt(s, now, time.UTC)
		if err == nil && at.IsZero() {
			t.Fatalf("%q: no error and no time", s)
		}
	})
}

// TestPauseFreezesEverything: while paused, alert events and warnings
// wait, so that the header's counts and the event log hold still; they
// show when the console goes live.
func TestPauseFreezesEverything(t *testing.T) {
	events := make(chan AlertEvent, 4)
	status := make(chan Status, 4)
	alerts := testAlerts()
	opts := testOptions(t)
	opts.AlertEvents, opts.Status = events, status
	opts.Alerts = AlertsFunc(func() []Alert { return alerts })
	m := newTestModel(t, opts, 120, 40)
	m = press(t, m, "p")
	header := m.headerView(120)
	require.Contains(t, header, "1 firing 1 pending")

	alerts = append(alerts, Alert{Rule: "New", State: StateFiring, Labels: labels.FromStrings("alertname", "New")})
	events <- AlertEvent{Time: testNow, State: StateFiring, Labels: labels.FromStrings("alertname", "New"), Value: 1}
	m = deliver(t, m, m.c.waitAlertEvent())
	status <- Status{Source: "events", Text: "events no longer delivered"}
	m = deliver(t, m, m.c.waitStatus())
	require.Equal(t, header, m.headerView(120), "the header held still")
	require.Empty(t, m.c.events)
	require.NotContains(t, m.View(), "no longer delivered")

	m = press(t, m, "p")
	require.Contains(t, m.headerView(120), "2 firing 1 pending")
	require.Len(t, m.c.events, 1)
	require.Contains(t, m.View(), "no longer delivered")
}

// TestMouse: off by default; on (--mouse or m) a click on a tab switches
// to it, a click selects a row, the wheel moves, a click on a chart puts
// the cursor there.
func TestMouse(t *testing.T) {
	click := func(x, y int) tea.MouseMsg {
		return tea.MouseMsg{X: x, Y: y, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress}
	}
	wheel := tea.MouseMsg{Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress}
	send := func(m Model, msg tea.Msg) Model {
		nm, cmd := m.Update(msg)
		m = drive(t, nm.(Model), cmd)
		_ = m.View()
		return m
	}
	m := newTestModel(t, testOptions(t), 120, 40)
	_ = m.View()
	m = send(m, click(30, 1)) // " 3 Alerts "
	require.Equal(t, viewOverview, m.active, "off by default")

	m = press(t, m, "m")
	require.True(t, m.c.mouse)
	m = send(m, click(30, 1))
	require.Equal(t, viewAlerts, m.active)
	a := m.views[viewAlerts].(*alertsView)
	m = send(m, wheel)
	require.Equal(t, 1, a.tables[paneAlerts].cursor)
	m = send(m, click(10, m.c.contentTop+2)) // the first row, under the panes and the table's header
	require.Equal(t, 0, a.tables[paneAlerts].cursor)

	m = press(t, m, "2")
	m = send(m, click(10, m.c.contentTop+4))
	require.Equal(t, 2, m.views[viewTargets].(*targetsView).table.cursor, "the third target")

	m = press(t, m, "4", "/", "load1", "enter", "enter", "c")
	e := m.views[viewExplore].(*explore)
	require.True(t, m.c.cursor.IsZero())
	m = send(m, click(e.lay.left+e.lay.cols/2, m.c.contentTop+e.chartTop+3))
	require.False(t, m.c.cursor.IsZero())
	require.WithinDuration(t, e.chart.span.start.Add(e.chart.span.end.Sub(e.chart.span.start)/2), m.c.cursor, time.Minute)

	m = press(t, m, "m")
	require.False(t, m.c.mouse)
	m = send(m, click(10, 1))
	require.Equal(t, viewExplore, m.active, "off again")

	opts := testOptions(t)
	opts.Mouse = true
	require.True(t, newTestModel(t, opts, 80, 24).c.mouse)
}

// TestMonkey presses random keys, the console's and others, with ticks
// and mouse clicks between them, drawing after every message as the
// program does: no view may panic or leave the window.
func TestMonkey(t *testing.T) {
	keys := []string{"1", "2", "3", "4", "5", "tab", "shift+tab", "enter", "esc", "up", "down", "left", "right",
		"shift+left", "shift+right", "pgup", "pgdown", "j", "k", "h", "l", "g", "G", "/", "c", "r", "s", "S", "t", "z",
		"e", "i", "m", "p", "[", "]", "0", "@", "+", "-", "?", "ctrl+r", "x", "node", "{", "=", "\"", "09:55", "-5m"}
	opts := testOptions(t)
	opts.Retention = 2 * time.Hour
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 7))
		now := testNow
		opts.Now = func() time.Time { return now }
		m := newTestModel(t, opts, 80, 24)
		for step := range 400 {
			switch r := rng.IntN(20); {
			case r == 0:
				now = now.Add(time.Second)
				m = drive(t, m, func() tea.Msg { return tickMsg(now) })
			case r == 1:
				m.c.mouse = true
				nm, cmd := m.Update(tea.MouseMsg{X: rng.IntN(80), Y: rng.IntN(24), Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
				m = drive(t, nm.(Model), cmd)
			default:
				k := keys[rng.IntN(len(keys))]
				if k == "ctrl+c" {
					continue
				}
				m = press(t, m, k)
			}
			requireFits(t, m.View(), 80, 24)
			require.NoError(t, m.c.ctx.Err(), "seed %d step %d: quit", seed, step)
		}
	}
}
