package tui

import (
	"math"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// cardHeight is a card's lines: border, six metrics, border.
const cardHeight = 8

// cardLayout returns how many cards fit in a row, their width and the
// width of their sparklines.
func cardLayout(width int) (perRow, cardW, sparkW int) {
	perRow = max(width/38, 1)
	cardW = width / perRow
	sparkW = max(cardW-2-2-4-1-10-1, 0)
	return perRow, cardW, sparkW
}

// cardsView draws the shown hosts as rows of cards in at most height
// lines, the cursor's row in sight.
func (o *overview) cardsView(width, height int) []string {
	perRow, cardW, sparkW := cardLayout(width)
	o.perRow = perRow
	rows := (len(o.shown) + perRow - 1) / perRow
	ch := cardHeight
	if height < ch {
		ch = max(height, 3) // a squeezed card shows fewer metrics
	}
	o.visRows = max(height/ch, 1)
	cr := o.cursor / perRow
	if cr < o.scroll {
		o.scroll = cr
	}
	if cr >= o.scroll+o.visRows {
		o.scroll = cr - o.visRows + 1
	}
	o.scroll = max(min(o.scroll, rows-o.visRows), 0)
	var lines []string
	for r := o.scroll; r < rows && r < o.scroll+o.visRows; r++ {
		var cards []string
		for i := r * perRow; i < (r+1)*perRow && i < len(o.shown); i++ {
			cards = append(cards, o.card(&o.shown[i], i == o.cursor, cardW, ch, sparkW))
		}
		lines = append(lines, lipgloss.JoinHorizontal(lipgloss.Top, cards...))
	}
	return lines
}

// card draws one host: a rounded box with its name, health and firing
// alerts in the top border, a line per metric, and the names of its
// alerts in the bottom border.
func (o *overview) card(h *host, selected bool, w, ht, sparkW int) string {
	st := &o.c.styles
	border := st.Card
	if selected {
		border = st.CardSelected
	}
	bs := border.GetBorderStyle()
	paint := o.c.renderer.NewStyle().Foreground(border.GetBorderTopForeground())
	if h.firing > 0 && !selected {
		// A host with a firing alert stands out: its frame in the
		// alarm colour, the count beside its health.
		paint = o.c.renderer.NewStyle().Foreground(st.Firing.GetForeground())
	}
	inner := w - 2

	status := ""
	switch h.health {
	case TargetUp:
		status = st.Up.Render("● up")
	case TargetDown:
		status = st.Down.Render("● down")
	}
	if h.firing > 0 {
		status += " " + st.Firing.Render("▲"+itoa(h.firing))
	}
	statusW := cellWidth(status)
	name := fit(h.name, max(inner-4-statusW-1, 1))
	title := " " + st.CardTitle.Render(name) + " "
	fill := inner - 1 - cellWidth(title) - statusW - 1
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
	for i := range nMetrics {
		hm := hostMetrics[i]
		v := h.current[i]
		val := "-"
		switch {
		case h.warming(i):
			val = "warming up"
		case !math.IsNaN(v) && i == metricLoad && !math.IsNaN(h.ncpu):
			val = formatValueShort(v) + "/" + itoa(int(h.ncpu))
		case !math.IsNaN(v):
			val = hm.unit(v)
		}
		spark := ""
		if sparkW > 0 {
			spark = o.spark(h, i, sparkW)
		}
		body := st.CardLabel.Render(padRight(hm.label, 4)) + " " + st.CardValue.Render(padLeft(val, 10)) + " " + spark
		lines = append(lines, side+" "+padANSI(body, inner-2)+" "+sideR)
	}
	for len(lines) < ht-1 {
		lines = append(lines, side+strings.Repeat(" ", inner)+sideR)
	}
	bottom := paint.Render(bs.BottomLeft + bs.Bottom)
	used := 1
	if len(h.alerts) > 0 && inner > 8 {
		names := " " + fit(Sanitize(strings.Join(h.alerts, " "), maxLineLen), inner-4) + " "
		style := st.Pending
		if h.firing > 0 {
			style = st.Firing
		}
		bottom += style.Render(names)
		used += cellWidth(names)
	}
	bottom += paint.Render(strings.Repeat(bs.Bottom, max(inner-used, 0)) + bs.BottomRight)
	lines = append(lines, bottom)
	return strings.Join(lines, "\n")
}

// spark draws metric i of h as a sparkline of width cells: the range's
// points, then the current value as the newest column.
func (o *overview) spark(h *host, i, width int) string {
	st := &o.c.styles
	hm := hostMetrics[i]
	vals := h.values[i]
	v := h.current[i]
	if !math.IsNaN(v) {
		// The grid ends at the last whole step; now is the last column.
		vals = append(vals[:len(vals):len(vals)], v)
	}
	if vals == nil {
		return strings.Repeat(" ", width)
	}
	style := st.Spark
	if hot(i, v, h.ncpu) {
		style = st.SparkHot
	}
	scale := hm.max
	if i == metricLoad && !math.IsNaN(h.ncpu) {
		// A full bar is every CPU busy, or more.
		scale = math.Max(h.ncpu, maxOf(vals))
	}
	return renderSpark(vals, width, scale, style)
}

// hot reports whether a value deserves the alarm colour: CPU, memory or
// disk above 90%, load above the number of CPUs.
func hot(metric int, v, ncpu float64) bool {
	switch metric {
	case metricCPU, metricMem, metricDisk:
		return v >= 90
	case metricLoad:
		return !math.IsNaN(ncpu) && v > ncpu
	}
	return false
}

func formatValueShort(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return formatValue(v)
	}
	if math.Abs(v) >= 1000 {
		return formatSI(v, "")
	}
	return trimFloat(v, 2)
}
