package tui

import (
	"math"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// compactCols are the widths of the one-line-a-host table; a width of 0
// leaves the column out.
type compactCols struct {
	name, cpuSpark, memSpark, alerts int
}

// The fixed columns of the table: mark, CPU, MEM, DISK, LOAD, RX, TX.
const (
	colValue = 6 // 100.0%
	colLoad  = 8 // 12.3/64
	colRate  = 8 // 123kB/s
)

// compactLayout lays the table out in width cells for names up to nameW
// wide (0: as wide as at most 18). Of what the numbers leave, the alert
// names take half (at least 14 cells, for one name), up to 30, the
// sparklines up to 30 each (CPU's first), and the alert names the rest.
func compactLayout(width, nameW int) compactCols {
	if nameW <= 0 {
		nameW = 18
	}
	c := compactCols{name: min(max(nameW, 8), 28)}
	fixed := 1 + 1 + c.name + 3*(1+colValue) + 1 + colLoad + 2*(1+colRate) + 1
	rest := width - fixed
	if rest < 4 {
		// Too narrow for all: the name gives way, down to 8.
		c.name = max(c.name+rest-4, 8)
		c.alerts = 4
		return c
	}
	// The alert names say why a host is in trouble: they come before
	// the sparklines.
	c.alerts = min(max(rest/2, min(rest, 14)), 30) // "▲1 NodeCPUBusy"
	sparks := rest - c.alerts
	if sparks >= 6 {
		c.cpuSpark = min(sparks-1, 30)
		sparks -= c.cpuSpark + 1
	}
	if sparks >= 9 {
		c.memSpark = min(sparks-1, 30)
		sparks -= c.memSpark + 1
	}
	c.alerts += sparks
	return c
}

// tableView draws the shown hosts one a line in at most height lines:
// the header, then the rows, the cursor's in sight.
func (o *overview) tableView(width, height int) []string {
	st := &o.c.styles
	cols := compactLayout(width, o.nameWidth())
	o.perRow = 1
	o.visRows = max(height-1, 1)
	if o.cursor < o.scroll {
		o.scroll = o.cursor
	}
	if o.cursor >= o.scroll+o.visRows {
		o.scroll = o.cursor - o.visRows + 1
	}
	o.scroll = max(min(o.scroll, len(o.shown)-o.visRows), 0)

	head := "  " + padRight("HOST", cols.name) + " " + padLeft("CPU", colValue)
	if cols.cpuSpark > 0 {
		head += " " + padRight("", cols.cpuSpark)
	}
	head += " " + padLeft("MEM", colValue)
	if cols.memSpark > 0 {
		head += " " + padRight("", cols.memSpark)
	}
	head += " " + padLeft("DISK", colValue) + " " + padLeft("LOAD", colLoad) + " " +
		padLeft("RX", colRate) + " " + padLeft("TX", colRate) + " " + padRight("ALERTS", cols.alerts)
	lines := []string{st.TableHeader.Render(fit(head, width))}
	for i := o.scroll; i < len(o.shown) && i < o.scroll+o.visRows; i++ {
		lines = append(lines, o.tableRow(&o.shown[i], i == o.cursor, cols, width))
	}
	return lines
}

// tableRow is one host's line. The selected row is in reverse video,
// but for its sparklines, which in reverse would read as their negative.
func (o *overview) tableRow(h *host, selected bool, cols compactCols, width int) string {
	st := &o.c.styles
	var b strings.Builder
	// text writes a cell and the space after it.
	text := func(s *lipgloss.Style, cell string) {
		switch {
		case selected:
			b.WriteString(st.TableSelected.Render(cell + " "))
		case s != nil:
			b.WriteString(s.Render(cell) + " ")
		default:
			b.WriteString(cell + " ")
		}
	}
	mark, markStyle := " ", (*lipgloss.Style)(nil)
	switch h.health {
	case TargetUp:
		mark, markStyle = "●", &st.Up
	case TargetDown:
		mark, markStyle = "✖", &st.Down
	case TargetUnknown:
		mark, markStyle = "○", &st.Dim
	}
	val := func(i, w int) {
		v := h.current[i]
		cell := "-"
		switch {
		case h.warming(i):
			cell = "…"
		case i == metricLoad && !math.IsNaN(v) && !math.IsNaN(h.ncpu):
			cell = formatValueShort(v) + "/" + itoa(int(h.ncpu))
		case !math.IsNaN(v):
			cell = hostMetrics[i].unit(v)
		}
		var s *lipgloss.Style
		if hot(i, v, h.ncpu) {
			s = &st.Firing
		}
		text(s, padLeft(cell, w))
	}
	spark := func(i, w int) {
		b.WriteString(o.spark(h, i, w) + " ")
	}
	text(markStyle, mark)
	text(&st.CardTitle, padRight(h.name, cols.name))
	val(metricCPU, colValue)
	if cols.cpuSpark > 0 {
		spark(metricCPU, cols.cpuSpark)
	}
	val(metricMem, colValue)
	if cols.memSpark > 0 {
		spark(metricMem, cols.memSpark)
	}
	val(metricDisk, colValue)
	val(metricLoad, colLoad)
	val(metricRx, colRate)
	val(metricTx, colRate)
	alerts := ""
	if len(h.alerts) > 0 {
		alerts = "▲" + itoa(h.firing+h.pending) + " " + Sanitize(strings.Join(h.alerts, " "), maxLineLen)
	}
	alerts = padRight(alerts, max(width-cellWidth(b.String()), 0))
	switch {
	case selected:
		b.WriteString(st.TableSelected.Render(alerts))
	case h.firing > 0:
		b.WriteString(st.Firing.Render(alerts))
	case h.pending > 0:
		b.WriteString(st.Pending.Render(alerts))
	default:
		b.WriteString(alerts)
	}
	return padANSI(b.String(), width)
}
