package tui

import (
	"math"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/prometheus/prometheus/promql"
)

// aligned resamples one series onto the n steps of a range query that
// starts at start: NaN where the series has no point.
func aligned(s promql.Series, start time.Time, step time.Duration, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	if step <= 0 {
		return out
	}
	t0 := start.UnixMilli()
	for _, p := range s.Floats {
		i := int((p.T - t0 + step.Milliseconds()/2) / step.Milliseconds())
		if i >= 0 && i < n {
			out[i] = p.F
		}
	}
	return out
}

// last returns the newest value that is not NaN.
func last(vs []float64) float64 {
	for i := len(vs) - 1; i >= 0; i-- {
		if !math.IsNaN(vs[i]) {
			return vs[i]
		}
	}
	return math.NaN()
}

// sparkBlocks are the one-line sparkline's columns, empty to full in
// eighths: ntcharts' lower block elements.
var sparkBlocks = [9]rune{' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'}

// renderSpark draws values as a one-line sparkline of width cells,
// right-aligned (newest on the right). maxV <= 0 scales to the largest
// value. Gaps (NaN) draw as empty columns.
//
// It draws what ntcharts' sparkline draws at height 1 (the columns round
// to the nearest eighth the same way), without its canvas: that styled
// every cell on its own, which cost an Overview of 24 hosts most of its
// frame time, and wrapped every cell in its own colour sequences, which
// multiplied the bytes sent for a changed line.
func renderSpark(values []float64, width int, maxV float64, style lipgloss.Style) string {
	if width <= 0 {
		return ""
	}
	if len(values) > width {
		values = values[len(values)-width:]
	}
	if maxV <= 0 {
		for _, v := range values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) && v > maxV {
				maxV = v
			}
		}
		if maxV <= 0 {
			maxV = 1
		}
	}
	scale := 1 / maxV
	var b strings.Builder
	b.Grow(3 * width)
	for range width - len(values) {
		b.WriteByte(' ')
	}
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			v = 0
		}
		v = math.Min(v, maxV) * scale
		b.WriteRune(sparkBlocks[sparkEighths(v)])
	}
	return style.Render(b.String())
}

// sparkEighths is how many eighths of a cell v (0..1) fills: to the
// nearest eighth, as ntcharts' runes.LowerBlockElementFromFloat64 does.
func sparkEighths(v float64) int {
	switch {
	case v >= 1:
		return 8
	case v <= 0:
		return 0
	}
	e := int(v / .125)
	if v-float64(e)*.125 >= 0.0625 {
		e++
	}
	return e
}

// tickSteps are the times between labels a time axis may use, shortest
// first.
var tickSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// timeTicks returns the label formatter of a time axis from start to end
// over cols columns: a label at the column where a multiple of a round step
// of loc's wall clock falls (1m, 2m, 5m, …: the shortest that leaves a free
// column after each label), and nothing at any other column. Labels placed
// every few columns, as ntcharts does, read 09:45 09:47 09:49 09:52 where
// the time per column is not round.
func timeTicks(loc *time.Location, start, end time.Time, cols int) func(col int, unix float64) string {
	perCol := end.Sub(start).Seconds() / float64(max(cols, 1))
	step, layout := tickSteps[len(tickSteps)-1], "01-02"
	for _, s := range tickSteps {
		l := "15:04"
		switch {
		case s < time.Minute:
			l = "15:04:05"
		case s >= 24*time.Hour:
			l = "01-02" // month and day: every label would read 00:00
		}
		if s.Seconds() >= float64(len(l)+1)*perCol {
			step, layout = s, l
			break
		}
	}
	st := step.Seconds()
	return func(_ int, v float64) string {
		// The column covers [v, v+perCol); the tick is the first
		// multiple of the step there, in wall-clock seconds.
		_, off := time.Unix(int64(v), 0).In(loc).Zone()
		wall := v + float64(off)
		tick := math.Ceil(wall/st) * st
		if tick >= wall+perCol {
			return ""
		}
		return time.Unix(int64(tick)-int64(off), 0).In(loc).Format(layout)
	}
}

// chartSeries is one line of a chart: a sanitised legend (the labels that
// tell it from the others, "" for a chart of one series) and its points.
type chartSeries struct {
	legend string
	points []promql.FPoint
	// show is the operator's choice (t): drawn whatever its rank
	// (showPinned), not drawn (showHidden), or drawn when it ranks among
	// the first MaxChartSeries (showAuto).
	show seriesShow
}

type seriesShow int8

const (
	showAuto seriesShow = iota
	showHidden
	showPinned
)

// Chart axes: a percentage is drawn from 0 to 100 and a ratio from 0 to 1
// unless told to fit the data, so that 96.6-97% does not fill the chart.
const (
	unitPlain   = ""
	unitPercent = "percent"
	unitRatio   = "ratio"
)

// chartBand is a time interval marked under a chart: an alert pending or
// firing.
type chartBand struct {
	from, to time.Time
	firing   bool
}

// chartSpec is what drawChart draws.
type chartSpec struct {
	start, end time.Time
	step       time.Duration // of the points; a longer gap breaks the line (0: the shortest gap seen)
	// series in rank order (rankSeries): the first max of them that are
	// not hidden are drawn, each in the colour of its place among those
	// drawn.
	series []chartSeries
	max    int
	yfmt   func(float64) string
	unit   string // unitPercent, unitRatio or unitPlain
	bytes  bool   // the values are bytes: axis steps in powers of 1024
	// fit fits the axis to the data (z) rather than starting it at zero
	// (a percentage or ratio spanning its full scale).
	fit           bool
	threshold     float64 // drawn as a dashed line; NaN for none
	thresholdText string  // what the legend says of it, e.g. "> 90%"
	bands         []chartBand
	cursor        time.Time // a vertical line and each series' value there; zero for none
	selected      int       // the legend entry shown selected; -1 for none
	// noLegend leaves the series' legend to the caller (Query's table);
	// the summary line stays.
	noLegend bool
}

// chartLayout is where drawChart put things, for the cursor keys and
// mouse clicks.
type chartLayout struct {
	left, cols int // the graph's first column and its width in cells
	rows       int // graph rows, from line 0
	// entries are the legend's entries: series index, line and columns.
	entries []legendEntry
	drawn   []int // the series drawn, in colour order
	fitted  bool  // the axis fits the data (not from zero, not full scale)
}

type legendEntry struct {
	series, line, from, to int
}

// seriesAt is the series whose legend entry is at line y, column x of the
// chart, or -1.
func (l chartLayout) seriesAt(x, y int) int {
	for _, e := range l.entries {
		if e.line == y && x >= e.from && x < e.to {
			return e.series
		}
	}
	return -1
}

// timeAt is the time of the graph column under x, and whether x is on the
// graph.
func (l chartLayout) timeAt(x int, start, end time.Time) (time.Time, bool) {
	col := x - l.left
	if l.cols <= 0 || col < 0 || col >= l.cols {
		return time.Time{}, false
	}
	return colTime(start, end, l.cols, col), true
}

// colTime is the time in the middle of graph column col.
func colTime(start, end time.Time, cols, col int) time.Time {
	per := float64(end.Sub(start)) / float64(cols)
	return start.Add(time.Duration(per * (float64(col) + 0.5))).Truncate(time.Second)
}

// timeCol is the graph column that t falls in, clamped to the graph.
func timeCol(start, end time.Time, cols int, t time.Time) int {
	d := end.Sub(start)
	if d <= 0 {
		return 0
	}
	return min(max(int(float64(t.Sub(start))/float64(d)*float64(cols)), 0), cols-1)
}

// seriesLess orders series for a chart and its legend: by the newest
// value, highest first (no value last), then by legend.
func seriesLess(x, y chartSeries) bool {
	a, b := lastPoint(x.points), lastPoint(y.points)
	switch {
	case math.IsNaN(a) != math.IsNaN(b):
		return !math.IsNaN(a)
	case a != b && !math.IsNaN(a):
		return a > b
	}
	return x.legend < y.legend
}

// lastPoint is the newest value of ps that is a number, or NaN.
func lastPoint(ps []promql.FPoint) float64 {
	for i := len(ps) - 1; i >= 0; i-- {
		if !math.IsNaN(ps[i].F) {
			return ps[i].F
		}
	}
	return math.NaN()
}

// valueAt is the value of ps at t: the newest point at or before t, no
// older than step (NaN when there is none).
func valueAt(ps []promql.FPoint, t time.Time, step time.Duration) float64 {
	ms := t.UnixMilli()
	i := sort.Search(len(ps), func(i int) bool { return ps[i].T > ms }) - 1
	if i < 0 || (step > 0 && ms-ps[i].T > step.Milliseconds()) {
		return math.NaN()
	}
	return ps[i].F
}

// drawnSeries picks the series a chart draws: the pinned ones, then the
// others not hidden in rank order, max in all.
func drawnSeries(ss []chartSeries, n int) []int {
	var out []int
	for i, s := range ss {
		if s.show == showPinned && len(out) < n {
			out = append(out, i)
		}
	}
	for i, s := range ss {
		if s.show == showAuto && len(out) < n {
			out = append(out, i)
		}
	}
	sort.Ints(out)
	return out
}

// brailleBits are the dots of a braille cell, by column (0, 1) and row
// (0 at the top to 3).
var brailleBits = [2][4]uint8{{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}}

// plot is the graph area of a chart while it is drawn: a cell per column
// and row, with the series that drew there last.
type plot struct {
	cols, rows int
	bits       []uint8 // braille dots
	r          []rune  // a rune instead of dots (ASCII lines, threshold, cursor)
	owner      []int8  // the series (colour) of the cell; -1 for none
	style      []*lipgloss.Style
}

func newPlot(cols, rows int) *plot {
	p := &plot{cols: cols, rows: rows, bits: make([]uint8, cols*rows), r: make([]rune, cols*rows),
		owner: make([]int8, cols*rows), style: make([]*lipgloss.Style, cols*rows)}
	for i := range p.owner {
		p.owner[i] = -1
	}
	return p
}

func (p *plot) empty(i int) bool { return p.bits[i] == 0 && p.r[i] == 0 }

// dot sets the braille dot at x (0..2*cols-1) and y (0..4*rows-1, from the
// bottom) for series s.
func (p *plot) dot(x, y int, s int8) {
	if x < 0 || y < 0 || x >= 2*p.cols || y >= 4*p.rows {
		return
	}
	row := p.rows - 1 - y/4
	i := row*p.cols + x/2
	p.bits[i] |= brailleBits[x%2][3-y%4]
	p.owner[i] = s
}

// line draws the dots from (x0, y0) to (x1, y1), Bresenham's way.
func (p *plot) line(x0, y0, x1, y1 int, s int8) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for {
		p.dot(x0, y0, s)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// set puts rune r in the cell at col and row (0 at the top) for series s.
func (p *plot) set(col, row int, r rune, s int8) {
	if col < 0 || row < 0 || col >= p.cols || row >= p.rows {
		return
	}
	i := row*p.cols + col
	p.r[i], p.bits[i], p.owner[i] = r, 0, s
}

// niceStep is the step of round axis ticks (1, 2, 2.5 or 5 times a power
// of ten) that puts about n ticks on span.
func niceStep(span float64, n int) float64 {
	if span <= 0 || n < 1 || math.IsInf(span, 0) || math.IsNaN(span) {
		return 1
	}
	raw := span / float64(n)
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*pow >= raw {
			return m * pow
		}
	}
	return 10 * pow
}

// yRange is the value axis of a chart: from lo to hi, with ticks every
// step, and whether it fits the data rather than starting at zero or
// spanning the full scale.
func yRange(sp chartSpec, lo, hi float64, rows int) (float64, float64, float64, bool) {
	if math.IsInf(lo, 0) { // no finite data
		lo, hi = 0, 1
		if sp.unit == unitPercent {
			hi = 100
		}
	}
	// Unless fitted (z), an axis starts at zero, where the data is on one
	// side of it, and a percentage or ratio spans its full scale: 96.6%
	// to 97% is not a cliff.
	full := map[string]float64{unitPercent: 100, unitRatio: 1}[sp.unit]
	zeroed := false
	switch {
	case sp.fit:
	case lo >= 0:
		lo, hi, zeroed = 0, math.Max(hi, full), true
	case hi <= 0:
		lo, hi, zeroed = math.Min(lo, -full), 0, true
	}
	if hi == lo {
		if lo == 0 {
			hi = 1
		} else {
			lo, hi = lo-math.Abs(lo)*0.1, hi+math.Abs(hi)*0.1
			if zeroed {
				lo, hi = math.Min(lo, 0), math.Max(hi, 0)
			}
		}
	}
	step := niceStep(hi-lo, max(rows/3, 1))
	if sp.bytes {
		// Round in the unit the labels print: 5MiB, not 4.77MiB.
		scale := 1.0
		for m := math.Max(math.Abs(lo), math.Abs(hi)); m/scale >= 1024; {
			scale *= 1024
		}
		step = niceStep((hi-lo)/scale, max(rows/3, 1)) * scale
	}
	dlo, dhi := lo, hi
	lo = math.Floor(lo/step+1e-9) * step
	hi = math.Ceil(hi/step-1e-9) * step
	if lo > dlo { // 1932 × 0.05 is 96.60000000000001
		lo -= step
	}
	if hi < dhi {
		hi += step
	}
	if hi <= lo {
		hi = lo + step
	}
	return lo, hi, step, sp.fit
}

// drawChart draws sp in width×height cells: y labels and the graph, the
// time axis, the alert strip when there are bands, the legend and a
// summary line (the cursor's time, how many series are not drawn, the
// threshold).
func drawChart(st *Styles, ascii bool, loc *time.Location, width, height int, sp chartSpec) (string, chartLayout) {
	var lay chartLayout
	if width < 10 || height < 3 {
		return "", lay
	}
	if sp.max <= 0 {
		sp.max = len(st.ChartSeries)
	}
	if sp.yfmt == nil {
		sp.yfmt = formatAxis
	}
	drawn := drawnSeries(sp.series, sp.max)
	lay.drawn = drawn
	colour := map[int]int{}
	for c, i := range drawn {
		colour[i] = c
	}
	step := sp.step
	if step <= 0 {
		for _, i := range drawn {
			ps := sp.series[i].points
			for k := 1; k < len(ps); k++ {
				if d := time.Duration(ps[k].T-ps[k-1].T) * time.Millisecond; d > 0 && (step == 0 || d < step) {
					step = d
				}
			}
		}
	}
	cursor := !sp.cursor.IsZero() && !sp.cursor.Before(sp.start) && !sp.cursor.After(sp.end)

	// The lines under the graph: the time axis and its labels, the strip,
	// the legend and the summary.
	summary := chartSummary(st, loc, sp, drawn, cursor)
	var legend []string
	var entries []legendEntry
	withLegend := !sp.noLegend && (len(sp.series) > 1 || cursor || (len(sp.series) == 1 && sp.series[0].legend != ""))
	below := 2
	if len(sp.bands) > 0 {
		below++
	}
	if summary != "" {
		below++
	}
	if withLegend {
		room := height - below - 3
		if len(sp.series) > 1 {
			room = min(room, max(height/4, 2))
		}
		legend, entries = chartLegend(st, sp, colour, step, cursor, width, room)
	}
	rows := height - below - len(legend)
	if rows < 3 {
		legend, entries = nil, nil
		if summary != "" {
			below--
			summary = ""
		}
		rows = height - below
	}
	if rows < 1 {
		return "", lay
	}

	lo, hi := math.Inf(1), math.Inf(-1)
	for _, i := range drawn {
		for _, p := range sp.series[i].points {
			if !math.IsNaN(p.F) && !math.IsInf(p.F, 0) {
				lo, hi = math.Min(lo, p.F), math.Max(hi, p.F)
			}
		}
	}
	if !math.IsNaN(sp.threshold) && !math.IsInf(sp.threshold, 0) && !math.IsInf(lo, 0) {
		lo, hi = math.Min(lo, sp.threshold), math.Max(hi, sp.threshold)
	}
	ylo, yhi, ystep, fitted := yRange(sp, lo, hi, rows)
	lay.fitted = fitted

	// The y labels: a round value at the row it falls in, every few rows.
	ylabels := make([]string, rows)
	labelW := 0
	for v := ylo; v <= yhi+ystep/2; v += ystep {
		row := rows - 1 - int(math.Round((v-ylo)/(yhi-ylo)*float64(rows-1)))
		if row < 0 || row >= rows || ylabels[row] != "" {
			continue
		}
		ylabels[row] = strings.Replace(sp.yfmt(v), ".0%", "%", 1) // 100%, not 100.0%
		labelW = max(labelW, ansi.StringWidth(ylabels[row]))
	}
	labelW = min(labelW, width/3)
	cols := width - labelW - 1
	if cols < 2 {
		return "", lay
	}
	lay.left, lay.cols, lay.rows = labelW+1, cols, rows
	for k := range entries {
		entries[k].line += rows + below - 1 - len(legend)
		if summary != "" {
			entries[k].line--
		}
	}
	lay.entries = entries

	p := newPlot(cols, rows)
	t0, span := sp.start.UnixMilli(), float64(sp.end.Sub(sp.start).Milliseconds())
	if span <= 0 {
		span = 1
	}
	// Lowest rank first, so the first series is drawn over the others.
	for c := len(drawn) - 1; c >= 0; c-- {
		ps := sp.series[drawn[c]].points
		if ascii {
			asciiLine(p, ps, t0, span, ylo, yhi, step, int8(c))
			continue
		}
		px, py, have := 0, 0, false
		var lastT int64
		for _, pt := range ps {
			if math.IsNaN(pt.F) || math.IsInf(pt.F, 0) {
				have = false
				continue
			}
			x := int(math.Round(float64(pt.T-t0) / span * float64(2*cols-1)))
			y := int(math.Round((pt.F - ylo) / (yhi - ylo) * float64(4*rows-1)))
			if have && (step <= 0 || pt.T-lastT <= step.Milliseconds()*3/2) {
				p.line(px, py, x, y, int8(c))
			} else {
				p.dot(x, y, int8(c))
			}
			px, py, have, lastT = x, y, true, pt.T
		}
	}
	if !math.IsNaN(sp.threshold) && sp.threshold >= ylo && sp.threshold <= yhi {
		row := rows - 1 - int(math.Round((sp.threshold-ylo)/(yhi-ylo)*float64(rows-1)))
		r := '╌'
		if ascii {
			r = '-'
		}
		for col := range cols {
			if i := row*cols + col; p.empty(i) {
				p.set(col, row, r, -1)
				p.style[i] = &st.ChartThreshold
			}
		}
	}
	ccol := -1
	if cursor {
		ccol = timeCol(sp.start, sp.end, cols, sp.cursor)
		for row := range rows {
			i := row*cols + ccol
			if p.empty(i) {
				p.set(ccol, row, '│', -1)
				p.style[i] = &st.ChartCursor
			} else {
				p.style[i] = &st.ChartCursorData
			}
		}
	}

	var b strings.Builder
	for row := range rows {
		lbl := ylabels[row]
		b.WriteString(st.ChartLabel.Render(padLeft(lbl, labelW)))
		if lbl != "" {
			b.WriteString(st.ChartAxis.Render("┤"))
		} else {
			b.WriteString(st.ChartAxis.Render("│"))
		}
		p.writeRow(&b, st, row)
		b.WriteByte('\n')
	}
	// The time axis, a tick where a label starts, and the labels.
	ticks := timeTicks(loc, sp.start, sp.end, cols)
	labels := []rune(strings.Repeat(" ", cols))
	axis := []rune(strings.Repeat("─", cols))
	perCol := span / 1000 / float64(cols)
	type placed struct{ from, to int }
	var at []placed
	for col := 0; col < cols; col++ {
		s := ticks(col, float64(t0)/1000+perCol*float64(col))
		if s == "" || col+len(s) > cols || (len(at) > 0 && col <= at[len(at)-1].to) {
			continue
		}
		at = append(at, placed{col, col + len(s)})
	}
	if cursor {
		s := sp.cursor.In(loc).Format("15:04:05")
		from := min(max(ccol-len(s)/2, 0), max(cols-len(s), 0))
		kept := at[:0]
		for _, a := range at {
			if a.to < from-1 || a.from > from+len(s) {
				kept = append(kept, a)
			}
		}
		at = append(kept, placed{-from - 1, 0}) // the cursor's, marked by a negative start
	}
	for _, a := range at {
		if a.from < 0 {
			from := -a.from - 1
			copy(labels[from:], []rune(sp.cursor.In(loc).Format("15:04:05")))
			continue
		}
		axis[a.from] = '┬'
		copy(labels[a.from:], []rune(ticks(a.from, float64(t0)/1000+perCol*float64(a.from))))
	}
	if ccol >= 0 {
		axis[ccol] = '┴'
	}
	b.WriteString(st.ChartAxis.Render(strings.Repeat(" ", labelW) + "└" + string(axis)))
	b.WriteByte('\n')
	lbls := string(labels)
	if ccol >= 0 {
		s := sp.cursor.In(loc).Format("15:04:05")
		from := min(max(ccol-len(s)/2, 0), max(cols-len(s), 0))
		rs := []rune(lbls)
		lbls = st.ChartLabel.Render(string(rs[:from])) + st.ChartCursorData.Render(string(rs[from:from+len(s)])) + st.ChartLabel.Render(string(rs[from+len(s):]))
	} else {
		lbls = st.ChartLabel.Render(lbls)
	}
	b.WriteString(strings.Repeat(" ", labelW+1) + lbls)
	if len(sp.bands) > 0 {
		b.WriteByte('\n')
		b.WriteString(alertStrip(st, sp, labelW, cols))
	}
	for _, l := range legend {
		b.WriteByte('\n')
		b.WriteString(l)
	}
	if summary != "" {
		b.WriteByte('\n')
		b.WriteString(fit(summary, width))
	}
	return b.String(), lay
}

// writeRow writes one graph row, a style change per run of cells that
// share one (a style per cell costs bytes on every frame).
func (p *plot) writeRow(b *strings.Builder, st *Styles, row int) {
	var run strings.Builder
	var cur *lipgloss.Style
	flush := func() {
		if run.Len() == 0 {
			return
		}
		if cur != nil {
			b.WriteString(cur.Render(run.String()))
		} else {
			b.WriteString(run.String())
		}
		run.Reset()
	}
	for col := range p.cols {
		i := row*p.cols + col
		r := ' '
		switch {
		case p.r[i] != 0:
			r = p.r[i]
		case p.bits[i] != 0:
			r = rune(0x2800 + int(p.bits[i]))
		}
		s := p.style[i]
		if s == nil && p.owner[i] >= 0 {
			s = &st.ChartSeries[int(p.owner[i])%len(st.ChartSeries)]
		}
		if s != cur {
			flush()
			cur = s
		}
		run.WriteRune(r)
	}
	flush()
}

// asciiLine draws ps with line-drawing runes, a cell per column (the
// newest point in it): ─ along a row, ╭╮╰╯ and │ where it changes rows.
// For fonts without braille.
func asciiLine(p *plot, ps []promql.FPoint, t0 int64, span, ylo, yhi float64, step time.Duration, s int8) {
	rowOf := make([]int, p.cols)
	tOf := make([]int64, p.cols)
	for i := range rowOf {
		rowOf[i] = -1
	}
	for _, pt := range ps {
		if math.IsNaN(pt.F) || math.IsInf(pt.F, 0) {
			continue
		}
		col := int(float64(pt.T-t0) / span * float64(p.cols))
		if col < 0 || col >= p.cols {
			continue
		}
		rowOf[col] = p.rows - 1 - int(math.Round((pt.F-ylo)/(yhi-ylo)*float64(p.rows-1)))
		tOf[col] = pt.T
	}
	prev := -1
	var prevT int64
	for col, r := range rowOf {
		if r < 0 {
			continue
		}
		joined := prev >= 0 && (step <= 0 || tOf[col]-prevT <= 2*step.Milliseconds()+1)
		switch {
		case !joined || prev == r:
			p.set(col, r, '─', s)
		case r < prev: // up (rows count down from the top)
			p.set(col, prev, '╯', s)
			for k := r + 1; k < prev; k++ {
				p.set(col, k, '│', s)
			}
			p.set(col, r, '╭', s)
		default:
			p.set(col, prev, '╮', s)
			for k := prev + 1; k < r; k++ {
				p.set(col, k, '│', s)
			}
			p.set(col, r, '╰', s)
		}
		prev, prevT = r, tOf[col]
	}
}

// alertStrip is the line under a chart's time axis that marks when the
// alert was pending (▒) and firing (█).
func alertStrip(st *Styles, sp chartSpec, labelW, cols int) string {
	cells := make([]int, cols) // 0 none, 1 pending, 2 firing
	for _, bd := range sp.bands {
		if bd.to.Before(sp.start) || bd.from.After(sp.end) {
			continue
		}
		a, z := timeCol(sp.start, sp.end, cols, bd.from), timeCol(sp.start, sp.end, cols, bd.to)
		v := 1
		if bd.firing {
			v = 2
		}
		for c := a; c <= z; c++ {
			cells[c] = max(cells[c], v)
		}
	}
	var b strings.Builder
	lbl := ""
	if labelW >= len("alert") {
		lbl = "alert"
	}
	b.WriteString(st.ChartLabel.Render(padLeft(lbl, labelW) + " "))
	for c := 0; c < cols; {
		k := c
		for k < cols && cells[k] == cells[c] {
			k++
		}
		switch cells[c] {
		case 1:
			b.WriteString(st.Pending.Render(strings.Repeat("▒", k-c)))
		case 2:
			b.WriteString(st.Firing.Render(strings.Repeat("█", k-c)))
		default:
			b.WriteString(strings.Repeat(" ", k-c))
		}
		c = k
	}
	return b.String()
}

// chartSummary is the line under a chart's legend: the cursor's time, the
// threshold, how many series are drawn of how many, and the axis; "" when
// there is nothing to say.
func chartSummary(st *Styles, loc *time.Location, sp chartSpec, drawn []int, cursor bool) string {
	var parts []string
	if cursor {
		parts = append(parts, st.ChartCursorData.Render("◆ "+sp.cursor.In(loc).Format("2006-01-02 15:04:05")))
	}
	if len(sp.bands) > 0 {
		parts = append(parts, st.Pending.Render("▒")+st.Dim.Render(" pending ")+st.Firing.Render("█")+st.Dim.Render(" firing"))
	}
	if !math.IsNaN(sp.threshold) {
		parts = append(parts, st.ChartThreshold.Render("╌")+st.Dim.Render(" "+sp.thresholdText))
	}
	if sp.fit {
		parts = append(parts, st.Warning.Render("y fitted")+st.Dim.Render(" (z: from 0)"))
	}
	// Since when: the store may hold less than the range (vigil started
	// a moment ago, or the range reaches back past the retention).
	first := int64(math.MaxInt64)
	for _, i := range drawn {
		if ps := sp.series[i].points; len(ps) > 0 {
			first = min(first, ps[0].T)
		}
	}
	if first != math.MaxInt64 {
		if t := time.UnixMilli(first); t.Sub(sp.start) > max(sp.end.Sub(sp.start)/20, 2*sp.step) {
			parts = append(parts, st.Dim.Render("no value before "+t.In(loc).Format("15:04:05")))
		}
	}
	if n := len(sp.series); n > len(drawn) {
		hidden := 0
		for _, s := range sp.series {
			if s.show == showHidden {
				hidden++
			}
		}
		s := itoa(len(drawn)) + " of " + itoa(n) + " drawn"
		if len(drawn) < sp.max || hidden > 0 {
			s += " (" + itoa(hidden) + " off)"
		} else {
			s += ", the highest now"
		}
		parts = append(parts, st.Dim.Render(s))
	}
	return strings.Join(parts, st.Dim.Render(" · "))
}

// chartLegend lays the legend out in columns of entries, in rank order:
// a mark in the series' colour (· when not drawn), its value (at the
// cursor, else the newest) and its labels; at most room lines, the last
// saying how many entries did not fit. The entries' lines count from the
// legend's first.
func chartLegend(st *Styles, sp chartSpec, colour map[int]int, step time.Duration, cursor bool, width, room int) ([]string, []legendEntry) {
	if room < 1 || len(sp.series) == 0 {
		return nil, nil
	}
	type entry struct {
		mark, value, label string
		style              *lipgloss.Style
	}
	es := make([]entry, len(sp.series))
	valueW, labelW := 0, 0
	for i, s := range sp.series {
		v := lastPoint(s.points)
		if cursor {
			v = valueAt(s.points, sp.cursor, step)
		}
		e := entry{mark: "·", value: sp.yfmt(v), label: s.legend, style: &st.Dim}
		if math.IsNaN(v) {
			e.value = "-"
		}
		if c, ok := colour[i]; ok {
			e.mark, e.style = "━", &st.ChartSeries[c%len(st.ChartSeries)]
		}
		if s.show == showHidden {
			e.mark = "○"
		}
		es[i] = e
		valueW = max(valueW, ansi.StringWidth(e.value))
		labelW = max(labelW, ansi.StringWidth(e.label))
	}
	entryW := 2 + valueW
	if labelW > 0 {
		entryW += 1 + labelW
	}
	entryW = min(entryW, width)
	perLine := max((width+2)/(entryW+2), 1)
	lines := (len(es) + perLine - 1) / perLine
	shown := len(es)
	if lines > room {
		lines = room
		shown = lines*perLine - 1 // the last place says how many more
	}
	// Row-major: read as text, the entries come in rank order.
	var out []string
	var placed []legendEntry
	for l := range lines {
		var b strings.Builder
		x := 0
		for c := range perLine {
			i := l*perLine + c
			if i >= shown {
				if i == shown && shown < len(es) {
					if c > 0 {
						b.WriteString("  ")
					}
					b.WriteString(st.Dim.Render(fit("+"+itoa(len(es)-shown)+" more", entryW)))
				}
				break
			}
			if c > 0 {
				b.WriteString("  ")
				x += 2
			}
			e := es[i]
			text := padLeft(e.value, valueW)
			if labelW > 0 {
				text += " " + e.label
			}
			if c < perLine-1 && i+1 < len(es) {
				text = padRight(text, entryW-2)
			} else {
				text = fit(text, entryW-2)
			}
			mark := e.style.Render(e.mark + " ")
			if i == sp.selected {
				text = st.TableSelected.Render(text)
			} else if _, ok := colour[i]; !ok {
				text = st.Dim.Render(text)
			}
			b.WriteString(mark + text)
			placed = append(placed, legendEntry{series: i, line: l, from: x, to: x + entryW})
			x += entryW
		}
		out = append(out, b.String())
	}
	return out, placed
}

// moveCursor moves the charts' cursor for a cursor key over a chart of
// cols columns from start to end: a column (←/→) or ten (shift), from the
// newest column when it is not on this chart yet.
func moveCursor(c *common, msg tea.KeyMsg, start, end time.Time, cols int) {
	if cols <= 0 || !end.After(start) {
		return
	}
	k := &c.keys
	step := 0
	switch {
	case key.Matches(msg, k.CursorBack):
		step = -10
	case key.Matches(msg, k.CursorJump):
		step = 10
	case key.Matches(msg, k.CursorLeft):
		step = -1
	case key.Matches(msg, k.CursorRight):
		step = 1
	}
	if c.cursor.IsZero() || c.cursor.Before(start) || c.cursor.After(end) {
		c.cursor = colTime(start, end, cols, cols-1)
		return
	}
	col := min(max(timeCol(start, end, cols, c.cursor)+step, 0), cols-1)
	c.cursor = colTime(start, end, cols, col)
}
