package tui

import (
	"math"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// hostPage is everything about one host on one screen, as btop and
// glances show it: CPU in all and per core with its modes, load against
// the CPUs, memory and swap, every filesystem with its fill and when it
// will be full, disk I/O per device, network per interface with errors
// and drops, uptime, and the host's alerts and targets. It scrolls when
// the window is short and lays out in two columns when it is wide.
type hostPage struct {
	c        *common
	instance string
	name     string // brief (briefNames), sanitised; "" when the instance is its name
	auto     bool   // opened as the Overview of one host, not by enter
	data     *hostPageData
	seq      int
	busy     bool
	valueAt  time.Time
	span     span
	sparks   *hostPageData // the last data with sparklines
	scroll   int
	maxTop   int // the last scroll that shows a full screen, set by view
	height   int // lines shown, set by view
}

func newHostPage(c *common, instance, name string) *hostPage {
	return &hostPage{c: c, instance: instance, name: name}
}

// colWidth is the width of one column of the page.
func (p *hostPage) colWidth() int {
	if p.c.width >= wideLayout {
		return (p.c.width - 3) / 2
	}
	return p.c.width
}

// sparkWidth is the width of the sparklines beside the CPU, load and
// memory figures.
func (p *hostPage) sparkWidth() int { return max(min(p.colWidth()-45, 60), 10) }

// gridWidth is the number of points the sparklines are read on: as many
// as the widest one draws (the others draw the newest of them).
func (p *hostPage) gridWidth() int { return max(min(p.colWidth()-30, 80), 10) }

// wideLayout is the width from which the page has two columns.
const wideLayout = 150

func (p *hostPage) refresh() tea.Cmd {
	c := p.c
	if c.opts.Querier == nil {
		return nil
	}
	sp := c.spanFor(p.gridWidth())
	at := c.valueTime()
	ranged := sp != p.span || p.sparks == nil
	if p.busy || (!ranged && at.Equal(p.valueAt) && p.data != nil) {
		return nil
	}
	p.busy = true
	p.seq++
	seq, q, inst := p.seq, c.opts.Querier, p.instance
	return func() tea.Msg {
		ctx, cancel := c.queryCtx()
		defer cancel()
		d := readHostPage(ctx, q, inst, at, sp, ranged)
		d.seq = seq
		return d
	}
}

func (p *hostPage) update(d *hostPageData) {
	if d.seq != p.seq || d.instance != p.instance {
		return
	}
	p.busy = false
	if d.err != nil && p.data != nil {
		// A read that failed (a remote that does not answer) leaves
		// what was read, with the error above it, and is tried again on
		// the next refresh.
		kept := *p.data
		kept.err = d.err
		p.data = &kept
		return
	}
	p.data = d
	p.valueAt = p.c.valueTime()
	if d.ranged {
		p.sparks, p.span = d, d.span
	}
}

func (p *hostPage) rangeChanged() {
	p.busy = false
	p.seq++
	p.sparks, p.span = nil, span{}
}

func (p *hostPage) ShortHelp(single bool) []key.Binding {
	k := &p.c.keys
	if single {
		return []key.Binding{withHelp(k.Down, "↑/↓", "scroll"), k.RangeUp, k.RangeDown}
	}
	return []key.Binding{withHelp(k.Back, "esc", "hosts"), withHelp(k.Down, "↑/↓", "scroll"), k.RangeUp, k.RangeDown}
}

func (p *hostPage) handleKey(msg tea.KeyMsg) tea.Cmd {
	k := &p.c.keys
	page := max(p.height-1, 1)
	switch {
	case key.Matches(msg, k.Up):
		p.scroll--
	case key.Matches(msg, k.Down):
		p.scroll++
	case key.Matches(msg, k.PageUp):
		p.scroll -= page
	case key.Matches(msg, k.PageDown):
		p.scroll += page
	case key.Matches(msg, k.Top):
		p.scroll = 0
	case key.Matches(msg, k.Bottom):
		p.scroll = math.MaxInt32 // view stops it at the end
	}
	if p.height > 0 && p.scroll != math.MaxInt32 {
		p.scroll = min(p.scroll, p.maxTop)
	}
	p.scroll = max(p.scroll, 0)
	return nil
}

// view draws the page in width×height. inline is the Overview of one
// host, which has a title of its own already.
func (p *hostPage) view(width, height int, inline bool) string {
	st := &p.c.styles
	var head []string
	if !inline {
		head = append(head, p.titleLine(width))
	}
	head = append(head, p.summaryLine(width))
	d := p.data
	var body []string
	switch {
	case d == nil:
		body = []string{st.Empty.Render("loading…")}
	default:
		if d.err != nil {
			body = append(body, st.Error.Render(fit("query: "+Sanitize(d.err.Error(), maxErrorLen), width)))
		}
		body = append(body, p.sections(width)...)
	}
	room := max(height-len(head), 1)
	p.height = room
	p.maxTop = max(len(body)-room, 0)
	p.scroll = max(min(p.scroll, p.maxTop), 0)
	if p.maxTop > 0 {
		// Say that there is more, and where we are.
		more := st.Dim.Render("  lines " + itoa(p.scroll+1) + "-" + itoa(min(p.scroll+room, len(body))) + " of " + itoa(len(body)) + " ↑/↓")
		head[len(head)-1] = fitANSI(head[len(head)-1]+more, width)
	}
	body = body[p.scroll:min(p.scroll+room, len(body))]
	return strings.Join(append(head, body...), "\n")
}

// titleLine is the host's name, its instance when the name is not it,
// and the range.
func (p *hostPage) titleLine(width int) string {
	st := &p.c.styles
	inst := Sanitize(p.instance, maxLabelLen)
	name := inst
	if p.name != "" {
		name = p.name
	}
	line := st.Title.Render(fit(name, max(width/2, 10)))
	if name != inst {
		line += st.Dim.Render(" " + inst)
	}
	return fitANSI(line+st.Dim.Render(" · "+formatRange(p.c.rng())), width)
}

// summaryLine is its targets' health, uptime, kernel and its alerts.
func (p *hostPage) summaryLine(width int) string {
	c, st := p.c, &p.c.styles
	var parts []string
	for _, t := range c.targets {
		if t.Instance != p.instance {
			continue
		}
		job := Sanitize(t.Job, maxLabelLen)
		switch t.Health {
		case TargetUp:
			parts = append(parts, st.Up.Render("● up")+" "+job)
		case TargetDown:
			parts = append(parts, st.Down.Render("● down")+" "+job)
		default:
			parts = append(parts, st.Dim.Render("○ unknown")+" "+job)
		}
	}
	if d := p.data; d != nil {
		if !math.IsNaN(d.boot) && !math.IsNaN(d.now) && d.now > d.boot {
			parts = append(parts, "up "+formatDuration(time.Duration((d.now-d.boot)*float64(time.Second)).Truncate(time.Minute)))
		}
		if u := d.uname; u["sysname"] != "" {
			parts = append(parts, Sanitize(u["sysname"]+" "+u["release"]+" "+u["machine"], maxLabelLen))
		}
	}
	firing, pending := 0, 0
	for _, a := range c.alerts {
		if a.Labels.Get("instance") != p.instance || !c.silencedUntil(a).IsZero() {
			continue
		}
		switch a.State {
		case StateFiring:
			firing++
		case StatePending:
			pending++
		}
	}
	if firing > 0 {
		parts = append(parts, st.Firing.Render("▲ "+itoa(firing)+" firing"))
	}
	if pending > 0 {
		parts = append(parts, st.Pending.Render("△ "+itoa(pending)+" pending"))
	}
	return fitANSI(strings.Join(parts, st.Dim.Render(" · ")), width)
}

// sections are the page's lines: in two columns when wide (CPU, load
// and memory left; filesystems, disks and network right), one below the
// other when not, and the host's alerts and targets under them.
func (p *hostPage) sections(width int) []string {
	var out []string
	if width >= wideLayout {
		lw := (width - 3) / 2
		rw := width - 3 - lw
		left := concat(p.cpuSection(lw), p.loadSection(lw), p.memSection(lw))
		right := concat(p.fsSection(rw), p.diskSection(rw), p.netSection(rw))
		for i := range max(len(left), len(right)) {
			l, r := "", ""
			if i < len(left) {
				l = left[i]
			}
			if i < len(right) {
				r = right[i]
			}
			out = append(out, padANSI(l, lw)+"   "+r)
		}
	} else {
		out = concat(p.cpuSection(width), p.loadSection(width), p.memSection(width),
			p.fsSection(width), p.diskSection(width), p.netSection(width))
	}
	return concat(out, p.alertsSection(width), p.targetsSection(width))
}

// concat joins sections with an empty line between them.
func concat(sections ...[]string) []string {
	var out []string
	for _, s := range sections {
		if len(s) == 0 {
			continue
		}
		if len(out) > 0 {
			out = append(out, "")
		}
		out = append(out, s...)
	}
	return out
}

// heading is a section's first line: its name and what follows.
func (p *hostPage) heading(name string) string {
	if w := cellWidth(name); w < 5 {
		name += strings.Repeat(" ", 5-w)
	}
	return p.c.styles.Title.Render(name)
}

// absent is the line for a part the exporter does not give, or not yet.
func (p *hostPage) absent(name, family string, width int) []string {
	st := &p.c.styles
	text := "no " + family + " from this target"
	if p.data.present[family] {
		text = "warming up: a rate needs two scrapes"
	}
	return []string{fitANSI(p.heading(name)+" "+st.Empty.Render(text), width)}
}

// warmOr prints a figure, "warming up" when a rate is not known yet.
func warmOr(v float64, format func(float64) string) string {
	if math.IsNaN(v) {
		return "…"
	}
	return format(v)
}

// The glyphs of the CPU modes in bars, so that they read without colour.
const (
	glyphUser   = "█"
	glyphSystem = "▓"
	glyphIowait = "▒"
	glyphSteal  = "░"
	glyphFree   = "·"
)

func (p *hostPage) cpuSection(width int) []string {
	st := &p.c.styles
	d := p.data
	if len(d.cpus) == 0 {
		return p.absent("CPU", famCPU, width)
	}
	all := cpuUsage{name: "all", modes: map[string]float64{}}
	for _, u := range d.cpus {
		for m, v := range u.modes {
			all.modes[m] += v
		}
	}
	pct := func(v float64) string { return formatPercent(100 * v) }
	busy := all.busy()
	sw := p.sparkWidth()
	line := p.heading("CPU") + " " + st.CardValue.Render(padLeft(pct(busy), 6)) + " " + p.spark(p.sparks.cpuLine(), sw, 100, busy >= 0.9) +
		st.Dim.Render("  "+itoa(len(d.cpus))+" CPUs")
	modes := "      " + st.Spark.Render(glyphUser) + " user " + pct(all.share(userModes...)) +
		"  " + st.Error.Render(glyphSystem) + " system " + pct(all.share(systemModes...)) +
		"  " + st.Pending.Render(glyphIowait) + " iowait " + pct(all.share(iowaitModes...)) +
		"  " + st.ChartSeries[3].Render(glyphSteal) + " steal " + pct(all.share(stealModes...))
	lines := []string{fitANSI(line, width), fitANSI(modes, width)}

	// Per core: a bar of its modes, its busy share and, where there is
	// room, its history, in as many columns as fit, down the columns as
	// btop lists them.
	nameW := 0
	for _, u := range d.cpus {
		nameW = max(nameW, cellWidth(Sanitize(u.name, 8)))
	}
	const pctW = 6
	barW, coreSpark := 10, 0
	cellW := func() int {
		w := nameW + 1 + barW + 1 + pctW
		if coreSpark > 0 {
			w += 1 + coreSpark
		}
		return w
	}
	cols := max((width-2)/(cellW()+2), 1)
	if cols >= len(d.cpus) || width-2 >= 2*(nameW+1+30+1+pctW+1+20)+2 {
		// Room to spare: longer bars and a sparkline each.
		barW, coreSpark = 20, 20
		cols = max((width-2)/(cellW()+2), 1)
		if cols > len(d.cpus) {
			cols = len(d.cpus)
			spare := (width-2)/cols - 2 - cellW()
			barW += spare / 2
			coreSpark += spare - spare/2
			coreSpark = min(coreSpark, 60)
		}
	} else {
		barW = max((width-2)/cols-2-(nameW+1+1+pctW), 4)
	}
	rows := (len(d.cpus) + cols - 1) / cols
	for r := range rows {
		var b strings.Builder
		b.WriteString("  ")
		for col := range cols {
			i := col*rows + r
			if i >= len(d.cpus) {
				break
			}
			u := d.cpus[i]
			if col > 0 {
				b.WriteString("  ")
			}
			b.WriteString(st.Dim.Render(padLeft(Sanitize(u.name, 8), nameW)) + " " + p.cpuBar(u, barW) + " " + padLeft(pct(u.busy()), pctW))
			if coreSpark > 0 {
				b.WriteString(" " + p.spark(p.sparks.coreLine(u.name), coreSpark, 100, u.busy() >= 0.9))
			}
		}
		lines = append(lines, fitANSI(b.String(), width))
	}
	return lines
}

// cpuBar draws one CPU's modes in width cells: user, system, iowait and
// steal, the rest idle.
func (p *hostPage) cpuBar(u cpuUsage, width int) string {
	st := &p.c.styles
	parts := []struct {
		share float64
		glyph string
		style lipgloss.Style
	}{
		{u.share(userModes...), glyphUser, st.Spark},
		{u.share(systemModes...), glyphSystem, st.Error},
		{u.share(iowaitModes...), glyphIowait, st.Pending},
		{u.share(stealModes...), glyphSteal, st.ChartSeries[3]},
	}
	var b strings.Builder
	used, acc := 0, 0.0
	for _, part := range parts {
		if math.IsNaN(part.share) {
			continue
		}
		acc += part.share
		// Cells by the running sum, so that rounding never adds up to
		// more than the bar.
		n := cells(acc, width) - used
		if n > 0 {
			b.WriteString(part.style.Render(strings.Repeat(part.glyph, n)))
			used += n
		}
	}
	b.WriteString(st.Dim.Render(strings.Repeat(glyphFree, width-used)))
	return b.String()
}

func (p *hostPage) loadSection(width int) []string {
	st := &p.c.styles
	d := p.data
	if math.IsNaN(d.load[0]) {
		return []string{fitANSI(p.heading("LOAD")+" "+st.Empty.Render("no node_load1 from this target"), width)}
	}
	ncpu := float64(len(d.cpus))
	loads := ""
	for _, l := range d.load {
		text := "-"
		if !math.IsNaN(l) {
			text = trimFloat(l, 2)
		}
		loads += padLeft(text, 6)
	}
	scale := math.Max(ncpu, maxOf(p.sparks.loadLine()))
	line := p.heading("LOAD") + " " + st.CardValue.Render(loads) + " " + p.spark(p.sparks.loadLine(), p.sparkWidth(), scale, ncpu > 0 && d.load[0] > ncpu)
	if ncpu > 0 {
		line += st.Dim.Render("  1/5/15m, " + trimFloat(d.load[0]/ncpu, 2) + "/CPU")
	}
	return []string{fitANSI(line, width)}
}

func (p *hostPage) memSection(width int) []string {
	st := &p.c.styles
	m := p.data.mem
	total, ok := m["MemTotal"]
	if !ok || total <= 0 {
		return []string{fitANSI(p.heading("MEM")+" "+st.Empty.Render("no node_memory_MemTotal_bytes from this target"), width)}
	}
	get := func(name string) float64 {
		if v, ok := m[name]; ok {
			return v
		}
		return math.NaN()
	}
	avail, free := get("MemAvailable"), get("MemFree")
	cached, buffers := get("Cached"), get("Buffers")
	used := total - avail
	usedPct := 100 * used / total
	line := p.heading("MEM") + " " + st.CardValue.Render(padLeft(formatPercent(usedPct), 6)) + " " +
		p.spark(p.sparks.memLine(), p.sparkWidth(), 100, usedPct >= 90) + "  " + formatIEC(used) + st.Dim.Render(" of ") + formatIEC(total)
	lines := []string{fitANSI(line, width)}

	// A bar of what the memory holds: used, cache the kernel can give
	// back (available beyond free), free.
	barW := max(min(width-8, 60), 10)
	if !math.IsNaN(used) {
		reclaim := avail - free
		if math.IsNaN(reclaim) || reclaim < 0 {
			reclaim = 0
		}
		n1 := cells(used/total, barW)
		n2 := cells((used+reclaim)/total, barW) - n1
		bar := st.Spark.Render(strings.Repeat(glyphUser, n1)) + st.Pending.Render(strings.Repeat(glyphIowait, n2)) +
			st.Dim.Render(strings.Repeat(glyphFree, barW-n1-n2))
		lines = append(lines, fitANSI("      "+bar, width))
	}
	var parts []string
	for _, f := range []struct {
		name  string
		v     float64
		glyph string
	}{
		{"used", used, glyphUser}, {"cached", cached, ""}, {"buffers", buffers, ""}, {"free", free, ""}, {"available", avail, glyphIowait},
	} {
		if !math.IsNaN(f.v) {
			parts = append(parts, st.Dim.Render(f.name+" ")+formatIEC(f.v))
		}
	}
	lines = append(lines, fitANSI("      "+strings.Join(parts, st.Dim.Render(" · ")), width))
	swapTotal, swapFree := get("SwapTotal"), get("SwapFree")
	switch {
	case math.IsNaN(swapTotal):
	case swapTotal == 0:
		lines = append(lines, fitANSI(p.heading("SWAP")+" "+st.Dim.Render("none"), width))
	default:
		su := swapTotal - swapFree
		lines = append(lines, fitANSI(p.heading("SWAP")+" "+st.CardValue.Render(padLeft(formatPercent(100*su/swapTotal), 6))+"  "+
			formatIEC(su)+st.Dim.Render(" of ")+formatIEC(swapTotal), width))
	}
	return lines
}

func (p *hostPage) fsSection(width int) []string {
	st := &p.c.styles
	d := p.data
	if len(d.fss) == 0 {
		return []string{fitANSI(p.heading("FILESYSTEM")+" "+st.Empty.Render("no node_filesystem_size_bytes from this target"), width)}
	}
	// MOUNT (flexible) FSTYPE SIZE FREE USE% bar FULL IN
	const typeW, sizeW, pctW, fullW = 7, 8, 5, 9
	barW := 0
	mountW := width - (typeW + 2*sizeW + pctW + fullW + 5)
	if mountW > 30 {
		barW = min(mountW-24, 20)
		mountW -= barW + 1
	}
	mountW = max(mountW, 6)
	head := padRight("FILESYSTEM", mountW) + " " + padRight("TYPE", typeW) + " " + padLeft("SIZE", sizeW) + " " + padLeft("FREE", sizeW) + " " + padLeft("USE", pctW)
	if barW > 0 {
		head += " " + padRight("", barW)
	}
	head += " " + padLeft("FULL IN", fullW)
	lines := []string{fitANSI(st.TableHeader.Render(head), width)}
	waiting := false
	for _, f := range d.fss {
		usedPct := 100 * (1 - f.avail/f.size)
		fstype := f.fstype
		if f.readonly {
			fstype += " ro"
		}
		pct := padLeft(warmOr(usedPct, func(v float64) string { return trimFloat(v, 0) + "%" }), pctW)
		if usedPct >= 90 {
			pct = st.Firing.Render(pct)
		}
		line := padRight(Sanitize(f.mountpoint, maxLabelLen), mountW) + " " + st.Dim.Render(padRight(Sanitize(fstype, 40), typeW)) + " " +
			padLeft(formatIEC(f.size), sizeW) + " " + padLeft(warmOr(f.avail, formatIEC), sizeW) + " " + pct
		if barW > 0 {
			line += " " + renderBar(usedPct/100, barW, st.Spark, st.SparkHot, st.Dim, usedPct >= 90)
		}
		full := fullIn(f)
		waiting = waiting || full == "…"
		line += " " + padLeft(full, fullW)
		lines = append(lines, fitANSI(line, width))
	}
	if waiting {
		lines = append(lines, fitANSI(st.Dim.Render("… FULL IN: a prediction waits for "+fillHistory+" of history"), width))
	}
	return lines
}

// fullIn is when a filesystem fills at the pace of the last fillWindow:
// "-" when it does not fill, "…" before fillHistory of data.
func fullIn(f fsUsage) string {
	switch {
	case f.readonly:
		return "-"
	case math.IsNaN(f.deriv):
		return "…"
	case f.avail <= 0:
		return "full"
	case f.deriv >= 0:
		return "-"
	}
	secs := f.avail / -f.deriv
	if secs > 365*24*3600 {
		return "> 1y"
	}
	return formatDuration(time.Duration(secs * float64(time.Second)).Truncate(time.Minute))
}

// cells is how many of width cells a share (0-1) fills; 0 for NaN.
func cells(share float64, width int) int {
	if math.IsNaN(share) {
		return 0
	}
	return max(min(int(math.Round(share*float64(width))), width), 0)
}

// renderBar is a bar filled to share (0-1) in width cells.
func renderBar(share float64, width int, fill, hotFill, empty lipgloss.Style, hot bool) string {
	if math.IsNaN(share) {
		return strings.Repeat(" ", width)
	}
	n := cells(share, width)
	style := fill
	if hot {
		style = hotFill
	}
	return style.Render(strings.Repeat(glyphUser, n)) + empty.Render(strings.Repeat(glyphFree, width-n))
}

func (p *hostPage) diskSection(width int) []string {
	st := &p.c.styles
	d := p.data
	if len(d.disks) == 0 {
		return p.absent("DISK I/O", famDisk, width)
	}
	const devW, rateW, pctW = 10, 9, 6
	sw := max(min(width-(devW+2*rateW+pctW+4), 60), 0)
	head := padRight("DISK I/O", devW) + " " + padLeft("READ", rateW) + " " + padLeft("WRITE", rateW) + " " + padLeft("BUSY", pctW)
	if sw > 0 {
		head += " " + padRight("read+write", sw)
	}
	lines := []string{fitANSI(st.TableHeader.Render(head), width)}
	for _, x := range d.disks {
		busy := padLeft(warmOr(100*x.busy, formatPercent), pctW)
		if x.busy >= 0.9 {
			busy = st.Firing.Render(busy)
		}
		line := padRight(Sanitize(x.device, maxLabelLen), devW) + " " + padLeft(warmOr(x.read, formatBytesRate), rateW) + " " +
			padLeft(warmOr(x.written, formatBytesRate), rateW) + " " + busy
		if sw > 0 {
			line += " " + p.spark(p.sparks.diskLine(x.device), sw, 0, false)
		}
		lines = append(lines, fitANSI(line, width))
	}
	return lines
}

func (p *hostPage) netSection(width int) []string {
	st := &p.c.styles
	d := p.data
	if len(d.nets) == 0 {
		return p.absent("NETWORK", famNet, width)
	}
	const devW, rateW, errW = 10, 9, 7
	sw := max(min(width-(devW+2*rateW+2*errW+5), 60), 0)
	head := padRight("NETWORK", devW) + " " + padLeft("RX", rateW) + " " + padLeft("TX", rateW) + " " + padLeft("ERR/s", errW) + " " + padLeft("DROP/s", errW)
	if sw > 0 {
		head += " " + padRight("rx+tx", sw)
	}
	lines := []string{fitANSI(st.TableHeader.Render(head), width)}
	perSec := func(a, b float64) string {
		v := a + b
		switch {
		case math.IsNaN(a) && math.IsNaN(b):
			return padLeft("-", errW)
		case math.IsNaN(v):
			v = math.Max(nanTo0(a), nanTo0(b))
		}
		s := padLeft(formatAxis(v), errW)
		if v > 0 {
			return st.Firing.Render(s)
		}
		return s
	}
	for _, n := range d.nets {
		line := padRight(Sanitize(n.device, maxLabelLen), devW) + " " + padLeft(warmOr(n.rx, formatBytesRate), rateW) + " " +
			padLeft(warmOr(n.tx, formatBytesRate), rateW) + " " + perSec(n.rxErr, n.txErr) + " " + perSec(n.rxDrop, n.txDrop)
		if sw > 0 {
			line += " " + p.spark(p.sparks.netLine(n.device), sw, 0, false)
		}
		lines = append(lines, fitANSI(line, width))
	}
	return lines
}

func nanTo0(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// alertsSection is a line per alert on the host: state, name, value,
// since.
func (p *hostPage) alertsSection(width int) []string {
	c, st := p.c, &p.c.styles
	var lines []string
	for _, a := range c.alerts {
		if a.Labels.Get("instance") != p.instance || a.State == StateResolved {
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
			padLeft(formatShort(a.Value), 9) + " " + padLeft(formatAge(c.now, since(a)), 8)
		if s := a.Annotations.Get("summary"); s != "" {
			line += "  " + st.Dim.Render(Sanitize(s, maxLineLen))
		}
		lines = append(lines, fitANSI(line, width))
	}
	if len(lines) == 0 {
		return []string{p.heading("ALERTS") + " " + st.Dim.Render("none")}
	}
	return append([]string{st.Title.Render("ALERTS")}, lines...)
}

// targetsSection is a line per target of the host: health, job, last
// scrape, its duration and series, or its error.
func (p *hostPage) targetsSection(width int) []string {
	c, st := p.c, &p.c.styles
	var lines []string
	for _, t := range c.targets {
		if t.Instance != p.instance {
			continue
		}
		health := st.Dim.Render("○ unknown")
		switch t.Health {
		case TargetUp:
			health = st.Up.Render("● up     ")
		case TargetDown:
			health = st.Down.Render("● down   ")
		}
		tail := "last " + padLeft(formatAge(c.now, t.LastScrape), 6) + " " + padLeft(formatDuration(t.LastDuration), 8) + " " +
			padLeft(countOrNot(t.Series), 8) + " series"
		if t.LastScrape.IsZero() {
			tail = st.Dim.Render("not scraped yet")
		}
		if t.Health == TargetDown && t.LastError != "" {
			tail = st.Error.Render(Sanitize(t.LastError, maxErrorLen))
		}
		line := health + "  " + padANSI(st.Dim.Render(fit("job "+Sanitize(t.Job, maxLabelLen), 24)), 24) + " " + tail
		lines = append(lines, fitANSI(line, width))
	}
	if len(lines) == 0 && len(c.targets) == 0 && c.targetsErr != nil {
		lines = append(lines, st.Dim.Render(fit(Sanitize(c.targetsErr.Error(), maxErrorLen), width)))
	}
	if len(lines) == 0 {
		return nil
	}
	return append([]string{st.Title.Render("TARGETS")}, lines...)
}

// spark draws values (the range's grid) as a sparkline of width cells;
// scale 0 scales to the data.
func (p *hostPage) spark(values []float64, width int, scale float64, hot bool) string {
	st := &p.c.styles
	if width <= 0 {
		return ""
	}
	if values == nil {
		return strings.Repeat(" ", width)
	}
	style := st.Spark
	if hot {
		style = st.SparkHot
	}
	return renderSpark(values, width, scale, style)
}

// The sparklines of the last data that has them; nil before any.
func (d *hostPageData) cpuLine() []float64 {
	if d == nil {
		return nil
	}
	return d.cpuSpark
}

func (d *hostPageData) coreLine(cpu string) []float64 {
	if d == nil {
		return nil
	}
	return d.coreSpark[cpu]
}

func (d *hostPageData) memLine() []float64 {
	if d == nil {
		return nil
	}
	return d.memSpark
}

func (d *hostPageData) loadLine() []float64 {
	if d == nil {
		return nil
	}
	return d.ldSpark
}

func (d *hostPageData) diskLine(dev string) []float64 {
	if d == nil {
		return nil
	}
	return d.diskSpark[dev]
}

func (d *hostPageData) netLine(dev string) []float64 {
	if d == nil {
		return nil
	}
	return d.netSpark[dev]
}
