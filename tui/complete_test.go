package tui

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

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
