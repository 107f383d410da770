package tui

import (
	"math"
	"strings"
	"time"

	"github.com/NimbleMarkets/ntcharts/linechart"
	"github.com/NimbleMarkets/ntcharts/linechart/timeserieslinechart"
	"github.com/charmbracelet/lipgloss"
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

// chartSeries is one line of a chart: a sanitised legend and its points.
type chartSeries struct {
	legend string
	points []promql.FPoint
}

// renderChart draws series as braille lines on time axes from start to
// end in width×height cells (legend included), with ntcharts.
func renderChart(st *Styles, ascii bool, loc *time.Location, width, height int, start, end time.Time, series []chartSeries, yfmt func(float64) string) string {
	if width < 10 || height < 3 {
		return ""
	}
	legendLines := 0
	if len(series) > 1 || (len(series) == 1 && series[0].legend != "") {
		legendLines = min(len(series), max(height/4, 1))
	}
	ch := height - legendLines
	if ch < 3 {
		ch, legendLines = height, 0
	}

	minY, maxY := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, p := range s.points {
			if math.IsNaN(p.F) || math.IsInf(p.F, 0) {
				continue
			}
			minY = math.Min(minY, p.F)
			maxY = math.Max(maxY, p.F)
		}
	}
	if math.IsInf(minY, 0) { // no finite data
		minY, maxY = 0, 1
	}
	if minY > 0 && minY < maxY/2 {
		minY = 0 // anchor mostly-positive data at zero, as Prometheus does
	}
	if maxY == minY {
		maxY = minY + 1
		if minY != 0 {
			minY, maxY = minY-math.Abs(minY)*0.1, minY+math.Abs(minY)*0.1
		}
	}
	yf := func(_ int, v float64) string { return yfmt(v) }

	// ntcharts tries a time label at every column (step 1) where the one
	// before is free; timeTicks answers only where a round time falls.
	ySteps := max(ch/3, 1)
	m := timeserieslinechart.New(width, ch,
		timeserieslinechart.WithTimeRange(start, end),
		timeserieslinechart.WithYRange(minY, maxY),
		timeserieslinechart.WithYLabelFormatter(linechart.LabelFormatter(yf)),
		timeserieslinechart.WithXYSteps(1, ySteps),
		timeserieslinechart.WithAxesStyles(st.ChartAxis, st.ChartLabel),
	)
	m.XLabelFormatter = timeTicks(loc, start, end, m.GraphWidth())
	m.AutoMaxX, m.AutoMinX, m.AutoMaxY, m.AutoMinY = false, false, false, false
	names := make([]string, 0, len(series))
	for i, s := range series {
		name := string(rune('a' + i))
		names = append(names, name)
		m.SetDataSetStyle(name, st.ChartSeries[i%len(st.ChartSeries)])
		for _, p := range s.points {
			if math.IsNaN(p.F) || math.IsInf(p.F, 0) {
				continue
			}
			m.PushDataSet(name, timeserieslinechart.TimePoint{Time: time.UnixMilli(p.T), Value: p.F})
		}
	}
	if ascii {
		m.DrawDataSets(names) // line-drawing runes, for fonts without braille
	} else {
		m.DrawBrailleDataSets(names)
	}
	out := m.View()
	if legendLines > 0 {
		var lb strings.Builder
		for i := 0; i < legendLines; i++ {
			lb.WriteByte('\n')
			if i == legendLines-1 && len(series) > legendLines {
				lb.WriteString(st.Dim.Render(fit("… and "+itoa(len(series)-i)+" more series", width)))
				break
			}
			lb.WriteString(st.ChartSeries[i%len(st.ChartSeries)].Render("━ "))
			lb.WriteString(fit(series[i].legend, width-2))
		}
		out += lb.String()
	}
	return out
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
func timeTicks(loc *time.Location, start, end time.Time, cols int) linechart.LabelFormatter {
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
