package tui

import (
	"math"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// The chart of an alert's or a rule's detail: what the rule's expression
// compares (X of "X > 90"), for the alert's series (every series, for a
// rule), with the threshold drawn and, under the time axis, when the
// alert was pending and firing (from the ALERTS series, and the alert's
// own times). An alert's chart is centred on when it fired, when the
// store still holds that; [ and ] pan from there.

// alertChart is the state of the detail's chart.
type alertChart struct {
	key      string // of what is charted: the alert's labels or the rule's group and name
	data     *alertChartData
	busy     bool
	seq      int
	show     map[string]seriesShow
	selected int
	series   []chartSeries
	keys     []string
	lay      chartLayout
	top      int // the chart's first line in the detail
}

// alertChartData is a read of the chart's data.
type alertChartData struct {
	seq       int
	key       string
	span      span
	centred   bool // on when the alert fired
	expr      string
	threshold float64
	op        string
	mat       promql.Matrix
	others    int // series of the expression that are not the alert's
	bands     []chartBand
	err       error
}

func (ch *alertChart) forget() {
	ch.data, ch.busy = nil, false
	ch.seq++
	ch.series, ch.keys = nil, nil
}

func (ch *alertChart) arrived(d *alertChartData) {
	if d.seq != ch.seq {
		return
	}
	ch.busy = false
	ch.data = d
	var sets []labels.Labels
	for _, s := range d.mat {
		sets = append(sets, s.Metric)
	}
	split := splitLabels(sets)
	type kv struct {
		s chartSeries
		k string
	}
	var all []kv
	for _, s := range d.mat {
		k := string(s.Metric.Bytes(nil))
		legend := ""
		if len(d.mat) > 1 {
			legend = split.distinct(s.Metric, maxLineLen)
		}
		all = append(all, kv{chartSeries{legend: legend, points: s.Floats, show: ch.show[k]}, k})
	}
	sortStable(len(all), func(i, j int) bool { return seriesLess(all[i].s, all[j].s) }, func(i, j int) { all[i], all[j] = all[j], all[i] })
	ch.series, ch.keys = nil, nil
	for _, x := range all {
		ch.series = append(ch.series, x.s)
		ch.keys = append(ch.keys, x.k)
	}
	ch.selected = min(ch.selected, max(len(ch.series)-1, 0))
}

// sortStable is an insertion sort: a chart has few series, and the keys
// must move with them.
func sortStable(n int, less func(i, j int) bool, swap func(i, j int)) {
	for i := 1; i < n; i++ {
		for j := i; j > 0 && less(j, j-1); j-- {
			swap(j, j-1)
		}
	}
}

// ruleOf is the rule of alert a, when the rule source lists it.
func (v *alertsView) ruleOf(a Alert) (Rule, bool) {
	for _, r := range v.c.rules {
		if r.Name == a.Rule && r.Group == a.Group {
			return r, true
		}
	}
	return Rule{}, false
}

// open remembers what enter opened: the detail follows it by its labels
// (a rule by its group and name) as the rows move.
func (v *alertsView) open() bool {
	t := &v.tables[v.pane]
	switch {
	case v.pane == paneAlerts && t.cursor < len(v.shown):
		v.openAlert, v.openGone = v.shown[t.cursor], false
		return true
	case v.pane == paneRules && t.cursor < len(v.rules):
		v.openRule, v.openGone = v.rules[t.cursor], false
		return true
	}
	return false
}

// opened is what the detail shows: the alert it opened on, as it is now,
// or as last seen when it is gone (openGone); or the rule.
func (v *alertsView) opened() (a Alert, r Rule, isAlert, ok bool) {
	if !v.detail {
		return Alert{}, Rule{}, false, false
	}
	t := &v.tables[v.pane]
	switch v.pane {
	case paneAlerts:
		v.openGone = true
		for i, x := range v.shown {
			if labels.Equal(x.Labels, v.openAlert.Labels) {
				v.openAlert, v.openGone, t.cursor = x, false, i
				break
			}
		}
		r, _ = v.ruleOf(v.openAlert)
		return v.openAlert, r, true, true
	case paneRules:
		v.openGone = true
		for i, x := range v.rules {
			if x.Group == v.openRule.Group && x.Name == v.openRule.Name {
				v.openRule, v.openGone, t.cursor = x, false, i
				break
			}
		}
		return Alert{}, v.openRule, false, true
	}
	return Alert{}, Rule{}, false, false
}

// chartEnd is when the detail's chart ends: the console's range when the
// operator moved through time, else centred on when the alert fired (or
// went pending) when that is still in the store and not too recent, else
// now.
func (v *alertsView) chartEnd() (end time.Time, centred bool) {
	c := v.c
	if !c.live() {
		return c.at, false
	}
	a, _, isAlert, ok := v.opened()
	if !ok || !isAlert {
		return c.now, false
	}
	t := a.FiredAt
	if t.IsZero() {
		t = a.ActiveAt
	}
	if t.IsZero() || (c.opts.Retention > 0 && t.Before(c.now.Add(-c.opts.Retention))) {
		return c.now, false
	}
	if end := t.Add(c.rng() / 2); end.Before(c.now) {
		return end, true
	}
	return c.now, false
}

// shownEnd implements shownEnder: [ and ] pan from the chart's range.
func (v *alertsView) shownEnd() (time.Time, bool) {
	if !v.detail {
		return time.Time{}, false
	}
	end, _ := v.chartEnd()
	return end, true
}

// refreshChart reads the detail's chart when what it shows or its range
// changed.
func (v *alertsView) refreshChart() tea.Cmd {
	c := v.c
	q := c.opts.Querier
	a, r, isAlert, ok := v.opened()
	if q == nil || !ok || r.Expr == "" {
		return nil
	}
	end, centred := v.chartEnd()
	sp := c.spanEnding(max(c.width-10, 10)*2, end)
	key := r.Group + "\x00" + r.Name
	if isAlert {
		key = string(a.Labels.Bytes(nil))
	}
	ch := &v.chart
	if ch.key != key {
		ch.forget()
		ch.key = key
		ch.show, ch.selected = map[string]seriesShow{}, 0
	}
	if ch.busy || (ch.data != nil && ch.data.span == sp) {
		return nil
	}
	ch.busy = true
	ch.seq++
	seq := ch.seq
	expr, thr, op := alertChartExpr(r.Expr)
	if r.Recording {
		expr, thr, op = r.Expr, math.NaN(), ""
	}
	// The bands: the ALERTS series of the alert (of every alert of the
	// rule), and the times the alert source tells.
	alertsSel := []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "ALERTS"),
		labels.MustNewMatcher(labels.MatchEqual, labels.AlertName, r.Name)}
	var own []Alert
	if isAlert {
		a.Labels.Range(func(l labels.Label) {
			if l.Name != labels.AlertName {
				alertsSel = append(alertsSel, labels.MustNewMatcher(labels.MatchEqual, l.Name, l.Value))
			}
		})
		own = []Alert{a}
	} else {
		for _, x := range c.alerts {
			if x.Rule == r.Name && x.Group == r.Group {
				own = append(own, x)
			}
		}
	}
	now := c.now
	// Samples of ALERTS further apart than this are two episodes.
	gap := 3 * r.Interval
	if gap <= 0 {
		gap = time.Minute // not told: Prometheus' default evaluation interval
	}
	gap = max(gap, sp.step)
	return func() tea.Msg {
		ctx, cancel := c.queryCtx()
		defer cancel()
		d := &alertChartData{seq: seq, key: key, span: sp, centred: centred, expr: expr, threshold: thr, op: op}
		mat, err := q.Range(ctx, expr, sp.start, sp.end, sp.step)
		if err != nil {
			d.err = err
			return d
		}
		for _, s := range mat {
			if !isAlert || labelsWithin(s.Metric, a.Labels) {
				d.mat = append(d.mat, s)
			} else {
				d.others++
			}
		}
		if !r.Recording {
			// The samples as the rules wrote them, not a range query's
			// points: those carry a sample on for the lookback (5m)
			// after the last, past a restart that wrote no stale marker.
			sel := (&parser.MatrixSelector{VectorSelector: &parser.VectorSelector{LabelMatchers: alertsSel},
				Range: sp.end.Sub(sp.start) + sp.step}).String()
			if v, err := q.Instant(ctx, sel, sp.end); err == nil {
				if am, ok := v.(promql.Matrix); ok {
					d.bands = bandsOf(am, gap)
				}
			}
			for _, x := range own {
				d.bands = append(d.bands, episode(x, now)...)
			}
		}
		return d
	}
}

// labelsWithin reports whether every label of s (but the metric name) is
// in a with the same value: s is the series an alert with labels a comes
// from.
func labelsWithin(s, a labels.Labels) bool {
	ok := true
	s.Range(func(l labels.Label) {
		if l.Name != labels.MetricName && a.Get(l.Name) != l.Value {
			ok = false
		}
	})
	return ok
}

// bandsOf reads ALERTS samples into the intervals they were pending and
// firing: a run of samples no more than gap apart.
func bandsOf(mat promql.Matrix, gap time.Duration) []chartBand {
	var out []chartBand
	for _, s := range mat {
		firing := s.Metric.Get("alertstate") == string(StateFiring)
		var from, to int64
		open := false
		for _, p := range s.Floats {
			if open && p.T-to > gap.Milliseconds() {
				out = append(out, chartBand{from: time.UnixMilli(from), to: time.UnixMilli(to), firing: firing})
				open = false
			}
			if !open {
				from, open = p.T, true
			}
			to = p.T
		}
		if open {
			out = append(out, chartBand{from: time.UnixMilli(from), to: time.UnixMilli(to), firing: firing})
		}
	}
	return out
}

// episode is an alert's current pending and firing intervals, from its
// own times.
func episode(a Alert, now time.Time) []chartBand {
	end := now
	if !a.ResolvedAt.IsZero() {
		end = a.ResolvedAt
	}
	var out []chartBand
	if !a.ActiveAt.IsZero() {
		to := end
		if !a.FiredAt.IsZero() {
			to = a.FiredAt
		}
		out = append(out, chartBand{from: a.ActiveAt, to: to})
	}
	if !a.FiredAt.IsZero() {
		out = append(out, chartBand{from: a.FiredAt, to: end, firing: true})
	}
	return out
}

// chartView draws the detail's chart in width×height: a title line and
// the chart, or why there is none.
func (v *alertsView) chartView(r Rule, width, height int) []string {
	c, st, ch := v.c, &v.c.styles, &v.chart
	if height < 4 {
		return nil
	}
	if r.Expr == "" {
		return []string{st.Empty.Render(fit("no chart: the rule's expression is not known", width))}
	}
	if c.opts.Querier == nil {
		return []string{st.Empty.Render("no chart: no query source")}
	}
	d := ch.data
	if d == nil {
		return []string{st.Empty.Render("loading the chart…")}
	}
	end := d.span.end.In(c.opts.Location)
	title := st.Title.Render("chart") + st.Dim.Render(" "+end.Add(-c.rng()).Format("15:04")+"–"+end.Format("15:04"))
	if d.centred {
		title += st.Dim.Render(", centred on when it fired")
	}
	title += st.Dim.Render(" · e query · [ ] pan")
	lines := []string{fit(title, width)}
	kind, axis := exprKind(r.Expr)
	switch {
	case d.err != nil:
		return append(lines, st.Error.Render(fit("query: "+Sanitize(d.err.Error(), maxErrorLen), width)))
	case len(d.mat) == 0 && d.others > 0:
		return append(lines, st.Empty.Render(fit("none of the expression's "+itoa(d.others)+" series is this alert's in this range", width)))
	case len(d.mat) == 0:
		return append(lines, st.Empty.Render(fit("the expression has no data in this range", width)))
	}
	thrText := ""
	if !math.IsNaN(d.threshold) {
		thrText = "fires at " + d.op + " " + strings.Replace(kind.format(d.threshold), ".0%", "%", 1)
	}
	selected := -1
	if len(ch.series) > 1 {
		selected = ch.selected
	}
	ch.top = len(lines)
	chart, lay := drawChart(st, c.opts.ASCII, c.opts.Location, width, height-1, chartSpec{
		start: d.span.start, end: d.span.end, step: d.span.step, series: ch.series, max: c.opts.MaxChartSeries,
		yfmt: kind.format, unit: axis, bytes: kind.unit == "bytes", fit: c.fitAxis, threshold: d.threshold, thresholdText: thrText,
		bands: d.bands, cursor: c.cursor, selected: selected,
	})
	ch.lay = lay
	return append(lines, strings.Split(chart, "\n")...)
}

// detailKey handles the keys of an alert's or a rule's detail.
func (v *alertsView) detailKey(km tea.KeyMsg) tea.Cmd {
	k, ch := &v.c.keys, &v.chart
	switch {
	case key.Matches(km, k.Back):
		v.detail = false
		ch.forget()
		ch.key = ""
	case key.Matches(km, k.QueryExpr):
		if _, r, _, ok := v.opened(); ok && r.Expr != "" {
			expr := r.Expr
			return func() tea.Msg { return openQueryMsg{expr: expr} }
		}
	case key.Matches(km, k.CursorLeft), key.Matches(km, k.CursorRight), key.Matches(km, k.CursorBack), key.Matches(km, k.CursorJump):
		if d := ch.data; d != nil {
			moveCursor(v.c, km, d.span.start, d.span.end, ch.lay.cols)
		}
	case key.Matches(km, k.Up):
		ch.selected = max(ch.selected-1, 0)
	case key.Matches(km, k.Down):
		ch.selected = min(ch.selected+1, max(len(ch.series)-1, 0))
	case key.Matches(km, k.Toggle):
		ch.toggle(ch.selected, v.c.opts.MaxChartSeries)
	}
	return nil
}

// toggle turns series i off, or on again; a series not drawn is drawn.
func (ch *alertChart) toggle(i, most int) {
	if i < 0 || i >= len(ch.series) {
		return
	}
	k := ch.keys[i]
	drawn := false
	for _, j := range drawnSeries(ch.series, most) {
		drawn = drawn || j == i
	}
	switch ch.show[k] {
	case showHidden, showPinned:
		delete(ch.show, k)
	default:
		if drawn {
			ch.show[k] = showHidden
		} else {
			ch.show[k] = showPinned
		}
	}
	ch.series[i].show = ch.show[k]
}

// click in the detail: a legend entry selects its series (a second click
// turns it off or on), the chart puts the cursor at the time under it;
// in a table, the row under it.
func (v *alertsView) click(msg viewClick) tea.Cmd {
	ch := &v.chart
	if !v.detail {
		// Under the panes, the labels every row shares when there are
		// some, and the table's header.
		t, top := &v.tables[v.pane], 2
		if v.shared[v.pane] != "" {
			top++
		}
		if i := t.offset + msg.y - top; msg.y >= top && i < len(t.rows) {
			t.cursor = i
		}
		return nil
	}
	d := ch.data
	if d == nil {
		return nil
	}
	y := msg.y - ch.top
	if i := ch.lay.seriesAt(msg.x, y); i >= 0 {
		if ch.selected == i {
			ch.toggle(i, v.c.opts.MaxChartSeries)
		}
		ch.selected = i
		return nil
	}
	if y >= 0 && y < ch.lay.rows {
		if t, ok := ch.lay.timeAt(msg.x, d.span.start, d.span.end); ok {
			v.c.cursor = t
		}
	}
	return nil
}
