package tui

import (
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

type queryResultMsg struct {
	seq      int
	expr     string
	at       time.Time
	instant  parser.Value
	instErr  error
	mat      promql.Matrix
	rangeErr error
	span     span
	took     time.Duration
}

// queryView is view 5: a PromQL prompt, the instant result as a table
// and, for expressions that have one, the range result as a chart.
type queryView struct {
	c       *common
	input   textinput.Model
	history []string
	histPos int // len(history) when not browsing
	expr    string
	res     *queryResultMsg
	table   table
	busy    bool
	seq     int

	// Completion: metric names (only those that are plain identifiers,
	// so nothing a target sent ends up in the prompt), re-read now and
	// then, and the candidates of the last ambiguous tab.
	names     []string
	namesAge  int
	namesBusy bool
	cands     []string

	only string // the key of the one result row charted, "" for all
}

type queryNamesMsg struct{ names []string }

func newQueryView(c *common) *queryView {
	ti := textinput.New()
	ti.Prompt = "› "
	ti.Placeholder = `PromQL, e.g. rate(node_cpu_seconds_total{mode="user"}[1m])`
	ti.CharLimit = 4096
	ti.Cursor.SetMode(cursor.CursorStatic)
	ti.Focus()
	return &queryView{
		c:     c,
		input: ti,
		table: table{cols: []column{
			{title: "SERIES", min: 20},
			{title: "VALUE", width: 12, right: true},
		}},
	}
}

func (v *queryView) title() string   { return "Query" }
func (v *queryView) capturing() bool { return v.input.Focused() }

func (v *queryView) ShortHelp() []key.Binding {
	k := &v.c.keys
	if v.input.Focused() {
		return []key.Binding{k.Run, k.Complete, withHelp(k.HistoryPrev, "↑/↓", "history"), withHelp(k.Back, "esc", "results")}
	}
	return []key.Binding{k.Edit, k.Up, k.Down, withHelp(k.Enter, "enter", "chart one"), k.RangeUp}
}

func (v *queryView) FullHelp() [][]key.Binding {
	k := &v.c.keys
	return [][]key.Binding{
		{k.Run, k.Complete, k.HistoryPrev, k.HistoryNext, withHelp(k.Back, "esc", "leave the prompt"), k.Edit},
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{withHelp(k.Enter, "enter", "chart the selected series"), withHelp(k.Back, "esc", "chart all again")},
	}
}

// refresh re-runs the last query, so that its result stays live; not
// before the evaluation time or the chart's grid has moved.
func (v *queryView) refresh() tea.Cmd {
	c := v.c
	if c.opts.Querier == nil {
		return nil
	}
	names := v.refreshNames()
	if v.expr == "" || v.busy {
		return names
	}
	if r := v.res; r != nil && r.at.Equal(c.valueTime()) && r.span == v.span() {
		return names
	}
	return tea.Batch(names, v.run(v.expr))
}

// refreshNames re-reads the metric names for completion every
// metricsEvery refreshes.
func (v *queryView) refreshNames() tea.Cmd {
	c := v.c
	v.namesAge++
	if v.namesBusy || (v.names != nil && v.namesAge < metricsEvery) {
		return nil
	}
	v.namesBusy, v.namesAge = true, 0
	end := c.valueTime()
	start := end.Add(-c.rng())
	q := c.opts.Querier
	return func() tea.Msg {
		ctx, cancel := c.queryCtx()
		defer cancel()
		all, _ := q.LabelValues(ctx, labels.MetricName, start, end)
		names := make([]string, 0, len(all))
		for _, n := range all {
			if n != "" && strings.IndexFunc(n, func(r rune) bool { return !isIdentRune(r) }) < 0 {
				names = append(names, n)
			}
		}
		return queryNamesMsg{names: names}
	}
}

func (v *queryView) span() span { return v.c.spanFor(max(v.c.width-10, 10) * 2) }

func (v *queryView) run(expr string) tea.Cmd {
	c := v.c
	q := c.opts.Querier
	if q == nil {
		return nil
	}
	v.busy = true
	v.seq++
	seq := v.seq
	sp, at := v.span(), c.valueTime()
	return func() tea.Msg {
		ctx, cancel := c.queryCtx()
		defer cancel()
		t0 := c.opts.Now()
		res := &queryResultMsg{seq: seq, expr: expr, at: at, span: sp}
		res.instant, res.instErr = q.Instant(ctx, expr, at)
		if res.instErr == nil {
			switch res.instant.Type() {
			case parser.ValueTypeVector, parser.ValueTypeScalar:
				res.mat, res.rangeErr = q.Range(ctx, expr, sp.start, sp.end, sp.step)
			}
		}
		res.took = c.opts.Now().Sub(t0)
		return res
	}
}

func (v *queryView) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case *queryResultMsg:
		if msg.seq == v.seq {
			v.busy = false
			v.res = msg
			v.table.setRows(v.rows())
		}
		return nil
	case queryNamesMsg:
		v.names, v.namesBusy = msg.names, false
		return nil
	case rangeChangedMsg:
		v.busy = false
		v.seq++
		return nil
	case tea.KeyMsg:
		return v.handleKey(msg)
	}
	return nil
}

func (v *queryView) handleKey(msg tea.KeyMsg) tea.Cmd {
	k := &v.c.keys
	if !v.input.Focused() {
		switch {
		case key.Matches(msg, k.Edit):
			v.input.Focus()
			return nil
		case key.Matches(msg, k.Enter):
			if r, ok := v.table.selected(); ok && v.res != nil && v.res.instant.Type() == parser.ValueTypeVector {
				v.only = r.key
			}
			return nil
		case key.Matches(msg, k.Back):
			v.only = ""
			return nil
		}
		v.table.move(msg, k)
		return nil
	}
	cands := v.cands
	v.cands = nil
	switch {
	case key.Matches(msg, k.Complete):
		if c, ok := complete(v.input.Value(), v.input.Position(), v.names); ok {
			v.input.SetValue(c.value)
			v.input.SetCursor(c.cursor)
			v.cands = c.candidates
		} else {
			v.cands = cands
		}
		return nil
	case key.Matches(msg, k.Run):
		expr := strings.TrimSpace(v.input.Value())
		if expr == "" {
			return nil
		}
		if len(v.history) == 0 || v.history[len(v.history)-1] != expr {
			v.history = append(v.history, expr)
			if len(v.history) > 100 {
				v.history = v.history[1:]
			}
		}
		v.histPos = len(v.history)
		v.expr = expr
		v.res = nil
		v.only = ""
		v.table.cursor = 0
		v.input.Blur()
		return v.run(expr)
	case key.Matches(msg, k.Back):
		v.input.Blur()
		return nil
	case key.Matches(msg, k.HistoryPrev):
		if v.histPos > 0 {
			v.histPos--
			v.input.SetValue(v.history[v.histPos])
			v.input.CursorEnd()
		}
		return nil
	case key.Matches(msg, k.HistoryNext):
		if v.histPos < len(v.history)-1 {
			v.histPos++
			v.input.SetValue(v.history[v.histPos])
			v.input.CursorEnd()
		} else {
			v.histPos = len(v.history)
			v.input.SetValue("")
		}
		return nil
	}
	var cmd tea.Cmd
	v.input, cmd = v.input.Update(msg)
	return cmd
}

// rows turns the instant result into table rows.
func (v *queryView) rows() []row {
	r := v.res
	if r == nil || r.instErr != nil {
		return nil
	}
	var rows []row
	switch val := r.instant.(type) {
	case promql.Vector:
		sorted := append(promql.Vector(nil), val...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].Metric.String() < sorted[j].Metric.String() })
		for i, s := range sorted {
			if i >= v.c.opts.MaxRows {
				break
			}
			value := formatValue(s.F)
			if s.H != nil {
				value = "histogram"
			}
			rows = append(rows, row{key: string(s.Metric.Bytes(nil)), cells: []string{labelsString(s.Metric, true, maxLineLen), value}})
		}
	case promql.Scalar:
		rows = append(rows, row{key: "scalar", cells: []string{"scalar", formatValue(val.V)}})
	case promql.String:
		rows = append(rows, row{key: "string", cells: []string{Sanitize(val.V, maxLineLen), ""}})
	case promql.Matrix:
		for i, s := range val {
			if i >= v.c.opts.MaxRows {
				break
			}
			value := ""
			if n := len(s.Floats); n > 0 {
				value = formatValue(s.Floats[n-1].F) + " (" + itoa(n) + ")"
			}
			rows = append(rows, row{key: string(s.Metric.Bytes(nil)), cells: []string{labelsString(s.Metric, true, maxLineLen), value}})
		}
	}
	return rows
}

func (v *queryView) view(width, height int) string {
	c, st := v.c, &v.c.styles
	v.input.Width = max(width-3, 1)
	st.styleInput(&v.input)
	lines := []string{v.input.View()}
	if len(v.cands) > 0 {
		lines = append(lines, st.Dim.Render(fit(strings.Join(v.cands, "  "), width)))
	}
	if c.opts.Querier == nil {
		lines = append(lines, st.Empty.Render("no query source"))
		return joinLines(lines)
	}
	r := v.res
	switch {
	case r == nil && v.busy:
		lines = append(lines, st.Empty.Render("running…"))
		return joinLines(lines)
	case r == nil:
		lines = append(lines, st.Dim.Render(fit("enter runs the query at now and over the last "+formatRange(c.rng())+"; esc leaves the prompt", width)))
		return joinLines(lines)
	case r.instErr != nil:
		if caret := v.caretLine(r.instErr, width); caret != "" {
			lines = append(lines, caret)
		}
		for _, l := range wrap(Sanitize(r.instErr.Error(), maxErrorLen), width) {
			lines = append(lines, st.Error.Render(l))
		}
		return joinLines(lines)
	}
	info := string(r.instant.Type()) + " · " + itoa(len(v.table.rows)) + " result"
	if len(v.table.rows) != 1 {
		info += "s"
	}
	info += " · " + formatDuration(r.took) + " · range " + formatRange(c.rng())
	if v.only != "" {
		info += " · charting the selected series (esc: all)"
	}
	lines = append(lines, st.Dim.Render(fit(info, width)))

	avail := height - len(lines)
	chartable := len(r.mat) > 0 && r.rangeErr == nil
	tableH := avail
	if chartable && avail >= 10 {
		// Results on top (a few rows), the chart below gets the rest.
		tableH = min(len(v.table.rows)+1, max(avail/3, 3))
	}
	lines = append(lines, v.table.view(st, width, tableH, "empty result"))
	if r.rangeErr != nil {
		lines = append(lines, st.Error.Render(fit("range: "+Sanitize(r.rangeErr.Error(), maxErrorLen), width)))
	} else if chartable && avail-tableH >= 5 {
		var ss []chartSeries
		mat := r.mat
		if v.only != "" {
			mat = nil
			for _, s := range r.mat {
				if string(s.Metric.Bytes(nil)) == v.only {
					mat = append(mat, s)
				}
			}
		}
		for i, s := range mat {
			if i >= c.opts.MaxChartSeries {
				break
			}
			legend := labelsString(s.Metric, true, maxLineLen)
			if s.Metric.IsEmpty() {
				legend = Sanitize(r.expr, maxLineLen)
			}
			ss = append(ss, chartSeries{legend: legend, points: s.Floats})
		}
		if len(mat) > len(ss) && len(ss) > 0 {
			ss[len(ss)-1].legend += " (+" + itoa(len(mat)-len(ss)) + " not drawn)"
		}
		lines = append(lines, renderChart(st, c.opts.ASCII, c.opts.Location, width, avail-tableH, r.span.start, r.span.end, ss, formatAxis))
	}
	return joinLines(lines)
}

// caretLine points, under the input, at the part of the query a parse
// error is about: "" when err is not a parse error of the text in the
// input, or the text does not fit on the line (the input scrolls then).
func (v *queryView) caretLine(err error, width int) string {
	var pe *parser.ParseErr
	var pes parser.ParseErrors
	switch {
	case errors.As(err, &pes) && len(pes) > 0:
		pe = &pes[0]
	case errors.As(err, &pe):
	default:
		return ""
	}
	q := v.input.Value()
	prompt := ansi.StringWidth(v.input.Prompt)
	start, end := int(pe.PositionRange.Start), int(pe.PositionRange.End)
	if pe.Query != q || strings.Contains(q, "\n") || start < 0 || start > len(q) || prompt+ansi.StringWidth(q)+1 > width {
		return ""
	}
	end = min(max(end, start+1), len(q)+1)
	col := prompt + ansi.StringWidth(q[:start])
	n := max(ansi.StringWidth(q[start:min(end, len(q))]), 1)
	return strings.Repeat(" ", col) + v.c.styles.Error.Render(strings.Repeat("^", n))
}
