package tui

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestComplete(t *testing.T) {
	metrics := []string{"node_load1", "node_load15", "node_load5", "node_cpu_seconds_total", "up"}
	tests := []struct {
		name, value string
		cursor      int
		want        string
		wantCursor  int
		cands       int
		ok          bool
	}{
		{"unique metric", "node_cp", 7, "node_cpu_seconds_total", 22, 0, true},
		{"common prefix", "node_l", 6, "node_load", 9, 3, true},
		{"function", "rat", 3, "rate(", 5, 0, true},
		{"function before paren", "rat(x)", 3, "rate(x)", 4, 0, true},
		{"in the middle", "sum(node_cp)", 11, "sum(node_cpu_seconds_total)", 26, 0, true},
		{"several kinds", "s", 1, "s", 1, -1, true},
		{"nothing", "zzz", 3, "", 0, 0, false},
		{"empty word", "sum(", 4, "", 0, 0, false},
		{"label name", `up{jo`, 5, "", 0, 0, false},
		{"after braces", `up{job="a"} + node_cp`, 21, `up{job="a"} + node_cpu_seconds_total`, 36, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := complete(tc.value, tc.cursor, metrics)
			require.Equal(t, tc.ok, ok)
			if !ok {
				return
			}
			require.Equal(t, tc.want, c.value)
			require.Equal(t, tc.wantCursor, c.cursor)
			if tc.cands >= 0 {
				require.Len(t, c.candidates, tc.cands)
			} else {
				require.Greater(t, len(c.candidates), 1)
			}
		})
	}
}

func TestQueryCompletion(t *testing.T) {
	m := newTestModel(t, testOptions(t), 80, 24)
	m = press(t, m, "5")
	q := m.views[viewQuery].(*queryView)
	require.Contains(t, q.names, "node_load1")
	m = press(t, m, "ra", "tab")
	require.Contains(t, q.cands, "rad")
	m = press(t, m, "t", "tab", "node_lo", "tab")
	require.Equal(t, "rate(node_load1", q.input.Value())
	m = press(t, m, "sum(node_mem", "tab")
	require.Equal(t, "rate(node_load1sum(node_memory_Mem", q.input.Value())
	require.Len(t, q.cands, 2)
	require.Contains(t, m.View(), "node_memory_MemAvailable_bytes  node_memory_MemTotal_bytes")
	m = press(t, m, "T", "tab")
	require.Equal(t, "rate(node_load1sum(node_memory_MemTotal_bytes", q.input.Value())
	require.Empty(t, q.cands)
	require.Equal(t, viewQuery, m.active, "tab completes rather than switching views")
}

func TestFuzzyScore(t *testing.T) {
	names := []string{"node_network_receive_bytes_total", "node_netstat_Tcp_RetransSegs", "go_gc_duration_seconds", "node_load1", "node_network_transmit_bytes_total"}
	for _, tc := range []struct {
		pat  string
		want []string // the matches, best first
	}{
		{"", names},
		{"load", []string{"node_load1"}},
		{"nnrx", nil},
		{"nnrb", []string{"node_network_receive_bytes_total", "node_network_transmit_bytes_total"}},
		{"netrec", []string{"node_network_receive_bytes_total"}},
		{"net rec", []string{"node_network_receive_bytes_total"}},
		{"net bytes", []string{"node_network_receive_bytes_total", "node_network_transmit_bytes_total"}},
		{"ntb", []string{"node_network_transmit_bytes_total", "node_network_receive_bytes_total"}},
		{"ggd", []string{"go_gc_duration_seconds"}},
		{"zzz", nil},
	} {
		t.Run(tc.pat, func(t *testing.T) {
			type hit struct {
				name  string
				score int
			}
			var hits []hit
			for _, n := range names {
				if s, ok := fuzzyScore(strings.ToLower(n), tc.pat); ok {
					hits = append(hits, hit{n, s})
				}
			}
			sort.SliceStable(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
			var got []string
			for _, h := range hits {
				got = append(got, h.name)
			}
			require.Equal(t, tc.want, got)
		})
	}
}
