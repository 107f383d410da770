package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/prometheus/common/model"
)

// Moving through time: [ and ] pan by half a range, @ centres the range
// on a time typed at a prompt, 0 goes back to live. A range that does
// not end now is paused: the data on screen is what was there then, and
// nothing moves until the operator goes live again (0 or p).

// shownEnder is a view whose chart may end elsewhere than the console's
// range (an alert's chart, centred on when it fired): [ and ] pan from
// what it shows.
type shownEnder interface {
	shownEnd() (time.Time, bool)
}

func newJumpInput() textinput.Model {
	ti := textinput.New()
	ti.Prompt = "@ "
	ti.Placeholder = "14:05, 2026-12-07 14:05 or -30m"
	ti.CharLimit = 64
	ti.Cursor.SetMode(cursor.CursorStatic)
	return ti
}

// handleTimeKey handles the keys of time and of the whole console that
// views do not see: [ ] 0 @ z m. ok is false for any other key.
func (m Model) handleTimeKey(msg tea.KeyMsg) (_ tea.Model, _ tea.Cmd, ok bool) {
	c, k := m.c, &m.c.keys
	switch {
	case key.Matches(msg, k.PanBack):
		return m, m.pan(-1), true
	case key.Matches(msg, k.PanAhead):
		return m, m.pan(+1), true
	case key.Matches(msg, k.Live):
		if c.live() && !c.paused && c.cursor.IsZero() {
			return m, nil, true
		}
		c.cursor = time.Time{}
		return m, m.goLive(), true
	case key.Matches(msg, k.GoTo):
		c.jump.SetValue("")
		c.jump.Focus()
		c.jumpErr = ""
		return m, nil, true
	case key.Matches(msg, k.ZeroAxis):
		c.fitAxis = !c.fitAxis
		return m, nil, true
	case key.Matches(msg, k.Mouse):
		c.mouse = !c.mouse
		if c.mouse {
			c.note = "mouse on: click selects, the wheel scrolls; m turns it off for the terminal's own selection"
			return m, tea.EnableMouseCellMotion, true
		}
		c.note = "mouse off"
		return m, tea.DisableMouse, true
	}
	return m, nil, false
}

// goLive returns the range to now and resumes the clock, showing what
// arrived while paused.
func (m Model) goLive() tea.Cmd {
	c := m.c
	c.at, c.paused = time.Time{}, false
	c.now = c.opts.Now()
	m.poll()
	for _, e := range c.heldEvents {
		c.addEvent(e)
	}
	for _, s := range c.heldStatus {
		m.setStatus(s)
	}
	c.heldEvents, c.heldStatus = nil, nil
	return m.rangeChanged()
}

// pan moves the range by half its length, back (dir < 0) or ahead, from
// what the active view shows; never past now, nor back past what the
// store keeps.
func (m Model) pan(dir int) tea.Cmd {
	c := m.c
	end := c.end()
	if v, ok := m.views[m.active].(shownEnder); ok {
		if t, ok := v.shownEnd(); ok {
			end = t
		}
	}
	next := end.Add(time.Duration(dir) * c.rng() / 2)
	if dir > 0 && !next.Before(c.now) {
		next = c.now
		c.note = "this is now: 0 goes live"
	}
	if e := c.earliestEnd(); !e.IsZero() && next.Before(e) {
		next = e
		c.note = c.retentionNote()
	}
	if next.Equal(c.at) {
		return nil
	}
	c.at, c.paused = next, true
	if !c.cursor.IsZero() && (c.cursor.After(next) || c.cursor.Before(next.Add(-c.rng()))) {
		c.cursor = time.Time{}
	}
	return m.rangeChanged()
}

// jumpTo centres the range on t, with the cursor there.
func (m Model) jumpTo(t time.Time) (tea.Cmd, error) {
	c := m.c
	if t.After(c.now) {
		return nil, fmt.Errorf("%s is still to come", t.In(c.opts.Location).Format("2006-01-02 15:04:05"))
	}
	if r := c.opts.Retention; r > 0 && t.Before(c.now.Add(-r)) {
		return nil, fmt.Errorf("%s is older than %s", t.In(c.opts.Location).Format("2006-01-02 15:04:05"), c.retentionNote())
	}
	end := t.Add(c.rng() / 2)
	if end.After(c.now) {
		end = c.now
	}
	if e := c.earliestEnd(); !e.IsZero() && end.Before(e) {
		end = e
	}
	c.at, c.paused, c.cursor = end, true, t
	return m.rangeChanged(), nil
}

// handleJumpKey feeds the @ prompt: enter goes, esc cancels.
func (m Model) handleJumpKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	c, k := m.c, &m.c.keys
	switch {
	case key.Matches(msg, k.Back):
		c.jump.Blur()
		return m, nil
	case key.Matches(msg, k.Run):
		t, err := parseAt(c.jump.Value(), c.now, c.opts.Location)
		if err == nil {
			var cmd tea.Cmd
			if cmd, err = m.jumpTo(t); err == nil {
				c.jump.Blur()
				return m, cmd
			}
		}
		c.jumpErr = err.Error()
		return m, nil
	}
	var cmd tea.Cmd
	c.jump, cmd = c.jump.Update(msg)
	c.jumpErr = ""
	return m, cmd
}

// jumpView is the footer while the @ prompt is open.
func (m Model) jumpView(w int) string {
	c, st := m.c, &m.c.styles
	c.jump.Width = max(w/2, 10)
	st.styleInput(&c.jump)
	s := c.jump.View()
	if c.jumpErr != "" {
		s += "  " + st.Error.Render(Sanitize(c.jumpErr, maxErrorLen))
	} else {
		s += "  " + st.Dim.Render("enter goes · esc cancels")
	}
	return fit(s, w)
}

// rangeText is the header's range: its length and the scrape interval
// when live, "09:37–09:52" when the operator moved elsewhere (with the
// date when it is not today's).
func (c *common) rangeText() string {
	if c.live() {
		return formatRange(c.rng())
	}
	loc := c.opts.Location
	end := c.at.In(loc)
	start := end.Add(-c.rng())
	layout := "15:04"
	if c.rng() < 10*time.Minute {
		layout = "15:04:05"
	}
	s := start.Format(layout) + "–" + end.Format(layout)
	if y, m, d := end.Date(); y != c.now.In(loc).Year() || m != c.now.In(loc).Month() || d != c.now.In(loc).Day() {
		s = end.Format("2006-01-02 ") + s
	}
	return s
}

// rangeWords names the range on screen in a sentence: "the last 15m", or
// "09:37–09:52" when the operator moved elsewhere.
func (c *common) rangeWords() string {
	if c.live() {
		return "the last " + formatRange(c.rng())
	}
	return c.rangeText()
}

// errBadTime is what parseAt says of what it cannot read.
var errBadTime = errors.New("want a time such as 14:05, 14:05:30, 2026-12-07 14:05 or -30m")

// parseAt reads the time typed at the @ prompt, in loc: a time of day
// ("14:05", "14:05:30": today's, or yesterday's when today's is still to
// come), a date and time ("2026-12-07 14:05", seconds optional, or RFC
// 3339), or a duration before now ("-30m", "-1h30m", "-2d").
func parseAt(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "@"))
	if s == "" {
		return time.Time{}, errBadTime
	}
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		d, err := model.ParseDuration(rest)
		if err != nil || d <= 0 {
			return time.Time{}, fmt.Errorf("%q: %w", s, errBadTime)
		}
		return now.Add(-time.Duration(d)), nil
	}
	for _, layout := range []string{"15:04", "15:04:05"} {
		t, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			continue
		}
		n := now.In(loc)
		at := time.Date(n.Year(), n.Month(), n.Day(), t.Hour(), t.Minute(), t.Second(), 0, loc)
		if at.After(now) {
			at = at.AddDate(0, 0, -1)
		}
		return at, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q: %w", s, errBadTime)
}
