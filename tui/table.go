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
	// Keep the cursor in sight.
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+t.height {
		t.offset = t.cursor - t.height + 1
	}
	if t.offset > max(len(t.rows)-t.height, 0) {
		t.offset = max(len(t.rows)-t.height, 0)
	}
	for i := t.offset; i < len(t.rows) && i < t.offset+t.height; i++ {
		r := t.rows[i]
		b.WriteByte('\n')
		if i == t.cursor {
			line := t.line(widths, func(j int) string { return cell(r, j) })
			b.WriteString(st.TableSelected.Render(padRight(line, width)))
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
// flexible ones share the rest; when too narrow, columns are dropped from
// the right, flexible ones kept at their minimum.
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
	if flex > 0 && used < width {
		extra := width - used
		for i, c := range t.cols {
			if c.width == 0 && ws[i] > 0 {
				add := extra / flex
				ws[i] += add
				extra -= add
				flex--
			}
		}
	}
	return ws
}
