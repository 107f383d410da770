package tui

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/util/teststorage"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/vigilterm/vigil/tui/internal/fakenode"
)

func TestMain(m *testing.M) {
	if os.Getenv(e2eEnv) != "" {
		os.Exit(e2eMain())
	}
	// Golden screens are plain text: no colours, no escape sequences.
	lipgloss.SetColorProfile(termenv.Ascii)
	goleak.VerifyTestMain(m,
		// The tsdb under teststorage and the PromQL engine start these.
		goleak.IgnoreTopFunction("github.com/prometheus/prometheus/tsdb.(*DB).run"),
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
		// teatest waits for a SIGINT for as long as the process lives.
		goleak.IgnoreTopFunction("github.com/charmbracelet/x/exp/teatest.NewTestModel.func2"),
	)
	os.Exit(0)
}

// testNow is the fixed "now" of every test: history ends here.
var testNow = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func newTestEngine() *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{
		MaxSamples:    50_000_000,
		Timeout:       time.Minute,
		LookbackDelta: 5 * time.Minute,
	})
}

// newNodeStore returns a store holding two hours of fake node_exporter
// history for the default hosts, ending at testNow.
func newNodeStore(t testing.TB) *teststorage.TestStorage {
	t.Helper()
	st := teststorage.New(t)
	require.NoError(t, fakenode.Write(st.Appender(context.Background()), fakenode.DefaultHosts, testNow, 2*time.Hour, 15*time.Second))
	return st
}

func testTargets() []Target {
	return []Target{
		{Job: "node", Instance: "db1:9100", URL: "http://db1:9100/metrics", Health: TargetUp,
			Labels:     labels.FromStrings("instance", "db1:9100", "job", "node"),
			LastScrape: testNow.Add(-2 * time.Second), LastDuration: 23 * time.Millisecond, LastSamples: 1421, Series: 1421,
			ScrapeInterval: 5 * time.Second, ScrapeTimeout: 5 * time.Second},
		{Job: "node", Instance: "web1:9100", URL: "http://web1:9100/metrics", Health: TargetUp,
			Labels:     labels.FromStrings("instance", "web1:9100", "job", "node"),
			LastScrape: testNow.Add(-4 * time.Second), LastDuration: 12 * time.Millisecond, LastSamples: 1380, Series: 1380,
			ScrapeInterval: 5 * time.Second, ScrapeTimeout: 5 * time.Second},
		{Job: "node", Instance: "batch1:9100", URL: "http://batch1:9100/metrics", Health: TargetDown,
			Labels:     labels.FromStrings("instance", "batch1:9100", "job", "node"),
			LastScrape: testNow.Add(-1 * time.Second), LastDuration: 5 * time.Second,
			LastError:      `Get "http://batch1:9100/metrics": context deadline exceeded`,
			ScrapeInterval: 5 * time.Second, ScrapeTimeout: 5 * time.Second},
		{Job: "app", Instance: "localhost:8080", URL: "http://localhost:8080/metrics", Health: TargetUnknown,
			Labels: labels.FromStrings("instance", "localhost:8080", "job", "app")},
	}
}

func testAlerts() []Alert {
	return []Alert{
		{Rule: "HostHighLoad", Group: "node", State: StateFiring,
			Labels:      labels.FromStrings("alertname", "HostHighLoad", "instance", "batch1:9100", "job", "node", "severity", "warning"),
			Annotations: labels.FromStrings("summary", "load 5.2 on batch1:9100"),
			Value:       5.2, ActiveAt: testNow.Add(-10 * time.Minute), FiredAt: testNow.Add(-8 * time.Minute), LastEval: testNow.Add(-time.Second)},
		{Rule: "HostDiskFull", Group: "node", State: StatePending,
			Labels: labels.FromStrings("alertname", "HostDiskFull", "instance", "db1:9100", "severity", "critical"),
			Value:  81.2, ActiveAt: testNow.Add(-40 * time.Second), LastEval: testNow.Add(-time.Second)},
		{Rule: "TargetDown", Group: "node", State: StateResolved,
			Labels: labels.FromStrings("alertname", "TargetDown", "instance", "web1:9100"),
			Value:  0, ActiveAt: testNow.Add(-30 * time.Minute), FiredAt: testNow.Add(-29 * time.Minute), ResolvedAt: testNow.Add(-5 * time.Minute)},
	}
}

func testRules() []Rule {
	return []Rule{
		{Name: "HostHighLoad", Group: "node", Health: RuleOK, State: StateFiring, Firing: 1,
			Expr: "node_load1 > 4", LastEval: testNow.Add(-time.Second), LastDuration: 2 * time.Millisecond},
		{Name: "HostDiskFull", Group: "node", Health: RuleOK, State: StatePending, Pending: 1,
			Expr: "disk > 80", LastEval: testNow.Add(-time.Second), LastDuration: 3 * time.Millisecond},
		{Name: "instance:cpu:rate1m", Group: "node", Recording: true, Health: RuleUnknown},
		{Name: "Broken", Group: "custom", File: "/etc/vigil/custom.yml", Health: RuleErr, State: StateInactive,
			Expr: `label_replace(up, "job", "x", "", "") > 0`, For: 2 * time.Minute, Interval: 15 * time.Second,
			Labels:   labels.FromStrings("severity", "page"),
			LastEval: testNow.Add(-time.Second), LastDuration: 4 * time.Millisecond,
			LastError: `vector contains metrics with the same labelset after applying alert labels`},
	}
}

// testOptions returns options over real data: the store behind a real
// PromQL engine, fixed targets, alerts and rules, a fixed clock.
func testOptions(t testing.TB) Options {
	st := newNodeStore(t)
	sil := &fakeSilences{alerts: testAlerts}
	return Options{
		Querier:  NewEngineQuerier(newTestEngine(), st),
		Targets:  TargetsFunc(testTargets),
		Alerts:   sil,
		Silences: sil,
		Rules:    RulesFunc(testRules),
		Now:      func() time.Time { return testNow },
		Location: time.UTC,
	}
}

// fakeSilences is an alert source with local silences, as alert's Manager
// is: what Silence sets, Alerts reports. It records every call.
type fakeSilences struct {
	alerts func() []Alert

	mu    sync.Mutex
	until map[string]time.Time
	calls []silenceCall
	err   error // what Silence returns
}

type silenceCall struct {
	labels labels.Labels
	until  time.Time
}

func (f *fakeSilences) Silence(ctx context.Context, ls labels.Labels, until time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, silenceCall{ls, until})
	if f.err != nil {
		return f.err
	}
	if f.until == nil {
		f.until = map[string]time.Time{}
	}
	f.until[ls.String()] = until
	return ctx.Err()
}

func (f *fakeSilences) Alerts() []Alert {
	as := f.alerts()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range as {
		as[i].SilencedUntil = f.until[as[i].Labels.String()]
	}
	return as
}

func (f *fakeSilences) takeCalls() []silenceCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

var (
	_ AlertSource = (*fakeSilences)(nil)
	_ Silencer    = (*fakeSilences)(nil)
)

// newTestModel returns a model sized w×h whose clock does not tick; the
// test drives it with keys and tickMsg.
func newTestModel(t testing.TB, opts Options, w, h int) Model {
	t.Helper()
	m := newModel(context.Background(), opts)
	m.c.noTick = true
	t.Cleanup(m.c.cancel)
	return drive(t, m, func() tea.Msg { return tea.WindowSizeMsg{Width: w, Height: h} })
}

// drive runs cmd and every command that follows from it to completion,
// feeding their messages to the model, the way the program would.
func drive(t testing.TB, m Model, cmd tea.Cmd) Model {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for steps := 0; len(queue) > 0; steps++ {
		require.Less(t, steps, 1000, "commands do not settle")
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		done := make(chan tea.Msg, 1)
		go func() { done <- c() }()
		var msg tea.Msg
		select {
		case msg = <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("a command blocked")
		}
		switch msg := msg.(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case tea.QuitMsg:
		default:
			nm, nc := m.Update(msg)
			m = nm.(Model)
			_ = m.View() // as the program draws after every message
			queue = append(queue, nc)
		}
	}
	return m
}

// press sends keys one by one: "enter", "esc", "tab", "up", "down",
// "left", "right" and the like by name, anything else as typed runes.
func press(t testing.TB, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		var msg tea.KeyMsg
		switch k {
		case "enter":
			msg = tea.KeyMsg{Type: tea.KeyEnter}
		case "esc":
			msg = tea.KeyMsg{Type: tea.KeyEsc}
		case "tab":
			msg = tea.KeyMsg{Type: tea.KeyTab}
		case "shift+tab":
			msg = tea.KeyMsg{Type: tea.KeyShiftTab}
		case "up":
			msg = tea.KeyMsg{Type: tea.KeyUp}
		case "down":
			msg = tea.KeyMsg{Type: tea.KeyDown}
		case "ctrl+c":
			msg = tea.KeyMsg{Type: tea.KeyCtrlC}
		case "left", "right", "shift+left", "shift+right", "ctrl+r", "pgup", "pgdown":
			msg = tea.KeyMsg{Type: map[string]tea.KeyType{"left": tea.KeyLeft, "right": tea.KeyRight,
				"shift+left": tea.KeyShiftLeft, "shift+right": tea.KeyShiftRight, "ctrl+r": tea.KeyCtrlR,
				"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown}[k]}
		default:
			msg = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
		}
		nm, cmd := m.Update(msg)
		_ = nm.(Model).View() // as the program draws after every message: views lay out as they draw
		m = drive(t, nm.(Model), cmd)
	}
	return m
}

// tick advances the model by one refresh.
func tick(t testing.TB, m Model) Model {
	t.Helper()
	return drive(t, m, func() tea.Msg { return tickMsg(testNow) })
}
