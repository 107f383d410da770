package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSteady: a steady target's counters grow at exactly the rates its
// Steady says, its gauges hold still, and two scrapes any time apart give
// the same figures.
func TestSteady(t *testing.T) {
	rec := loadRecording(t)
	start := time.Now()
	for _, index := range []int{0, 57, 99} {
		tg := newTarget(index, Normal, rec.scaled(1000), rec.uptime, start)
		tg.makeSteady()
		want := steadyOf(index)
		a, err := parse(t, bytes.Clone(tg.render(start.Add(5*time.Second), nil)))
		require.NoError(t, err)
		for _, gap := range []time.Duration{5 * time.Second, 10 * time.Second, time.Minute} {
			b, err := parse(t, bytes.Clone(tg.render(start.Add(5*time.Second+gap), nil)))
			require.NoError(t, err)
			sum := func(m map[string]float64, name, match string) float64 {
				s := 0.0
				for k, v := range m {
					if strings.Contains(k, `__name__="`+name+`"`) && strings.Contains(k, match) {
						s += v
					}
				}
				return s
			}
			delta := func(name, match string) float64 { return sum(b, name, match) - sum(a, name, match) }
			secs := gap.Seconds()
			require.InDelta(t, secs, delta("node_time_seconds", ""), 0.002)
			all := delta("node_cpu_seconds_total", "")
			require.InDelta(t, 2*secs, all, 0.05, "two CPUs, a second a second each")
			require.InDelta(t, want.CPUBusyPercent, 100*(1-delta("node_cpu_seconds_total", `mode="idle"`)/all), 0.5, "index %d", index)
			require.InDelta(t, want.ReceiveBytesPerSecond, delta("node_network_receive_bytes_total", `device="eth0"`)/secs, 1)
			require.InDelta(t, want.TransmitBytesPerSecond, delta("node_network_transmit_bytes_total", `device="eth0"`)/secs, 1)
			require.InDelta(t, want.DiskReadBytesPerSecond, delta("node_disk_read_bytes_total", `device="vda"`)/secs, 1)
			require.InDelta(t, want.DiskWriteBytesPerSec, delta("node_disk_written_bytes_total", `device="vda"`)/secs, 1)
			require.InDelta(t, want.DiskBusyPercent, 100*delta("node_disk_io_time_seconds_total", `device="vda"`)/secs, 0.1)
			require.InDelta(t, want.MemoryUsedPercent, 100*(1-sum(b, "node_memory_MemAvailable_bytes", "")/sum(b, "node_memory_MemTotal_bytes", "")), 0.01)
			require.InDelta(t, want.FilesystemUsedPercent, 100*(1-sum(b, "node_filesystem_avail_bytes", `mountpoint="/"`)/sum(b, "node_filesystem_size_bytes", `mountpoint="/"`)), 0.01)
			require.Equal(t, a[`{__name__="node_load1"}`], b[`{__name__="node_load1"}`], "gauges hold still")
		}
	}
	require.InDelta(t, 94.1, steadyOf(57).CPUBusyPercent, 1e-9)
	for i := range 100 {
		if i != 57 {
			require.Less(t, steadyOf(i).CPUBusyPercent, steadyOf(57).CPUBusyPercent, "target 57 is the busiest")
		}
	}
}

// TestRunSteady: -expect writes the figures of the targets that answer.
func TestRunSteady(t *testing.T) {
	expect := filepath.Join(t.TempDir(), "expect.json")
	base, stop := startRun(t, 3, "-series", "300", "-down", "1", "-steady", "-expect", expect, "-body", recorded)
	b, err := os.ReadFile(expect)
	require.NoError(t, err)
	var got map[string]Steady
	require.NoError(t, json.Unmarshal(b, &got))
	addr := func(i int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(base+i)) }
	require.Equal(t, map[string]Steady{addr(0): steadyOf(0), addr(1): steadyOf(1)}, got)
	require.Empty(t, stop())
}
