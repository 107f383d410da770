package tui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/util/teststorage"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/tui/internal/fakenode"
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
// over unchanging data and reports, per tick, the bytes of the lines that
// changed (what a line-by-line renderer writes: an upper bound, since the
// cellWriter writes only the changed cells; BenchmarkIdleOverviewBytes
// measures those), and the cost of a frame.
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

// fleetOptions returns options over n fake hosts with an hour of history
// at 5 s ending at testNow, every host up and one alert firing; app is the
// store's appender factory, for benchmarks that go on scraping.
func fleetOptions(b testing.TB, n int) (Options, []fakenode.Host, *teststorage.TestStorage) {
	b.Helper()
	hosts := fakenode.Fleet(n)
	st := teststorage.New(b)
	require.NoError(b, fakenode.Write(st.Appender(context.Background()), hosts, testNow, time.Hour, 5*time.Second))
	targets := make([]Target, n)
	for i, h := range hosts {
		targets[i] = Target{Job: "node", Instance: h.Instance, URL: "http://" + h.Instance + "/metrics",
			Health: TargetUp, Labels: labels.FromStrings("instance", h.Instance, "job", "node"),
			LastScrape: testNow, LastDuration: 20 * time.Millisecond, LastSamples: 40, Series: 40,
			ScrapeInterval: 5 * time.Second, ScrapeTimeout: 5 * time.Second}
	}
	alerts := []Alert{{Rule: "HostHighLoad", Group: "node", State: StateFiring,
		Labels:      labels.FromStrings("alertname", "HostHighLoad", "instance", hosts[n-1].Instance, "job", "node", "severity", "warning"),
		Annotations: labels.FromStrings("summary", "load is high"),
		Value:       5.2, ActiveAt: testNow.Add(-10 * time.Minute), FiredAt: testNow.Add(-8 * time.Minute)}}
	return Options{
		Querier:  NewEngineQuerier(newTestEngine(), st),
		Targets:  TargetsFunc(func() []Target { return targets }),
		Alerts:   AlertsFunc(func() []Alert { return alerts }),
		Now:      func() time.Time { return testNow },
		Location: time.UTC,
	}, hosts, st
}

// BenchmarkOverviewView is the cost of drawing the Overview of 24 hosts at
// 200×60, its data already queried: what every refresh and key press pays
// on the event loop. Every frame draws every card and sparkline anew.
func BenchmarkOverviewView(b *testing.B) {
	opts, _, _ := fleetOptions(b, 24)
	m := newTestModel(b, opts, 200, 60)
	m = tick(b, m)
	view := m.View()
	require.Contains(b, view, "host24") // brief: every host has port 9100
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		view = m.View()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/frame")
	b.ReportMetric(float64(len(view)), "bytes/frame")
}

// countingWriter counts what the program writes to the terminal.
type countingWriter struct {
	mu   sync.Mutex
	n    int
	last time.Time
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n += len(p)
	w.last = time.Now()
	return len(p), nil
}

func (w *countingWriter) read() (n int, last time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n, w.last
}

// settle waits until nothing has been written for quiet.
func (w *countingWriter) settle(quiet time.Duration) {
	for {
		time.Sleep(quiet / 4)
		if _, last := w.read(); time.Since(last) >= quiet {
			return
		}
	}
}

// BenchmarkIdleOverviewBytes is what crosses a slow SSH link while an
// operator watches an idle Overview of 20 hosts (cards at 200×60) or 100
// (a line each) scraped every 5 s: a real bubbletea program, drawing in
// 256 colours, writes to a counter while a
// simulated minute passes, one refresh per second and new samples for
// every host every 5 s. The clock is simulated so the minute takes a few
// seconds; each refresh is let settle (queries answered, frame flushed)
// before the next, so the renderer sees the frames it would in real time.
func BenchmarkIdleOverviewBytes(b *testing.B) {
	for _, size := range []struct{ w, h, hosts int }{{80, 24, 20}, {200, 60, 20}, {200, 60, 100}} {
		b.Run(fmt.Sprintf("%dx%d_%dhosts", size.w, size.h, size.hosts), func(b *testing.B) {
			lipgloss.SetColorProfile(termenv.ANSI256)
			defer lipgloss.SetColorProfile(termenv.Ascii)
			opts, hosts, st := fleetOptions(b, size.hosts)
			var mu sync.Mutex
			now := testNow
			opts.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			origin := testNow.Add(-time.Hour)

			var perMinute []int
			for i := 0; i < b.N; i++ {
				out := &countingWriter{}
				m := newModel(context.Background(), opts)
				m.c.noTick = true
				p := newProgram(m, out, tea.WithInput(nil), tea.WithoutSignalHandler())
				done := make(chan error, 1)
				go func() { _, err := p.Run(); done <- err }()
				p.Send(tea.WindowSizeMsg{Width: size.w, Height: size.h})
				p.Send(tickMsg(testNow))
				out.settle(200 * time.Millisecond)
				start, _ := out.read()
				for s := 1; s <= 60; s++ {
					mu.Lock()
					now = now.Add(time.Second)
					t := now
					mu.Unlock()
					if s%5 == 0 {
						require.NoError(b, fakenode.Scrape(st.Appender(context.Background()), hosts, origin, t, 5*time.Second))
					}
					p.Send(tickMsg(t))
					out.settle(120 * time.Millisecond)
				}
				end, _ := out.read()
				perMinute = append(perMinute, end-start)
				p.Quit()
				require.NoError(b, <-done)
				m.Close()
			}
			total := 0
			for _, n := range perMinute {
				total += n
			}
			b.ReportMetric(float64(total)/float64(len(perMinute))/1024, "KiB/min")
		})
	}
}

// BenchmarkHostPageView is the cost of drawing the host page of a
// recorded node_exporter at 220×60, its data already queried: what every
// refresh and key press pays on the event loop.
func BenchmarkHostPageView(b *testing.B) {
	m := newTestModel(b, replayOptions(b, nodeRecording, "node", "127.0.0.1:9100"), 220, 60)
	m = tick(b, m)
	view := m.View()
	require.Contains(b, view, "FILESYSTEM")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		view = m.View()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/frame")
	b.ReportMetric(float64(len(view)), "bytes/frame")
}

// BenchmarkCompactOverviewView is the cost of drawing the Overview of 100
// hosts, one line each, at 220×60.
func BenchmarkCompactOverviewView(b *testing.B) {
	opts, _, _ := fleetOptions(b, 100)
	m := newTestModel(b, opts, 220, 60)
	m = tick(b, m)
	view := m.View()
	require.Contains(b, view, "HOST")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		view = m.View()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/frame")
	b.ReportMetric(float64(len(view)), "bytes/frame")
}
