package tui

import (
	"context"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/store"
	"github.com/vigilterm/vigil/tui/internal/fakenode"
)

// keyCounting wraps the console's model to tell which keys a frame shows:
// Update counts the keys handled, View notes the count its frame holds.
type keyCounting struct {
	Model
	handled *int64        // keys handled; only the event loop touches it
	viewed  *atomic.Int64 // keys the last View shows
}

func (m keyCounting) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	next, cmd := m.Model.Update(msg)
	if _, ok := msg.(tea.KeyMsg); ok {
		*m.handled++
	}
	m.Model = next.(Model)
	return m, cmd
}

func (m keyCounting) View() string {
	v := m.Model.View()
	m.viewed.Store(*m.handled)
	return v
}

// frameClock is the terminal of the benchmark: it passes the renderer's
// writes through a cellWriter, as Run does, to a small terminal until the
// keys begin (the terminal's own work is not the console's) and then to
// nothing, and notes for each key when the first frame that shows it has
// been written.
type frameClock struct {
	out    io.Writer // a cellWriter on sink
	sink   sinkSwitch
	viewed *atomic.Int64

	mu    sync.Mutex
	sent  []time.Time // when key i was sent
	shown []time.Duration
}

func (w *frameClock) Write(p []byte) (int, error) {
	n, err := w.out.Write(p)
	now := time.Now()
	k := int(w.viewed.Load())
	w.mu.Lock()
	for len(w.shown) < k && len(w.shown) < len(w.sent) {
		w.shown = append(w.shown, now.Sub(w.sent[len(w.shown)]))
	}
	w.mu.Unlock()
	return n, err
}

// sinkSwitch writes to a terminal until off.
type sinkSwitch struct {
	vt  *vt
	off atomic.Bool
}

func (s *sinkSwitch) Write(p []byte) (int, error) {
	if s.off.Load() {
		return len(p), nil
	}
	return s.vt.Write(p)
}

func (w *frameClock) send(p *tea.Program, k tea.KeyMsg) {
	w.mu.Lock()
	w.sent = append(w.sent, time.Now())
	w.mu.Unlock()
	p.Send(k)
}

// loadedFleet is what the console watches in BenchmarkKeyToFrame: vigil's
// own store with an hour of history of n hosts (fakenode's series plus
// filler series up to about 1000 a host, as cmd/fleet serves), a scraper
// that appends every host's samples every 5 s spread over the interval,
// an evaluator that runs the Overview's expressions every 5 s as the
// default rules would, and one alert a host.
func loadedFleet(b *testing.B, n int) (Options, func()) {
	hosts := fakenode.Fleet(n)
	db := store.New(store.DefaultOptions())
	now := time.Now()
	origin := now.Add(-time.Hour)
	require.NoError(b, fakenode.Write(db.Appender(), hosts, now, time.Hour, 5*time.Second))
	const filler = 960
	fillers := make([][]labels.Labels, n)
	for i, h := range hosts {
		for j := range filler {
			fillers[i] = append(fillers[i], labels.FromStrings("__name__", "fleet_filler_total", "instance", h.Instance, "job", "node", "n", strconv.Itoa(j)))
		}
	}
	engine := newTestEngine()
	q := NewEngineQuerier(engine, db)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the scrapes: one host every 5s/n
		defer wg.Done()
		refs := make([][]uint64, n)
		for i := range refs {
			refs[i] = make([]uint64, filler)
		}
		t := time.NewTicker(5 * time.Second / time.Duration(n))
		defer t.Stop()
		for i := 0; ; i = (i + 1) % n {
			select {
			case <-ctx.Done():
				return
			case ts := <-t.C:
				app := db.Appender()
				if err := fakenode.Scrape(app, hosts[i:i+1], origin, ts, 5*time.Second); err != nil {
					continue // out of order after a stall: the next scrape goes on
				}
				app = db.Appender()
				for j, ls := range fillers[i] {
					ref, err := app.Append(storage.SeriesRef(refs[i][j]), ls, ts.UnixMilli(), float64(ts.Unix()))
					if err == nil {
						refs[i][j] = uint64(ref)
					}
				}
				_ = app.Commit()
			}
		}
	}()
	go func() { // the rules
		defer wg.Done()
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ts := <-t.C:
				for _, hm := range hostMetrics {
					_, _ = q.Instant(ctx, hostExpr(hm, "2m"), ts)
				}
			}
		}
	}()
	var alerts []Alert
	for i, h := range hosts {
		state := StatePending
		if i%3 == 0 {
			state = StateFiring
		}
		alerts = append(alerts, Alert{Rule: "NodeCPUBusy", Group: "node", State: state,
			Labels:      labels.FromStrings("alertname", "NodeCPUBusy", "instance", h.Instance, "job", "node", "severity", "warning"),
			Annotations: labels.FromStrings("summary", "CPU busy on "+h.Instance),
			Value:       91.5, ActiveAt: now.Add(-10 * time.Minute), FiredAt: now.Add(-5 * time.Minute)})
	}
	targets := make([]Target, n)
	for i, h := range hosts {
		targets[i] = Target{Job: "node", Instance: h.Instance, URL: "http://" + h.Instance + "/metrics",
			Health: TargetUp, Labels: labels.FromStrings("instance", h.Instance, "job", "node"),
			LastScrape: now, LastDuration: 20 * time.Millisecond, LastSamples: 1000, Series: 1000,
			ScrapeInterval: 5 * time.Second, ScrapeTimeout: 5 * time.Second}
	}
	opts := Options{
		Querier: q,
		Targets: TargetsFunc(func() []Target { return targets }),
		Alerts:  AlertsFunc(func() []Alert { return alerts }),
		Rules: RulesFunc(func() []Rule {
			return []Rule{{Name: "NodeCPUBusy", Group: "node", Health: RuleOK, State: StateFiring, Firing: n / 3,
				Expr: hostExpr(hostMetrics[0], "2m") + " > 90", For: 5 * time.Minute}}
		}),
	}
	return opts, func() {
		cancel()
		wg.Wait()
		db.Close()
	}
}

// BenchmarkKeyToFrame is the time from a key to the frame that shows it,
// on a console watching 100 hosts that are being scraped, in the
// Overview (a line a host at this size) and the Alerts view, j and k in
// turn, at 120×40 in 256 colours: what an operator waits for at every
// key. vigil runs on one core (package procs) with GOGC 10
// (cmd/vigil), so the benchmark does too. Keys come 50-150 ms apart; it
// reports the median and the 99th percentile over every key of every
// iteration.
func BenchmarkKeyToFrame(b *testing.B) {
	if testing.Short() {
		b.Skip("takes half a minute an iteration")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	lipgloss.SetColorProfile(termenv.ANSI256)
	defer lipgloss.SetColorProfile(termenv.Ascii)
	opts, stop := loadedFleet(b, 100)
	defer stop()
	for _, v := range []struct {
		name   string
		open   string
		keys   [2]string
		shows  string
		perRun int
	}{
		{"overview", "", [2]string{"j", "k"}, "host01", 200},
		{"alerts", "3", [2]string{"j", "k"}, "NodeCPUBusy", 200},
	} {
		b.Run(v.name, func(b *testing.B) {
			var all []time.Duration
			for range b.N {
				all = append(all, keyToFrame(b, opts, v.open, v.keys, v.shows, v.perRun)...)
			}
			slices.Sort(all)
			ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
			b.ReportMetric(ms(all[len(all)/2]), "ms-median")
			b.ReportMetric(ms(all[len(all)*99/100]), "ms-p99")
			b.ReportMetric(ms(all[len(all)-1]), "ms-max")
		})
	}
}

// keyToFrame runs the console until it shows shows, opens a view with
// open, then sends keys[0] and keys[1] in turn, n in all, and returns how
// long each took to reach the terminal.
func keyToFrame(b *testing.B, opts Options, open string, keys [2]string, shows string, n int) []time.Duration {
	var handled int64
	var viewed atomic.Int64
	m := newModel(context.Background(), opts)
	defer m.Close()
	vt := newVT(120, 40)
	clock := &frameClock{viewed: &viewed}
	clock.sink.vt = vt
	clock.out = newCellWriter(&clock.sink)
	p := tea.NewProgram(keyCounting{Model: m, handled: &handled, viewed: &viewed},
		tea.WithOutput(clock), tea.WithInput(nil), tea.WithoutSignalHandler(),
		tea.WithAltScreen(), tea.WithFPS(m.c.opts.FPS))
	done := make(chan error, 1)
	go func() { _, err := p.Run(); done <- err }()
	p.Send(tea.WindowSizeMsg{Width: 120, Height: 40})
	if open != "" {
		clock.send(p, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(open)})
	}
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(vt.text(), shows) {
		require.True(b, time.Now().Before(deadline), "the console never showed %q", shows)
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // let the first refreshes settle
	clock.mu.Lock()
	skip := len(clock.sent)
	clock.mu.Unlock()
	clock.sink.off.Store(true)
	for i := range n {
		time.Sleep(time.Duration(50+rand.IntN(100)) * time.Millisecond)
		clock.send(p, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(keys[i%2])})
	}
	time.Sleep(500 * time.Millisecond)
	p.Quit()
	require.NoError(b, <-done)
	clock.mu.Lock()
	defer clock.mu.Unlock()
	require.Len(b, clock.shown, skip+n, "a key never reached the screen")
	return clock.shown[skip:]
}

// text is what the terminal shows, without pens, a line a row.
func (t *vt) text() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	for _, row := range t.cells {
		for _, c := range row {
			b.WriteString(c.g)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// hostExpr is a host metric's expression with its rate window.
func hostExpr(hm hostMetric, window string) string { return hm.expr(window) }
