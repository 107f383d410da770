package tui

import (
	"github.com/charmbracelet/x/ansi"

	tea "github.com/charmbracelet/bubbletea"
)

// Mouse input is opt-in (Options.Mouse, m): while it is on, the terminal's
// own selection needs shift (in most terminals), as in k9s. A click on a
// tab switches to its view; a click in a view reaches the view as a
// viewClick (a row, a series in a legend, a time on a chart); the wheel
// moves as ↑ and ↓ do.

// viewClick is a left click in the active view, x and y from the view's
// top left corner.
type viewClick struct{ x, y int }

func (m Model) handleMouse(msg tea.MouseMsg) (tea.Model, tea.Cmd) {
	c := m.c
	if !c.mouse || m.showHelp || c.jump.Focused() || msg.Action != tea.MouseActionPress {
		return m, nil
	}
	active := m.views[m.active]
	c.note = ""
	switch msg.Button {
	case tea.MouseButtonWheelUp, tea.MouseButtonWheelDown:
		if active.capturing() {
			return m, nil
		}
		k := tea.KeyMsg{Type: tea.KeyDown}
		if msg.Button == tea.MouseButtonWheelUp {
			k.Type = tea.KeyUp
		}
		return m, active.update(k)
	case tea.MouseButtonLeft:
		if msg.Y == 1 && c.height >= 8 {
			if i := m.tabAt(msg.X); i >= 0 {
				return m.switchTo(i)
			}
			return m, nil
		}
		if msg.Y >= c.contentTop && msg.Y < c.height-1 {
			return m, active.update(viewClick{x: msg.X, y: msg.Y - c.contentTop})
		}
	}
	return m, nil
}

// tabAt is the view whose tab is at column x of the tab bar, or -1; the
// labels are laid out as tabsView lays them.
func (m Model) tabAt(x int) int {
	label := func(i int, full bool) string {
		if full {
			return " " + itoa(i+1) + " " + m.views[i].title() + " "
		}
		return itoa(i + 1)
	}
	full := true
	w := -1
	for i := range m.views {
		w += 1 + ansi.StringWidth(label(i, true))
	}
	if w > m.c.width {
		full = false
	}
	at := 0
	for i := range m.views {
		l := ansi.StringWidth(label(i, full || i == m.active))
		if x >= at && x < at+l {
			return i
		}
		at += l + 1
	}
	return -1
}
