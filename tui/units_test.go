package tui

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKindOf(t *testing.T) {
	for _, tc := range []struct {
		name    string
		counter bool
		v       float64
		want    string
	}{
		{"node_network_receive_bytes_total", true, 2.5 * 1024 * 1024, "2.5MiB/s"},
		{"node_memory_MemAvailable_bytes", false, 3 * 1024 * 1024 * 1024, "3GiB"},
		{"node_memory_MemAvailable_bytes", false, 512, "512B"},
		{"node_cpu_seconds_total", true, 0.25, "250ms/s"},
		{"prometheus_http_request_duration_seconds_sum", true, 0.0000123, "12.3µs/s"},
		{"node_scrape_collector_duration_seconds", false, 3.5, "3.5s"},
		{"node_filesystem_avail_ratio", false, 0.123, "12.3%"},
		{"node_load1", false, 4.568, "4.57"},
		{"http_requests_count", true, 1500, "1.5k/s"},
		// Events, not seconds: the unit of a histogram is its _sum's.
		{"prometheus_http_request_duration_seconds_count", true, 1500, "1.5k/s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := kindOf(tc.name)
			require.Equal(t, tc.counter, k.counter)
			require.Equal(t, tc.want, k.format(tc.v))
		})
	}
}
