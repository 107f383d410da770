package alert_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
)

// steadyHost writes a node_exporter-like host into s from start to end
// every 5 s: two CPUs busy a share busy of the time, counters that have
// been counting since long before start (as a host's do when vigil starts
// after it), and a filesystem whose free space falls by fall bytes a
// second from 15% free, with a wobble.
func steadyHost(t *testing.T, s testStore, inst string, busy, fall float64, start, end time.Time) {
	t.Helper()
	const boot = 86400.0 // seconds the counters have counted before start
	for ts := start; !ts.After(end); ts = ts.Add(5 * time.Second) {
		x := boot + ts.Sub(start).Seconds()
		lv := []string{"instance", inst, "job", "node"}
		for cpu := range 2 {
			c := fmt.Sprint(cpu)
			s.add(t, ts, x*(1-busy), "node_cpu_seconds_total", append(lv, "cpu", c, "mode", "idle")...)
			s.add(t, ts, x*busy*0.7, "node_cpu_seconds_total", append(lv, "cpu", c, "mode", "user")...)
			s.add(t, ts, x*busy*0.3, "node_cpu_seconds_total", append(lv, "cpu", c, "mode", "system")...)
		}
		s.add(t, ts, 16e9, "node_memory_MemTotal_bytes", lv...)
		s.add(t, ts, 8e9, "node_memory_MemAvailable_bytes", lv...)
		s.add(t, ts, 0.4, "node_load1", lv...)
		fs := append(lv, "device", "/dev/sda1", "fstype", "ext4", "mountpoint", "/")
		wobble := 5e8 * float64(1-2*(int(x/5)%2))
		s.add(t, ts, 100e9, "node_filesystem_size_bytes", fs...)
		s.add(t, ts, 15e9-fall*(x-boot)+wobble, "node_filesystem_avail_bytes", fs...)
		s.add(t, ts, 0, "node_filesystem_readonly", fs...)
		for _, m := range []string{"receive", "transmit"} {
			s.add(t, ts, x*1000, "node_network_"+m+"_packets_total", append(lv, "device", "eth0")...)
			s.add(t, ts, 0, "node_network_"+m+"_errs_total", append(lv, "device", "eth0")...)
		}
	}
}

// TestDefaultRulesYoungSeries: the built-in rules do not go pending on
// what a fresh start looks like (a few samples of counters and gauges of
// a quiet host), and keep their meaning on a steady one.
func TestDefaultRulesYoungSeries(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	s := newTestStore(t)
	// Quiet hosts, 10 to 60 s old: 30% busy, a filesystem that wobbles
	// (two samples can say it falls) or falls slowly.
	steadyHost(t, s, "quiet:9100", 0.3, 0, t0, t0.Add(time.Minute))
	steadyHost(t, s, "slow:9100", 0.3, 1e5, t0, t0.Add(time.Minute))
	m, err := alert.NewManager(alert.DefaultGroups(), alert.Options{Queryable: s, Appendable: s})
	require.NoError(t, err)
	defer m.Close()
	for at := t0.Add(5 * time.Second); !at.After(t0.Add(time.Minute)); at = at.Add(5 * time.Second) {
		m.Eval(t.Context(), at)
		for _, r := range m.Rules() {
			require.Equal(t, alert.HealthOK, r.Health, "%s: %s", r.Name, r.LastError)
		}
		require.Empty(t, m.Alerts(), "at %s after the first sample", at.Sub(t0))
	}

	// Their meaning on hosts with history: a CPU 95% busy, a filesystem
	// at 15% free that fills within 4 hours.
	s = newTestStore(t)
	steadyHost(t, s, "busy:9100", 0.95, 0, t0, t0.Add(20*time.Minute))
	steadyHost(t, s, "filling:9100", 0.3, 2e6, t0, t0.Add(20*time.Minute))
	steadyHost(t, s, "quiet:9100", 0.3, 0, t0, t0.Add(20*time.Minute))
	m2, err := alert.NewManager(alert.DefaultGroups(), alert.Options{Queryable: s, Appendable: s})
	require.NoError(t, err)
	defer m2.Close()
	m2.Eval(t.Context(), t0.Add(20*time.Minute))
	pending := map[string]string{}
	for _, a := range m2.Alerts() {
		pending[a.Labels.Get("instance")] = a.Rule
	}
	require.Equal(t, map[string]string{"busy:9100": "NodeCPUBusy", "filling:9100": "NodeFilesystemFillingUp"}, pending)
}
