package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// changedBytes is roughly what bubbletea's renderer writes to go from
// frame a to frame b: it repaints the lines that differ.
func changedBytes(a, b string) int {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	n := 0
	for i := range lb {
		if i >= len(la) || la[i] != lb[i] {
			n += len(lb[i]) + 4 // plus cursor movement and erase
		}
	}
	return n
}

// BenchmarkIdleMinute replays a minute of one-second ticks on each view
// over unchanging data and reports the bytes a slow link has to carry per
// tick, and the cost of a frame.
func BenchmarkIdleMinute(b *testing.B) {
	opts := testOptions(b)
	for _, v := range []struct {
		name string
		keys []string
	}{
		{"overview", nil},
		{"targets", []string{"2"}},
		{"explore_chart", []string{"4", "/", "load", "enter", "enter", "enter"}},
		{"query", []string{"5", "rate(node_cpu_seconds_total[1m])", "enter"}},
	} {
		b.Run(v.name, func(b *testing.B) {
			now := testNow
			opts.Now = func() time.Time { return now }
			m := newTestModel(b, opts, 80, 24)
			m = press(b, m, v.keys...)
			bytes, frames := 0, 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				now = testNow
				m = drive(b, m, func() tea.Msg { return tickMsg(now) })
				prev := m.View()
				for s := 1; s <= 60; s++ {
					now = testNow.Add(time.Duration(s) * time.Second)
					m = drive(b, m, func() tea.Msg { return tickMsg(now) })
					cur := m.View()
					bytes += changedBytes(prev, cur)
					frames++
					prev = cur
				}
			}
			b.ReportMetric(float64(bytes)/float64(frames), "bytes/tick")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(frames), "ns/tick")
		})
	}
}
