package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// filter is the / filter of a list: typing narrows it live, enter keeps
// the filter, esc drops it.
type filter struct {
	input   textinput.Model
	editing bool
}

func newFilter() filter {
	ti := textinput.New()
	ti.Prompt = "/"
	ti.CharLimit = 200
	ti.Placeholder = "filter"
	// A blinking cursor redraws twice a second: too much for a slow link.
	ti.Cursor.SetMode(cursor.CursorStatic)
	return filter{input: ti}
}

// value is the filter text, lower-cased for matching.
func (f *filter) value() string { return strings.ToLower(strings.TrimSpace(f.input.Value())) }

// matches reports whether every word of the filter occurs in one of the
// fields (case-insensitive).
func (f *filter) matches(fields ...string) bool {
	v := f.value()
	if v == "" {
		return true
	}
	hay := strings.ToLower(strings.Join(fields, " "))
	for _, w := range strings.Fields(v) {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// update handles keys while editing, or "/" and esc (to clear) when not;
// it reports whether it took the key and whether the filter text changed.
func (f *filter) update(msg tea.KeyMsg, k *KeyMap) (handled, changed bool) {
	if !f.editing {
		switch {
		case key.Matches(msg, k.Filter):
			f.editing = true
			f.input.Focus()
			return true, false
		case key.Matches(msg, k.Back) && f.input.Value() != "":
			f.input.SetValue("")
			return true, true
		}
		return false, false
	}
	switch {
	case key.Matches(msg, k.Enter):
		f.editing = false
		f.input.Blur()
		return true, false
	case key.Matches(msg, k.Back):
		f.editing = false
		f.input.Blur()
		f.input.SetValue("")
		return true, true
	}
	before := f.input.Value()
	f.input, _ = f.input.Update(msg)
	return true, f.input.Value() != before
}

// view shows the filter for a title line: the input while editing, the
// kept text afterwards, nothing when there is none.
func (f *filter) view(st *Styles, width int) string {
	if f.editing {
		f.input.Width = max(width-2, 1)
		f.input.PlaceholderStyle = st.Placeholder
		return f.input.View()
	}
	if v := f.input.Value(); v != "" {
		return st.FilterText.Render(fit("/"+Sanitize(v, 0), width))
	}
	return ""
}
