package tui

import (
	"context"
	"fmt"
	"time"

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
	rangeIdx      int
	now           time.Time
	paused        bool // p: ticks leave now and the data alone

	targets []Target
	alerts  []Alert
	rules   []Rule
	events  []AlertEvent // newest last, at most maxEvents

	// silenceErr is why the last S failed; "" when it did not.
	silenceErr string

	noTick bool // tests drive the clock themselves
}

const maxEvents = 200

func (c *common) rng() time.Duration { return c.opts.Ranges[c.rangeIdx] }

// valueStep is the granularity of "now" for current values: rate() and
// friends change with every evaluation time, and a number that changes
// every second redraws its line every second over a slow link. Scrapes
// are seconds apart anyway.
const valueStep = 5 * time.Second

// valueTime is the time at which current values are evaluated.
func (c *common) valueTime() time.Time { return c.now.Truncate(valueStep) }

// span is the time grid of a range query: n points ending at a multiple of
// step, so that the same query on the next tick returns the same points
// (and draws the same lines) until a step has passed.
type span struct {
	start, end time.Time
	step       time.Duration
}

// spanFor returns the grid of n points over the current range.
func (c *common) spanFor(n int) span {
	n = max(n, 2)
	step := max((c.rng() / time.Duration(n-1)).Round(time.Second), time.Second)
	end := c.now.Truncate(step)
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
