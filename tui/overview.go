package tui

import (
	"fmt"
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

// hostMetric is one line of a host card, computed by PromQL over
// node_exporter's metric names, one series per instance.
type hostMetric struct {
	label string
	expr  string // %W is the rate window
	unit  func(float64) string
	max   float64 // sparkline scale; 0 scales to the data
}

// Filesystems and interfaces that say nothing about a host's health.
const (
	fsFilter  = `fstype!~"tmpfs|ramfs|devtmpfs|squashfs|nsfs|proc|sysfs|fuse.*|autofs"` // overlay stays: it is / in a container
	netFilter = `device!~"lo|veth.*|docker.*|br-.*|virbr.*|cni.*|flannel.*|cali.*|tun.*|tap.*"`
)

var hostMetrics = []hostMetric{
	{label: "CPU", max: 100, unit: formatPercent,
		expr: `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[%W])))`},
	{label: "MEM", max: 100, unit: formatPercent,
		expr: `100 * (1 - max by (instance) (node_memory_MemAvailable_bytes) / max by (instance) (node_memory_MemTotal_bytes))`},
	{label: "LOAD", unit: formatValueShort,
		expr: `max by (instance) (node_load1)`},
	{label: "DISK", max: 100, unit: formatPercent,
		expr: `100 * max by (instance) (1 - node_filesystem_avail_bytes{` + fsFilter + `} / (node_filesystem_size_bytes{` + fsFilter + `} > 0))`},
	{label: "RX", unit: func(v float64) string { return formatSI(v, "B/s") },
		expr: `sum by (instance) (rate(node_network_receive_bytes_total{` + netFilter + `}[%W]))`},
	{label: "TX", unit: func(v float64) string { return formatSI(v, "B/s") },
		expr: `sum by (instance) (rate(node_network_transmit_bytes_total{` + netFilter + `}[%W]))`},
}

const ncpuExpr = `count by (instance) (node_cpu_seconds_total{mode="idle"})`

func formatValueShort(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return formatValue(v)
	}
	if math.Abs(v) >= 1000 {
		return formatSI(v, "")
	}
	return trimFloat(v, 2)
}

// rateWindow is the range of rate() for a query stepping by step: wide
// enough to hold several scrapes, and never finer than the step.
func rateWindow(step time.Duration) string {
	w := max(4*step, time.Minute)
	return formatRange(w.Round(time.Second))
}

// host is one card's data.
type host struct {
	instance string      // raw; sanitised where shown
	values   [][]float64 // per metric, on the sparkline's grid; nil when none
	current  []float64   // per metric, at valueTime; NaN when none
	ncpu     float64
}

type overviewData struct {
	seq     int
	span    span
	series  map[string][][]float64 // nil: the range was not re-read
	current map[string][]float64
	ncpu    map[string]float64
	err     error
}

type overviewDetailData struct {
	seq    int
	span   span
	series []promql.Series
	err    error
}

// overview is view 1: a card per host with its vital signs.
type overview struct {
	c       *common
	filter  filter
	hosts   []host
	err     error
	cursor  int
	scroll  int // first card row shown
	seq     int
	busy    bool
	loaded  bool
	visRows int

	// What was read last: the range (sparklines) is re-read only when its
	// grid moves, the current values only when valueTime moves.
	span    span
	series  map[string][][]float64
	valueAt time.Time

	// Drill-in: one host, one metric as a full chart.
	detail       bool
	detailMetric int
	detailSeq    int
	detailBusy   bool
	detailData   *overviewDetailData
}

func newOverview(c *common) *overview { return &overview{c: c, filter: newFilter()} }

func (o *overview) title() string { return "Overview" }

func (o *overview) capturing() bool { return o.filter.editing }

func (o *overview) ShortHelp() []key.Binding {
	k := &o.c.keys
	if o.detail {
		return []key.Binding{withHelp(k.Down, "↑/↓", "metric"), k.Back, k.RangeUp, k.RangeDown}
	}
	return []key.Binding{k.Up, k.Down, withHelp(k.Enter, "enter", "chart"), k.Filter, k.RangeUp}
}

func (o *overview) FullHelp() [][]key.Binding {
	k := &o.c.keys
	return [][]key.Binding{
		{k.Up, k.Down, k.Left, k.Right, k.Top, k.Bottom},
		{withHelp(k.Enter, "enter", "chart a host"), k.Back, k.Filter},
	}
}

// layout returns how many cards fit in a row, their width and the width
// of their sparklines.
func (o *overview) layout(width int) (perRow, cardW, sparkW int) {
	perRow = max(width/38, 1)
	cardW = width / perRow
	sparkW = max(cardW-2-2-4-1-9-1, 0)
	return perRow, cardW, sparkW
}

func (o *overview) refresh() tea.Cmd {
	c := o.c
	if c.opts.Querier == nil || c.width == 0 {
		return nil
	}
	if o.detail {
		return o.refreshDetail()
	}
	_, _, sparkW := o.layout(c.width)
	sp := c.spanFor(max(sparkW, 10))
	at := c.valueTime()
	needRange := sp != o.span || o.series == nil
	if o.busy || (!needRange && at.Equal(o.valueAt)) {
		return nil
	}
	o.busy = true
	o.seq++
	seq := o.seq
	q := c.opts.Querier
	n := int(sp.end.Sub(sp.start)/sp.step) + 1
	return func() tea.Msg {
		ctx, cancel := c.queryCtx()
		defer cancel()
		d := overviewData{seq: seq, span: sp, current: map[string][]float64{}, ncpu: map[string]float64{}}
		if needRange {
			d.series = map[string][][]float64{}
		}
		win := rateWindow(sp.step)
		for i, hm := range hostMetrics {
			if needRange {
				mat, err := q.Range(ctx, strings.ReplaceAll(hm.expr, "%W", win), sp.start, sp.end, sp.step)
				if err != nil && d.err == nil {
					d.err = err
				}
				for _, s := range mat {
					inst := s.Metric.Get("instance")
					if d.series[inst] == nil {
						d.series[inst] = make([][]float64, len(hostMetrics))
					}
					d.series[inst][i] = aligned(s, sp.start, sp.step, n)
				}
			}
			// Current values over the usual 1m window, like a dashboard.
			v, err := q.Instant(ctx, strings.ReplaceAll(hm.expr, "%W", "1m"), at)
			if err != nil && d.err == nil {
				d.err = err
			}
			if vec, ok := v.(promql.Vector); ok {
				for _, s := range vec {
					inst := s.Metric.Get("instance")
					if d.current[inst] == nil {
						d.current[inst] = nanSlice(len(hostMetrics))
					}
					d.current[inst][i] = s.F
				}
			}
		}
		if v, err := q.Instant(ctx, ncpuExpr, at); err == nil {
			if vec, ok := v.(promql.Vector); ok {
				for _, s := range vec {
					d.ncpu[s.Metric.Get("instance")] = s.F
				}
			}
		}
		return d
	}
}

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

// apply merges freshly read data into the host list.
func (o *overview) apply(d overviewData) {
	if d.series != nil {
		o.series, o.span = d.series, d.span
	}
	o.valueAt = o.c.valueTime()
	o.err = d.err
	insts := map[string]bool{}
	for inst := range o.series {
		insts[inst] = true
	}
	for inst := range d.current {
		insts[inst] = true
	}
	hosts := make([]host, 0, len(insts))
	for inst := range insts {
		h := host{instance: inst, values: o.series[inst], current: d.current[inst], ncpu: math.NaN()}
		if h.values == nil {
			h.values = make([][]float64, len(hostMetrics))
		}
		if h.current == nil {
			h.current = nanSlice(len(hostMetrics))
		}
		if n, ok := d.ncpu[inst]; ok {
			h.ncpu = n
		}
		hosts = append(hosts, h)
	}
	sort.Slice(hosts, func(i, j int) bool { return hosts[i].instance < hosts[j].instance })
	o.hosts = hosts
}

func (o *overview) refreshDetail() tea.Cmd {
	c := o.c
	hs := o.visible()
	if o.cursor >= len(hs) {
		return nil
	}
	sp := c.spanFor(max(c.width-10, 10) * 2) // braille: two points per cell
	if o.detailBusy || (o.detailData != nil && o.detailData.span == sp) {
		return nil
	}
	o.detailBusy = true
	o.detailSeq++
	seq := o.detailSeq
	inst := hs[o.cursor].instance
	hm := hostMetrics[o.detailMetric]
	expr := strings.ReplaceAll(hm.expr, "%W", rateWindow(sp.step))
	q := c.opts.Querier
	return func() tea.Msg {
		ctx, cancel := c.queryCtx()
		defer cancel()
		mat, err := q.Range(ctx, expr, sp.start, sp.end, sp.step)
		d := &overviewDetailData{seq: seq, span: sp, err: err}
		for _, s := range mat {
			if s.Metric.Get("instance") == inst {
				d.series = append(d.series, s)
			}
		}
		return d
	}
}

// visible returns the hosts that pass the filter.
func (o *overview) visible() []host {
	if o.filter.value() == "" {
		return o.hosts
	}
	var out []host
	for _, h := range o.hosts {
		if o.filter.matches(h.instance) {
			out = append(out, h)
		}
	}
	return out
}

func (o *overview) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case overviewData:
		if msg.seq == o.seq {
			o.busy = false
			o.loaded = true
			o.apply(msg)
			o.clampCursor()
		}
	case *overviewDetailData:
		if msg.seq == o.detailSeq {
			o.detailBusy = false
			o.detailData = msg
		}
	case rangeChangedMsg:
		o.busy, o.detailBusy = false, false
		o.seq++
		o.detailSeq++
		o.series, o.span = nil, span{}
		o.detailData = nil
	case tea.KeyMsg:
		return o.handleKey(msg)
	}
	return nil
}

func (o *overview) clampCursor() {
	n := len(o.visible())
	if o.cursor >= n {
		o.cursor = n - 1
	}
	if o.cursor < 0 {
		o.cursor = 0
	}
}

func (o *overview) handleKey(msg tea.KeyMsg) tea.Cmd {
	k := &o.c.keys
	if o.detail {
		switch {
		case key.Matches(msg, k.Back):
			o.detail = false
			o.detailData = nil
			o.detailSeq++
			o.detailBusy = false
			return o.refresh()
		case key.Matches(msg, k.Up), key.Matches(msg, k.Left):
			o.detailMetric = (o.detailMetric + len(hostMetrics) - 1) % len(hostMetrics)
		case key.Matches(msg, k.Down), key.Matches(msg, k.Right):
			o.detailMetric = (o.detailMetric + 1) % len(hostMetrics)
		default:
			return nil
		}
		o.detailData = nil
		o.detailSeq++
		o.detailBusy = false
		return o.refresh()
	}
	if handled, changed := o.filter.update(msg, k); handled {
		if changed {
			o.cursor, o.scroll = 0, 0
		}
		return nil
	}
	per, _, _ := o.layout(o.c.width)
	n := len(o.visible())
	switch {
	case key.Matches(msg, k.Enter):
		if n > 0 {
			o.detail = true
			o.detailData = nil
			o.detailSeq++
			o.detailBusy = false
			return o.refresh()
		}
	case key.Matches(msg, k.Left):
		o.cursor--
	case key.Matches(msg, k.Right):
		o.cursor++
	case key.Matches(msg, k.Up):
		if o.cursor-per >= 0 {
			o.cursor -= per
		}
	case key.Matches(msg, k.Down):
		if o.cursor+per < n {
			o.cursor += per
		} else if o.cursor/per < (n-1)/per {
			o.cursor = n - 1
		}
	case key.Matches(msg, k.PageUp):
		o.cursor -= per * max(o.visRows, 1)
	case key.Matches(msg, k.PageDown):
		o.cursor += per * max(o.visRows, 1)
	case key.Matches(msg, k.Top):
		o.cursor = 0
	case key.Matches(msg, k.Bottom):
		o.cursor = n - 1
	}
	if o.cursor >= n {
		o.cursor = n - 1
	}
	if o.cursor < 0 {
		o.cursor = 0
	}
	return nil
}

const cardHeight = 8 // border, six metrics, border

func (o *overview) view(width, height int) string {
	c, st := o.c, &o.c.styles
	if o.detail {
		return o.detailView(width, height)
	}
	hs := o.visible()
	titleLine := st.Title.Render("Hosts") + st.Dim.Render(" "+itoa(len(hs))+" · "+formatRange(c.rng()))
	if f := o.filter.view(st, width/2); f != "" {
		titleLine += "  " + f
	}
	var msg string
	switch {
	case c.opts.Querier == nil:
		msg = "no query source"
	case !o.loaded:
		msg = "loading…"
	case len(o.hosts) == 0:
		msg = "no hosts: no node_exporter metrics (node_cpu_seconds_total, node_load1, …) yet"
	case len(hs) == 0:
		msg = "no host matches the filter"
	}
	lines := []string{titleLine}
	if o.err != nil {
		lines = append(lines, st.Error.Render(fit("query: "+Sanitize(o.err.Error(), maxErrorLen), width)))
	}
	if msg != "" {
		lines = append(lines, st.Empty.Render(fit(msg, width)))
		if len(o.hosts) == 0 {
			lines = append(lines, o.othersView(width, height-len(lines)-1)...)
		}
		return strings.Join(lines, "\n")
	}
	avail := height - len(lines)
	perRow, cardW, sparkW := o.layout(width)
	rows := (len(hs) + perRow - 1) / perRow
	ch := cardHeight
	if avail < ch {
		ch = max(avail, 3) // a squeezed card shows fewer metrics
	}
	o.visRows = max(avail/ch, 1)
	cr := o.cursor / perRow
	if cr < o.scroll {
		o.scroll = cr
	}
	if cr >= o.scroll+o.visRows {
		o.scroll = cr - o.visRows + 1
	}
	o.scroll = min(o.scroll, max(rows-o.visRows, 0))
	for r := o.scroll; r < rows && r < o.scroll+o.visRows; r++ {
		var cards []string
		for i := r * perRow; i < (r+1)*perRow && i < len(hs); i++ {
			cards = append(cards, o.card(hs[i], i == o.cursor, cardW, ch, sparkW))
		}
		lines = append(lines, lipgloss.JoinHorizontal(lipgloss.Top, cards...))
	}
	if rows > o.visRows {
		lines[0] += st.Dim.Render("  (" + itoa(o.cursor+1) + "/" + itoa(len(hs)) + ")")
	}
	lines = append(lines, o.othersView(width, height-len(lines))...)
	return strings.Join(lines, "\n")
}

// othersView lists, in at most height lines, the targets that are not
// node_exporter hosts (or are, but have no data yet, such as a host down
// since vigil started): health, instance, job, scrape duration and series,
// or the last error. Nothing when there are none or no room.
func (o *overview) othersView(width, height int) []string {
	c, st := o.c, &o.c.styles
	if height < 2 {
		return nil
	}
	hosts := make(map[string]bool, len(o.hosts))
	for _, h := range o.hosts {
		hosts[h.instance] = true
	}
	var others []Target
	for _, t := range c.targets {
		if !hosts[t.Instance] {
			others = append(others, t)
		}
	}
	if len(others) == 0 {
		return nil
	}
	sort.SliceStable(others, func(i, j int) bool {
		if a, b := healthRank(others[i].Health), healthRank(others[j].Health); a != b {
			return a < b // down first
		}
		if others[i].Job != others[j].Job {
			return others[i].Job < others[j].Job
		}
		return others[i].Instance < others[j].Instance
	})
	lines := []string{st.Title.Render("Other targets") + st.Dim.Render(" "+itoa(len(others)))}
	room := height - 1
	for i, t := range others {
		if i == room-1 && len(others) > room {
			lines = append(lines, st.Dim.Render(fit("… "+itoa(len(others)-i)+" more in 2 Targets", width)))
			break
		}
		var health string
		switch t.Health {
		case TargetUp:
			health = st.Up.Render("● up     ")
		case TargetDown:
			health = st.Down.Render("● down   ")
		default:
			health = st.Dim.Render("○ unknown")
		}
		name := fit(Sanitize(t.Instance, maxLabelLen), 24)
		job := st.Dim.Render(fit(Sanitize(t.Job, maxLabelLen), 10))
		var tail string
		switch {
		case t.Health == TargetDown && t.LastError != "":
			tail = st.Error.Render(Sanitize(t.LastError, maxErrorLen))
		case t.LastScrape.IsZero():
			tail = st.Dim.Render("not scraped yet")
		default:
			tail = fmt.Sprintf("%8s %8s series", formatDuration(t.LastDuration), itoa(t.Series))
		}
		line := health + " " + padANSI(name, 24) + " " + padANSI(job, 10) + " " + tail
		lines = append(lines, ansi.Truncate(line, width, "…"))
	}
	return lines
}

// targetHealth finds the health of the target behind an instance.
func (o *overview) targetHealth(inst string) TargetHealth {
	for _, t := range o.c.targets {
		if t.Instance == inst {
			return t.Health
		}
	}
	return ""
}

// card draws one host: a rounded box with the instance and its health in
// the top border and a line per metric.
func (o *overview) card(h host, selected bool, w, ht, sparkW int) string {
	st := &o.c.styles
	border := st.Card
	if selected {
		border = st.CardSelected
	}
	bs := border.GetBorderStyle()
	paint := o.c.renderer.NewStyle().Foreground(border.GetBorderTopForeground())
	firing := o.firing(h.instance)
	if firing > 0 && !selected {
		// A host with a firing alert stands out: its frame in the
		// alarm colour, the count beside its health.
		paint = o.c.renderer.NewStyle().Foreground(st.Firing.GetForeground())
	}
	inner := w - 2

	name := Sanitize(h.instance, maxLabelLen)
	status := ""
	switch o.targetHealth(h.instance) {
	case TargetUp:
		status = st.Up.Render("● up")
	case TargetDown:
		status = st.Down.Render("● down")
	}
	if firing > 0 {
		status += " " + st.Firing.Render("▲"+itoa(firing))
	}
	statusW := ansi.StringWidth(status)
	nameW := max(inner-4-statusW-1, 1)
	name = fit(name, nameW)
	title := " " + st.CardTitle.Render(name) + " "
	fill := inner - 1 - ansi.StringWidth(title) - statusW - 1
	top := paint.Render(bs.TopLeft+bs.Top) + title + paint.Render(strings.Repeat(bs.Top, max(fill, 0)))
	if status != "" {
		top += status + paint.Render(bs.Top)
	} else {
		top += paint.Render(bs.Top)
	}
	top += paint.Render(bs.TopRight)

	lines := []string{top}
	side := paint.Render(bs.Left)
	sideR := paint.Render(bs.Right)
	nMetrics := min(len(hostMetrics), max(ht-2, 0))
	for i := 0; i < nMetrics; i++ {
		hm := hostMetrics[i]
		vals := h.values[i]
		v := h.current[i]
		if math.IsNaN(v) {
			v = last(vals)
		}
		val := "-"
		if !math.IsNaN(v) {
			val = hm.unit(v)
		}
		if hm.label == "LOAD" && !math.IsNaN(h.ncpu) && !math.IsNaN(v) {
			val = formatValueShort(v) + "/" + itoa(int(h.ncpu))
		}
		spark := ""
		if !math.IsNaN(h.current[i]) {
			// The grid ends at the last whole step; now is the last column.
			vals = append(vals[:len(vals):len(vals)], h.current[i])
		}
		if sparkW > 0 && vals != nil {
			style := st.Spark
			if hot(hm, v, h.ncpu) {
				style = st.SparkHot
			}
			scale := hm.max
			if hm.label == "LOAD" && !math.IsNaN(h.ncpu) {
				// A full bar is every CPU busy, or more.
				scale = math.Max(h.ncpu, maxOf(vals))
			}
			spark = renderSpark(vals, sparkW, scale, style)
		}
		body := st.CardLabel.Render(padRight(hm.label, 4)) + " " + st.CardValue.Render(padLeft(val, 9)) + " " + spark
		body = padANSI(body, inner-2)
		lines = append(lines, side+" "+body+" "+sideR)
	}
	for len(lines) < ht-1 {
		lines = append(lines, side+strings.Repeat(" ", inner)+sideR)
	}
	lines = append(lines, paint.Render(bs.BottomLeft+strings.Repeat(bs.Bottom, inner)+bs.BottomRight))
	return strings.Join(lines, "\n")
}

// firing counts the firing alerts whose instance label is instance.
func (o *overview) firing(instance string) int {
	n := 0
	for _, a := range o.c.alerts {
		if a.State == StateFiring && a.Labels.Get("instance") == instance && o.c.silencedUntil(a).IsZero() {
			n++
		}
	}
	return n
}

// hot reports whether a value deserves the alarm colour: CPU, memory or
// disk above 90%, load above the number of CPUs.
func hot(hm hostMetric, v, ncpu float64) bool {
	switch hm.label {
	case "CPU", "MEM", "DISK":
		return v >= 90
	case "LOAD":
		return !math.IsNaN(ncpu) && v > ncpu
	}
	return false
}

// padANSI pads or cuts a styled string to exactly w cells.
func padANSI(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "")
	}
	return s + strings.Repeat(" ", w-sw)
}

func (o *overview) detailView(width, height int) string {
	c, st := o.c, &o.c.styles
	hs := o.visible()
	if o.cursor >= len(hs) {
		return st.Empty.Render("host gone")
	}
	h := hs[o.cursor]
	hm := hostMetrics[o.detailMetric]
	var tabs []string
	for i, m := range hostMetrics {
		if i == o.detailMetric {
			tabs = append(tabs, st.TabActive.Render(" "+m.label+" "))
		} else {
			tabs = append(tabs, st.TabInactive.Render(" "+m.label+" "))
		}
	}
	title := st.Title.Render(fit(Sanitize(h.instance, maxLabelLen), max(width/2, 10))) + st.Dim.Render(" · "+formatRange(c.rng())+"  ") + strings.Join(tabs, "")
	lines := []string{title}
	// Under the chart: the host's targets and alerts, in up to a third
	// of the height.
	info := o.hostInfo(h.instance, width)
	if room := (height - 1) / 3; len(info) > room {
		info = info[:room]
	}
	height -= len(info)
	d := o.detailData
	switch {
	case d == nil:
		lines = append(lines, st.Empty.Render("loading…"))
	case d.err != nil:
		lines = append(lines, st.Error.Render(fit("query: "+Sanitize(d.err.Error(), maxErrorLen), width)))
	case len(d.series) == 0:
		lines = append(lines, st.Empty.Render("no data for "+hm.label+" in this range"))
	default:
		var ss []chartSeries
		for _, s := range d.series {
			ss = append(ss, chartSeries{points: s.Floats})
		}
		lines = append(lines, renderChart(st, c.opts.ASCII, c.opts.Location, width, height-1, d.span.start, d.span.end, ss, hm.unit))
	}
	if len(info) > 0 {
		lines = append(fitBlockLines(lines, height), info...)
	}
	return strings.Join(lines, "\n")
}

// fitBlockLines pads or cuts lines (which may hold newlines) to exactly h
// lines.
func fitBlockLines(lines []string, h int) []string {
	out := strings.Split(strings.Join(lines, "\n"), "\n")
	for len(out) < h {
		out = append(out, "")
	}
	return out[:max(h, 0)]
}

// hostInfo is a line per target of the host (job, health, last scrape,
// duration, series or error) and per alert on it (state, name, value,
// since), alerts first.
func (o *overview) hostInfo(instance string, width int) []string {
	c, st := o.c, &o.c.styles
	var lines []string
	for _, a := range c.alerts {
		if a.Labels.Get("instance") != instance || a.State == StateResolved {
			continue
		}
		state, style := string(a.State), &st.Pending
		switch {
		case !c.silencedUntil(a).IsZero():
			state, style = "silenced", &st.Dim
		case a.State == StateFiring:
			style = &st.Firing
		}
		name := Sanitize(a.Rule, maxLabelLen)
		if name == "" {
			name = Sanitize(a.Labels.Get("alertname"), maxLabelLen)
		}
		line := style.Render(padRight("▲ "+state, 10)) + " " + padANSI(st.Title.Render(fit(name, 24)), 24) + " " +
			fmt.Sprintf("%9s %8s", formatShort(a.Value), formatAge(c.now, since(a)))
		lines = append(lines, ansi.Truncate(line, width, "…"))
	}
	for _, t := range c.targets {
		if t.Instance != instance {
			continue
		}
		health := st.Dim.Render("○ unknown")
		switch t.Health {
		case TargetUp:
			health = st.Up.Render("● up     ")
		case TargetDown:
			health = st.Down.Render("● down   ")
		}
		tail := fmt.Sprintf("last %6s %8s %8s series", formatAge(c.now, t.LastScrape), formatDuration(t.LastDuration), itoa(t.Series))
		if t.LastScrape.IsZero() {
			tail = st.Dim.Render("not scraped yet")
		}
		if t.Health == TargetDown && t.LastError != "" {
			tail = st.Error.Render(Sanitize(t.LastError, maxErrorLen))
		}
		line := health + "  " + padANSI(st.Dim.Render(fit("job "+Sanitize(t.Job, maxLabelLen), 24)), 24) + " " + tail
		lines = append(lines, ansi.Truncate(line, width, "…"))
	}
	return lines
}
