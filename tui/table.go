package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// column is one column of a table. Width 0 makes it flexible: it takes
// what the fixed columns leave (at least min cells).
type column struct {
	title string
	width int
	min   int
	right bool
}

// row is one table row: sanitised cells, an optional style per cell and a
// key that keeps the selection on the same item across refreshes.
type row struct {
	key    string
	cells  []string
	styles []*lipgloss.Style
	// full, where set, is what the expanded row shows of a cell instead
	// of the cell (a whole error where the cell has a brief one).
	full []string
}

// table is a scrolling table with a cursor. bubbles/table cannot colour a
// single cell without its truncation cutting escape sequences, and a
// health column without colour is not what k9s users expect, hence this
// small one.
type table struct {
	cols   []column
	rows   []row
	cursor int
	offset int
	height int // rows shown, set by view
	// expand shows the selected row whole: under it, the cells that its
	// columns cut, wrapped (w).
	expand bool
}

// setRows replaces the rows, keeping the cursor on the row with the same
// key when there is one.
func (t *table) setRows(rows []row) {
	var sel string
	if t.cursor >= 0 && t.cursor < len(t.rows) {
		sel = t.rows[t.cursor].key
	}
	t.rows = rows
	if sel != "" {
		for i, r := range rows {
			if r.key == sel {
				t.cursor = i
				break
			}
		}
	}
	t.clamp()
}

func (t *table) clamp() {
	if t.cursor >= len(t.rows) {
		t.cursor = len(t.rows) - 1
	}
	if t.cursor < 0 {
		t.cursor = 0
	}
}

// selected returns the selected row, or false when there are none.
func (t *table) selected() (row, bool) {
	if t.cursor < 0 || t.cursor >= len(t.rows) {
		return row{}, false
	}
	return t.rows[t.cursor], true
}

// move handles the movement keys and reports whether msg was one.
func (t *table) move(msg tea.KeyMsg, k *KeyMap) bool {
	page := max(t.height-1, 1)
	switch {
	case key.Matches(msg, k.Up):
		t.cursor--
	case key.Matches(msg, k.Down):
		t.cursor++
	case key.Matches(msg, k.PageUp):
		t.cursor -= page
	case key.Matches(msg, k.PageDown):
		t.cursor += page
	case key.Matches(msg, k.Top):
		t.cursor = 0
	case key.Matches(msg, k.Bottom):
		t.cursor = len(t.rows) - 1
	default:
		return false
	}
	t.clamp()
	return true
}

// view renders the header and as many rows as fit in height lines.
func (t *table) view(st *Styles, width, height int, emptyText string) string {
	widths := t.widths(width)
	var b strings.Builder
	b.WriteString(st.TableHeader.Render(t.line(widths, func(i int) string { return t.cols[i].title })))
	t.height = max(height-1, 1)
	if len(t.rows) == 0 {
		if height > 1 {
			b.WriteString("\n" + st.Empty.Render(fit(emptyText, width)))
		}
		return b.String()
	}
	var more []string
	if t.expand {
		more = t.whole(st, t.rows[t.cursor], widths, width)
		more = more[:min(len(more), max(t.height-1, 0))]
	}
	rows := max(t.height-len(more), 1)
	// Keep the cursor in sight.
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+rows {
		t.offset = t.cursor - rows + 1
	}
	if t.offset > max(len(t.rows)-rows, 0) {
		t.offset = max(len(t.rows)-rows, 0)
	}
	for i := t.offset; i < len(t.rows) && i < t.offset+rows; i++ {
		r := t.rows[i]
		b.WriteByte('\n')
		if i == t.cursor {
			line := t.line(widths, func(j int) string { return cell(r, j) })
			b.WriteString(st.TableSelected.Render(padRight(line, width)))
			for _, l := range more {
				b.WriteString("\n" + l)
			}
			continue
		}
		for j := range t.cols {
			if widths[j] <= 0 {
				continue
			}
			if j > 0 {
				b.WriteByte(' ')
			}
			s := t.pad(j, cell(r, j), widths[j])
			if j < len(r.styles) && r.styles[j] != nil {
				s = r.styles[j].Render(s)
			} else {
				s = st.TableCell.Render(s)
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

// whole is what the columns cut of row r (or leave out, when too narrow
// for them), each under its column's title, wrapped to width.
func (t *table) whole(st *Styles, r row, widths []int, width int) []string {
	titleW := 0
	for _, c := range t.cols {
		titleW = max(titleW, cellWidth(c.title))
	}
	var out []string
	for j, c := range t.cols {
		text := cell(r, j)
		if j < len(r.full) && r.full[j] != "" && r.full[j] != text {
			text = r.full[j]
		} else if text == "" || cellWidth(text) <= widths[j] {
			continue
		}
		for i, l := range wrapWords(text, max(width-titleW-3, 10)) {
			head := ""
			if i == 0 {
				head = c.title
			}
			style := st.TableCell
			if j < len(r.styles) && r.styles[j] != nil {
				style = *r.styles[j]
			}
			out = append(out, "  "+st.Dim.Render(padRight(head, titleW))+" "+style.Render(l))
		}
	}
	return out
}

// scrollInfo returns "3/120" for the title line.
func (t *table) scrollInfo() string {
	if len(t.rows) == 0 {
		return "0"
	}
	return itoa(t.cursor+1) + "/" + itoa(len(t.rows))
}

func cell(r row, j int) string {
	if j < len(r.cells) {
		return r.cells[j]
	}
	return ""
}

func (t *table) line(widths []int, text func(int) string) string {
	var b strings.Builder
	for j := range t.cols {
		if widths[j] <= 0 {
			continue
		}
		if j > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.pad(j, text(j), widths[j]))
	}
	return b.String()
}

func (t *table) pad(j int, s string, w int) string {
	if t.cols[j].right {
		return padLeft(s, w)
	}
	return padRight(s, w)
}

// widths lays the columns out in width cells: fixed columns as asked, the
// flexible ones share the rest, each as much as its widest cell needs
// before any gets more (so a short column leaves room to a long one);
// when too narrow, columns are dropped from the right, flexible ones kept
// at their minimum.
func (t *table) widths(width int) []int {
	ws := make([]int, len(t.cols))
	used, flex := 0, 0
	for i, c := range t.cols {
		if c.width > 0 {
			ws[i] = c.width
		} else {
			ws[i] = max(c.min, 1)
			flex++
		}
		if i > 0 {
			used++
		}
		used += ws[i]
	}
	// Drop trailing fixed columns until the minimum fits.
	for i := len(t.cols) - 1; used > width && i > 0; i-- {
		if t.cols[i].width > 0 {
			used -= ws[i] + 1
			ws[i] = 0
		}
	}
	if flex == 0 || used >= width {
		return ws
	}
	extra := width - used
	need := make([]int, len(t.cols))
	for i, c := range t.cols {
		if c.width > 0 || ws[i] == 0 {
			continue
		}
		need[i] = cellWidth(c.title)
		for _, r := range t.rows {
			need[i] = max(need[i], cellWidth(cell(r, i)))
		}
		need[i] = max(need[i]-ws[i], 0)
	}
	// Water-fill: a column that needs less than an equal share takes
	// what it needs; the others share what is left.
	open := flex
	for open > 0 && extra > 0 {
		share, gave := extra/open, false
		for i := range t.cols {
			if t.cols[i].width > 0 || ws[i] == 0 || need[i] < 0 {
				continue
			}
			if need[i] <= share {
				ws[i] += need[i]
				extra -= need[i]
				need[i], gave = -1, true
				open--
			}
		}
		if !gave {
			break
		}
	}
	// The rest, in equal parts, to the columns still short of their
	// need; the last flexible column takes what is left after that.
	last := -1
	for i := range t.cols {
		if t.cols[i].width == 0 && ws[i] > 0 {
			last = i
			if need[i] >= 0 && open > 0 {
				add := extra / open
				ws[i] += add
				extra -= add
				open--
			}
		}
	}
	if last >= 0 {
		ws[last] += extra
	}
	return ws
}

// wrapWords breaks a sanitised single-line string into lines of at most
// width cells, at a space where there is one in the line's second half.
func wrapWords(s string, width int) []string {
	var out []string
	for s != "" {
		if cellWidth(s) <= width {
			out = append(out, s)
			break
		}
		head := truncateCells(s, width)
		if head == "" { // a character wider than the line
			break
		}
		if i := strings.LastIndexByte(head, ' '); i > len(head)/2 {
			head = head[:i+1]
		}
		out = append(out, strings.TrimRight(head, " "))
		s = strings.TrimLeft(s[len(head):], " ")
	}
	return out
}
