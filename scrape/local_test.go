package scrape_test

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/scrape/peertest"
)

// localFamilies are the local target's metrics, each with the tolerance
// its values must keep to node_exporter's on the same machine a few
// milliseconds apart: |a-b| <= abs + rel*max(|a|,|b|).
var localFamilies = []struct {
	name     string
	abs, rel float64
}{
	{"node_cpu_seconds_total", 1, 0.001},               // USER_HZ ticks move between the two reads
	{"node_memory_MemTotal_bytes", 0, 0},               // fixed
	{"node_memory_MemAvailable_bytes", 64 << 20, 0.05}, // moves with the tests running beside
	{"node_memory_MemFree_bytes", 64 << 20, 0.05},
	{"node_memory_Buffers_bytes", 16 << 20, 0.05},
	{"node_memory_Cached_bytes", 64 << 20, 0.05},
	{"node_memory_SwapTotal_bytes", 0, 0},
	{"node_memory_SwapFree_bytes", 16 << 20, 0.01},
	{"node_load1", 1, 0},
	{"node_load5", 0.5, 0},
	{"node_load15", 0.5, 0},
	{"node_filesystem_size_bytes", 0, 0},
	{"node_filesystem_avail_bytes", 256 << 20, 0.001},
	{"node_filesystem_free_bytes", 256 << 20, 0.001},
	{"node_filesystem_readonly", 0, 0},
	{"node_network_receive_bytes_total", 1 << 20, 0.01},
	{"node_network_transmit_bytes_total", 1 << 20, 0.01},
	{"node_network_receive_packets_total", 2000, 0.01},
	{"node_network_transmit_packets_total", 2000, 0.01},
	{"node_network_receive_errs_total", 10, 0},
	{"node_network_transmit_errs_total", 10, 0},
	{"node_network_receive_drop_total", 10, 0},
	{"node_network_transmit_drop_total", 10, 0},
	{"node_disk_read_bytes_total", 16 << 20, 0.01},
	{"node_disk_written_bytes_total", 64 << 20, 0.01},
	{"node_disk_io_time_seconds_total", 2, 0.01},
	{"node_disk_reads_completed_total", 1000, 0.01},
	{"node_disk_writes_completed_total", 5000, 0.01},
	{"node_boot_time_seconds", 1, 0},
	{"node_time_seconds", 5, 0},
	{"node_procs_running", 32, 0},
	{"node_uname_info", 0, 0},
}

// TestLocalTargetMatchesNodeExporter reads the local host with vigil's
// built-in target and with a real node_exporter (told to leave out the
// same filesystems, disks and devices) and compares series and values.
func TestLocalTargetMatchesNodeExporter(t *testing.T) {
	ne := peertest.NodeExporter(t,
		"--collector.filesystem.mount-points-exclude="+scrape.LocalMountPointsExclude.String(),
		"--collector.filesystem.fs-types-exclude="+scrape.LocalFSTypesExclude.String(),
		"--collector.diskstats.device-exclude="+scrape.LocalDiskExclude.String(),
		"--collector.netdev.device-exclude=^$",
	)
	// Other tests (store's disk-full test) mount filesystems for a moment:
	// read both again until the mounts held still between the two reads.
	var (
		mine   bytes.Buffer
		theirs []byte
		resp   *http.Response
	)
	for try := 1; ; try++ {
		before, err := os.ReadFile("/proc/self/mountinfo")
		require.NoError(t, err)
		mine.Reset()
		c := &scrape.LocalCollector{ProcPath: "/proc", SysPath: "/sys"}
		require.NoError(t, c.Collect(context.Background(), &mine))
		resp, err = http.Get(ne.URL + "/metrics")
		require.NoError(t, err)
		theirs, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		after, err := os.ReadFile("/proc/self/mountinfo")
		require.NoError(t, err)
		if bytes.Equal(before, after) {
			break
		}
		require.Less(t, try, 20, "the mounts kept changing while both read them")
		time.Sleep(100 * time.Millisecond)
	}

	byName := func(v model.Vector) map[string]map[string]float64 {
		out := map[string]map[string]float64{}
		for _, s := range v {
			name := string(s.Metric[model.MetricNameLabel])
			if out[name] == nil {
				out[name] = map[string]float64{}
			}
			out[name][s.Metric.String()] = float64(s.Value)
		}
		return out
	}
	hdr := http.Header{"Content-Type": []string{"text/plain; version=0.0.4"}}
	got := byName(decodeSamples(t, mine.Bytes(), hdr))
	want := byName(decodeSamples(t, theirs, resp.Header))
	for _, f := range localFamilies {
		t.Run(f.name, func(t *testing.T) {
			g, w := got[f.name], want[f.name]
			if len(w) == 0 {
				t.Skipf("node_exporter does not expose %s on this machine", f.name)
			}
			require.Equal(t, keys(w), keys(g), "the same series")
			for k, wv := range w {
				gv := g[k]
				tol := f.abs + f.rel*math.Max(math.Abs(gv), math.Abs(wv))
				require.LessOrEqual(t, math.Abs(gv-wv), tol, "%s: vigil %v, node_exporter %v", k, gv, wv)
			}
		})
	}
}

func keys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
