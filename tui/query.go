package tui

import (
	"errors"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
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

// queryHintMsg says why the query of seq found nothing.
type queryHintMsg struct {
	seq  int
	hint string
}

// queryLabelsMsg carries label names (label "") or a label's values for
// completion.
type queryLabelsMsg struct {
	key  string
	vals []string
}

// openQueryMsg asks for the Query view with expr in the prompt, run.
type openQueryMsg struct{ expr string }

// queryView is view 5: a PromQL prompt, the instant result as a table
// (sorted by value, in the chart's units) that is also the chart's
// legend, and for expressions that have one the range result as a chart.
//
// The prompt keeps the keyboard after enter, whatever the result: only
// esc leaves it (and ctrl+c quits), so nothing typed into a query can
// quit or switch views. Out of the prompt, j/k pick a series, t turns it
// on or off, enter charts it alone, ←/→ move the cursor, e edits again.
type queryView struct {
	c       *common
	input   textinput.Model
	history []string
	histPos int // len(history) when not browsing
	saver   *historyWriter
	histErr string

	// ctrl+r: the history search.
	finding bool
	find    textinput.Model
	foundAt int
	saved   string // the input before the search

	expr  string
	res   *queryResultMsg
	kind  metricKind
	axis  string
	table table
	busy  bool
	seq   int
	hint  string

	// The chart: the series in table order, what t chose, what enter
	// singled out.
	series []chartSeries
	keys   []string
	show   map[string]seriesShow
	only   string // the key of the one series charted, "" for all
	lay    chartLayout
	span   span
	rowsAt time.Time // the cursor the rows' values are at

	// Where the table and the chart were drawn, for clicks.
	tableTop, chartTop int

	// Completion: metric names (only those that are plain identifiers,
	// so nothing a target sent ends up in the prompt), re-read now and
	// then; label names and values read when a tab needs them; the
	// candidates of the last ambiguous tab, which tab cycles.
	names     []string
	namesAge  int
	namesBusy bool
	labels    map[string][]string // "n\x00metric" → names, "v\x00metric\x00label" → values
	fetching  map[string]bool
	pending   *pendingTab
	cyc       *compCycle
	compMsg   string
}

// compCycle is the candidate list of the last ambiguous tab: tab and
// shift+tab put the next or previous candidate in place of the word.
type compCycle struct {
	cc    compContext
	base  string // the input with the word as typed (or its common prefix)
	cands []string
	idx   int // -1 before the first cycle
	value string
	pos   int
}

// pendingTab is a tab that waits for label names or values.
type pendingTab struct {
	value string
	pos   int
	key   string
}

type queryNamesMsg struct{ names []string }

func newQueryView(c *common) *queryView {
	ti := textinput.New()
	ti.Prompt = "› "
	ti.Placeholder = `PromQL, e.g. rate(node_cpu_seconds_total{mode="user"}[1m])`
	ti.CharLimit = maxHistoryEntry
	ti.Cursor.SetMode(cursor.CursorStatic)
	ti.Focus()
	find := textinput.New()
	find.Prompt = "history› "
	find.Placeholder = "words of a past query"
	find.Cursor.SetMode(cursor.CursorStatic)
	v := &queryView{
		c:        c,
		input:    ti,
		find:     find,
		labels:   map[string][]string{},
		fetching: map[string]bool{},
		show:     map[string]seriesShow{},
		table: table{cols: []column{
			{title: "", width: 1},
			{title: "SERIES", min: 20},
			{title: "VALUE", width: 12, right: true},
		}},
	}
	if c.opts.HistoryFile != "" {
		v.saver = &historyWriter{path: c.opts.HistoryFile}
	}
	return v
}

func (v *queryView) title() string   { return "Query" }
func (v *queryView) capturing() bool { return v.input.Focused() || v.finding }

// init reads the history file.
func (v *queryView) init() tea.Cmd { return loadHistory(v.c.opts.HistoryFile) }

// open puts expr in the prompt and runs it.
func (v *queryView) open(expr string) tea.Cmd {
	v.finding = false
	v.input.SetValue(expr)
	v.input.CursorEnd()
	v.input.Focus()
	v.cyc, v.pending = nil, nil
	return v.runInput()
}

func (v *queryView) ShortHelp() []key.Binding {
	k := &v.c.keys
	switch {
	case v.finding:
		return []key.Binding{withHelp(k.Run, "enter", "run"), withHelp(k.Complete, "tab", "edit"), withHelp(k.HistoryFind, "ctrl+r/↑↓", "older/newer"), withHelp(k.Back, "esc", "cancel")}
	case v.input.Focused():
		return []key.Binding{k.Run, withHelp(k.Complete, "tab", "complete"), withHelp(k.HistoryPrev, "↑/↓", "history"), k.HistoryFind, withHelp(k.Back, "esc", "results")}
	}
	return []key.Binding{k.Edit, withHelp(k.Up, "↑/↓", "series"), k.Toggle, withHelp(k.Enter, "enter", "chart one"), k.CursorLeft, k.RangeUp}
}

func (v *queryView) FullHelp() [][]key.Binding {
	k := &v.c.keys
	return [][]key.Binding{
		{k.Run, k.Complete, k.CompletePrev, k.HistoryPrev, k.HistoryNext, k.HistoryFind, withHelp(k.Back, "esc", "leave the prompt")},
		{k.Edit, k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{withHelp(k.Enter, "enter", "chart the selected series alone"), withHelp(k.Back, "esc", "chart all again"), k.Toggle,
			withHelp(k.CursorLeft, "←/→", "chart cursor"), withHelp(k.CursorJump, "S-←/→", "cursor by 10")},
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
	if r := v.res; r != nil && r.at.Equal(c.valueTime()) && r.span == v.chartSpan() {
		return names
	}
	return tea.Batch(names, v.run(v.expr))
}

// refreshNames re-reads the metric names for completion every
// metricsEvery refreshes, and forgets the label names and values read.
func (v *queryView) refreshNames() tea.Cmd {
	c := v.c
	v.namesAge++
	if v.namesBusy || (v.names != nil && v.namesAge < metricsEvery) {
		return nil
	}
	v.namesBusy, v.namesAge = true, 0
	clear(v.labels)
	end := c.valueTime()
	start := end.Add(-c.rng())
	q := c.opts.Querier
	return func() tea.Msg {
		ctx, cancel := c.queryCtx()
		defer cancel()
		all, _ := q.LabelValues(ctx, labels.MetricName, start, end)
		return queryNamesMsg{names: safeWords(all, true)}
	}
}

// fetchLabels reads label names (label "") or a label's values of the
// series of metric (all series when ""), for completion.
func (v *queryView) fetchLabels(k, metric, label string) tea.Cmd {
	c := v.c
	q := c.opts.Querier
	if q == nil || v.fetching[k] {
		return nil
	}
	v.fetching[k] = true
	end := c.valueTime()
	start := end.Add(-c.rng())
	var ms []*labels.Matcher
	if metric != "" {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, metric))
	}
	return func() tea.Msg {
		ctx, cancel := c.queryCtx()
		defer cancel()
		var vals []string
		if label == "" {
			vals, _ = q.LabelNames(ctx, start, end, ms...)
			vals = slices.DeleteFunc(safeWords(vals, true), func(n string) bool { return n == labels.MetricName })
		} else {
			vals, _ = q.LabelValues(ctx, label, start, end, ms...)
			vals = safeWords(vals, false)
		}
		if vals == nil {
			vals = []string{}
		}
		return queryLabelsMsg{key: k, vals: vals}
	}
}

// chartSpan is the grid of the chart: two points a column.
func (v *queryView) chartSpan() span { return v.c.spanFor(max(v.c.width-10, 10) * 2) }

func (v *queryView) run(expr string) tea.Cmd {
	c := v.c
	q := c.opts.Querier
	if q == nil {
		return nil
	}
	v.busy = true
	v.seq++
	seq := v.seq
	sp, at := v.chartSpan(), c.valueTime()
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

// runInput runs what the prompt holds, keeping it in the history.
func (v *queryView) runInput() tea.Cmd {
	expr := strings.TrimSpace(v.input.Value())
	if expr == "" {
		return nil
	}
	v.history = addHistory(v.history, expr)
	v.histPos = len(v.history)
	if expr != v.expr {
		v.show = map[string]seriesShow{}
		v.only = ""
		v.table.cursor = 0
	}
	v.expr = expr
	v.res, v.hint = nil, ""
	v.kind, v.axis = exprKind(expr)
	return tea.Batch(v.run(expr), v.saver.save(v.history))
}

func (v *queryView) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case *queryResultMsg:
		if msg.seq != v.seq {
			return nil
		}
		v.busy = false
		v.res = msg
		v.buildSeries()
		if msg.instErr == nil && isEmpty(msg.instant) && v.c.opts.Querier != nil {
			return v.explainEmpty(msg)
		}
		return nil
	case queryHintMsg:
		if msg.seq == v.seq {
			v.hint = msg.hint
		}
		return nil
	case queryNamesMsg:
		v.names, v.namesBusy = msg.names, false
		return nil
	case queryLabelsMsg:
		delete(v.fetching, msg.key)
		v.labels[msg.key] = msg.vals
		if p := v.pending; p != nil && p.key == msg.key {
			v.pending, v.compMsg = nil, ""
			if p.value == v.input.Value() && p.pos == v.input.Position() && v.input.Focused() {
				return v.complete(false)
			}
		}
		return nil
	case historyLoadedMsg:
		// Queries run before the file was read stay the newest.
		h := msg.entries
		for _, q := range v.history {
			h = addHistory(h, q)
		}
		v.history, v.histPos = h, len(h)
		if msg.err != nil {
			v.histErr = Sanitize(msg.err.Error(), maxErrorLen)
		}
		return nil
	case historySavedMsg:
		v.histErr = ""
		if msg.err != nil {
			v.histErr = Sanitize(msg.err.Error(), maxErrorLen)
		}
		return nil
	case rangeChangedMsg:
		v.busy = false
		v.seq++
		return nil
	case viewClick:
		return v.click(msg)
	case tea.KeyMsg:
		return v.handleKey(msg)
	}
	return nil
}

func isEmpty(val parser.Value) bool {
	switch x := val.(type) {
	case promql.Vector:
		return len(x) == 0
	case promql.Matrix:
		return len(x) == 0
	}
	return false
}

// explainEmpty looks, off the event loop, for why the query found nothing.
func (v *queryView) explainEmpty(r *queryResultMsg) tea.Cmd {
	c, q, seq, expr := v.c, v.c.opts.Querier, r.seq, r.expr
	end := r.at
	start := end.Add(-c.rng())
	return func() tea.Msg {
		ctx, cancel := c.queryCtx()
		defer cancel()
		return queryHintMsg{seq: seq, hint: emptyHint(ctx, q, expr, start, end)}
	}
}

func (v *queryView) handleKey(msg tea.KeyMsg) tea.Cmd {
	k := &v.c.keys
	if v.finding {
		return v.findKey(msg)
	}
	if !v.input.Focused() {
		return v.resultKey(msg)
	}
	v.compMsg = ""
	switch {
	case key.Matches(msg, k.Complete):
		return v.complete(false)
	case key.Matches(msg, k.CompletePrev):
		return v.complete(true)
	}
	v.pending = nil
	switch {
	case key.Matches(msg, k.Run):
		v.cyc = nil
		return v.runInput()
	case key.Matches(msg, k.Back):
		if v.cyc != nil {
			v.cyc = nil // first the candidates go
			return nil
		}
		v.input.Blur()
		return nil
	case key.Matches(msg, k.HistoryFind):
		v.cyc = nil
		v.finding, v.saved, v.foundAt = true, v.input.Value(), 0
		v.find.SetValue("")
		v.find.Focus()
		return nil
	case key.Matches(msg, k.HistoryPrev):
		v.cyc = nil
		if v.histPos > 0 {
			v.histPos--
			v.input.SetValue(v.history[v.histPos])
			v.input.CursorEnd()
		}
		return nil
	case key.Matches(msg, k.HistoryNext):
		v.cyc = nil
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
	if v.cyc != nil && (v.input.Value() != v.cyc.value || v.input.Position() != v.cyc.pos) {
		v.cyc = nil
	}
	return cmd
}

// resultKey handles the keys out of the prompt.
func (v *queryView) resultKey(msg tea.KeyMsg) tea.Cmd {
	k := &v.c.keys
	switch {
	case key.Matches(msg, k.Edit):
		v.input.Focus()
		return nil
	case key.Matches(msg, k.HistoryFind):
		v.input.Focus()
		return v.handleKey(msg)
	case key.Matches(msg, k.Enter):
		if r, ok := v.table.selected(); ok && v.res != nil && v.res.instant.Type() == parser.ValueTypeVector {
			v.only = r.key
			v.buildRows()
		}
		return nil
	case key.Matches(msg, k.Back):
		v.only = ""
		v.buildRows()
		return nil
	case key.Matches(msg, k.Toggle):
		if r, ok := v.table.selected(); ok {
			v.toggle(r.key)
		}
		return nil
	case key.Matches(msg, k.CursorLeft), key.Matches(msg, k.CursorRight), key.Matches(msg, k.CursorBack), key.Matches(msg, k.CursorJump):
		moveCursor(v.c, msg, v.span.start, v.span.end, v.lay.cols)
		v.buildRows()
		return nil
	}
	v.table.move(msg, k)
	return nil
}

// toggle turns the series of key off, or on again; a series not drawn
// (below the first MaxChartSeries) is drawn.
func (v *queryView) toggle(k string) {
	drawn := map[string]bool{}
	for _, i := range drawnSeries(v.series, v.c.opts.MaxChartSeries) {
		drawn[v.keys[i]] = true
	}
	switch v.show[k] {
	case showHidden, showPinned:
		delete(v.show, k)
	default:
		if drawn[k] {
			v.show[k] = showHidden
		} else {
			v.show[k] = showPinned
		}
	}
	v.buildSeries()
}

// findKey handles the keys of the history search.
func (v *queryView) findKey(msg tea.KeyMsg) tea.Cmd {
	k := &v.c.keys
	found := findHistory(v.history, v.find.Value())
	pick := func() {
		if v.foundAt < len(found) {
			v.input.SetValue(found[v.foundAt])
			v.input.CursorEnd()
		}
		v.finding = false
		v.histPos = len(v.history)
	}
	switch {
	case key.Matches(msg, k.Back):
		v.finding = false
		v.input.SetValue(v.saved)
		v.input.CursorEnd()
		return nil
	case key.Matches(msg, k.Run):
		pick()
		return v.runInput()
	case key.Matches(msg, k.Complete), msg.Type == tea.KeyRight:
		pick()
		return nil
	case key.Matches(msg, k.HistoryFind), key.Matches(msg, k.HistoryPrev):
		if v.foundAt < len(found)-1 {
			v.foundAt++
		}
		return nil
	case key.Matches(msg, k.HistoryNext):
		if v.foundAt > 0 {
			v.foundAt--
		}
		return nil
	}
	var cmd tea.Cmd
	v.find, cmd = v.find.Update(msg)
	v.foundAt = 0
	return cmd
}

// complete completes the word before the cursor (back: the previous
// candidate of the list).
func (v *queryView) complete(back bool) tea.Cmd {
	value, pos := v.input.Value(), v.input.Position()
	if cy := v.cyc; cy != nil && cy.value == value && cy.pos == pos {
		n := len(cy.cands)
		switch {
		case back && cy.idx < 0:
			cy.idx = n - 1
		case back:
			cy.idx = (cy.idx - 1 + n) % n
		default:
			cy.idx = (cy.idx + 1) % n
		}
		base := []rune(cy.base)
		cy.value, cy.pos = replaceWord(base, cy.cc.start, cy.cc.end, insertText(cy.cc, cy.cands[cy.idx], base))
		v.setInput(cy.value, cy.pos)
		return nil
	}
	v.cyc = nil
	cc := contextAt(value, pos)
	var words [][]string
	what := ""
	switch cc.kind {
	case compName:
		if cc.word == "" {
			return nil
		}
		words, what = [][]string{promqlWords, promqlKeywords, v.names}, "metric or function"
	case compLabel:
		k := "n\x00" + cc.metric
		ws, ok := v.labels[k]
		if !ok {
			v.pending = &pendingTab{value: value, pos: pos, key: k}
			v.compMsg = "reading label names…"
			return v.fetchLabels(k, cc.metric, "")
		}
		words, what = [][]string{ws}, "label"
	case compLabelValue:
		if cc.label == "" {
			return nil
		}
		k := "v\x00" + cc.metric + "\x00" + cc.label
		ws, ok := v.labels[k]
		if !ok {
			v.pending = &pendingTab{value: value, pos: pos, key: k}
			v.compMsg = "reading values of " + Sanitize(cc.label, maxLabelLen) + "…"
			return v.fetchLabels(k, cc.metric, cc.label)
		}
		words, what = [][]string{ws}, "value of "+Sanitize(cc.label, maxLabelLen)
	default:
		return nil
	}
	cands := candidates(cc.word, words...)
	rs := []rune(value)
	switch len(cands) {
	case 0:
		v.compMsg = "no " + what + " matches " + Sanitize(cc.word, 40)
		if cc.word == "" {
			v.compMsg = "no " + what + " in this range"
		}
		return nil
	case 1:
		v.setInput(replaceWord(rs, cc.start, cc.end, insertText(cc, cands[0], rs)))
		return nil
	}
	// Several: the common prefix goes in, and the list stays for tab.
	base, bpos := value, pos
	if p := commonPrefix(cands); len(p) > len(cc.word) && strings.HasPrefix(p, cc.word) {
		text := p
		switch {
		case cc.kind == compLabelValue && cc.quote == 0:
			text = `"` + escapeQuoted(p, '"')
			base, bpos = replaceWord(rs, cc.start, cc.end, text)
			cc.quote, cc.start, cc.closed = '"', cc.start+1, false
		case cc.kind == compLabelValue:
			text = escapeQuoted(p, cc.quote)
			base, bpos = replaceWord(rs, cc.start, cc.end, text)
		default:
			base, bpos = replaceWord(rs, cc.start, cc.end, text)
		}
		cc.end = bpos
		v.setInput(base, bpos)
	}
	v.cyc = &compCycle{cc: cc, base: base, cands: cands, idx: -1, value: base, pos: bpos}
	return nil
}

func (v *queryView) setInput(value string, pos int) {
	v.input.SetValue(value)
	v.input.SetCursor(pos)
}

// buildSeries orders the result for the table and the chart: by value,
// highest first, and reads the labels that tell the series apart.
func (v *queryView) buildSeries() {
	v.series, v.keys = nil, nil
	r := v.res
	if r == nil || r.instErr != nil {
		v.table.setRows(nil)
		return
	}
	if vec, ok := r.instant.(promql.Vector); ok {
		sort.SliceStable(vec, func(i, j int) bool {
			a, b := vec[i].F, vec[j].F
			if vec[i].H != nil || vec[j].H != nil {
				return vec[i].H == nil
			}
			switch {
			case math.IsNaN(a) != math.IsNaN(b):
				return !math.IsNaN(a)
			case a != b && !math.IsNaN(a):
				return a > b
			}
			return labels.Compare(vec[i].Metric, vec[j].Metric) < 0
		})
	}
	// The chart's series in the table's order.
	byKey := map[string]promql.Series{}
	var sets []labels.Labels
	for _, s := range r.mat {
		byKey[string(s.Metric.Bytes(nil))] = s
		sets = append(sets, s.Metric)
	}
	split := splitLabels(sets)
	add := func(k string, s promql.Series) {
		legend := split.distinct(s.Metric, maxLineLen)
		if s.Metric.IsEmpty() {
			legend = Sanitize(r.expr, maxLineLen)
		}
		v.series = append(v.series, chartSeries{legend: legend, points: s.Floats, show: v.show[k]})
		v.keys = append(v.keys, k)
		delete(byKey, k)
	}
	if vec, ok := r.instant.(promql.Vector); ok {
		for _, s := range vec {
			k := string(s.Metric.Bytes(nil))
			if ms, ok := byKey[k]; ok {
				add(k, ms)
			}
		}
	}
	for _, s := range r.mat { // series with no value now, last
		k := string(s.Metric.Bytes(nil))
		if _, ok := byKey[k]; ok {
			add(k, s)
		}
	}
	v.buildRows()
}

// buildRows turns the result into table rows: a mark in the series'
// colour, the labels that differ, the value (at the cursor when it is on
// the chart) in the chart's unit.
func (v *queryView) buildRows() {
	r := v.res
	c := v.c
	if r == nil || r.instErr != nil {
		v.table.setRows(nil)
		return
	}
	st := &c.styles
	v.rowsAt = c.cursor
	atCursor := !c.cursor.IsZero() && !c.cursor.Before(r.span.start) && !c.cursor.After(r.span.end) && len(v.series) > 0
	v.table.cols[2].title = "VALUE"
	if atCursor {
		v.table.cols[2].title = "AT " + c.cursor.In(c.opts.Location).Format("15:04:05")
	}
	drawn := map[string]int{}
	for ci, i := range drawnSeries(v.series, c.opts.MaxChartSeries) {
		drawn[v.keys[i]] = ci
	}
	pointsOf := map[string][]promql.FPoint{}
	for i, k := range v.keys {
		pointsOf[k] = v.series[i].points
	}
	mark := func(k string) (string, *lipgloss.Style) {
		switch {
		case v.only == k:
			return "━", &st.ChartSeries[0]
		case v.only != "":
			return "·", &st.Dim
		case v.show[k] == showHidden:
			return "○", &st.Dim
		}
		if ci, ok := drawn[k]; ok {
			return "━", &st.ChartSeries[ci%len(st.ChartSeries)]
		}
		return "·", &st.Dim
	}
	format := v.kind.format
	if format == nil {
		format = formatAxis
	}
	var rows []row
	switch val := r.instant.(type) {
	case promql.Vector:
		// The labels that tell apart the series of the table and the
		// chart (those with a value now and those with one earlier).
		sets := map[string]labels.Labels{}
		for _, s := range val {
			sets[string(s.Metric.Bytes(nil))] = s.Metric
		}
		for _, s := range r.mat {
			sets[string(s.Metric.Bytes(nil))] = s.Metric
		}
		all := make([]labels.Labels, 0, len(sets))
		for _, ls := range sets {
			all = append(all, ls)
		}
		split := splitLabels(all)
		text := func(ls labels.Labels) string {
			if len(all) == 1 {
				return labelsString(ls, true, maxLineLen)
			}
			return split.distinct(ls, maxLineLen)
		}
		for i, s := range val {
			if i >= c.opts.MaxRows {
				break
			}
			k := string(s.Metric.Bytes(nil))
			f := s.F
			if atCursor {
				f = valueAt(pointsOf[k], c.cursor, r.span.step)
			}
			value := format(f)
			if math.IsNaN(f) && atCursor {
				value = "-"
			}
			if s.H != nil {
				value = "histogram"
			}
			m, ms := mark(k)
			rows = append(rows, row{key: k, cells: []string{m, text(s.Metric), value}, styles: []*lipgloss.Style{ms}})
		}
		// The chart's series with no value now (a comparison that no
		// longer holds): the table is the chart's legend.
		now := map[string]bool{}
		for _, r := range rows {
			now[r.key] = true
		}
		for i, k := range v.keys {
			if now[k] || len(rows) >= c.opts.MaxRows {
				continue
			}
			value := "-"
			if atCursor {
				if f := valueAt(v.series[i].points, c.cursor, r.span.step); !math.IsNaN(f) {
					value = format(f)
				}
			}
			m, ms := mark(k)
			rows = append(rows, row{key: k, cells: []string{m, text(sets[k]), value}, styles: []*lipgloss.Style{ms}})
		}
	case promql.Scalar:
		f := val.V
		if atCursor && len(v.series) > 0 {
			f = valueAt(v.series[0].points, c.cursor, r.span.step)
		}
		m, ms := mark(v.keyOf(0))
		rows = append(rows, row{key: "scalar", cells: []string{m, "scalar", format(f)}, styles: []*lipgloss.Style{ms}})
	case promql.String:
		rows = append(rows, row{key: "string", cells: []string{"", Sanitize(val.V, maxLineLen), ""}})
	case promql.Matrix:
		var sets []labels.Labels
		for _, s := range val {
			sets = append(sets, s.Metric)
		}
		split := splitLabels(sets)
		for i, s := range val {
			if i >= c.opts.MaxRows {
				break
			}
			value := ""
			if n := len(s.Floats); n > 0 {
				value = format(s.Floats[n-1].F) + " (" + itoa(n) + ")"
			}
			rows = append(rows, row{key: string(s.Metric.Bytes(nil)), cells: []string{"", split.distinct(s.Metric, maxLineLen), value}})
		}
	}
	v.table.setRows(rows)
}

func (v *queryView) keyOf(i int) string {
	if i < len(v.keys) {
		return v.keys[i]
	}
	return ""
}

// click selects the row under it, puts the cursor at the chart's time
// under it, or picks the series of a legend entry.
func (v *queryView) click(msg viewClick) tea.Cmd {
	c := v.c
	if v.finding {
		return nil
	}
	if msg.y == 0 {
		v.input.Focus()
		return nil
	}
	if i := v.table.offset + msg.y - v.tableTop - 1; msg.y > v.tableTop && i < len(v.table.rows) && msg.y < v.chartTop {
		v.table.cursor = i
		v.input.Blur()
		return nil
	}
	if y := msg.y - v.chartTop; y >= 0 && y < v.lay.rows {
		if t, ok := v.lay.timeAt(msg.x, v.span.start, v.span.end); ok {
			c.cursor = t
			v.input.Blur()
			v.buildRows()
		}
	}
	return nil
}

func (v *queryView) view(width, height int) string {
	c, st := v.c, &v.c.styles
	if v.finding {
		return v.findView(width, height)
	}
	if w := max(width-3, 1); v.input.Width != w {
		// The input scrolls its text to keep the cursor in sight only
		// when it moves: put in while not shown (e from an alert), a
		// long query would show its head and hide the cursor.
		v.input.Width = w
		v.input.SetCursor(v.input.Position())
	}
	st.styleInput(&v.input)
	lines := []string{v.input.View()}
	if v.cyc != nil {
		lines = append(lines, candidateLines(st, v.cyc.cands, v.cyc.idx, width, min(max(height/6, 1), 4))...)
	}
	if v.compMsg != "" {
		lines = append(lines, st.Dim.Render(fit(v.compMsg, width)))
	}
	if v.histErr != "" {
		lines = append(lines, st.Warning.Render(fit(v.histErr, width)))
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
		help := "enter runs the query at now and over the last " + formatRange(c.rng()) + "; tab completes; esc leaves the prompt"
		if !c.live() {
			help = "enter runs the query over " + c.rangeText() + "; tab completes; esc leaves the prompt"
		}
		for _, l := range wrap(help, width) {
			lines = append(lines, st.Dim.Render(l))
		}
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
	if c.cursor != v.rowsAt {
		v.buildRows()
	}
	n := len(v.table.rows)
	if vec, ok := r.instant.(promql.Vector); ok {
		n = len(vec)
	}
	info := string(r.instant.Type()) + " · " + itoa(n) + " result"
	if n != 1 {
		info += "s"
	}
	if extra := len(v.table.rows) - n; extra > 0 {
		info += " (+" + itoa(extra) + " earlier in the range)"
	}
	info += " · " + formatDuration(r.took)
	if v.only != "" {
		info += " · charting the selected series (esc: all)"
	}
	if vec, ok := r.instant.(promql.Vector); ok && len(vec) > 1 {
		var sets []labels.Labels
		for _, s := range vec {
			sets = append(sets, s.Metric)
		}
		if sh := splitLabels(sets).shared; !sh.IsEmpty() {
			info += " · " + labelsString(sh, true, maxLineLen)
		}
	}
	lines = append(lines, st.Dim.Render(fit(info, width)))
	if v.hint != "" {
		for _, l := range wrap(v.hint, width) {
			lines = append(lines, st.Warning.Render(l))
		}
	}

	avail := height - len(lines)
	chartable := len(v.series) > 0 && r.rangeErr == nil
	tableH := avail
	if chartable && avail >= 10 {
		// Results on top (a few rows), the chart below gets the rest.
		tableH = min(len(v.table.rows)+1, max(avail/3, 3))
	}
	v.tableTop = len(lines)
	empty := "empty result"
	if !c.live() {
		empty = "empty result at " + c.end().In(c.opts.Location).Format("15:04:05")
	}
	lines = append(lines, v.table.view(st, width, tableH, empty))
	v.chartTop = v.tableTop + min(tableH, len(v.table.rows)+1)
	v.lay = chartLayout{}
	if r.rangeErr != nil {
		lines = append(lines, st.Error.Render(fit("range: "+Sanitize(r.rangeErr.Error(), maxErrorLen), width)))
	} else if chartable && avail-tableH >= 5 {
		ss := v.series
		if v.only != "" {
			ss = nil
			for i, s := range v.series {
				if v.keys[i] == v.only {
					s.show = showPinned
					ss = append(ss, s)
				}
			}
		}
		v.span = r.span
		var chart string
		chart, v.lay = drawChart(st, c.opts.ASCII, c.opts.Location, width, avail-tableH, chartSpec{
			start: r.span.start, end: r.span.end, step: r.span.step, series: ss, max: c.opts.MaxChartSeries,
			yfmt: v.kind.format, unit: v.axis, bytes: v.kind.unit == "bytes", fit: c.fitAxis, threshold: math.NaN(), cursor: c.cursor,
			selected: -1, noLegend: true,
		})
		lines = append(lines, chart)
	}
	return joinLines(lines)
}

// findView is the history search: the words typed, and the queries that
// hold them, newest first.
func (v *queryView) findView(width, height int) string {
	st := &v.c.styles
	v.find.Width = max(width-10, 1)
	st.styleInput(&v.find)
	lines := []string{v.find.View()}
	found := findHistory(v.history, v.find.Value())
	if len(found) == 0 {
		lines = append(lines, st.Empty.Render("no query in the history holds that"))
		if len(v.history) == 0 {
			lines[1] = st.Empty.Render("the history is empty: queries run are kept here")
		}
		return joinLines(lines)
	}
	lines = append(lines, st.Dim.Render(fit(itoa(len(found))+" of "+itoa(len(v.history))+" queries, newest first · ctrl+r older · enter runs · tab edits · esc cancels", width)))
	room := max(height-len(lines), 1)
	first := max(v.foundAt-room+1, 0)
	for i := first; i < len(found) && i < first+room; i++ {
		q := fit(Sanitize(found[i], maxLineLen), width-2)
		if i == v.foundAt {
			lines = append(lines, st.TableSelected.Render(padRight("› "+q, width)))
		} else {
			lines = append(lines, "  "+q)
		}
	}
	return joinLines(lines)
}

// candidateLines lays completion candidates out in columns, at most
// lines lines, the one at idx shown selected and always in sight.
func candidateLines(st *Styles, cands []string, idx, width, lines int) []string {
	w := 0
	for _, c := range cands {
		w = max(w, ansi.StringWidth(c))
	}
	w = min(w, max(width-2, 1))
	perLine := max((width+2)/(w+2), 1)
	lines = min(lines, (len(cands)+perLine-1)/perLine)
	page := perLine * lines
	first := 0
	if idx >= page {
		first = idx / page * page
	}
	var out []string
	head := itoa(len(cands)) + " candidates · tab/shift+tab pick · esc closes"
	out = append(out, st.Dim.Render(fit(head, width)))
	for l := range lines {
		var b strings.Builder
		for col := range perLine {
			i := first + col*lines + l
			if i >= len(cands) || i >= first+page {
				break
			}
			if col > 0 {
				b.WriteString("  ")
			}
			s := padRight(Sanitize(cands[i], maxLabelLen), w)
			if i == idx {
				b.WriteString(st.TableSelected.Render(s))
			} else {
				b.WriteString(s)
			}
		}
		if b.Len() > 0 {
			out = append(out, b.String())
		}
	}
	if rest := len(cands) - first - page; rest > 0 {
		out[0] = st.Dim.Render(fit(head+" · +"+itoa(rest)+" more", width))
	}
	return out
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
