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
		st.styleInput(&f.input)
		return f.input.View()
	}
	if v := f.input.Value(); v != "" {
		return st.FilterText.Render(fit("/"+Sanitize(v, 0), width))
	}
	return ""
}

// fuzzyScore matches each word of pat, in order, as a subsequence of s
// (both lower case), fzf-like, and scores the match: a whole substring
// scores highest, then runs of adjacent characters and characters at the
// start of a word (after _ : . or a space); a long span costs a little. ok
// is false when a word is not a subsequence of s. An empty pat matches
// with score 0.
func fuzzyScore(s, pat string) (score int, ok bool) {
	for _, w := range strings.Fields(pat) {
		if i := strings.Index(s, w); i >= 0 {
			score += 100 + 10*len(w)
			if wordStart(s, i) {
				score += 50
			}
			continue
		}
		// Two alignments, the better one counts: leftmost, and one that
		// takes a character at the start of a word when there is one
		// ahead ("ntb": n, t of transmit, b of bytes).
		a, okA := subsequenceScore(s, w, false)
		b, okB := subsequenceScore(s, w, true)
		if !okA && !okB {
			return 0, false
		}
		score += max(a, b)
	}
	return score, true
}

func wordStart(s string, i int) bool { return i == 0 || strings.ContainsRune("_:. ", rune(s[i-1])) }

// subsequenceScore aligns w in s as a subsequence, leftmost, or
// preferring the starts of words, and scores the alignment.
func subsequenceScore(s, w string, starts bool) (score int, ok bool) {
	prev, first, i := -2, -1, 0
	for j := 0; j < len(w); j++ {
		at := -1
		if starts && j > 0 {
			for k := i; k < len(s); k++ {
				if s[k] == w[j] && wordStart(s, k) {
					at = k
					break
				}
			}
		}
		if at < 0 {
			at = strings.IndexByte(s[i:], w[j])
			if at < 0 {
				return 0, false
			}
			at += i
		}
		switch {
		case at == prev+1:
			score += 8
		case wordStart(s, at):
			score += 6
		default:
			score++
		}
		if first < 0 {
			first = at
		}
		prev, i = at, at+1
	}
	return score - (prev-first)/4, true
}
