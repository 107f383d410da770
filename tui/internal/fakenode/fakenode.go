// Package fakenode writes deterministic node_exporter-like history into a
// store, for the console's tests and its throwaway demo.
package fakenode

import (
	"fmt"
	"math"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// Appender is the part of an appender that fakenode uses; both
// Prometheus' storage.Appender and vigil's store.Appender have it.
type Appender interface {
	Append(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error)
	Commit() error
}

// Host describes one fake host.
type Host struct {
	Instance string
	CPUs     int
	Busy     float64 // mean CPU busy fraction, 0..1
	MemUsed  float64 // fraction
	DiskUsed float64 // fraction
	NetBps   float64 // mean receive bytes/s; transmit is a third
	Load     float64
}

// DefaultHosts are three hosts of different health.
var DefaultHosts = []Host{
	{Instance: "db1:9100", CPUs: 8, Busy: 0.35, MemUsed: 0.72, DiskUsed: 0.81, NetBps: 2.5e6, Load: 3.1},
	{Instance: "web1:9100", CPUs: 4, Busy: 0.12, MemUsed: 0.41, DiskUsed: 0.33, NetBps: 8e5, Load: 0.6},
	{Instance: "batch1:9100", CPUs: 2, Busy: 0.93, MemUsed: 0.95, DiskUsed: 0.97, NetBps: 1.2e4, Load: 5.2},
}

// Write appends samples every step from end-span to end (inclusive).
func Write(app Appender, hosts []Host, end time.Time, span, step time.Duration) error {
	start := end.Add(-span)
	for ts := start; !ts.After(end); ts = ts.Add(step) {
		if err := appendAt(app, hosts, start, ts, step); err != nil {
			return err
		}
	}
	return app.Commit()
}

// Scrape appends and commits one scrape of every host at ts, continuing
// history that Write started at origin (end-span): what a scrape loop
// adds while the console watches.
func Scrape(app Appender, hosts []Host, origin, ts time.Time, step time.Duration) error {
	if err := appendAt(app, hosts, origin, ts, step); err != nil {
		return err
	}
	return app.Commit()
}

func appendAt(app Appender, hosts []Host, origin, ts time.Time, step time.Duration) error {
	x := ts.Sub(origin).Seconds()
	for _, h := range hosts {
		if err := writeHost(app, h, ts, x, step); err != nil {
			return err
		}
	}
	return nil
}

// Fleet returns n hosts of assorted size and health, named host01:9100 on.
func Fleet(n int) []Host {
	hosts := make([]Host, n)
	for i := range hosts {
		f := float64(i%7) / 7
		hosts[i] = Host{
			Instance: fmt.Sprintf("host%02d:9100", i+1),
			CPUs:     []int{2, 4, 8}[i%3],
			Busy:     0.05 + 0.9*f,
			MemUsed:  0.3 + 0.6*float64(i%5)/5,
			DiskUsed: 0.2 + 0.75*float64(i%4)/4,
			NetBps:   1e4 * math.Pow(10, float64(i%4)),
			Load:     0.2 + 5*f,
		}
	}
	return hosts
}

func wave(x, period, phase float64) float64 { return math.Sin(2*math.Pi*x/period + phase) }

func writeHost(app Appender, h Host, ts time.Time, x float64, step time.Duration) error {
	t := ts.UnixMilli()
	base := []string{"job", "node", "instance", h.Instance}
	add := func(v float64, kv ...string) error {
		_, err := app.Append(0, labels.FromStrings(append(append([]string{}, base...), kv...)...), t, v)
		return err
	}
	// Counters are integrals of their rates, so rate() gives them back.
	busy := func(x float64) float64 { return h.Busy * x } // plus a wave below
	for cpu := 0; cpu < h.CPUs; cpu++ {
		c := string(rune('0' + cpu%10))
		b := busy(x) + 0.05*h.Busy*300/(2*math.Pi)*(1-math.Cos(2*math.Pi*x/300))
		if err := add(b, "__name__", "node_cpu_seconds_total", "cpu", c, "mode", "user"); err != nil {
			return err
		}
		if err := add(x-b, "__name__", "node_cpu_seconds_total", "cpu", c, "mode", "idle"); err != nil {
			return err
		}
	}
	total := 16e9
	avail := total * (1 - h.MemUsed - 0.03*wave(x, 600, 0))
	for _, s := range []struct {
		name string
		v    float64
	}{
		{"node_memory_MemTotal_bytes", total},
		{"node_memory_MemAvailable_bytes", avail},
		{"node_load1", h.Load + 0.5*h.Load*wave(x, 420, 1)},
	} {
		if err := add(s.v, "__name__", s.name); err != nil {
			return err
		}
	}
	size := 500e9
	for _, fs := range []struct{ mp, fstype, dev string }{{"/", "ext4", "/dev/sda1"}, {"/run", "tmpfs", "tmpfs"}} {
		used := h.DiskUsed
		if fs.fstype == "tmpfs" {
			used = 0.999
		}
		kv := []string{"device", fs.dev, "fstype", fs.fstype, "mountpoint", fs.mp}
		if err := add(size, append([]string{"__name__", "node_filesystem_size_bytes"}, kv...)...); err != nil {
			return err
		}
		if err := add(size*(1-used-0.001*x/3600), append([]string{"__name__", "node_filesystem_avail_bytes"}, kv...)...); err != nil {
			return err
		}
	}
	for _, dev := range []string{"eth0", "lo"} {
		rx := h.NetBps*x + h.NetBps*0.5*900/(2*math.Pi)*(1-math.Cos(2*math.Pi*x/900))
		if err := add(rx, "__name__", "node_network_receive_bytes_total", "device", dev); err != nil {
			return err
		}
		if err := add(rx/3, "__name__", "node_network_transmit_bytes_total", "device", dev); err != nil {
			return err
		}
	}
	if err := add(0.02+0.01*wave(x, 120, 0), "__name__", "scrape_duration_seconds"); err != nil {
		return err
	}
	return add(1, "__name__", "up")
}
