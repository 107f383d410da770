package alert_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/store"
)

// nodeHosts fills db with node_exporter-like series for n hosts (4 CPUs,
// 3 filesystems, 2 network devices, memory, load, clock): `minutes` of
// history at a 15s interval. Every tenth host has a high load.
func nodeHosts(tb testing.TB, db *store.DB, n, minutes int, end time.Time) {
	tb.Helper()
	type series struct {
		ls   labels.Labels
		val  func(step int) float64
		ref  uint64
		host int
	}
	var all []*series
	add := func(host int, val func(int) float64, name string, lv ...string) {
		inst := fmt.Sprintf("host%03d:9100", host)
		ls := labels.NewBuilder(labels.FromStrings(lv...)).Set("__name__", name).Set("instance", inst).Set("job", "node").Labels()
		all = append(all, &series{ls: ls, val: val, host: host})
	}
	for h := range n {
		load := 0.5
		if h%10 == 0 {
			load = 12
		}
		add(h, func(int) float64 { return 1 }, "up")
		add(h, func(int) float64 { return load }, "node_load1")
		for cpu := range 4 {
			for i, mode := range []string{"idle", "user", "system", "iowait", "irq", "softirq", "steal", "nice"} {
				rate := []float64{0.8, 0.12, 0.05, 0.01, 0.005, 0.005, 0.005, 0.005}[i]
				add(h, func(s int) float64 { return float64(s) * 15 * rate }, "node_cpu_seconds_total", "cpu", fmt.Sprint(cpu), "mode", mode)
			}
		}
		add(h, func(int) float64 { return 16e9 }, "node_memory_MemTotal_bytes")
		add(h, func(s int) float64 { return 8e9 - float64(s)*1e6 }, "node_memory_MemAvailable_bytes")
		for _, mp := range []string{"/", "/home", "/var"} {
			fs := []string{"device", "/dev/sda1", "fstype", "ext4", "mountpoint", mp}
			add(h, func(int) float64 { return 100e9 }, "node_filesystem_size_bytes", fs...)
			add(h, func(s int) float64 { return 30e9 - float64(s)*1e7 }, "node_filesystem_avail_bytes", fs...)
			add(h, func(int) float64 { return 0 }, "node_filesystem_readonly", fs...)
		}
		for _, dev := range []string{"eth0", "lo"} {
			add(h, func(s int) float64 { return float64(s) * 1500 }, "node_network_receive_packets_total", "device", dev)
			add(h, func(s int) float64 { return float64(s) }, "node_network_receive_errs_total", "device", dev)
			add(h, func(s int) float64 { return float64(s) * 1000 }, "node_network_transmit_packets_total", "device", dev)
			add(h, func(int) float64 { return 0 }, "node_network_transmit_errs_total", "device", dev)
		}
		add(h, func(int) float64 { return 0.001 }, "node_timex_offset_seconds")
		add(h, func(int) float64 { return 1 }, "node_timex_sync_status")
		add(h, func(int) float64 { return 0.1 }, "node_timex_maxerror_seconds")
	}
	steps := minutes * 4
	start := end.Add(-time.Duration(steps) * 15 * time.Second)
	for s := 0; s <= steps; s++ {
		app := db.Appender()
		ts := timestamp.FromTime(start.Add(time.Duration(s) * 15 * time.Second))
		for _, se := range all {
			ref, err := app.Append(0, se.ls, ts, se.val(s))
			require.NoError(tb, err)
			_ = ref
		}
		require.NoError(tb, app.Commit())
	}
	tb.Logf("%d series, %d samples", len(all), len(all)*(steps+1))
}

// BenchmarkDefaultRules100Hosts is one evaluation cycle of the built-in
// rules over 100 node_exporter hosts with 30 minutes of history.
func BenchmarkDefaultRules100Hosts(b *testing.B) {
	db := store.New(store.DefaultOptions())
	defer db.Close()
	end := time.Now().Truncate(time.Minute)
	nodeHosts(b, db, 100, 30, end)
	m, err := alert.NewManager(alert.DefaultGroups(), alert.Options{Queryable: db, Appendable: db})
	require.NoError(b, err)
	defer m.Close()
	ctx := context.Background()
	m.Eval(ctx, end)
	require.Zero(b, m.Stats().RuleFailures)
	require.Equal(b, 10, m.Stats().Pending, "the ten loaded hosts")

	ts := end
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ts = ts.Add(time.Millisecond)
		m.Eval(ctx, ts)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/cycle")
}
