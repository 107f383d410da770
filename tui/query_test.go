package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/stretchr/testify/require"
)

// TestPromptKeepsKeyboard: after enter on a parse error the prompt still
// has the keys: typing ")quantile" edits the query, and nothing typed
// there quits the console or switches views. esc leaves the prompt,
// ctrl+c quits from it.
func TestPromptKeepsKeyboard(t *testing.T) {
	m := newTestModel(t, testOptions(t), 80, 24)
	m = press(t, m, "5", "sum(rate(node_cpu_seconds_total[1m])", "enter")
	q := m.views[viewQuery].(*queryView)
	require.Error(t, q.res.instErr)
	require.True(t, q.input.Focused(), "the prompt keeps the keys after enter")
	require.Contains(t, m.View(), "parse error")

	m = press(t, m, ")quantile")
	require.Equal(t, "sum(rate(node_cpu_seconds_total[1m]))quantile", q.input.Value())
	require.NoError(t, m.c.ctx.Err(), "q quit the console")
	m = press(t, m, " 1 2 3 4 ? p [ ] 0 @ z m t e")
	require.Equal(t, viewQuery, m.active)
	require.False(t, m.showHelp)
	require.False(t, m.c.paused)
	require.False(t, m.c.jump.Focused())
	require.Equal(t, "sum(rate(node_cpu_seconds_total[1m]))quantile 1 2 3 4 ? p [ ] 0 @ z m t e", q.input.Value())
	require.NoError(t, m.c.ctx.Err())

	// A query that runs: the prompt still has the keys.
	q.input.SetValue("node_load1")
	m = press(t, m, "enter")
	require.NoError(t, q.res.instErr)
	require.True(t, q.input.Focused())
	m = press(t, m, "q")
	require.Equal(t, "node_load1q", q.input.Value())

	m = press(t, m, "esc")
	require.False(t, q.input.Focused())
	m = press(t, m, "e")
	require.True(t, q.input.Focused())
	press(t, m, "ctrl+c")
	require.Error(t, m.c.ctx.Err(), "ctrl+c quits from the prompt")
}

// TestQueryCompletion completes against the store: metric names (tab
// cycles through the candidates), label names inside {} and in by (…),
// and label values after =, quoted.
func TestQueryCompletion(t *testing.T) {
	m := newTestModel(t, testOptions(t), 80, 24)
	m = press(t, m, "5")
	q := m.views[viewQuery].(*queryView)
	require.Contains(t, q.names, "node_load1")

	m = press(t, m, "node_netw", "tab")
	require.Equal(t, "node_network_", q.input.Value(), "the common prefix")
	require.Equal(t, []string{"node_network_receive_bytes_total", "node_network_transmit_bytes_total"}, q.cyc.cands)
	require.Contains(t, m.View(), "2 candidates")
	m = press(t, m, "tab")
	require.Equal(t, "node_network_receive_bytes_total", q.input.Value())
	m = press(t, m, "tab")
	require.Equal(t, "node_network_transmit_bytes_total", q.input.Value())
	m = press(t, m, "shift+tab")
	require.Equal(t, "node_network_receive_bytes_total", q.input.Value())
	require.Equal(t, viewQuery, m.active, "tab completes rather than switching views")

	// A label name: {dev completes to device, read from the store.
	m = press(t, m, "{dev", "tab")
	require.Equal(t, "node_network_receive_bytes_total{device", q.input.Value())
	// Its values, quoted: two of them, listed, then cycled.
	m = press(t, m, "=", "tab")
	require.Equal(t, []string{"eth0", "lo"}, q.cyc.cands)
	screen := m.View()
	require.Contains(t, screen, "eth0  lo  ", "the candidates side by side")
	require.NotContains(t, screen, "reading values", "the values are in")
	m = press(t, m, "tab")
	require.Equal(t, `node_network_receive_bytes_total{device="eth0"`, q.input.Value())
	m = press(t, m, "tab")
	require.Equal(t, `node_network_receive_bytes_total{device="lo"`, q.input.Value())
	m = press(t, m, "}", "enter")
	require.NoError(t, q.res.instErr)
	require.Len(t, q.table.rows, 3)

	// A value typed inside its quotes is completed and closed.
	q.input.SetValue(`node_network_receive_bytes_total{instance="we`)
	q.input.CursorEnd()
	m = press(t, m, "tab")
	require.Equal(t, `node_network_receive_bytes_total{instance="web1:9100"`, q.input.Value())

	// The labels of by (…).
	q.input.SetValue(`sum by (inst`)
	q.input.CursorEnd()
	m = press(t, m, "tab")
	require.Equal(t, `sum by (instance`, q.input.Value())

	// A function gets its parenthesis.
	q.input.SetValue(`histogram_quan`)
	q.input.CursorEnd()
	m = press(t, m, "tab")
	require.Equal(t, `histogram_quantile(`, q.input.Value())

	// Nothing to offer says so.
	q.input.SetValue(`up{zzz`)
	q.input.CursorEnd()
	m = press(t, m, "tab")
	require.Contains(t, m.View(), "no label matches zzz")
}

// TestContextAt: what the word before the cursor is.
func TestContextAt(t *testing.T) {
	for _, tc := range []struct {
		value  string
		cursor int // -1: the end
		want   compContext
	}{
		{"node_cp", -1, compContext{kind: compName, start: 0, end: 7, word: "node_cp"}},
		{"sum(rate(node_cp", -1, compContext{kind: compName, start: 9, end: 16, word: "node_cp"}},
		{"up{jo", -1, compContext{kind: compLabel, start: 3, end: 5, word: "jo", metric: "up"}},
		{`up{job="a", inst`, -1, compContext{kind: compLabel, start: 12, end: 16, word: "inst", metric: "up"}},
		{`{__name__="up", jo`, -1, compContext{kind: compLabel, start: 16, end: 18, word: "jo"}},
		{`up{job=`, -1, compContext{kind: compLabelValue, start: 7, end: 7, metric: "up", label: "job"}},
		{`up{job!~"no`, -1, compContext{kind: compLabelValue, start: 9, end: 11, word: "no", metric: "up", label: "job", quote: '"'}},
		{`up{job="no"}`, 10, compContext{kind: compLabelValue, start: 8, end: 10, word: "no", metric: "up", label: "job", quote: '"', closed: true}},
		{`up{job='a\'b`, -1, compContext{kind: compLabelValue, start: 8, end: 12, word: `a\'b`, metric: "up", label: "job", quote: '\''}},
		{`sum by (ins`, -1, compContext{kind: compLabel, start: 8, end: 11, word: "ins"}},
		{`sum(x) without (a, b`, -1, compContext{kind: compLabel, start: 19, end: 20, word: "b"}},
		{`x{a="}"} + y`, -1, compContext{kind: compName, start: 11, end: 12, word: "y"}},
		{`rate(x{a="b"}[5m]) > bool 1`, -1, compContext{kind: compName, start: 26, end: 27, word: "1"}},
		{`"some string`, -1, compContext{kind: -1, start: 12, end: 12}},
		{"", -1, compContext{kind: compName}},
	} {
		cursor := tc.cursor
		if cursor < 0 {
			cursor = len([]rune(tc.value))
		}
		require.Equal(t, tc.want, contextAt(tc.value, cursor), "%q at %d", tc.value, cursor)
	}
}

func FuzzContextAt(f *testing.F) {
	for _, s := range []string{`up{job="a"}`, `sum by (a) (rate(x[5m]))`, `{a=~"\"}`, "x # comment\ny", "`raw`"} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, value string, cursor int) {
		rs := []rune(value)
		cc := contextAt(value, cursor)
		if cc.start < 0 || cc.start > cc.end || cc.end > len(rs) {
			t.Fatalf("%q at %d: word at %d-%d", value, cursor, cc.start, cc.end)
		}
		if cc.kind >= 0 {
			out, pos := replaceWord(rs, cc.start, cc.end, insertText(cc, "x", rs))
			if pos > len([]rune(out)) {
				t.Fatalf("cursor %d past %q", pos, out)
			}
		}
	})
}

// TestEmptyResultHint: a query that finds nothing says which label or
// value no series has: {dev="eth0"} names device.
func TestEmptyResultHint(t *testing.T) {
	m := newTestModel(t, testOptions(t), 120, 40)
	m = press(t, m, "5", `rate(node_network_receive_bytes_total{dev="eth0"}[1m])`, "enter")
	screen := m.View()
	require.Contains(t, screen, "empty result")
	require.Contains(t, screen, `node_network_receive_bytes_total has no label "dev"; its labels: device, instance, job`)

	m = press(t, m, "esc", "e")
	q := m.views[viewQuery].(*queryView)
	q.input.SetValue(`node_network_receive_bytes_total{device="eht0"}`)
	m = press(t, m, "enter")
	require.Contains(t, m.View(), `device="eht0"; device is one of eth0, lo`)

	q.input.SetValue(`node_lod1`)
	m = press(t, m, "enter")
	require.Contains(t, m.View(), "no series named node_lod1 in this range")

	q.input.SetValue(`node_load1 > 100`)
	m = press(t, m, "enter")
	require.NotContains(t, m.View(), "no series named", "the selectors find series: no hint")
}

// TestQueryTable: rows sorted by value, highest first, in the chart's
// units (bytes per second here), the labels that differ in the rows and
// those shared once above.
func TestQueryTable(t *testing.T) {
	m := newTestModel(t, testOptions(t), 120, 40)
	m = press(t, m, "5", `rate(node_network_receive_bytes_total{device="eth0"}[1m])`, "enter")
	q := m.views[viewQuery].(*queryView)
	var got []string
	for _, r := range q.table.rows {
		got = append(got, r.cells[1]+" "+r.cells[2])
	}
	require.Equal(t, []string{`instance="db1:9100" 2.2MiB/s`, `instance="web1:9100" 720KiB/s`, `instance="batch1:9100" 10.8KiB/s`}, got)
	require.Contains(t, m.View(), `{device="eth0", job="node"}`)
}

// TestQueryHistoryRestored: the queries run survive a restart, in a file
// of the data directory that only the operator reads; ctrl+r finds them.
func TestQueryHistoryRestored(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t)
	opts.HistoryFile = filepath.Join(dir, "query_history")
	start := func() Model {
		m := newTestModel(t, opts, 80, 24)
		return drive(t, m, m.Init())
	}
	m := start()
	m = press(t, m, "5", "node_load1", "enter")
	q := m.views[viewQuery].(*queryView)
	q.input.SetValue(`rate(node_cpu_seconds_total[1m])`)
	m = press(t, m, "enter")
	q.input.SetValue("node_load1") // again: it moves to the newest place
	press(t, m, "enter")
	fi, err := os.Stat(opts.HistoryFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	b, err := os.ReadFile(opts.HistoryFile)
	require.NoError(t, err)
	require.Equal(t, "\"rate(node_cpu_seconds_total[1m])\"\n\"node_load1\"\n", string(b))

	// The restart.
	m = start()
	m = press(t, m, "5", "up")
	q = m.views[viewQuery].(*queryView)
	require.Equal(t, "node_load1", q.input.Value())
	m = press(t, m, "up")
	require.Equal(t, "rate(node_cpu_seconds_total[1m])", q.input.Value())

	// ctrl+r: the queries that hold the words typed, newest first.
	q.input.SetValue("")
	m = press(t, m, "ctrl+r", "cpu")
	require.True(t, q.finding)
	screen := m.View()
	require.Contains(t, screen, "1 of 2 queries")
	require.Contains(t, screen, "› rate(node_cpu_seconds_total[1m])")
	m = press(t, m, "enter")
	require.False(t, q.finding)
	require.Equal(t, "rate(node_cpu_seconds_total[1m])", q.input.Value())
	require.NotNil(t, q.res, "enter runs it")
	m = press(t, m, "esc", "ctrl+r") // out of the prompt too
	require.True(t, q.finding)
	m = press(t, m, "esc", "ctrl+r", "zzz")
	require.Contains(t, m.View(), "no query in the history holds that")
	m = press(t, m, "esc")
	require.Equal(t, "rate(node_cpu_seconds_total[1m])", q.input.Value(), "esc gives back the input")

	// Without a data directory, the history is the console's only.
	opts.HistoryFile = ""
	m = newTestModel(t, opts, 80, 24)
	m = drive(t, m, m.Init())
	m = press(t, m, "5", "node_load1", "enter")
	q = m.views[viewQuery].(*queryView)
	require.Nil(t, q.saver)
	require.Equal(t, []string{"node_load1"}, q.history)
}

// TestHistoryDamaged: a damaged history file loses only its bad lines, and
// the prompt says so.
func TestHistoryDamaged(t *testing.T) {
	opts := testOptions(t)
	opts.HistoryFile = filepath.Join(t.TempDir(), "query_history")
	require.NoError(t, os.WriteFile(opts.HistoryFile, []byte("\"up\"\nnot json\n\"a\\nb\"\n\"\xff\"\n42\n\"node_load1\"\n"), 0o600))
	m := newTestModel(t, opts, 80, 24)
	m = drive(t, m, m.Init())
	m = press(t, m, "5")
	q := m.views[viewQuery].(*queryView)
	require.Equal(t, []string{"up", "node_load1"}, q.history)
	require.Contains(t, m.View(), "4 damaged lines of the query history skipped")
}

func TestAddHistoryBounded(t *testing.T) {
	var h []string
	for i := range maxHistory + 10 {
		h = addHistory(h, itoa(i))
	}
	require.Len(t, h, maxHistory)
	require.Equal(t, "10", h[0])
	h = addHistory(h, "10")
	require.Equal(t, "11", h[0])
	require.Equal(t, "10", h[len(h)-1])
}

func FuzzParseHistory(f *testing.F) {
	f.Add([]byte("\"up\"\n\"rate(x[5m])\"\n"))
	f.Add([]byte("garbage\n\"\\u0000\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, _ := parseHistory(b)
		if len(entries) > maxHistory {
			t.Fatalf("%d entries", len(entries))
		}
		for _, e := range entries {
			if e == "" || len(e) > maxHistoryEntry || strings.ContainsAny(e, "\n\r") {
				t.Fatalf("entry %q", e)
			}
		}
	})
}

// TestQueryOpenFromAlert: e in an alert's detail opens the Query view
// with the rule's expression run, and the prompt has the keys.
func TestQueryOpenFromAlert(t *testing.T) {
	m := newTestModel(t, testOptions(t), 80, 24)
	m = press(t, m, "3", "enter")
	require.True(t, m.views[viewAlerts].(*alertsView).detail)
	m = press(t, m, "e")
	require.Equal(t, viewQuery, m.active)
	q := m.views[viewQuery].(*queryView)
	require.Equal(t, "node_load1 > 4", q.input.Value())
	require.True(t, q.input.Focused())
	require.NotNil(t, q.res)
	require.NoError(t, q.res.instErr)
	require.Contains(t, m.View(), "instance=\"batch1:9100\"")
}

// TestQueryTableHoldsEverySeriesCharted: a series the chart draws but that
// has no value now (a comparison that held earlier in the range) is a row
// of the table too, which is the chart's legend, with no value.
func TestQueryTableHoldsEverySeriesCharted(t *testing.T) {
	m := newTestModel(t, testOptions(t), 120, 40)
	m = press(t, m, "5", "node_load1 > 4.6", "enter")
	q := m.views[viewQuery].(*queryView)
	require.Len(t, q.res.instant, 1)
	require.Len(t, q.res.mat, 2)
	require.Len(t, q.table.rows, 2)
	require.Equal(t, []string{"━", `instance="batch1:9100"`, "7.66"}, q.table.rows[0].cells)
	require.Equal(t, []string{"━", `instance="db1:9100"`, "-"}, q.table.rows[1].cells)
	require.Contains(t, m.View(), "vector · 1 result (+1 earlier in the range)")
}

// TestQueryInputShowsItsEnd: a query longer than the prompt, put in by e
// from an alert while the Query view was not shown, shows its end, where
// the cursor is.
func TestQueryInputShowsItsEnd(t *testing.T) {
	m := newTestModel(t, testOptions(t), 40, 24)
	long := `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[1m]))) > 80`
	m = drive(t, m, func() tea.Msg { return openQueryMsg{expr: long} })
	require.Contains(t, m.View(), `[1m]))) > 80`)
}
