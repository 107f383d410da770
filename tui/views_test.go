package tui

import (
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"
	"github.com/stretchr/testify/require"
)

// requireFits fails when the screen is not exactly w×h.
func requireFits(t testing.TB, screen string, w, h int) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	require.Len(t, lines, h, "screen height")
	for i, l := range lines {
		require.LessOrEqual(t, ansi.StringWidth(l), w, "line %d is too wide: %q", i, l)
	}
}

// TestViews renders every view at 80×24, at 160×48 and at a small size and compares
// them with the golden screens (go test ./tui -run TestViews -update).
func TestViews(t *testing.T) {
	opts := testOptions(t)
	cases := []struct {
		name string
		keys []string
	}{
		{"overview", nil},
		{"overview_host", []string{"enter"}},
		{"overview_host_scrolled", []string{"enter", "G"}},
		{"overview_filter", []string{"/", "web", "enter"}},
		{"overview_1h", []string{"+"}},
		{"targets", []string{"2"}},
		{"targets_detail", []string{"2", "j", "j", "enter"}},
		{"alerts", []string{"3"}},
		{"alerts_detail", []string{"3", "enter"}},
		{"alerts_rules", []string{"3", "l"}},
		{"alerts_rule_detail", []string{"3", "l", "G", "enter"}},
		{"explore", []string{"4"}},
		{"explore_series", []string{"4", "/", "load", "enter", "enter"}},
		{"explore_chart", []string{"4", "/", "load", "enter", "enter", "j", "enter"}},
		{"explore_chart_all", []string{"4", "/", "load", "enter", "enter", "c"}},
		{"explore_counter", []string{"4", "/", "receive_bytes", "enter", "enter", "enter"}},
		{"explore_counter_raw", []string{"4", "/", "receive_bytes", "enter", "enter", "enter", "r"}},
		{"query_empty", []string{"5"}},
		{"query", []string{"5", `rate(node_network_receive_bytes_total{device="eth0"}[1m])`, "enter"}},
		{"query_scalar", []string{"5", "1+1", "enter"}},
		{"query_error", []string{"5", "sum(", "enter"}},
		{"help", []string{"?"}},
	}
	t.Run("explore_chart_ascii_80x24", func(t *testing.T) {
		ascii := opts
		ascii.ASCII = true
		m := newTestModel(t, ascii, 80, 24)
		m = press(t, m, "4", "/", "load", "enter", "enter", "c")
		m = tick(t, m)
		screen := m.View()
		requireFits(t, screen, 80, 24)
		for _, r := range screen {
			require.False(t, r >= 0x2800 && r <= 0x28ff, "a braille rune %q with ASCII set", r)
		}
		golden.RequireEqual(t, []byte(screen+"\n"))
	})
	for _, size := range []struct{ w, h int }{{80, 24}, {160, 48}, {60, 16}} {
		for _, tc := range cases {
			t.Run(tc.name+"_"+itoa(size.w)+"x"+itoa(size.h), func(t *testing.T) {
				m := newTestModel(t, opts, size.w, size.h)
				m = press(t, m, tc.keys...)
				m = tick(t, m)
				screen := m.View()
				requireFits(t, screen, size.w, size.h)
				golden.RequireEqual(t, []byte(screen+"\n"))
			})
		}
	}
}

// TestTinyWindows checks that no size breaks the layout.
func TestTinyWindows(t *testing.T) {
	opts := testOptions(t)
	for _, keys := range [][]string{nil, {"2"}, {"3"}, {"4"}, {"4", "enter"}, {"5", "up", "enter"}, {"?"}} {
		for _, size := range []struct{ w, h int }{{1, 1}, {10, 3}, {20, 5}, {30, 8}, {40, 10}, {45, 12}, {200, 60}} {
			m := newTestModel(t, opts, size.w, size.h)
			m = press(t, m, keys...)
			requireFits(t, m.View(), size.w, size.h)
		}
	}
}

// TestHeaderNarrow checks that the counts survive any width.
func TestHeaderNarrow(t *testing.T) {
	m := newTestModel(t, testOptions(t), 80, 24)
	for _, w := range []int{20, 30, 40, 49, 50, 60} {
		h := m.headerView(w)
		require.LessOrEqual(t, ansi.StringWidth(h), w)
		if w < 50 {
			require.Contains(t, h, "2/4↑ 1F 1P", "width %d", w)
		} else {
			require.Contains(t, h, "targets 2/4 up │ alerts 1 firing 1 pending", "width %d", w)
		}
	}
}

// TestWithoutColour: with colours taken out (--color never, NO_COLOR) a
// 256-colour terminal gets no colour sequence, yet the active tab, the
// selected row and the selected card still show (reverse, a heavy frame).
func TestWithoutColour(t *testing.T) {
	lipgloss.SetColorProfile(termenv.ANSI256)
	defer lipgloss.SetColorProfile(termenv.Ascii)
	colour := regexp.MustCompile(`\x1b\[([0-9;]*;)?(3[0-9]|4[0-9]|9[0-7]|10[0-7])(;[0-9;]*)?m`)
	for _, plain := range []bool{false, true} {
		opts := testOptions(t)
		st := DefaultStyles()
		if plain {
			st = st.WithoutColour()
		}
		opts.Styles = &st
		m := tick(t, newTestModel(t, opts, 80, 24))
		overview := m.View()
		targets := press(t, m, "2").View()
		all := overview + targets
		for _, keys := range [][]string{{"2", "/"}, {"3"}, {"3", "l"}, {"4", "/", "load", "enter", "enter", "enter"}, {"5"}, {"5", "node_load1", "enter"}, {"?"}} {
			v := press(t, tick(t, newTestModel(t, opts, 80, 24)), keys...).View()
			require.NotContains(t, all, v, "keys %q show nothing new", keys)
			all += v
		}
		require.Equal(t, !plain, colour.MatchString(all), "plain=%v: %q", plain, colour.FindString(all))
		require.Contains(t, targets, "\x1b[7m", "the selected row is in reverse")
		require.Contains(t, ansi.Strip(overview), "┏━ batch1:9100", "the selected card has a heavy frame")
	}
}
