package tui

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/require"
)

// cpuPercent is the Overview's CPU expression for a busy host: a
// percentage, between 88 and 98.
const cpuPercent = `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle", instance="batch1:9100"}[1m])))`

// TestChartViews renders the charts an operator reads at 80×24 and
// 120×40 and compares them with the golden screens (go test ./tui -run
// TestChartViews -update): a chart with the cursor, a percentage from
// zero and fitted, a legend of the labels that differ, 16 series of which
// the highest are drawn and the rest counted, and a range panned back.
func TestChartViews(t *testing.T) {
	opts := testOptions(t)
	left := func(n int) []string { return strings.Split(strings.Repeat("left ", n), " ")[:n] }
	cases := []struct {
		name string
		keys []string
		want []string // on the screen at every size
	}{
		{"cursor", append([]string{"4", "/", "load1", "enter", "enter", "c"}, left(12)...),
			[]string{"◆ 2026-11-24 09:5", "━ "}},
		{"percent", []string{"5", cpuPercent, "enter"}, []string{"100%┤", "0%┤"}},
		{"percent_fitted", []string{"5", cpuPercent, "enter", "esc", "z"}, []string{"%┤"}},
		{"legend", []string{"5", `node_filesystem_avail_bytes{instance="db1:9100"}`, "enter", "esc"},
			[]string{`device="/dev/sda1", fstype="ext4", mountpoint="/"`, `node_filesystem_avail_bytes{instance="db1:9100"`}},
		{"sixteen", []string{"4", "/", "cpu_seconds", "enter", "enter", "/", "db1", "enter", "c"},
			[]string{"6 of 16 drawn, the highest now", `cpu="7", mode="idle"`}},
		{"panned", []string{"4", "/", "load1", "enter", "enter", "c", "["}, []string{"paused", "09:37"}},
	}
	for _, size := range []struct{ w, h int }{{80, 24}, {120, 40}} {
		for _, tc := range cases {
			t.Run(tc.name+"_"+itoa(size.w)+"x"+itoa(size.h), func(t *testing.T) {
				m := newTestModel(t, opts, size.w, size.h)
				m = press(t, m, tc.keys...)
				m = tick(t, m)
				screen := m.View()
				requireFits(t, screen, size.w, size.h)
				for _, w := range tc.want {
					require.Contains(t, screen, w)
				}
				golden.RequireEqual(t, []byte(screen+"\n"))
			})
		}
	}
}

// TestPercentAxis: a percentage is drawn from 0 to 100 (96.6-97% does not
// fill the chart), other data from zero; z fits every chart to its data,
// and z again goes back.
func TestPercentAxis(t *testing.T) {
	for _, tc := range []struct {
		sp     chartSpec
		lo, hi float64
		want   [2]float64 // the axis; NaN: fitted close to the data
	}{
		{chartSpec{unit: unitPercent}, 96.6, 97, [2]float64{0, 100}},
		{chartSpec{unit: unitPercent}, 20, 130, [2]float64{0, 140}},
		{chartSpec{unit: unitRatio}, 0.2, 0.3, [2]float64{0, 1}},
		{chartSpec{}, 1000, 1010, [2]float64{0, 1200}},
		{chartSpec{}, -10, -4, [2]float64{-10, 0}},
		{chartSpec{}, -4, 10, [2]float64{-4, 10}},
		{chartSpec{unit: unitPercent, fit: true}, 96.6, 97, [2]float64{96.6, 97}},
		{chartSpec{fit: true}, 1000, 1010, [2]float64{1000, 1010}},
	} {
		lo, hi, _, fitted := yRange(tc.sp, tc.lo, tc.hi, 20)
		require.Equal(t, tc.sp.fit, fitted, "%+v", tc)
		require.LessOrEqual(t, lo, tc.want[0], "%+v", tc)
		require.GreaterOrEqual(t, hi, tc.want[1], "%+v", tc)
		// Round, but not much wider than asked.
		span := tc.want[1] - tc.want[0]
		require.Greater(t, lo, tc.want[0]-span/2, "%+v: %v-%v", tc, lo, hi)
		require.Less(t, hi, tc.want[1]+span/2, "%+v: %v-%v", tc, lo, hi)
	}

	// On screen, the Query view's CPU percentage.
	m := newTestModel(t, testOptions(t), 80, 24)
	m = press(t, m, "5", cpuPercent, "enter")
	require.Contains(t, m.View(), "100%┤")
	m = press(t, m, "esc", "z")
	require.NotContains(t, m.View(), "100%┤")
	require.NotContains(t, m.View(), " 0%┤")
	require.Contains(t, m.View(), "y fitted (z: from 0)")
	m = press(t, m, "z")
	require.Contains(t, m.View(), "100%┤")
}

// TestChartCursor: ← puts a cursor on the chart at the newest column, the
// legend shows each series' value there, and it moves a column a key (ten
// with shift). The cursor is the console's: the Query view shows its
// values at the same time.
func TestChartCursor(t *testing.T) {
	m := newTestModel(t, testOptions(t), 80, 24)
	m = press(t, m, "4", "/", "load1", "enter", "enter", "c")
	e := m.views[viewExplore].(*explore)
	require.True(t, m.c.cursor.IsZero())
	m = press(t, m, "left")
	first := m.c.cursor
	require.False(t, first.IsZero())
	require.WithinDuration(t, testNow, first, 20*time.Second, "on the newest column")
	perCol := e.chart.span.end.Sub(e.chart.span.start) / time.Duration(e.lay.cols)
	m = press(t, m, "left")
	require.InDelta(t, float64(perCol), float64(first.Sub(m.c.cursor)), float64(time.Second))
	m = press(t, m, "shift+left")
	require.InDelta(t, float64(11*perCol), float64(first.Sub(m.c.cursor)), float64(2*time.Second))
	at := m.c.cursor
	screen := m.View()
	require.Contains(t, screen, "◆ "+at.Format("2006-01-02 15:04:05"))
	require.Contains(t, screen, at.Format("15:04:05"), "on the time axis")
	// Each legend entry holds the series' value at the cursor.
	for i, s := range e.cseries {
		v := valueAt(s.points, at, e.chart.span.step)
		require.Contains(t, screen, formatAxis(v)+" "+e.cseries[i].legend)
	}

	// The Query view's table shows the values at the cursor.
	m = press(t, m, "5", "node_load1", "enter")
	screen = m.View()
	require.Contains(t, screen, "AT "+at.Format("15:04:05"))
	m = press(t, m, "esc", "0")
	require.True(t, m.c.cursor.IsZero(), "0 takes the cursor away")
	require.Contains(t, m.View(), "VALUE")
}

// TestChartSixteenSeries: a chart of more series than it draws says how
// many it left out and draws the highest; t turns the selected one off,
// and the next one in is drawn; t on a series not drawn draws it.
func TestChartSixteenSeries(t *testing.T) {
	m := newTestModel(t, testOptions(t), 120, 40)
	m = press(t, m, "4", "/", "cpu_seconds", "enter", "enter", "/", "db1", "enter", "c")
	e := m.views[viewExplore].(*explore)
	require.Len(t, e.cseries, 16)
	require.Contains(t, m.View(), "6 of 16 drawn, the highest now")
	drawn := drawnSeries(e.cseries, 6)
	require.Equal(t, []int{0, 1, 2, 3, 4, 5}, drawn, "the highest, in rank order")
	for i := 1; i < len(e.cseries); i++ {
		require.GreaterOrEqual(t, lastPoint(e.cseries[i-1].points), lastPoint(e.cseries[i].points))
	}
	m = press(t, m, "t") // the first off
	require.Equal(t, []int{1, 2, 3, 4, 5, 6}, drawnSeries(e.cseries, 6))
	require.Contains(t, m.View(), "6 of 16 drawn (1 off)")
	m = press(t, m, "t") // on again
	require.Equal(t, drawn, drawnSeries(e.cseries, 6))
	m = press(t, m, "G")
	for range 15 {
		m = press(t, m, "j")
	}
	require.Equal(t, 15, e.selected)
	m = press(t, m, "t") // the last, not drawn: drawn now, in place of the sixth
	require.Equal(t, []int{0, 1, 2, 3, 4, 15}, drawnSeries(e.cseries, 6))
}

// TestLegendShowsWhatDiffers: the legend holds the labels that tell the
// series apart, not those they share (shown once, in the title).
func TestLegendShowsWhatDiffers(t *testing.T) {
	m := newTestModel(t, testOptions(t), 120, 40)
	m = press(t, m, "4", "/", "load1", "enter", "enter", "c")
	screen := m.View()
	require.Contains(t, screen, `node_load1{job="node"}`)
	require.Contains(t, screen, `━  7.66 instance="batch1:9100"`)
	require.NotContains(t, screen, `instance="batch1:9100", job="node"`)
}

// TestChartGaps: a series with no samples for a while is drawn with a
// gap, not a line across it.
func TestChartGaps(t *testing.T) {
	st := DefaultStyles()
	start := testNow.Add(-10 * time.Minute)
	var ps []promql.FPoint
	for i := range 61 {
		if i >= 20 && i < 40 {
			continue
		}
		ps = append(ps, promql.FPoint{T: start.Add(time.Duration(i) * 10 * time.Second).UnixMilli(), F: 5})
	}
	out, lay := drawChart(&st, false, time.UTC, 70, 10, chartSpec{start: start, end: testNow, step: 10 * time.Second,
		series: []chartSeries{{points: ps}}, threshold: math.NaN()})
	lines := strings.Split(out, "\n")
	var row string
	for _, l := range lines[:lay.rows] {
		if strings.ContainsFunc(l, func(r rune) bool { return r > 0x2800 && r <= 0x28ff }) {
			row = l
		}
	}
	require.NotEmpty(t, row, "the line is drawn:\n%s", out)
	cells := []rune(row)[lay.left:]
	mid := cells[len(cells)/2]
	require.Equal(t, ' ', mid, "a gap in the middle third:\n%s", out)
	require.NotEqual(t, ' ', cells[2])
	require.NotEqual(t, ' ', cells[len(cells)-2])
}

// TestChartSaysSinceWhen: when the store holds less than the range (a
// vigil started a moment ago), the chart says from when it has data.
func TestChartSaysSinceWhen(t *testing.T) {
	st := DefaultStyles()
	start := testNow.Add(-10 * time.Minute)
	var ps []promql.FPoint
	for ts := testNow.Add(-5 * time.Minute); !ts.After(testNow); ts = ts.Add(10 * time.Second) {
		ps = append(ps, promql.FPoint{T: ts.UnixMilli(), F: 1})
	}
	sp := chartSpec{start: start, end: testNow, step: 10 * time.Second, series: []chartSeries{{points: ps}}, threshold: math.NaN()}
	out, _ := drawChart(&st, false, time.UTC, 70, 12, sp)
	require.Contains(t, out, "no value before 09:55:00")
	sp.start = testNow.Add(-5*time.Minute - 10*time.Second)
	out, _ = drawChart(&st, false, time.UTC, 70, 12, sp)
	require.NotContains(t, out, "no value before")
}
