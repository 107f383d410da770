package tui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// The levels of the Explore view: enter goes down, esc comes back.
const (
	levelMetrics = iota
	levelSeries
	levelChart
)

// How often (in refresh ticks) the list of metric names is re-read: it
// changes rarely and can be long.
const metricsEvery = 10

type exploreMetricsMsg struct {
	seq      int
	names    []string
	err      error
	types    map[string]model.MetricType // nil when there is no MetadataSource or it failed
	typesErr error
}

type exploreSeriesMsg struct {
	seq    int
	series []labels.Labels
	values map[uint64]float64
	err    error
}

type exploreChartMsg struct {
	seq  int
	mat  promql.Matrix
	span span
	err  error
}

// explore is view 4: metric names → the series of one metric → a chart
// of one series.
type explore struct {
	c     *common
	level int

	metrics      table
	names        []string
	metricsErr   error
	nameText     []string // names, sanitised once when they arrive
	metricsAge   int      // ticks since the names were read
	metricsBusy  bool
	metricsSeq   int
	metricsReady bool
	// types are the families' declared types, where the targets agree
	// (Options.Metadata); nil without them.
	types map[string]model.MetricType
	// typesNote says that the MetadataSource has no types to give
	// (ErrNotReported); "" when it has.
	typesNote string

	metric     string // chosen metric name (raw)
	series     table
	seriesLs   []labels.Labels // shown rows, in order
	allSeries  []labels.Labels
	seriesText []string // allSeries, printed and sanitised once
	seriesKey  []string
	seriesHash []uint64
	values     map[uint64]float64
	seriesErr  error
	seriesBusy bool
	seriesSeq  int
	seriesDone bool

	chosen    labels.Labels   // chosen series
	chosenAll []labels.Labels // or several, charted together
	raw       bool            // r: chart a counter as it is, not as a rate
	chart     *exploreChartMsg
	chartBusy bool
	chartSeq  int
	// The chart of several series: their legends (the labels that differ)
	// and keys in rank order, what t chose, the legend entry selected, and
	// where the chart was drawn, for the cursor and clicks.
	cseries  []chartSeries
	ckeys    []string
	show     map[string]seriesShow
	selected int
	lay      chartLayout
	chartTop int

	filters [2]filter // metrics, series
}

func newExplore(c *common) *explore {
	return &explore{
		c:       c,
		filters: [2]filter{newFilter(), newFilter()},
		metrics: table{cols: []column{{title: "METRIC", min: 10}}},
		series: table{cols: []column{
			{title: "SERIES", min: 20},
			{title: "VALUE", width: 13, right: true},
		}},
	}
}

func (e *explore) title() string   { return "Explore" }
func (e *explore) capturing() bool { return e.level != levelChart && e.f().editing }

// f is the filter of the current list.
func (e *explore) f() *filter { return &e.filters[min(e.level, levelSeries)] }

func (e *explore) ShortHelp() []key.Binding {
	k := &e.c.keys
	switch e.level {
	case levelChart:
		var ks []key.Binding
		if e.chosenAll != nil {
			ks = append(ks, withHelp(k.Down, "↑/↓", "series"), k.Toggle)
		}
		ks = append(ks, k.CursorLeft, k.Back)
		if e.kind().counter {
			ks = append(ks, k.Raw)
		}
		return append(ks, k.ZeroAxis, k.RangeUp, k.RangeDown)
	case levelSeries:
		return []key.Binding{k.Up, k.Down, withHelp(k.Enter, "enter", "chart"), k.ChartAll, k.Back, k.Filter}
	}
	return []key.Binding{k.Up, k.Down, withHelp(k.Enter, "enter", "series"), k.Filter}
}

func (e *explore) FullHelp() [][]key.Binding {
	k := &e.c.keys
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{withHelp(k.Enter, "enter", "drill in"), withHelp(k.ChartAll, "c", "chart the listed series"), k.Back, k.Filter},
		{withHelp(k.Raw, "r", "counter: rate or raw"), withHelp(k.CursorLeft, "←/→", "chart cursor"), withHelp(k.CursorJump, "S-←/→", "cursor by 10"),
			withHelp(k.Down, "↑/↓", "chart: pick a series"), k.Toggle},
	}
}

// selector prints a PromQL selector matching exactly ls (or just the
// metric name), quoting whatever a target put in the labels.
func selector(ls labels.Labels) string {
	var ms []*labels.Matcher
	ls.Range(func(l labels.Label) {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, l.Name, l.Value))
	})
	return (&parser.VectorSelector{LabelMatchers: ms}).String()
}

func (e *explore) refresh() tea.Cmd {
	c := e.c
	q := c.opts.Querier
	if q == nil {
		return nil
	}
	end := c.valueTime()
	start := end.Add(-c.rng())
	switch e.level {
	case levelMetrics:
		e.metricsAge++
		if e.metricsBusy || (e.metricsReady && e.metricsAge < metricsEvery) {
			return nil
		}
		e.metricsBusy, e.metricsAge = true, 0
		e.metricsSeq++
		seq, md := e.metricsSeq, c.opts.Metadata
		return func() tea.Msg {
			ctx, cancel := c.queryCtx()
			defer cancel()
			names, err := q.LabelValues(ctx, labels.MetricName, start, end)
			msg := exploreMetricsMsg{seq: seq, names: names, err: err}
			if md != nil && err == nil {
				msg.types, msg.typesErr = declaredTypes(ctx, md)
			}
			return msg
		}
	case levelSeries:
		if e.seriesBusy {
			return nil
		}
		e.seriesBusy = true
		e.seriesSeq++
		seq, metric, limit := e.seriesSeq, e.metric, c.opts.MaxRows
		return func() tea.Msg {
			ctx, cancel := c.queryCtx()
			defer cancel()
			m := labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, metric)
			ss, err := q.Series(ctx, start, end, limit, m)
			msg := exploreSeriesMsg{seq: seq, series: ss, err: err, values: map[uint64]float64{}}
			if err != nil {
				return msg
			}
			v, err := q.Instant(ctx, selector(labels.FromStrings(labels.MetricName, metric)), end)
			if vec, ok := v.(promql.Vector); ok && err == nil {
				for _, s := range vec {
					msg.values[s.Metric.Hash()] = s.F
				}
			}
			return msg
		}
	case levelChart:
		sp := c.spanFor(max(c.width-10, 10) * 2)
		if e.chartBusy || (e.chart != nil && e.chart.span == sp) {
			return nil
		}
		e.chartBusy = true
		e.chartSeq++
		seq, expr := e.chartSeq, selector(e.chosen)
		var want map[uint64]bool
		if e.chosenAll != nil {
			expr = selector(labels.FromStrings(labels.MetricName, e.metric))
			want = map[uint64]bool{}
			for _, ls := range e.chosenAll {
				want[ls.DropMetricName().Hash()] = true // rate() drops the name
			}
		}
		if e.asRate() {
			expr = "rate(" + expr + "[" + rateWindow(sp.step) + "])"
		}
		return func() tea.Msg {
			ctx, cancel := c.queryCtx()
			defer cancel()
			mat, err := q.Range(ctx, expr, sp.start, sp.end, sp.step)
			if want != nil {
				kept := mat[:0]
				for _, s := range mat {
					if want[s.Metric.DropMetricName().Hash()] {
						kept = append(kept, s)
					}
				}
				mat = kept
			}
			return &exploreChartMsg{seq: seq, mat: mat, span: sp, err: err}
		}
	}
	return nil
}

func (e *explore) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case exploreMetricsMsg:
		if msg.seq == e.metricsSeq {
			e.metricsBusy, e.metricsReady = false, true
			e.names, e.metricsErr = msg.names, msg.err
			e.typesNote = ""
			switch {
			case errors.Is(msg.typesErr, ErrNotReported):
				// Not a failure: the remote keeps no types (VictoriaMetrics).
				e.types = nil
				e.typesNote = "metric types " + ErrNotReported.Error() + ": counters are told by their names"
			case msg.typesErr != nil:
				// The types of the last load stay; a new family goes by
				// its name.
				e.metricsErr = fmt.Errorf("metric types: %w (counters are told by their names)", msg.typesErr)
			case msg.types != nil:
				e.types = msg.types
			}
			e.nameText = make([]string, len(msg.names))
			for i, n := range msg.names {
				e.nameText[i] = Sanitize(n, maxNameLen)
			}
		}
	case exploreSeriesMsg:
		if msg.seq == e.seriesSeq {
			e.seriesBusy, e.seriesDone = false, true
			e.allSeries, e.values, e.seriesErr = msg.series, msg.values, msg.err
			e.seriesText = make([]string, len(msg.series))
			e.seriesKey = make([]string, len(msg.series))
			e.seriesHash = make([]uint64, len(msg.series))
			for i, ls := range msg.series {
				e.seriesText[i] = labelsString(ls, false, maxLineLen)
				e.seriesKey[i] = string(ls.Bytes(nil))
				e.seriesHash[i] = ls.Hash()
			}
		}
	case *exploreChartMsg:
		if msg.seq == e.chartSeq {
			e.chartBusy = false
			e.chart = msg
			e.buildSeries()
		}
	case viewClick:
		return e.click(msg)
	case rangeChangedMsg:
		e.metricsBusy, e.seriesBusy, e.chartBusy = false, false, false
		e.metricsSeq++
		e.seriesSeq++
		e.chartSeq++
		e.metricsAge = metricsEvery
		e.chart = nil
		e.cseries, e.ckeys = nil, nil
	case tea.KeyMsg:
		return e.handleKey(msg)
	}
	return nil
}

func (e *explore) handleKey(msg tea.KeyMsg) tea.Cmd {
	k := &e.c.keys
	e.rebuild()
	if e.level != levelChart {
		if handled, changed := e.f().update(msg, k); handled {
			if changed {
				e.metrics.cursor, e.series.cursor = 0, 0
			}
			return nil
		}
	}
	switch {
	case key.Matches(msg, k.Back):
		switch e.level {
		case levelChart:
			e.level = levelSeries
			e.chart, e.chartBusy = nil, false
			e.chartSeq++
		case levelSeries:
			e.level = levelMetrics
			e.allSeries, e.seriesDone, e.seriesBusy = nil, false, false
			e.seriesSeq++
		}
		return e.refresh()
	case key.Matches(msg, k.Enter):
		switch e.level {
		case levelMetrics:
			r, ok := e.metrics.selected()
			if !ok {
				return nil
			}
			e.metric = r.key
			e.level = levelSeries
			e.series = table{cols: e.series.cols}
			e.allSeries, e.seriesDone, e.seriesErr = nil, false, nil
			e.seriesBusy = false
			e.filters[levelSeries] = newFilter()
			return e.refresh()
		case levelSeries:
			i := e.series.cursor
			if i < 0 || i >= len(e.seriesLs) {
				return nil
			}
			e.chosen, e.chosenAll, e.raw = e.seriesLs[i], nil, false
			e.level = levelChart
			e.chart, e.chartBusy = nil, false
			return e.refresh()
		}
		return nil
	case e.level == levelChart && (key.Matches(msg, k.CursorLeft) || key.Matches(msg, k.CursorRight) ||
		key.Matches(msg, k.CursorBack) || key.Matches(msg, k.CursorJump)):
		if d := e.chart; d != nil {
			moveCursor(e.c, msg, d.span.start, d.span.end, e.lay.cols)
		}
		return nil
	case e.level == levelChart && e.chosenAll != nil && key.Matches(msg, k.Up):
		e.selected = max(e.selected-1, 0)
		return nil
	case e.level == levelChart && e.chosenAll != nil && key.Matches(msg, k.Down):
		e.selected = min(e.selected+1, max(len(e.cseries)-1, 0))
		return nil
	case e.level == levelChart && e.chosenAll != nil && key.Matches(msg, k.Toggle):
		e.toggle(e.selected)
		return nil
	case e.level == levelChart && key.Matches(msg, k.Raw) && e.kind().counter:
		e.raw = !e.raw
		e.chart, e.chartBusy = nil, false
		e.chartSeq++ // a query under way is for the other kind
		return e.refresh()
	case e.level == levelSeries && key.Matches(msg, k.ChartAll):
		if len(e.seriesLs) == 0 {
			return nil
		}
		e.chosenAll = append([]labels.Labels(nil), e.seriesLs...)
		e.chosen, e.raw = labels.FromStrings(labels.MetricName, e.metric), false
		e.show, e.selected = map[string]seriesShow{}, 0
		e.level = levelChart
		e.chart, e.chartBusy = nil, false
		return e.refresh()
	}
	switch e.level {
	case levelMetrics:
		e.metrics.move(msg, k)
	case levelSeries:
		e.series.move(msg, k)
	}
	return nil
}

func (e *explore) view(width, height int) string {
	c, st := e.c, &e.c.styles
	if c.opts.Querier == nil {
		return st.Empty.Render("no query source")
	}
	switch e.level {
	case levelSeries:
		return e.seriesView(width, height)
	case levelChart:
		return e.chartView(width, height)
	}
	e.rebuild()
	title := st.Title.Render("Metrics") + st.Dim.Render(" "+e.metrics.scrollInfo())
	if f := e.f().view(st, width/2); f != "" {
		title += "  " + f
	}
	if e.typesNote != "" && height > 4 {
		title += "\n" + st.Dim.Render(fit(e.typesNote, width))
		height--
	}
	return e.listPage(title, e.metricsErr, e.metricsReady, len(e.names) > 0, "metrics", "metric", &e.metrics, width, height)
}

// listPage lays out a list level of Explore: the title, the error of the
// last load if any, and the list, or why it is empty (still loading,
// nothing in the time range, nothing through the filter).
func (e *explore) listPage(title string, err error, loaded, unfiltered bool, nouns, noun string, t *table, width, height int) string {
	st := &e.c.styles
	lines := []string{title}
	if err != nil {
		lines = append(lines, st.Error.Render(fit(Sanitize(err.Error(), maxErrorLen), width)))
	}
	empty := "no " + nouns + " in the last " + formatRange(e.c.rng())
	switch {
	case !loaded:
		empty = "loading…"
	case unfiltered:
		empty = "no " + noun + " matches the filter"
	}
	lines = append(lines, t.view(st, width, height-len(lines), empty))
	return joinLines(lines)
}

// rebuild fills the list of the current level from the data and the
// filter.
func (e *explore) rebuild() {
	switch e.level {
	case levelMetrics:
		// Metric names take a fuzzy filter: "nnrb" finds
		// node_network_receive_bytes_total; the best matches first.
		type hit struct {
			row   row
			score int
		}
		var hits []hit
		pat := e.f().value()
		for i, n := range e.names {
			s := e.nameText[i]
			score, ok := fuzzyScore(strings.ToLower(s), pat)
			if !ok {
				continue
			}
			hits = append(hits, hit{row{key: n, cells: []string{s}}, score})
		}
		sort.SliceStable(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
		rows := make([]row, len(hits))
		for i, h := range hits {
			rows[i] = h.row
		}
		e.metrics.setRows(rows)
	case levelSeries:
		var rows []row
		e.seriesLs = e.seriesLs[:0]
		for i, ls := range e.allSeries {
			s := e.seriesText[i]
			if !e.f().matches(s) {
				continue
			}
			val := "-"
			if v, ok := e.values[e.seriesHash[i]]; ok {
				val = formatValue(v)
			}
			e.seriesLs = append(e.seriesLs, ls)
			rows = append(rows, row{key: e.seriesKey[i], cells: []string{s, val}})
		}
		e.series.setRows(rows)
	}
}

func (e *explore) seriesView(width, height int) string {
	c, st := e.c, &e.c.styles
	e.rebuild()
	title := st.Title.Render(fit(Sanitize(e.metric, maxNameLen), width/2)) + st.Dim.Render(" "+e.series.scrollInfo()+" series")
	if len(e.allSeries) >= c.opts.MaxRows {
		title += st.Warning.Render(" (first " + itoa(c.opts.MaxRows) + ")")
	}
	if f := e.f().view(st, width/3); f != "" {
		title += "  " + f
	}
	return e.listPage(title, e.seriesErr, e.seriesDone, len(e.allSeries) > 0, "series", "series", &e.series, width, height)
}

// asRate reports whether the chart shows the metric as a per-second rate:
// a counter, unless r asked for it raw.
func (e *explore) asRate() bool { return e.kind().counter && !e.raw }

// kind is what the chosen metric is: as its family is declared, when the
// targets declare it, else as its name says.
func (e *explore) kind() metricKind {
	var typeOf func(string) model.MetricType
	if e.types != nil {
		typeOf = func(f string) model.MetricType { return e.types[f] }
	}
	if counter, ok := counterByType(e.metric, typeOf); ok {
		return kindAs(e.metric, counter)
	}
	return kindOf(e.metric)
}

// declaredTypes asks md for every family's type and keeps those the
// targets agree on.
func declaredTypes(ctx context.Context, md MetadataSource) (map[string]model.MetricType, error) {
	all, err := md.Metadata(ctx, "")
	if err != nil {
		return nil, err
	}
	types := make(map[string]model.MetricType, len(all))
	for name, ms := range all {
		if len(ms) == 1 {
			types[name] = ms[0].Type
		}
	}
	return types, nil
}

func (e *explore) chartView(width, height int) string {
	c, st := e.c, &e.c.styles
	kind := e.kind()
	what := e.chosen
	if e.chosenAll != nil && e.chart != nil && len(e.cseries) > 0 {
		// What the series share; the legend shows what tells them apart.
		var sets []labels.Labels
		for _, s := range e.chart.mat {
			sets = append(sets, s.Metric)
		}
		what = labels.NewBuilder(splitLabels(sets).shared).Set(labels.MetricName, e.metric).Labels()
	}
	title := st.Title.Render(labelsString(what, true, max(width-20, 10))) + st.Dim.Render(" "+c.rangeText())
	switch {
	case e.asRate():
		title = st.Dim.Render("rate ") + title + st.Dim.Render(" /s · r raw")
	case kind.counter:
		title += st.Dim.Render(" raw · r rate")
	}
	yfmt := kind.format
	if !e.asRate() && kind.counter {
		yfmt = kindAs(e.metric, false).format
	}
	if e.chosenAll != nil {
		title += st.Dim.Render(" · " + itoa(len(e.chosenAll)) + " series")
	}
	lines := []string{fit(title, width)}
	d := e.chart
	e.lay = chartLayout{}
	switch {
	case d == nil:
		lines = append(lines, st.Empty.Render("loading…"))
	case d.err != nil:
		lines = append(lines, st.Error.Render(fit(Sanitize(d.err.Error(), maxErrorLen), width)))
	case len(d.mat) == 0:
		lines = append(lines, st.Empty.Render("no samples in "+c.rangeWords()))
	default:
		if e.chosenAll == nil {
			lines = append(lines, statsLine(st, d.mat[0].Floats, width, yfmt))
		}
		axis := unitPlain
		if kind.unit == "ratio" && !e.asRate() {
			axis = unitRatio
		}
		selected := -1
		if e.chosenAll != nil {
			selected = e.selected
		}
		e.chartTop = len(lines)
		var chart string
		chart, e.lay = drawChart(st, c.opts.ASCII, c.opts.Location, width, height-len(lines), chartSpec{
			start: d.span.start, end: d.span.end, step: d.span.step, series: e.cseries, max: c.opts.MaxChartSeries,
			yfmt: yfmt, unit: axis, bytes: kind.unit == "bytes", fit: c.fitAxis, threshold: math.NaN(), cursor: c.cursor, selected: selected,
		})
		lines = append(lines, chart)
	}
	return joinLines(lines)
}

// buildSeries ranks the chart's series by value and reads the labels that
// tell them apart, for the legend.
func (e *explore) buildSeries() {
	e.cseries, e.ckeys = nil, nil
	d := e.chart
	if d == nil || d.err != nil {
		return
	}
	var sets []labels.Labels
	for _, s := range d.mat {
		sets = append(sets, s.Metric)
	}
	split := splitLabels(sets)
	type kv struct {
		s chartSeries
		k string
	}
	all := make([]kv, 0, len(d.mat))
	for _, s := range d.mat {
		k := string(s.Metric.Bytes(nil))
		legend := ""
		if e.chosenAll != nil {
			legend = split.distinct(s.Metric, maxLineLen)
		}
		all = append(all, kv{chartSeries{legend: legend, points: s.Floats, show: e.show[k]}, k})
	}
	ss := make([]chartSeries, len(all))
	for i := range all {
		ss[i] = all[i].s
	}
	// rankSeries sorts stably: sort the keys the same way.
	idx := make([]int, len(ss))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return seriesLess(ss[idx[a]], ss[idx[b]]) })
	for _, i := range idx {
		e.cseries = append(e.cseries, all[i].s)
		e.ckeys = append(e.ckeys, all[i].k)
	}
	e.selected = min(e.selected, max(len(e.cseries)-1, 0))
}

// toggle turns series i off, or on again; a series not drawn (below the
// first MaxChartSeries) is drawn.
func (e *explore) toggle(i int) {
	if i < 0 || i >= len(e.cseries) {
		return
	}
	k := e.ckeys[i]
	drawn := false
	for _, j := range drawnSeries(e.cseries, e.c.opts.MaxChartSeries) {
		drawn = drawn || j == i
	}
	switch e.show[k] {
	case showHidden, showPinned:
		delete(e.show, k)
	default:
		if drawn {
			e.show[k] = showHidden
		} else {
			e.show[k] = showPinned
		}
	}
	e.cseries[i].show = e.show[k]
}

// click on a chart puts the cursor at the time under it; on a legend
// entry it selects that series, and a second click turns it off or on.
func (e *explore) click(msg viewClick) tea.Cmd {
	switch e.level {
	case levelMetrics, levelSeries:
		tbl, err := &e.metrics, e.metricsErr
		if e.level == levelSeries {
			tbl, err = &e.series, e.seriesErr
		}
		top := 1 // the title
		if err != nil {
			top++
		}
		if i := tbl.offset + msg.y - top - 1; msg.y > top && i < len(tbl.rows) {
			tbl.cursor = i
		}
		return nil
	}
	d := e.chart
	if d == nil {
		return nil
	}
	y := msg.y - e.chartTop
	if i := e.lay.seriesAt(msg.x, y); i >= 0 {
		if e.selected == i {
			e.toggle(i)
		}
		e.selected = i
		return nil
	}
	if y >= 0 && y < e.lay.rows {
		if t, ok := e.lay.timeAt(msg.x, d.span.start, d.span.end); ok {
			e.c.cursor = t
		}
	}
	return nil
}

// statsLine summarises points: last, min, avg, max, printed with format.
func statsLine(st *Styles, ps []promql.FPoint, width int, format func(float64) string) string {
	if len(ps) == 0 {
		return ""
	}
	lo, hi, sum, n := math.Inf(1), math.Inf(-1), 0.0, 0
	for _, p := range ps {
		if math.IsNaN(p.F) {
			continue
		}
		lo, hi = math.Min(lo, p.F), math.Max(hi, p.F)
		sum += p.F
		n++
	}
	avg := math.NaN()
	if n > 0 {
		avg = sum / float64(n)
	}
	s := st.Dim.Render("last ") + format(ps[len(ps)-1].F) +
		st.Dim.Render("  min ") + format(lo) +
		st.Dim.Render("  avg ") + format(avg) +
		st.Dim.Render("  max ") + format(hi)
	return padANSI(s, width)
}
