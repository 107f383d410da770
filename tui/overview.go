package tui

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
)

// host is one host of the Overview: its figures as the queries of
// hostquery.go read them, and what the targets and alerts say of it.
type host struct {
	instance string      // raw; sanitised where shown
	name     string      // brief name, sanitised (briefNames)
	nodename string      // node_exporter's, raw; "" when unknown
	values   [][]float64 // per metric, on the sparkline's grid; nil when none
	current  []float64   // per metric, at valueTime; NaN when none
	ncpu     float64     // NaN when unknown
	hasCPU   bool        // it has CPU counters: a missing rate is a young series

	// From the targets and alerts, each refresh.
	health  TargetHealth // of its target; "" when no target has its instance
	job     string
	labels  labels.Labels // its target's
	firing  int           // unsilenced alerts on it
	pending int
	alerts  []string // names of its firing, then pending alerts
}

// warming reports whether metric i is a rate not known yet: the host has
// data, but not the two samples a rate needs.
func (h *host) warming(i int) bool {
	return hostMetrics[i].rate && math.IsNaN(h.current[i]) && h.hasCPU && h.health != TargetDown
}

type overviewData struct {
	seq      int
	span     span
	series   map[string][][]float64 // nil: the range was not re-read
	current  map[string][]float64
	ncpu     map[string]float64
	nodename map[string]string
	err      error
}

// overview is view 1: the fleet's hosts, sorted, as cards or one line
// each, with the targets that are down above them; enter opens a host's
// page (hostpage.go), which is the whole view when there is one host.
type overview struct {
	c      *common
	filter filter
	hosts  []host // every host with data, sorted and annotated by resort
	shown  []host // those that pass the filter, in order
	names  map[string]string
	err    error
	cursor int
	// sel is the cursor's instance, which the cursor follows when the
	// order changes, once the operator has moved it (moved): until then
	// it stays on the first line, so that a fleet sorted by CPU keeps the
	// busiest host in sight.
	sel    string
	moved  bool
	scroll int // first card row or table row shown
	seq    int
	busy   bool
	loaded bool

	visRows int // card rows or table rows on screen, set by view
	perRow  int // cards in a row, set by view (1 in the table)

	sortBy int
	// compact is the one-line-a-host table; set, it is the operator's
	// choice (v), otherwise the table is drawn when the cards do not fit.
	compact    bool
	compactSet bool

	// What was read last: the range (sparklines) is re-read only when its
	// grid moves, the current values only when valueTime moves.
	span    span
	series  map[string][][]float64
	valueAt time.Time

	page *hostPage // the open host page; nil when none
}

func newOverview(c *common) *overview { return &overview{c: c, filter: newFilter()} }

func (o *overview) title() string { return "Overview" }

func (o *overview) capturing() bool { return o.filter.editing }

// The orders of the Overview, cycled with s. Each compares two hosts,
// the first one first; a figure that is not known goes last.
var overviewSorts = []struct {
	name string
	cmp  func(a, b *host) int
}{
	{"trouble", func(a, b *host) int {
		return cmp.Or(cmp.Compare(b.firing, a.firing), cmp.Compare(downRank(a), downRank(b)),
			cmp.Compare(b.pending, a.pending), descNaN(heat(a), heat(b)))
	}},
	{"cpu", func(a, b *host) int { return descNaN(a.current[metricCPU], b.current[metricCPU]) }},
	{"memory", func(a, b *host) int { return descNaN(a.current[metricMem], b.current[metricMem]) }},
	{"disk", func(a, b *host) int { return descNaN(a.current[metricDisk], b.current[metricDisk]) }},
	{"load", func(a, b *host) int { return descNaN(a.current[metricLoad]/a.ncpu, b.current[metricLoad]/b.ncpu) }},
	{"network", func(a, b *host) int {
		return descNaN(a.current[metricRx]+a.current[metricTx], b.current[metricRx]+b.current[metricTx])
	}},
	{"alerts", func(a, b *host) int {
		return cmp.Or(cmp.Compare(b.firing, a.firing), cmp.Compare(b.pending, a.pending))
	}},
	{"name", func(a, b *host) int { return 0 }}, // the tie-break is the name
}

func downRank(h *host) int {
	if h.health == TargetDown {
		return 0
	}
	return 1
}

// heat is how close a host is to a limit, 0-100: its CPU, memory or
// fullest disk in percent, or its load per CPU with 2 (where the built-in
// NodeLoadHigh fires) as 100.
func heat(h *host) float64 {
	v := math.NaN()
	for _, x := range []float64{h.current[metricCPU], h.current[metricMem], h.current[metricDisk], 50 * h.current[metricLoad] / h.ncpu} {
		if !math.IsNaN(x) && (math.IsNaN(v) || x > v) {
			v = x
		}
	}
	return math.Min(v, 100)
}

// descNaN orders larger first and NaN last.
func descNaN(a, b float64) int {
	switch an, bn := math.IsNaN(a), math.IsNaN(b); {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	return cmp.Compare(b, a)
}

func (o *overview) ShortHelp() []key.Binding {
	k := &o.c.keys
	if o.page != nil {
		return o.page.ShortHelp(o.single())
	}
	return []key.Binding{k.Up, k.Down, withHelp(k.Enter, "enter", "host"),
		withHelp(k.Sort, "s", "sort"), withHelp(k.Compact, "v", "cards/table"), k.Filter}
}

func (o *overview) FullHelp() [][]key.Binding {
	k := &o.c.keys
	if o.page != nil {
		page := []key.Binding{withHelp(k.Up, "↑/k", "scroll up"), withHelp(k.Down, "↓/j", "scroll down"), k.PageUp, k.PageDown, k.Top, k.Bottom}
		if o.single() {
			return [][]key.Binding{page}
		}
		return [][]key.Binding{page, {withHelp(k.Back, "esc", "back to the hosts")}}
	}
	return [][]key.Binding{
		{k.Up, k.Down, k.Left, k.Right, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{withHelp(k.Enter, "enter", "the host's page"), withHelp(k.Back, "esc", "back to the hosts"),
			withHelp(k.Filter, "/", "filter: name, job, label, up/down, firing/pending, alert")},
		{withHelp(k.Sort, "s", "sort: "+sortNames()), withHelp(k.Compact, "v", "cards or one line a host")},
	}
}

func sortNames() string {
	names := make([]string, len(overviewSorts))
	for i, s := range overviewSorts {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

// single reports whether there is one host only: the Overview is then
// its page.
func (o *overview) single() bool { return len(o.hosts) == 1 && o.filter.value() == "" }

// nameWidth is the width of the longest name shown.
func (o *overview) nameWidth() int {
	w := 0
	for _, h := range o.shown {
		w = max(w, cellWidth(h.name))
	}
	return w
}

// useTable reports whether the hosts are drawn one line each.
func (o *overview) useTable(width, height int) bool {
	if o.compactSet {
		return o.compact
	}
	per, _, _ := cardLayout(width)
	rows := (len(o.shown) + per - 1) / per
	return rows*cardHeight > max(height-2, cardHeight)
}

func (o *overview) refresh() tea.Cmd {
	c := o.c
	if c.opts.Querier == nil || c.width == 0 {
		return nil
	}
	o.resort()
	var cmds []tea.Cmd
	if cmd := o.autoPage(); cmd != nil {
		return cmd // it reads the page
	}
	if o.page != nil {
		cmds = append(cmds, o.page.refresh())
		if !o.single() {
			return tea.Batch(cmds...) // the list is not on screen
		}
	}
	sparkW := 10
	if o.useTable(c.width, c.height) {
		sparkW = compactLayout(c.width, o.nameWidth()).cpuSpark
	} else {
		_, _, sparkW = cardLayout(c.width)
	}
	sp := c.spanFor(max(sparkW, 10))
	at := c.valueTime()
	needRange := sp != o.span || o.series == nil
	if o.busy || (!needRange && at.Equal(o.valueAt)) {
		return tea.Batch(cmds...)
	}
	o.busy = true
	o.seq++
	seq := o.seq
	q := c.opts.Querier
	n := int(sp.end.Sub(sp.start)/sp.step) + 1
	return tea.Batch(append(cmds, func() tea.Msg {
		ctx, cancel := c.queryCtx()
		defer cancel()
		d := overviewData{seq: seq, span: sp, current: map[string][]float64{}, ncpu: map[string]float64{}, nodename: map[string]string{}}
		if needRange {
			d.series = map[string][][]float64{}
		}
		win := rateWindow(sp.step)
		for i, hm := range hostMetrics {
			if needRange {
				mat, err := q.Range(ctx, hm.expr(win), sp.start, sp.end, sp.step)
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
			v, err := q.Instant(ctx, hm.expr(currentWindow), at)
			if err != nil && d.err == nil {
				d.err = err
			}
			for _, s := range vectorOf(v) {
				inst := s.Metric.Get("instance")
				if d.current[inst] == nil {
					d.current[inst] = nanSlice(len(hostMetrics))
				}
				d.current[inst][i] = s.F
			}
		}
		if v, err := q.Instant(ctx, ncpuExpr, at); err == nil {
			for _, s := range vectorOf(v) {
				d.ncpu[s.Metric.Get("instance")] = s.F
			}
		}
		if v, err := q.Instant(ctx, nodenameExpr, at); err == nil {
			for _, s := range vectorOf(v) {
				d.nodename[s.Metric.Get("instance")] = s.Metric.Get("nodename")
			}
		}
		return d
	})...)
}

// vectorOf returns v's samples when it is a vector, else none.
func vectorOf(v any) promql.Vector {
	vec, _ := v.(promql.Vector)
	return vec
}

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

// apply takes freshly read data in.
func (o *overview) apply(d overviewData) {
	o.err = d.err
	if d.err != nil && len(o.hosts) > 0 {
		// A read that failed (a remote that does not answer) leaves the
		// hosts last read, with the error above them, rather than say
		// there are none; the next refresh tries again.
		return
	}
	if d.series != nil {
		o.series, o.span = d.series, d.span
	}
	o.valueAt = o.c.valueTime()
	insts := map[string]bool{}
	for inst := range o.series {
		insts[inst] = true
	}
	for inst := range d.current {
		insts[inst] = true
	}
	hosts := make([]host, 0, len(insts))
	for inst := range insts {
		h := host{instance: inst, values: o.series[inst], current: d.current[inst], ncpu: math.NaN(), nodename: d.nodename[inst]}
		if h.values == nil {
			h.values = make([][]float64, len(hostMetrics))
		}
		if h.current == nil {
			h.current = nanSlice(len(hostMetrics))
		}
		if n, ok := d.ncpu[inst]; ok {
			h.ncpu, h.hasCPU = n, true
		}
		hosts = append(hosts, h)
	}
	o.hosts = hosts
	o.names = briefNames(o.hosts, o.c.targets)
	o.resort()
}

// resort annotates the hosts with their targets and alerts, sorts them,
// applies the filter and keeps the cursor on the host it was on.
func (o *overview) resort() {
	c := o.c
	byInst := make(map[string]*Target, len(c.targets))
	for i := range c.targets {
		t := &c.targets[i]
		if prev, ok := byInst[t.Instance]; !ok || healthRank(t.Health) < healthRank(prev.Health) {
			byInst[t.Instance] = t // a host is as well as its worst target
		}
	}
	type alertCount struct {
		firing, pending []string
	}
	alerts := map[string]*alertCount{}
	for _, a := range c.alerts {
		if !c.silencedUntil(a).IsZero() || (a.State != StateFiring && a.State != StatePending) {
			continue
		}
		inst := a.Labels.Get("instance")
		ac := alerts[inst]
		if ac == nil {
			ac = &alertCount{}
			alerts[inst] = ac
		}
		name := a.Rule
		if name == "" {
			name = a.Labels.Get(labels.AlertName)
		}
		if a.State == StateFiring {
			ac.firing = append(ac.firing, name)
		} else {
			ac.pending = append(ac.pending, name)
		}
	}
	for i := range o.hosts {
		h := &o.hosts[i]
		h.health, h.job, h.labels = "", "", labels.EmptyLabels()
		if t := byInst[h.instance]; t != nil {
			h.health, h.job, h.labels = t.Health, t.Job, t.Labels
		}
		h.firing, h.pending, h.alerts = 0, 0, nil
		if ac := alerts[h.instance]; ac != nil {
			h.firing, h.pending = len(ac.firing), len(ac.pending)
			h.alerts = append(uniqSorted(ac.firing), uniqSorted(ac.pending)...)
		}
		h.name = o.names[h.instance]
		if h.name == "" {
			h.name = Sanitize(h.instance, maxLabelLen)
		}
	}
	by := overviewSorts[o.sortBy].cmp
	slices.SortStableFunc(o.hosts, func(a, b host) int {
		return cmp.Or(by(&a, &b), strings.Compare(a.name, b.name), strings.Compare(a.instance, b.instance))
	})
	o.shown = o.shown[:0]
	for _, h := range o.hosts {
		if o.matches(&h) {
			o.shown = append(o.shown, h)
		}
	}
	o.cursor = 0
	for i, h := range o.shown {
		if o.moved && h.instance == o.sel {
			o.cursor = i
			break
		}
	}
	o.keepSelection()
}

func uniqSorted(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// matches says whether the filter keeps a host: every word must occur
// in its instance, brief name, nodename, job, a label value of its
// target, its health, or the state or name of one of its alerts.
func (o *overview) matches(h *host) bool {
	if o.filter.value() == "" {
		return true
	}
	fields := []string{h.instance, h.name, h.nodename, h.job, string(h.health)}
	h.labels.Range(func(l labels.Label) { fields = append(fields, l.Value) })
	if h.firing > 0 {
		fields = append(fields, "firing")
	}
	if h.pending > 0 {
		fields = append(fields, "pending")
	}
	fields = append(fields, h.alerts...)
	return o.filter.matches(fields...)
}

// keepSelection clamps the cursor and remembers its host.
func (o *overview) keepSelection() {
	n := len(o.shown)
	o.cursor = max(min(o.cursor, n-1), 0)
	if n > 0 {
		o.sel = o.shown[o.cursor].instance
	}
}

func (o *overview) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case overviewData:
		if msg.seq == o.seq {
			o.busy = false
			o.loaded = true
			o.apply(msg)
			return o.autoPage()
		}
	case *hostPageData:
		if o.page != nil {
			o.page.update(msg)
		}
	case rangeChangedMsg:
		o.busy = false
		o.seq++
		o.series, o.span = nil, span{}
		if o.page != nil {
			o.page.rangeChanged()
		}
	case tea.KeyMsg:
		return o.handleKey(msg)
	}
	return nil
}

// autoPage makes the Overview of one host that host's page, once every
// target has been scraped (a fleet's first host is not alone for long),
// and closes that page when a second host comes.
func (o *overview) autoPage() tea.Cmd {
	switch {
	case o.page == nil && o.single() && !o.scraping():
		o.page = newHostPage(o.c, o.hosts[0].instance, o.names[o.hosts[0].instance])
		o.page.auto = true
		return o.page.refresh()
	case o.page != nil && o.page.auto && !o.single():
		o.page = nil
	}
	return nil
}

func (o *overview) handleKey(msg tea.KeyMsg) tea.Cmd {
	k := &o.c.keys
	if o.page != nil {
		if key.Matches(msg, k.Back) && !o.single() {
			o.page = nil
			return o.refresh()
		}
		return o.page.handleKey(msg)
	}
	if handled, changed := o.filter.update(msg, k); handled {
		if changed {
			o.cursor, o.scroll = 0, 0
			o.sel, o.moved = "", false
			o.resort()
			return o.autoPage()
		}
		return nil
	}
	per := o.perRow
	if per == 0 { // not drawn yet
		per = 1
		if !o.useTable(o.c.width, o.c.height) {
			per, _, _ = cardLayout(o.c.width)
		}
	}
	n := len(o.shown)
	switch {
	case key.Matches(msg, k.Enter):
		if n > 0 {
			o.page = newHostPage(o.c, o.shown[o.cursor].instance, o.names[o.shown[o.cursor].instance])
			return o.page.refresh()
		}
		return nil
	case key.Matches(msg, k.Sort):
		o.sortBy = (o.sortBy + 1) % len(overviewSorts)
		o.sel, o.moved = "", false // the top of the new order, as Targets does
		o.cursor, o.scroll = 0, 0
		o.resort()
		return nil
	case key.Matches(msg, k.Compact):
		o.compact = !o.useTable(o.c.width, o.c.height)
		o.compactSet = true
		o.scroll, o.perRow = 0, 0
		return o.refresh()
	case key.Matches(msg, k.Left):
		if per > 1 {
			o.cursor--
		}
	case key.Matches(msg, k.Right):
		if per > 1 {
			o.cursor++
		}
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
	default:
		return nil
	}
	o.moved = true
	o.keepSelection()
	return nil
}

func (o *overview) view(width, height int) string {
	c, st := o.c, &o.c.styles
	if o.page != nil && !o.single() {
		return o.page.view(width, height, false)
	}
	down := o.downTargets()
	lines := []string{o.titleLine(width, len(down))}
	if o.err != nil {
		lines = append(lines, st.Error.Render(fit("query: "+Sanitize(o.err.Error(), maxErrorLen), width)))
	}
	// The targets that are down come first, whatever the order below:
	// up to a third of the screen.
	lines = append(lines, o.downView(down, width, max((height-len(lines))/3, 1))...)

	var msg string
	switch {
	case c.opts.Querier == nil:
		msg = "no query source"
	case !o.loaded:
		msg = "loading…"
	case len(o.hosts) == 0 && o.scraping():
		msg = "waiting for the first scrapes"
	case len(o.hosts) == 0:
		msg = "no hosts: no node_exporter metrics (node_cpu_seconds_total, node_load1, …) yet"
	case len(o.shown) == 0:
		msg = "no host matches the filter"
	}
	if msg != "" {
		lines = append(lines, st.Empty.Render(fit(msg, width)))
		lines = append(lines, o.othersView(width, height-len(lines))...)
		return strings.Join(lines, "\n")
	}
	if o.single() && o.page != nil {
		others := o.othersView(width, 4)
		page := o.page.view(width, height-len(lines)-len(others), true)
		return strings.Join(append(append(lines, page), others...), "\n")
	}
	avail := height - len(lines)
	var body []string
	if o.useTable(width, height) {
		body = o.tableView(width, avail)
	} else {
		body = o.cardsView(width, avail)
	}
	lines = append(lines, body...)
	lines = append(lines, o.othersView(width, height-len(lines))...)
	return strings.Join(lines, "\n")
}

// scraping reports whether a target has not been scraped yet.
func (o *overview) scraping() bool {
	for _, t := range o.c.targets {
		if t.LastScrape.IsZero() && t.Health == TargetUnknown {
			return true
		}
	}
	return false
}

// titleLine is "Hosts 95 · 5 down · by trouble · 15m (1/95)" and the
// filter.
func (o *overview) titleLine(width, down int) string {
	c, st := o.c, &o.c.styles
	if o.single() && o.page != nil {
		// The one host's page: its name, as the page of one of many has.
		line := o.page.titleLine(width)
		if down > 0 {
			line += st.Dim.Render(" · ") + st.Down.Render(itoa(down)+" down")
		}
		return fitANSI(line, width)
	}
	line := st.Title.Render("Hosts") + st.Dim.Render(" "+itoa(len(o.shown)))
	if len(o.shown) != len(o.hosts) {
		line += st.Dim.Render(" of " + itoa(len(o.hosts)))
	}
	if down > 0 {
		line += st.Dim.Render(" · ") + st.Down.Render(itoa(down)+" down")
	}
	if !o.single() {
		line += st.Dim.Render(" · by " + overviewSorts[o.sortBy].name)
	}
	line += st.Dim.Render(" · " + formatRange(c.rng()))
	if len(o.shown) > 0 && !o.single() {
		line += st.Dim.Render("  (" + itoa(o.cursor+1) + "/" + itoa(len(o.shown)) + ")")
	}
	if f := o.filter.view(st, width/2); f != "" {
		line += "  " + f
	}
	return line
}

// downTargets are the targets that are down, of any job, that pass the
// filter: job, then instance.
func (o *overview) downTargets() []Target {
	var out []Target
	for _, t := range o.c.targets {
		if t.Health != TargetDown {
			continue
		}
		if o.filter.value() != "" {
			fields := []string{t.Instance, t.Job, "down", t.LastError, o.names[t.Instance]}
			t.Labels.Range(func(l labels.Label) { fields = append(fields, l.Value) })
			if !o.filter.matches(fields...) {
				continue
			}
		}
		out = append(out, t)
	}
	return out
}

// downView is a line per target that is down, with its error, in at
// most room lines.
func (o *overview) downView(down []Target, width, room int) []string {
	st := &o.c.styles
	if len(down) == 0 {
		return nil
	}
	nameW, jobW := 0, 0
	for _, t := range down {
		nameW = max(nameW, cellWidth(o.targetName(t)))
		jobW = max(jobW, cellWidth(Sanitize(t.Job, maxLabelLen)))
	}
	nameW, jobW = min(nameW, max(width/4, 16)), min(jobW, 12)
	var lines []string
	for i, t := range down {
		if i == room-1 && len(down) > room {
			lines = append(lines, st.Dim.Render(fit("… "+itoa(len(down)-i)+" more down: 2 Targets", width)))
			break
		}
		line := st.Down.Render("✖ down") + " " + padRight(o.targetName(t), nameW) + " " +
			st.Dim.Render(padRight(Sanitize(t.Job, maxLabelLen), jobW)) + " " +
			st.Error.Render(Sanitize(briefError(t), maxErrorLen))
		lines = append(lines, fitANSI(line, width))
	}
	return lines
}

// targetName is a target's brief name.
func (o *overview) targetName(t Target) string {
	if n := o.names[t.Instance]; n != "" {
		return n
	}
	return Sanitize(t.Instance, maxLabelLen)
}

// othersView lists, in at most height lines, the targets that are up (or
// not scraped yet) but are not hosts, such as vigil's own or an
// application's: health, instance, job, scrape duration and series.
// Nothing when there are none or no room.
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
		if !hosts[t.Instance] && t.Health != TargetDown {
			others = append(others, t)
		}
	}
	if len(others) == 0 {
		return nil
	}
	lines := []string{st.Title.Render("Other targets") + st.Dim.Render(" "+itoa(len(others)))}
	room := height - 1
	for i, t := range others {
		if i == room-1 && len(others) > room {
			lines = append(lines, st.Dim.Render(fit("… "+itoa(len(others)-i)+" more in 2 Targets", width)))
			break
		}
		health := st.Up.Render("● up     ")
		if t.Health != TargetUp {
			health = st.Dim.Render("○ unknown")
		}
		name := fit(Sanitize(t.Instance, maxLabelLen), 24)
		job := st.Dim.Render(fit(Sanitize(t.Job, maxLabelLen), 10))
		tail := st.Dim.Render("not scraped yet")
		if !t.LastScrape.IsZero() {
			tail = padLeft(formatDuration(t.LastDuration), 8) + " " + padLeft(countOrNot(t.Series), 8) + " series"
		}
		lines = append(lines, fitANSI(health+" "+padANSI(name, 24)+" "+padANSI(job, 10)+" "+tail, width))
	}
	return lines
}

// fitANSI cuts a styled line to width cells, marking a cut with "…".
func fitANSI(s string, width int) string {
	if cellWidth(s) <= width {
		return s
	}
	return truncateANSI(s, width, "…")
}
