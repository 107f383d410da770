package tui

import (
	"context"
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// common is the state every view reads: options, keys, styles, the clock,
// the time range and the latest snapshots of targets, alerts and rules.
// Only the root model writes it, on the program's goroutine.
type common struct {
	opts   Options
	keys   KeyMap
	styles Styles
	// renderer draws what is styled on the fly; the styles carry it too.
	renderer *lipgloss.Renderer
	ctx      context.Context
	cancel   context.CancelFunc

	width, height int
	ranges        []time.Duration // what + and - offer: Options.Ranges up to the retention
	rangeIdx      int
	now           time.Time
	paused        bool // p: ticks leave now and the data alone
	// at is the end of the range on screen when the operator moved
	// through time ([, ], @); zero when the range ends now. A moved range
	// is paused.
	at time.Time
	// cursor is where the charts' cursor stands; zero when it is off. One
	// for every chart, so that another view shows the same moment.
	cursor  time.Time
	fitAxis bool // z: charts fit their data rather than start at zero
	mouse   bool // mouse input is on
	// note is a one-off message for the footer (the retention a longer
	// range would need); the next key clears it.
	note string
	// contentTop is the screen line where views start, for mouse clicks.
	contentTop int

	// jump is the @ prompt, jumpErr why the time typed there was refused.
	jump    textinput.Model
	jumpErr string

	// What arrived while paused, shown when the console goes live.
	heldEvents []AlertEvent
	heldStatus []Status

	polls   int // how many times the snapshots below were taken
	targets []Target
	remotes []RemoteWrite
	alerts  []Alert
	rules   []Rule
	events  []AlertEvent // newest last, at most maxEvents
	// Why the lists above are not what there is, from their sources'
	// Reporting: nil when they are.
	targetsErr, alertsErr, rulesErr error

	// silenceErr is why the last S failed; "" when it did not.
	silenceErr string

	noTick bool // tests drive the clock themselves
}

const maxEvents = 200

func (c *common) rng() time.Duration { return c.ranges[c.rangeIdx] }

// offeredRanges are the ranges of rs that the store holds (a retention of 0
// is not known: all of them), then the retention itself when it is longer
// than the longest of them.
func offeredRanges(rs []time.Duration, retention time.Duration) []time.Duration {
	if retention <= 0 {
		return rs
	}
	var out []time.Duration
	for _, r := range rs {
		if r <= retention {
			out = append(out, r)
		}
	}
	if len(out) == 0 || out[len(out)-1] < retention {
		out = append(out, retention)
	}
	return out
}

// end is the end of the range on screen: now, or where the operator
// moved to.
func (c *common) end() time.Time {
	if !c.at.IsZero() {
		return c.at
	}
	return c.now
}

// live reports whether the range on screen ends now.
func (c *common) live() bool { return c.at.IsZero() }

// earliestEnd is the earliest end of a range the store still holds
// whole, or zero when the retention is not known.
func (c *common) earliestEnd() time.Time {
	if c.opts.Retention <= 0 {
		return time.Time{}
	}
	return c.now.Add(-c.opts.Retention + c.rng())
}

// retentionNote says what the store keeps, for a range or pan that would
// need more.
func (c *common) retentionNote() string {
	return "the store keeps " + formatRange(c.opts.Retention) + " of history (--retention)"
}

// valueStep is the granularity of "now" for current values: rate() and
// friends change with every evaluation time, and a number that changes
// every second redraws its line every second over a slow link. Scrapes
// are seconds apart anyway.
const valueStep = 5 * time.Second

// valueTime is the time at which current values are evaluated: now, or
// the end of a range the operator moved to.
func (c *common) valueTime() time.Time { return c.end().Truncate(valueStep) }

// span is the time grid of a range query: n points ending at a multiple of
// step, so that the same query on the next tick returns the same points
// (and draws the same lines) until a step has passed.
type span struct {
	start, end time.Time
	step       time.Duration
}

// spanFor returns the grid of n points over the current range.
func (c *common) spanFor(n int) span { return c.spanEnding(n, c.end()) }

// spanEnding returns the grid of n points over a range as long as the
// current one that ends at end.
func (c *common) spanEnding(n int, end time.Time) span {
	n = max(n, 2)
	step := max((c.rng() / time.Duration(n-1)).Round(time.Second), time.Second)
	end = end.Truncate(step)
	return span{start: end.Add(-step * time.Duration(n-1)), end: end, step: step}
}

// queryCtx returns a context for one query, bounded by QueryTimeout and
// cancelled when the console stops.
func (c *common) queryCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.ctx, c.opts.QueryTimeout)
}

type tickMsg time.Time

// tick waits one refresh period; it gives up when the console stops so
// that no goroutine outlives it.
func (c *common) tick() tea.Cmd {
	if c.noTick {
		return nil
	}
	d, ctx := c.opts.Refresh, c.ctx
	return func() tea.Msg {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case now := <-t.C:
			return tickMsg(now)
		case <-ctx.Done():
			return nil
		}
	}
}

type (
	alertEventMsg  AlertEvent
	statusMsg      Status
	channelDoneMsg struct{ name string }
)

// waitFor returns a command that delivers the next value of ch as a
// message; the root model re-arms it after each one (bubbletea's
// examples/realtime pattern). It gives up when the console stops.
func waitFor[T any](ctx context.Context, ch <-chan T, name string, wrap func(T) tea.Msg) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		select {
		case v, ok := <-ch:
			if !ok {
				return channelDoneMsg{name}
			}
			return wrap(v)
		case <-ctx.Done():
			return nil
		}
	}
}

func (c *common) waitAlertEvent() tea.Cmd {
	return waitFor(c.ctx, c.opts.AlertEvents, "alert events", func(e AlertEvent) tea.Msg { return alertEventMsg(e) })
}

func (c *common) waitStatus() tea.Cmd {
	return waitFor(c.ctx, c.opts.Status, "status", func(s Status) tea.Msg { return statusMsg(s) })
}

// silenceSteps are the durations S steps through on one alert, then off.
var silenceSteps = []time.Duration{15 * time.Minute, time.Hour, 4 * time.Hour, 24 * time.Hour}

// silencedUntil is when the silence of a ends; zero when it is not
// silenced at now.
func (c *common) silencedUntil(a Alert) time.Time {
	if !a.SilencedUntil.After(c.now) {
		return time.Time{}
	}
	return a.SilencedUntil
}

// nextSilence is the until that S sets on a: 15m from now when it is not
// silenced, else the step after the one in force (the shortest step that
// covers what is left), or zero (off) after the last.
func (c *common) nextSilence(a Alert) time.Time {
	u := c.silencedUntil(a)
	if u.IsZero() {
		return c.now.Add(silenceSteps[0])
	}
	left := u.Sub(c.now)
	for i, d := range silenceSteps[:len(silenceSteps)-1] {
		if d >= left {
			return c.now.Add(silenceSteps[i+1])
		}
	}
	return time.Time{}
}

// silencedMsg is the answer of the Silencer to S.
type silencedMsg struct{ err error }

// silence asks the Silencer, off the event loop, to step the silence of a.
func (c *common) silence(a Alert) tea.Cmd {
	s := c.opts.Silences
	if s == nil {
		return nil
	}
	until := c.nextSilence(a)
	ctx, cancel := c.queryCtx()
	return func() tea.Msg {
		defer cancel()
		err := s.Silence(ctx, a.Labels, until)
		if err != nil {
			err = fmt.Errorf("silence: %w", err)
		}
		return silencedMsg{err}
	}
}

// countAlerts counts firing and pending alerts that are not silenced.
func (c *common) countAlerts() (firing, pending int) {
	for _, a := range c.alerts {
		if !c.silencedUntil(a).IsZero() {
			continue
		}
		switch a.State {
		case StateFiring:
			firing++
		case StatePending:
			pending++
		}
	}
	return firing, pending
}
