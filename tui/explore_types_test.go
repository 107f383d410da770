package tui

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// TestCounterByType: what TYPE lines say of a series' name, and when
// they say nothing.
func TestCounterByType(t *testing.T) {
	types := map[string]model.MetricType{
		"node_forks":                    model.MetricTypeCounter, // a counter without a counter's suffix
		"queue_items_total":             model.MetricTypeGauge,   // a gauge with one
		"http_request_duration_seconds": model.MetricTypeHistogram,
		"rpc_latency_seconds":           model.MetricTypeSummary,
		"jobs":                          model.MetricTypeCounter, // OpenMetrics: the family has no _total
		"queue_depth":                   model.MetricTypeGaugeHistogram,
		"weird_total":                   model.MetricTypeUnknown, // untyped: the name decides
	}
	typeOf := func(f string) model.MetricType { return types[f] }
	for _, tc := range []struct {
		name        string
		counter, ok bool
	}{
		{"node_forks", true, true},
		{"queue_items_total", false, true},
		{"http_request_duration_seconds_bucket", true, true},
		{"http_request_duration_seconds_count", true, true},
		{"http_request_duration_seconds_sum", true, true},
		{"http_request_duration_seconds_created", false, true},
		{"rpc_latency_seconds", false, true}, // the quantiles
		{"rpc_latency_seconds_count", true, true},
		{"jobs_total", true, true},
		{"jobs_created", false, true},
		{"queue_depth_bucket", false, true},
		{"weird_total", false, false},
		{"node_load1", false, false},
		{"undeclared_total", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			counter, ok := counterByType(tc.name, typeOf)
			require.Equal(t, tc.ok, ok, "says something")
			require.Equal(t, tc.counter, counter, "counter")
		})
	}
	_, ok := counterByType("node_forks", nil)
	require.False(t, ok, "no types: nothing said")
}

// TestExploreDeclaredTypes: with a MetadataSource, a family declared
// counter is charted as a rate whatever its name, and one declared gauge
// raw whatever its name; declarations that disagree, and a source that
// fails, leave it to the name.
func TestExploreDeclaredTypes(t *testing.T) {
	declared := map[string][]Metadata{
		"node_load1":                        {{Type: model.MetricTypeCounter}},
		"node_network_receive_bytes_total":  {{Type: model.MetricTypeGauge}},
		"node_network_transmit_bytes_total": {{Type: model.MetricTypeCounter}, {Type: model.MetricTypeGauge}},
	}
	var fail error
	chart := func(metric string) string {
		opts := testOptions(t)
		opts.Metadata = MetadataFunc(func(ctx context.Context, m string) (map[string][]Metadata, error) {
			require.Empty(t, m, "Explore asks for every family")
			return declared, fail
		})
		m := tick(t, newTestModel(t, opts, 120, 30))
		m = press(t, m, "4", "/", metric, "enter", "enter", "enter")
		m = tick(t, m)
		v := m.View()
		require.Contains(t, v, metric, "the chart of %s:\n%s", metric, v)
		return strings.Split(v, "\n")[2] // the chart's title
	}

	title := chart("node_load1")
	require.True(t, strings.HasPrefix(title, "rate "), "declared counter: a rate: %q", title)
	require.Contains(t, title, "/s · r raw")

	title = chart("node_network_receive_bytes_total")
	require.False(t, strings.HasPrefix(title, "rate "), "declared gauge: raw: %q", title)
	require.NotContains(t, title, "r rate", "a gauge has no rate to toggle")

	title = chart("node_network_transmit_bytes_total")
	require.True(t, strings.HasPrefix(title, "rate "), "targets disagree: the name decides: %q", title)

	fail = errors.New("metadata unavailable")
	title = chart("node_load1")
	require.False(t, strings.HasPrefix(title, "rate "), "no types: the name decides: %q", title)

	opts := testOptions(t)
	opts.Metadata = MetadataFunc(func(context.Context, string) (map[string][]Metadata, error) {
		return nil, errors.New("metadata \x1b[31munavailable")
	})
	m := tick(t, newTestModel(t, opts, 120, 30))
	v := press(t, m, "4").View()
	require.Contains(t, v, `metric types: metadata \x1b[31munavailable (counters are told by their names)`)
	require.Contains(t, v, "node_load1", "the names are listed all the same")
}
