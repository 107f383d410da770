package tui

import (
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

func TestSplitLabels(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sets     []labels.Labels
		differ   []string
		shared   string
		distinct []string
	}{
		{
			name:   "none",
			shared: "{}",
		},
		{
			name:     "one set shares everything",
			sets:     []labels.Labels{labels.FromStrings("instance", "a:9100", "job", "node")},
			shared:   `{instance="a:9100", job="node"}`,
			distinct: []string{"{}"},
		},
		{
			// The case that hid instance behind labels sorted by name.
			name: "instance leads, shared labels go above",
			sets: []labels.Labels{
				labels.FromStrings("alertname", "NodeCPUBusy", "cluster", "eu", "env", "prod", "fleet_kind", "normal", "instance", "127.0.0.1:19100"),
				labels.FromStrings("alertname", "NodeCPUBusy", "cluster", "eu", "env", "prod", "fleet_kind", "normal", "instance", "127.0.0.1:19101"),
			},
			differ:   []string{"instance"},
			shared:   `{alertname="NodeCPUBusy", cluster="eu", env="prod", fleet_kind="normal"}`,
			distinct: []string{`instance="127.0.0.1:19100"`, `instance="127.0.0.1:19101"`},
		},
		{
			name: "metric name after instance, then by distinct values, then by name",
			sets: []labels.Labels{
				labels.FromStrings("__name__", "a", "instance", "h1", "mode", "user", "cpu", "0", "z", "1"),
				labels.FromStrings("__name__", "b", "instance", "h2", "mode", "system", "cpu", "0", "z", "2"),
				labels.FromStrings("__name__", "b", "instance", "h2", "mode", "idle", "cpu", "1", "z", "2"),
			},
			differ:   []string{"instance", "__name__", "mode", "cpu", "z"},
			shared:   `{}`,
			distinct: []string{`a instance="h1", mode="user", cpu="0", z="1"`, `b instance="h2", mode="system", cpu="0", z="2"`, `b instance="h2", mode="idle", cpu="1", z="2"`},
		},
		{
			name: "a label missing from some sets differs",
			sets: []labels.Labels{
				labels.FromStrings("job", "node", "device", "eth0"),
				labels.FromStrings("job", "node"),
			},
			differ:   []string{"device"},
			shared:   `{job="node"}`,
			distinct: []string{`device="eth0"`, "{}"},
		},
		{
			name: "untrusted values are sanitised",
			sets: []labels.Labels{
				labels.FromStrings("instance", "a\x1b[31m"),
				labels.FromStrings("instance", "b"),
			},
			differ:   []string{"instance"},
			shared:   "{}",
			distinct: []string{`instance="a\x1b[31m"`, `instance="b"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := splitLabels(tc.sets)
			require.Equal(t, tc.differ, s.differ)
			require.Equal(t, tc.shared, s.shared.String())
			for i, ls := range tc.sets {
				require.Equal(t, tc.distinct[i], s.distinct(ls, 0), "set %d", i)
			}
		})
	}
}

func TestSplitLabelsDistinctFits(t *testing.T) {
	s := splitLabels([]labels.Labels{
		labels.FromStrings("instance", "a-very-long-host-name.example.com:9100"),
		labels.FromStrings("instance", "b"),
	})
	out := s.distinct(labels.FromStrings("instance", "a-very-long-host-name.example.com:9100"), 20)
	require.LessOrEqual(t, ansi.StringWidth(out), 20)
}
