package tui

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
)

// The PromQL that the Overview and the host page run, over
// node_exporter's metric names.
//
// Every figure must be right from a target's second sample on, or not
// shown. rate() over a window longer than the data it holds is not: a
// series that starts inside the window is extrapolated by half a scrape
// interval only and then divided by the whole window, so rate(x[1m]) over
// 20 s of a counter of seconds reads 0.375, not 1, and 1 - rate(idle)
// turns that into a busy CPU. Two ways out are used here, both of which
// keep Prometheus' meaning once the window is full:
//
//   - a ratio of two rates of the same target (busy over all CPU seconds,
//     errors over packets) cancels the partial-window factor, since both
//     series have the same samples' timestamps;
//   - a per-second rate is divided by the rate of the target's clock,
//     node_time_seconds, which grows by one a second: the same factor
//     again. A target without that clock gets the plain rate, and only
//     once it has data older than the window (up offset W).

// Filesystems and interfaces that say nothing about a host's health.
const (
	fsFilter  = `fstype!~"tmpfs|ramfs|devtmpfs|squashfs|nsfs|proc|sysfs|fuse.*|autofs"` // overlay stays: it is / in a container
	netFilter = `device!~"lo|veth.*|docker.*|br-.*|virbr.*|cni.*|flannel.*|cali.*|tun.*|tap.*"`
)

// clockMetric grows by one a second on every node_exporter (its time
// collector is on by default) and on vigil's local target.
const clockMetric = "node_time_seconds"

// perSecond is the per-second rate of the counters sel over window w,
// right on a window longer than the data (see above). Its result keeps
// sel's labels but the metric name.
func perSecond(sel, w string) string {
	r := "rate(" + sel + "[" + w + "])"
	return "(" + r + " / on (instance, job) group_left rate(" + clockMetric + "[" + w + "]))" +
		" or ((" + r + " unless on (instance, job) " + clockMetric + ") and on (instance, job) (up offset " + w + "))"
}

// cpuBusyExpr is the busy share of all CPUs in percent, by the labels of
// by: every mode but idle over all modes (a host's modes add up to its
// CPUs' seconds), so a partial window cancels out.
func cpuBusyExpr(sel, by, w string) string {
	all := "sum by (" + by + ") (rate(node_cpu_seconds_total" + sel + "[" + w + "]))"
	idle := "sum by (" + by + ") (rate(node_cpu_seconds_total" + withMatcher(sel, `mode="idle"`) + "[" + w + "]))"
	return "100 * (1 - " + idle + " / " + all + ")"
}

// withMatcher adds a matcher to a selector's braces ("" or "{…}").
func withMatcher(sel, m string) string {
	if sel == "" || sel == "{}" {
		return "{" + m + "}"
	}
	return strings.TrimSuffix(sel, "}") + "," + m + "}"
}

// hostMetric is one line of a host card and one column of the compact
// table, computed by PromQL, one series per instance.
type hostMetric struct {
	label string
	expr  func(w string) string // w is the rate window
	unit  func(float64) string
	max   float64 // sparkline scale; 0 scales to the data
	rate  bool    // a rate: not known from a target's first sample
}

// The host metrics, in card order.
const (
	metricCPU = iota
	metricMem
	metricLoad
	metricDisk
	metricRx
	metricTx
)

var hostMetrics = []hostMetric{
	metricCPU: {label: "CPU", max: 100, unit: formatPercent, rate: true,
		expr: func(w string) string { return cpuBusyExpr("", "instance", w) }},
	metricMem: {label: "MEM", max: 100, unit: formatPercent,
		expr: func(string) string {
			return `100 * (1 - max by (instance) (node_memory_MemAvailable_bytes) / max by (instance) (node_memory_MemTotal_bytes))`
		}},
	metricLoad: {label: "LOAD", unit: formatValueShort,
		expr: func(string) string { return `max by (instance) (node_load1)` }},
	metricDisk: {label: "DISK", max: 100, unit: formatPercent,
		expr: func(string) string {
			return `100 * max by (instance) (1 - node_filesystem_avail_bytes{` + fsFilter + `} / (node_filesystem_size_bytes{` + fsFilter + `} > 0))`
		}},
	metricRx: {label: "RX", unit: formatBytesRate, rate: true,
		expr: func(w string) string {
			return `sum by (instance) (` + perSecond(`node_network_receive_bytes_total{`+netFilter+`}`, w) + `)`
		}},
	metricTx: {label: "TX", unit: formatBytesRate, rate: true,
		expr: func(w string) string {
			return `sum by (instance) (` + perSecond(`node_network_transmit_bytes_total{`+netFilter+`}`, w) + `)`
		}},
}

// The Overview's other instant queries: the CPU count (which also says
// that a host has CPU data, so that a missing rate is a young series,
// not a missing metric) and node_exporter's nodename, for brief names.
const (
	ncpuExpr     = `count by (instance) (node_cpu_seconds_total{mode="idle"})`
	nodenameExpr = `max by (instance, nodename) (node_uname_info)`
)

func formatBytesRate(v float64) string { return formatSI(v, "B/s") }

// rateWindow is the range of rate() for a query stepping by step: wide
// enough to hold several scrapes, and never finer than the step.
func rateWindow(step time.Duration) string {
	w := max(4*step, time.Minute)
	return formatRange(w.Round(time.Second))
}

// currentWindow is the rate window of current values, a dashboard's
// usual minute.
const currentWindow = "1m"

// fillWindow is how far back the host page looks to predict when a
// filesystem fills, and fillHistory how much history it needs first.
const (
	fillWindow  = "30m"
	fillHistory = "10m"
)

// hostPageData is what the host page shows of one host, read at one time.
type hostPageData struct {
	seq      int
	instance string
	err      error

	// present are the metric families the host has now: what tells a
	// rate that is not known yet (warming up) from one the exporter does
	// not give.
	present map[string]bool
	// clock divides the rates of counters into per-second rates (the
	// rate of node_time_seconds, see perSecond); NaN while not known.
	clock float64

	cpus   []cpuUsage // per CPU, by number
	load   [3]float64 // 1, 5, 15 minutes; NaN when absent
	mem    map[string]float64
	fss    []fsUsage
	disks  []diskIO
	nets   []netIO
	boot   float64 // node_boot_time_seconds; NaN when absent
	now    float64 // node_time_seconds
	uname  map[string]string
	ranged bool // the sparklines below were read

	span                        span
	cpuSpark, memSpark, ldSpark []float64
	diskSpark, netSpark         map[string][]float64 // by device
	coreSpark                   map[string][]float64 // by cpu
}

// cpuUsage is one CPU's (or all CPUs') seconds a second by mode.
type cpuUsage struct {
	name  string
	modes map[string]float64
}

// total is the CPU seconds a second of every mode.
func (u cpuUsage) total() float64 {
	t := 0.0
	for _, v := range u.modes {
		t += v
	}
	return t
}

// share is the share of time in the modes named, 0-1; NaN without data.
func (u cpuUsage) share(modes ...string) float64 {
	t := u.total()
	if t <= 0 {
		return math.NaN()
	}
	s := 0.0
	for _, m := range modes {
		s += u.modes[m]
	}
	return s / t
}

// busy is the share of time not idle, 0-1.
func (u cpuUsage) busy() float64 { return 1 - u.share("idle") }

// The CPU modes as the host page groups them (node_exporter's names).
var (
	userModes   = []string{"user", "nice"}
	systemModes = []string{"system", "irq", "softirq"}
	iowaitModes = []string{"iowait"}
	stealModes  = []string{"steal"}
)

// fsUsage is one filesystem.
type fsUsage struct {
	mountpoint, device, fstype string
	size, avail                float64
	readonly                   bool
	deriv                      float64 // avail's change a second over fillWindow; NaN when not known
}

// diskIO is one block device's throughput and utilisation.
type diskIO struct {
	device              string
	read, written, busy float64 // bytes/s, bytes/s, share of time busy (0-1); NaN when not known
}

// netIO is one interface's traffic, errors and drops a second.
type netIO struct {
	device                               string
	rx, tx, rxErr, txErr, rxDrop, txDrop float64
}

// The families whose presence the page checks.
const (
	famCPU   = "node_cpu_seconds_total"
	famDisk  = "node_disk_read_bytes_total"
	famNet   = "node_network_receive_bytes_total"
	famClock = clockMetric
)

// hostSelector is {instance="inst"} with more matchers, quoted.
func hostSelector(inst string, more ...string) string {
	ms := append([]string{labels.MustNewMatcher(labels.MatchEqual, "instance", inst).String()}, more...)
	return "{" + strings.Join(ms, ",") + "}"
}

// readHostPage reads one host at at, and its sparklines over sp when
// ranged. A query that fails leaves its part out and its error in err.
func readHostPage(ctx context.Context, q Querier, inst string, at time.Time, sp span, ranged bool) *hostPageData {
	d := &hostPageData{instance: inst, present: map[string]bool{}, clock: math.NaN(), boot: math.NaN(), now: math.NaN(),
		load: [3]float64{math.NaN(), math.NaN(), math.NaN()}, mem: map[string]float64{}, uname: map[string]string{}}
	sel := hostSelector(inst)
	w := currentWindow
	instant := func(expr string) promql.Vector {
		v, err := q.Instant(ctx, expr, at)
		if err != nil && d.err == nil {
			d.err = err
		}
		return vectorOf(v)
	}

	for _, s := range instant(`count by (__name__) (` + hostSelector(inst, `__name__=~"`+famCPU+`|`+famDisk+`|`+famNet+`|`+famClock+`"`) + `)`) {
		d.present[s.Metric.Get(labels.MetricName)] = true
	}
	if vec := instant(`rate(` + clockMetric + sel + `[` + w + `])`); len(vec) > 0 {
		d.clock = vec[0].F
	} else if !d.present[famClock] && len(instant(`up`+sel+` offset `+w)) > 0 {
		d.clock = 1 // no clock: plain rates, once the data is older than the window
	}

	cpus := map[string]*cpuUsage{}
	for _, s := range instant(`sum by (cpu, mode) (rate(node_cpu_seconds_total` + sel + `[` + w + `]))`) {
		name := s.Metric.Get("cpu")
		u := cpus[name]
		if u == nil {
			u = &cpuUsage{name: name, modes: map[string]float64{}}
			cpus[name] = u
		}
		u.modes[s.Metric.Get("mode")] = s.F
	}
	for _, u := range cpus {
		d.cpus = append(d.cpus, *u)
	}
	slices.SortFunc(d.cpus, func(a, b cpuUsage) int { return cmpNumeric(a.name, b.name) })

	for _, s := range instant(hostSelector(inst, `__name__=~"node_load1|node_load5|node_load15"`)) {
		switch s.Metric.Get(labels.MetricName) {
		case "node_load1":
			d.load[0] = s.F
		case "node_load5":
			d.load[1] = s.F
		case "node_load15":
			d.load[2] = s.F
		}
	}
	for _, s := range instant(hostSelector(inst, `__name__=~"node_memory_(MemTotal|MemFree|MemAvailable|Buffers|Cached|SwapTotal|SwapFree)_bytes"`)) {
		name := strings.TrimSuffix(strings.TrimPrefix(s.Metric.Get(labels.MetricName), "node_memory_"), "_bytes")
		d.mem[name] = s.F
	}
	for _, s := range instant(hostSelector(inst, `__name__=~"node_boot_time_seconds|node_time_seconds|node_uname_info"`)) {
		switch s.Metric.Get(labels.MetricName) {
		case "node_boot_time_seconds":
			d.boot = s.F
		case "node_time_seconds":
			d.now = s.F
		case "node_uname_info":
			s.Metric.Range(func(l labels.Label) { d.uname[l.Name] = l.Value })
		}
	}

	fss := map[string]*fsUsage{}
	fsKey := func(m labels.Labels) *fsUsage {
		k := m.Get("mountpoint") + "\x00" + m.Get("device") + "\x00" + m.Get("fstype")
		f := fss[k]
		if f == nil {
			f = &fsUsage{mountpoint: m.Get("mountpoint"), device: m.Get("device"), fstype: m.Get("fstype"),
				size: math.NaN(), avail: math.NaN(), deriv: math.NaN()}
			fss[k] = f
		}
		return f
	}
	fsSel := hostSelector(inst, fsFilter)
	for _, s := range instant(hostSelector(inst, fsFilter, `__name__=~"node_filesystem_(size|avail)_bytes|node_filesystem_readonly"`)) {
		f := fsKey(s.Metric)
		switch s.Metric.Get(labels.MetricName) {
		case "node_filesystem_size_bytes":
			f.size = s.F
		case "node_filesystem_avail_bytes":
			f.avail = s.F
		case "node_filesystem_readonly":
			f.readonly = s.F == 1
		}
	}
	// A prediction from seconds of data says more of the noise than of
	// the trend: it waits for fillHistory, as the built-in rule does.
	for _, s := range instant(`deriv(node_filesystem_avail_bytes` + fsSel + `[` + fillWindow + `]) and node_filesystem_avail_bytes` + fsSel + ` offset ` + fillHistory) {
		fsKey(s.Metric).deriv = s.F
	}
	for _, f := range fss {
		if !math.IsNaN(f.size) && f.size > 0 {
			d.fss = append(d.fss, *f)
		}
	}
	slices.SortFunc(d.fss, func(a, b fsUsage) int {
		return cmp.Or(strings.Compare(a.mountpoint, b.mountpoint), strings.Compare(a.device, b.device))
	})

	// Counters: per-second rates over the clock's rate.
	perDevice := func(metric, extra string, set func(device string, v float64)) {
		s := hostSelector(inst)
		if extra != "" {
			s = hostSelector(inst, extra)
		}
		for _, x := range instant(`rate(` + metric + s + `[` + w + `])`) {
			set(x.Metric.Get("device"), x.F/d.clock)
		}
	}
	disks := map[string]*diskIO{}
	disk := func(dev string) *diskIO {
		if disks[dev] == nil {
			disks[dev] = &diskIO{device: dev, read: math.NaN(), written: math.NaN(), busy: math.NaN()}
		}
		return disks[dev]
	}
	perDevice("node_disk_read_bytes_total", "", func(dev string, v float64) { disk(dev).read = v })
	perDevice("node_disk_written_bytes_total", "", func(dev string, v float64) { disk(dev).written = v })
	perDevice("node_disk_io_time_seconds_total", "", func(dev string, v float64) { disk(dev).busy = v })
	for _, x := range disks {
		d.disks = append(d.disks, *x)
	}
	slices.SortFunc(d.disks, func(a, b diskIO) int { return cmpNumeric(a.device, b.device) })

	nets := map[string]*netIO{}
	nic := func(dev string) *netIO {
		if nets[dev] == nil {
			n := math.NaN()
			nets[dev] = &netIO{device: dev, rx: n, tx: n, rxErr: n, txErr: n, rxDrop: n, txDrop: n}
		}
		return nets[dev]
	}
	for _, m := range []struct {
		name string
		set  func(n *netIO, v float64)
	}{
		{"receive_bytes", func(n *netIO, v float64) { n.rx = v }},
		{"transmit_bytes", func(n *netIO, v float64) { n.tx = v }},
		{"receive_errs", func(n *netIO, v float64) { n.rxErr = v }},
		{"transmit_errs", func(n *netIO, v float64) { n.txErr = v }},
		{"receive_drop", func(n *netIO, v float64) { n.rxDrop = v }},
		{"transmit_drop", func(n *netIO, v float64) { n.txDrop = v }},
	} {
		perDevice("node_network_"+m.name+"_total", netFilter, func(dev string, v float64) { m.set(nic(dev), v) })
	}
	for _, x := range nets {
		d.nets = append(d.nets, *x)
	}
	slices.SortFunc(d.nets, func(a, b netIO) int { return cmpNumeric(a.device, b.device) })

	if ranged {
		d.readSparks(ctx, q, inst, sp)
	}
	return d
}

// readSparks reads the page's sparklines over sp.
func (d *hostPageData) readSparks(ctx context.Context, q Querier, inst string, sp span) {
	d.ranged, d.span = true, sp
	n := int(sp.end.Sub(sp.start)/sp.step) + 1
	win := rateWindow(sp.step)
	sel := hostSelector(inst)
	rng := func(expr string) promql.Matrix {
		m, err := q.Range(ctx, expr, sp.start, sp.end, sp.step)
		if err != nil && d.err == nil {
			d.err = err
		}
		return m
	}
	one := func(m promql.Matrix) []float64 {
		if len(m) == 0 {
			return nil
		}
		return aligned(m[0], sp.start, sp.step, n)
	}
	by := func(label string, m promql.Matrix) map[string][]float64 {
		out := map[string][]float64{}
		for _, s := range m {
			out[s.Metric.Get(label)] = aligned(s, sp.start, sp.step, n)
		}
		return out
	}
	byDevice := func(m promql.Matrix) map[string][]float64 { return by("device", m) }
	d.cpuSpark = one(rng(cpuBusyExpr(sel, "instance", win)))
	d.coreSpark = by("cpu", rng(cpuBusyExpr(sel, "cpu", win)))
	d.memSpark = one(rng(`100 * (1 - node_memory_MemAvailable_bytes` + sel + ` / on (instance, job) node_memory_MemTotal_bytes` + sel + `)`))
	d.ldSpark = one(rng(`node_load1` + sel))
	d.diskSpark = byDevice(rng(`sum by (device) (` + perSecond("node_disk_read_bytes_total"+sel, win) + `) + sum by (device) (` +
		perSecond("node_disk_written_bytes_total"+sel, win) + `)`))
	nsel := hostSelector(inst, netFilter)
	d.netSpark = byDevice(rng(`sum by (device) (` + perSecond("node_network_receive_bytes_total"+nsel, win) + `) + sum by (device) (` +
		perSecond("node_network_transmit_bytes_total"+nsel, win) + `)`))
}

// cmpNumeric orders names with numbers in them as people do: cpu2 before
// cpu10, sda before sdb.
func cmpNumeric(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Or(cmp.Compare(len(na), len(nb)), strings.Compare(na, nb)); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

// digits is how many ASCII digits s starts with.
func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
