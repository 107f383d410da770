package tui

import (
	"math"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/prometheus/prometheus/model/labels"
)

// targetsView is view 2: every scrape target with its health, k9s-style.
type targetsView struct {
	c      *common
	table  table
	filter filter
	detail bool
	sortBy int

	hist     *targetHistoryMsg // the detail's history
	histBusy bool
	histSeq  int
	shown    []Target // the rows of the table, in order
	shared   string   // the labels every row has, printed; "" when none
}

// The orders of the Targets table, cycled with s.
var targetSorts = []struct {
	name string
	less func(a, b *Target) bool
}{
	{"job", nil}, // as polled: job, then instance
	{"health", func(a, b *Target) bool { return healthRank(a.Health) < healthRank(b.Health) }},
	{"duration", func(a, b *Target) bool { return a.LastDuration > b.LastDuration }},
	{"samples", func(a, b *Target) bool { return a.LastSamples > b.LastSamples }},
	{"last", func(a, b *Target) bool { return a.LastScrape.Before(b.LastScrape) }},
}

// healthRank puts the targets that need looking at first.
func healthRank(h TargetHealth) int {
	switch h {
	case TargetDown:
		return 0
	case TargetUp:
		return 2
	}
	return 1
}

func newTargetsView(c *common) *targetsView {
	return &targetsView{
		c:      c,
		filter: newFilter(),
	}
}

func (v *targetsView) title() string   { return "Targets" }
func (v *targetsView) capturing() bool { return v.filter.editing }

// Targets are polled by the root model every tick: nothing to fetch,
// only the rows to rebuild.
func (v *targetsView) refresh() tea.Cmd {
	v.rebuild()
	if v.detail {
		return v.refreshHistory()
	}
	return nil
}

// targetHistoryMsg is a target's own series over the range, for the
// detail: up and scrape_duration_seconds, which scrape writes.
type targetHistoryMsg struct {
	seq     int
	span    span
	up, dur []float64
	err     error
}

// refreshHistory reads the chosen target's synthetic series.
func (v *targetsView) refreshHistory() tea.Cmd {
	c := v.c
	t, ok := v.selectedTarget()
	if c.opts.Querier == nil || !ok {
		return nil
	}
	n := max(c.width-14, 10)
	sp := c.spanFor(n)
	if v.histBusy || (v.hist != nil && v.hist.span == sp) {
		return nil
	}
	v.histBusy = true
	v.histSeq++
	seq, q := v.histSeq, c.opts.Querier
	sel := func(name string) string {
		return selector(labels.FromStrings(labels.MetricName, name, "job", t.Job, "instance", t.Instance))
	}
	return func() tea.Msg {
		ctx, cancel := c.queryCtx()
		defer cancel()
		msg := targetHistoryMsg{seq: seq, span: sp}
		for _, m := range []struct {
			name string
			into *[]float64
		}{{"up", &msg.up}, {"scrape_duration_seconds", &msg.dur}} {
			mat, err := q.Range(ctx, sel(m.name), sp.start, sp.end, sp.step)
			if err != nil {
				msg.err = err
				continue
			}
			if len(mat) > 0 {
				*m.into = aligned(mat[0], sp.start, sp.step, n)
			}
		}
		return msg
	}
}

func (v *targetsView) ShortHelp() []key.Binding {
	k := &v.c.keys
	if v.detail {
		return []key.Binding{k.Back}
	}
	return []key.Binding{k.Up, k.Down, k.Enter, k.Filter, k.Sort, k.Expand}
}

func (v *targetsView) FullHelp() [][]key.Binding {
	k := &v.c.keys
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Enter, k.Back, k.Filter, withHelp(k.Sort, "s", "sort: job, health, duration, samples, last"),
			withHelp(k.Expand, "w", "the selected row whole: labels, error")},
	}
}

func (v *targetsView) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case targetHistoryMsg:
		if msg.seq == v.histSeq {
			v.histBusy = false
			v.hist = &msg
		}
		return nil
	case rangeChangedMsg:
		v.histBusy, v.hist = false, nil
		v.histSeq++
		return nil
	case viewClick: // a row: under the title and the table's header
		if i := v.table.offset + msg.y - 2; !v.detail && msg.y >= 2 && i < len(v.table.rows) {
			v.table.cursor = i
		}
		return nil
	}
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	k := &v.c.keys
	v.rebuild()
	if v.detail {
		if key.Matches(km, k.Back) {
			v.detail = false
			v.hist, v.histBusy = nil, false
			v.histSeq++
		}
		return nil
	}
	if handled, changed := v.filter.update(km, k); handled {
		if changed {
			v.table.cursor = 0
		}
		return nil
	}
	switch {
	case key.Matches(km, k.Enter):
		if _, ok := v.table.selected(); ok {
			v.detail = true
			return v.refreshHistory()
		}
		return nil
	case key.Matches(km, k.Sort):
		v.sortBy = (v.sortBy + 1) % len(targetSorts)
		v.table.cursor = 0
		v.rebuild()
		return nil
	case key.Matches(km, k.Expand):
		v.table.expand = !v.table.expand
		return nil
	}
	v.table.move(km, k)
	return nil
}

func (v *targetsView) healthStyle(h TargetHealth) *lipgloss.Style {
	st := &v.c.styles
	switch h {
	case TargetUp:
		return &st.Up
	case TargetDown:
		return &st.Down
	}
	return &st.Unknown
}

// rebuild lays the table out for the targets that pass the filter: the
// instance first, the job only when the rows differ in it, the other
// labels that differ between the rows in a column of their own (the
// ones they share once above the table, as splitLabels says), and the
// error without what the row says already (w shows it whole).
func (v *targetsView) rebuild() {
	c := v.c
	v.shown = v.shown[:0]
	ts := c.targets
	if less := targetSorts[v.sortBy].less; less != nil {
		ts = append([]Target(nil), ts...)
		sort.SliceStable(ts, func(i, j int) bool { return less(&ts[i], &ts[j]) })
	}
	var sets []labels.Labels
	for _, t := range ts {
		ls := targetLabels(t)
		if v.filter.value() != "" {
			fields := []string{Sanitize(t.Job, maxLabelLen), Sanitize(t.Instance, maxLabelLen), string(t.Health), Sanitize(targetError(t), maxErrorLen)}
			ls.Range(func(l labels.Label) { fields = append(fields, Sanitize(l.Value, maxLabelLen)) })
			if !v.filter.matches(fields...) {
				continue
			}
		}
		v.shown = append(v.shown, t)
		sets = append(sets, ls)
	}
	split := splitLabels(sets)
	var other []string // differing labels but job and instance
	showJob := false
	for _, n := range split.differ {
		switch n {
		case "job":
			showJob = true
		case "instance":
		default:
			other = append(other, n)
		}
	}
	v.shared = ""
	if len(sets) > 1 {
		v.shared = strings.TrimSuffix(strings.TrimPrefix(labelsString(split.shared, false, maxLineLen), "{"), "}")
	}
	cols := []column{{title: "INSTANCE", min: 14}}
	if showJob {
		cols = append(cols, column{title: "JOB", min: 3})
	}
	cols = append(cols, column{title: "HEALTH", width: 7}, column{title: "LAST", width: 6, right: true},
		column{title: "DUR", width: 6, right: true}, column{title: "SAMPLES", width: 7, right: true})
	if len(other) > 0 {
		cols = append(cols, column{title: "LABELS", min: 10})
	}
	cols = append(cols, column{title: "ERROR", min: 10})
	v.table.cols = cols
	otherSplit := labelSplit{differ: other}

	rows := make([]row, 0, len(v.shown))
	for i, t := range v.shown {
		job := Sanitize(t.Job, maxLabelLen)
		inst := Sanitize(t.Instance, maxLabelLen)
		dur, samples := "-", "-"
		if !t.LastScrape.IsZero() {
			dur, samples = formatDuration(t.LastDuration), countOrNot(t.LastSamples)
		}
		hs := v.healthStyle(t.Health)
		r := row{key: t.Job + "\x00" + t.Instance + "\x00" + t.URL}
		add := func(text string, style *lipgloss.Style, full string) {
			r.cells = append(r.cells, text)
			r.styles = append(r.styles, style)
			r.full = append(r.full, full)
		}
		add(inst, nil, "")
		if showJob {
			add(job, nil, "")
		}
		add(string(t.Health), hs, "")
		add(formatAge(c.now, t.LastScrape), nil, "")
		add(dur, nil, "")
		add(samples, nil, "")
		if len(other) > 0 {
			ls := otherSplit.distinct(sets[i], 0)
			if ls == "{}" {
				ls = ""
			}
			add(ls, &c.styles.Dim, "")
		}
		add(Sanitize(briefError(t), maxErrorLen), &c.styles.Error, Sanitize(targetError(t), maxErrorLen))
		rows = append(rows, r)
	}
	v.table.setRows(rows)
}

// targetError is what went wrong with a target: its last scrape's
// error, or, when it is up but not all of its series are kept, why.
func targetError(t Target) string {
	if t.LastError == "" && t.SeriesRefused > 0 {
		return t.LastWarning
	}
	return t.LastError
}

// targetLabels are a target's labels, with job and instance where its
// Labels lack them.
func targetLabels(t Target) labels.Labels {
	if t.Labels.Has("job") && t.Labels.Has("instance") {
		return t.Labels
	}
	b := labels.NewBuilder(t.Labels)
	if !t.Labels.Has("job") {
		b.Set("job", t.Job)
	}
	if !t.Labels.Has("instance") {
		b.Set("instance", t.Instance)
	}
	return b.Labels()
}

func (v *targetsView) view(width, height int) string {
	c, st := v.c, &v.c.styles
	v.rebuild()
	if v.detail {
		if t, ok := v.selectedTarget(); ok {
			return v.detailView(t, width, height)
		}
		v.detail = false
	}
	up := 0
	for _, t := range c.targets {
		if t.Health == TargetUp {
			up++
		}
	}
	title := st.Title.Render("Targets") + st.Dim.Render(" "+itoa(up)+"/"+itoa(len(c.targets))+" up")
	if len(v.table.rows) > 0 {
		title += st.Dim.Render("  " + v.table.scrollInfo())
	}
	title += st.Dim.Render("  by " + targetSorts[v.sortBy].name)
	if f := v.filter.view(st, width/2); f != "" {
		title += "  " + f
	}
	empty := "no targets"
	switch {
	case c.opts.Targets == nil:
		empty = "no target source"
	case len(c.targets) > 0:
		empty = "no target matches the filter"
	case c.targetsErr != nil:
		empty = "targets: " + Sanitize(c.targetsErr.Error(), maxErrorLen)
	}
	if v.shared != "" {
		title += "\n" + st.Dim.Render(fit("every target: "+v.shared, width))
		height--
	}
	rw := remoteWriteSection(c, width)
	if len(rw) > 0 && height-1-len(rw)-1 >= 3 {
		return title + "\n" + v.table.view(st, width, height-2-len(rw), empty) + "\n\n" + strings.Join(rw, "\n")
	}
	return title + "\n" + v.table.view(st, width, height-1, empty)
}

func (v *targetsView) selectedTarget() (Target, bool) {
	if v.table.cursor < 0 || v.table.cursor >= len(v.shown) {
		return Target{}, false
	}
	return v.shown[v.table.cursor], true
}

func (v *targetsView) detailView(t Target, width, height int) string {
	c, st := v.c, &v.c.styles
	kv := func(k, val string) string {
		return st.Dim.Render(padRight(k, 10)) + " " + fit(val, max(width-11, 1))
	}
	health := v.healthStyle(t.Health).Render(string(t.Health))
	lines := []string{
		st.Title.Render(fit(Sanitize(t.Job, maxLabelLen)+" / "+Sanitize(t.Instance, maxLabelLen), width)),
		"",
		st.Dim.Render(padRight("health", 10)) + " " + health,
		kv("url", Sanitize(redactURL(t.URL), maxLineLen)),
		kv("last", formatAge(c.now, t.LastScrape)+" ago"),
		kv("duration", formatDuration(t.LastDuration)),
		kv("samples", countOrNot(t.LastSamples)),
		kv("series", countOrNot(t.Series)),
		kv("interval", durationOrNot(t.ScrapeInterval)+" (timeout "+durationOrNot(t.ScrapeTimeout)+")"),
		kv("labels", labelsString(t.Labels, false, maxLineLen)),
	}
	if t.LastScrape.IsZero() {
		lines[4] = kv("last", "never")
	}
	if h := v.hist; h != nil && h.err == nil && (h.up != nil || h.dur != nil) {
		sw := max(width-11-13, 1)
		lines = append(lines, "")
		if h.up != nil {
			lines = append(lines, st.Dim.Render(padRight("up", 10))+" "+renderSpark(h.up, sw, 1, st.Spark)+st.Dim.Render(" "+formatRange(c.rng())))
		}
		if h.dur != nil {
			top := formatDuration(time.Duration(maxOf(h.dur) * float64(time.Second)))
			lines = append(lines, st.Dim.Render(padRight("duration", 10))+" "+renderSpark(h.dur, sw, 0, st.Spark)+st.Dim.Render(" max "+top))
		}
	}
	if t.LastError != "" {
		lines = append(lines, "", st.Error.Render("error"))
		for _, l := range wrap(Sanitize(t.LastError, maxErrorLen), width) {
			lines = append(lines, st.Error.Render(l))
		}
	}
	return strings.Join(lines, "\n")
}

// countOrNot prints a count, "-" when it is not known (negative: a
// remote that does not say).
func countOrNot(n int) string {
	if n < 0 {
		return "-"
	}
	return itoa(n)
}

// durationOrNot prints a duration, "-" when it is not known (zero).
func durationOrNot(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return formatDuration(d)
}

// wrap breaks a sanitised single-line string into lines of width cells.
func wrap(s string, width int) []string {
	if width <= 0 {
		return nil
	}
	var out []string
	for s != "" {
		l := truncateCells(s, width)
		if l == "" { // a character wider than the line
			break
		}
		out = append(out, l)
		s = s[len(l):]
	}
	return out
}

// redactURL hides a password in a URL, should one have got there: secrets
// from the config never reach the screen.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// maxOf returns the largest value that is not NaN, 0 for none.
func maxOf(vs []float64) float64 {
	m := 0.0
	for _, v := range vs {
		if !math.IsNaN(v) && v > m {
			m = v
		}
	}
	return m
}
