package tui

import (
	"strconv"
	"time"
)

// maxRemoteLines is how many remotes the Targets view lists at most.
const maxRemoteLines = 5

// remoteWriteSection is the Targets view's lines about the remote_write
// receivers: nothing without any, else a title and one line each, with
// its state, lag, what waits, what was sent and dropped, and the last
// error while it fails.
func remoteWriteSection(c *common, width int) []string {
	if len(c.remotes) == 0 {
		return nil
	}
	st := &c.styles
	title := st.Title.Render("Remote write")
	if c.remotes[0].InMemory {
		title += st.Warning.Render("  queue in memory (no --data-dir): lost on exit")
	}
	lines := []string{title}
	for i, r := range c.remotes {
		if i == maxRemoteLines {
			lines = append(lines, st.Dim.Render(fit("  … and "+itoa(len(c.remotes)-i)+" more", width)))
			break
		}
		state, style := "ok", &st.Up
		switch {
		case r.Failing:
			state, style = "retrying", &st.Down
		case r.Pending > 0:
			state, style = "sending", &st.Unknown
		}
		lag := "?"
		if r.LagKnown {
			lag = formatDuration(r.Lag.Truncate(time.Second))
		}
		proto := "rw " + r.Protocol
		if r.FellBack {
			proto += " (2.0 refused)"
		}
		text := "  " + padRight(Sanitize(r.Name, maxLabelLen), 16) + " " + style.Render(padRight(state, 8)) +
			" lag " + padRight(lag, 6) + " waiting " + padRight(count(r.Pending), 6)
		if r.Dropped > 0 {
			text += st.Error.Render(" dropped " + count(int64(r.Dropped)))
		}
		if r.Failing && r.LastError != "" {
			text += st.Error.Render("  " + Sanitize(r.LastError, maxErrorLen))
		} else {
			text += " sent " + padRight(count(int64(r.Sent)), 6) + " " + proto
		}
		lines = append(lines, fit(text, width))
	}
	return lines
}

// count prints a count short: 987, 12.3k, 4.5M.
func count(n int64) string {
	switch {
	case n < 10_000:
		return strconv.FormatInt(n, 10)
	case n < 1_000_000:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + "k"
	case n < 1_000_000_000:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + "M"
	}
	return strconv.FormatFloat(float64(n)/1e9, 'f', 1, 64) + "G"
}
