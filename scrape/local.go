package scrape

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/procfs"
	"github.com/prometheus/procfs/blockdevice"
	"golang.org/x/sys/unix"
)

// LocalTarget is the built-in target for the machine vigil runs on: job
// "node", instance the hostname, and node_exporter's metric names and
// labels for what the console's host page and the default rules need,
// read from /proc and /sys: CPU seconds per core and mode, memory, load,
// filesystems, disk I/O per device, network per interface with errors
// and drops, boot time, the clock and uname.
func LocalTarget() InternalTarget {
	host, _ := os.Hostname()
	c := &LocalCollector{ProcPath: "/proc", SysPath: "/sys"}
	return InternalTarget{Job: "node", Instance: host, URL: "local:/proc", Collect: c.Collect}
}

// Which filesystems, disks and network devices the local target leaves
// out: node_exporter's defaults (upstream, not Debian's patched ones).
var (
	LocalMountPointsExclude = regexp.MustCompile(`^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)`)
	LocalFSTypesExclude     = regexp.MustCompile(`^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$`)
	LocalDiskExclude        = regexp.MustCompile(`^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$`)
)

// LocalCollector reads the host's state through procfs. Its Collect is a
// CollectFunc.
type LocalCollector struct {
	ProcPath, SysPath string
	// StatfsTimeout bounds how long Collect waits for one filesystem (a
	// dead NFS server blocks statfs for ever); 0 means 2s. A mount point
	// that timed out is skipped until its call returns, as node_exporter
	// does.
	StatfsTimeout time.Duration

	mu    sync.Mutex
	stuck map[string]bool // mount points whose statfs has not returned
}

// defaultStatfsTimeout is LocalCollector.StatfsTimeout when not set.
const defaultStatfsTimeout = 2 * time.Second

func (c *LocalCollector) statfs(ctx context.Context, path string) (unix.Statfs_t, bool) {
	c.mu.Lock()
	if c.stuck[path] {
		c.mu.Unlock()
		return unix.Statfs_t{}, false
	}
	c.mu.Unlock()
	type result struct {
		s   unix.Statfs_t
		err error
	}
	done := make(chan result, 1)
	go func() {
		var s unix.Statfs_t
		err := unix.Statfs(path, &s)
		done <- result{s, err}
	}()
	timeout := c.StatfsTimeout
	if timeout <= 0 {
		timeout = defaultStatfsTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.s, r.err == nil
	case <-ctx.Done():
	case <-timer.C:
	}
	// Skip it until the call comes back.
	c.mu.Lock()
	if c.stuck == nil {
		c.stuck = map[string]bool{}
	}
	c.stuck[path] = true
	c.mu.Unlock()
	go func() {
		<-done
		c.mu.Lock()
		delete(c.stuck, path)
		c.mu.Unlock()
	}()
	return unix.Statfs_t{}, false
}

// Collect writes the local host's metrics. A part that cannot be read
// (a /sys that is not mounted in a container) is left out; the scrape
// fails only when nothing could be read.
func (c *LocalCollector) Collect(ctx context.Context, w io.Writer) error {
	fs, err := procfs.NewFS(c.ProcPath)
	if err != nil {
		return fmt.Errorf("local host: %w", err)
	}
	tw := NewTextWriter(w)
	var errs []error
	for _, part := range []func(context.Context, procfs.FS, *TextWriter) error{
		c.cpu, c.memory, c.load, c.filesystems, c.network, c.disks, c.uname,
	} {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := part(ctx, fs, tw); err != nil {
			errs = append(errs, err)
		}
	}
	if tw.Err() != nil {
		return tw.Err()
	}
	if len(errs) == 7 {
		return fmt.Errorf("local host: %w", errors.Join(errs...))
	}
	return nil
}

func (c *LocalCollector) cpu(_ context.Context, fs procfs.FS, tw *TextWriter) error {
	st, err := fs.Stat()
	if err != nil {
		return err
	}
	cpus := make([]int64, 0, len(st.CPU))
	for n := range st.CPU {
		cpus = append(cpus, n)
	}
	sort.Slice(cpus, func(i, j int) bool { return cpus[i] < cpus[j] })
	tw.Header("node_cpu_seconds_total", "counter", "Seconds the CPUs spent in each mode.")
	for _, n := range cpus {
		s := st.CPU[n]
		cpu := strconv.FormatInt(n, 10)
		for _, m := range []struct {
			mode string
			v    float64
		}{{"idle", s.Idle}, {"iowait", s.Iowait}, {"irq", s.IRQ}, {"nice", s.Nice}, {"softirq", s.SoftIRQ}, {"steal", s.Steal}, {"system", s.System}, {"user", s.User}} {
			tw.Sample("node_cpu_seconds_total", m.v, "cpu", cpu, "mode", m.mode)
		}
	}
	tw.Header("node_boot_time_seconds", "gauge", "Node boot time, in unixtime.")
	tw.Sample("node_boot_time_seconds", float64(st.BootTime))
	tw.Header("node_procs_running", "gauge", "Number of processes in runnable state.")
	tw.Sample("node_procs_running", float64(st.ProcessesRunning))
	tw.Header("node_time_seconds", "gauge", "System time in seconds since epoch (1970).")
	tw.Sample("node_time_seconds", float64(time.Now().UnixNano())/1e9)
	return nil
}

func (c *LocalCollector) memory(_ context.Context, fs procfs.FS, tw *TextWriter) error {
	mi, err := fs.Meminfo()
	if err != nil {
		return err
	}
	for _, m := range []struct {
		name string
		v    *uint64
	}{
		{"MemTotal", mi.MemTotalBytes}, {"MemFree", mi.MemFreeBytes}, {"MemAvailable", mi.MemAvailableBytes},
		{"Buffers", mi.BuffersBytes}, {"Cached", mi.CachedBytes},
		{"SwapTotal", mi.SwapTotalBytes}, {"SwapFree", mi.SwapFreeBytes},
	} {
		if m.v == nil {
			continue
		}
		name := "node_memory_" + m.name + "_bytes"
		tw.Header(name, "gauge", "Memory information field "+m.name+"_bytes.")
		tw.Sample(name, float64(*m.v))
	}
	return nil
}

func (c *LocalCollector) load(_ context.Context, fs procfs.FS, tw *TextWriter) error {
	la, err := fs.LoadAvg()
	if err != nil {
		return err
	}
	for _, m := range []struct {
		n string
		v float64
	}{{"1", la.Load1}, {"5", la.Load5}, {"15", la.Load15}} {
		tw.Header("node_load"+m.n, "gauge", m.n+"m load average.")
		tw.Sample("node_load"+m.n, m.v)
	}
	return nil
}

type mount struct{ device, mountpoint, fstype, options string }

// mounts reads /proc/1/mounts (the host's view, as node_exporter does),
// else /proc/self/mounts.
func (c *LocalCollector) mounts() ([]mount, error) {
	f, err := os.Open(c.ProcPath + "/1/mounts")
	if err != nil {
		if f, err = os.Open(c.ProcPath + "/self/mounts"); err != nil {
			return nil, err
		}
	}
	defer f.Close()
	var out []mount
	sc := bufio.NewScanner(f)
	unescape := strings.NewReplacer(`\040`, " ", `\011`, "\t")
	for sc.Scan() {
		p := strings.Fields(sc.Text())
		if len(p) < 4 {
			continue
		}
		out = append(out, mount{device: p[0], mountpoint: unescape.Replace(p[1]), fstype: p[2], options: p[3]})
	}
	return out, sc.Err()
}

func (c *LocalCollector) filesystems(ctx context.Context, _ procfs.FS, tw *TextWriter) error {
	ms, err := c.mounts()
	if err != nil {
		return err
	}
	type fsStat struct {
		m                 mount
		size, free, avail float64
		ro                float64
	}
	seen := map[mount]bool{}
	var stats []fsStat
	for _, m := range ms {
		if LocalMountPointsExclude.MatchString(m.mountpoint) || LocalFSTypesExclude.MatchString(m.fstype) {
			continue
		}
		key := mount{device: m.device, mountpoint: m.mountpoint, fstype: m.fstype}
		if seen[key] {
			continue
		}
		seen[key] = true
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s, ok := c.statfs(ctx, m.mountpoint)
		if !ok {
			continue
		}
		ro := 0.0
		for _, o := range strings.Split(m.options, ",") {
			if o == "ro" {
				ro = 1
			}
		}
		bs := float64(s.Bsize)
		stats = append(stats, fsStat{m: key, size: float64(s.Blocks) * bs, free: float64(s.Bfree) * bs, avail: float64(s.Bavail) * bs, ro: ro})
	}
	for _, f := range []struct {
		name, help string
		v          func(fsStat) float64
	}{
		{"node_filesystem_size_bytes", "Filesystem size in bytes.", func(s fsStat) float64 { return s.size }},
		{"node_filesystem_free_bytes", "Filesystem free space in bytes.", func(s fsStat) float64 { return s.free }},
		{"node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.", func(s fsStat) float64 { return s.avail }},
		{"node_filesystem_readonly", "Filesystem read-only status.", func(s fsStat) float64 { return s.ro }},
	} {
		tw.Header(f.name, "gauge", f.help)
		for _, s := range stats {
			tw.Sample(f.name, f.v(s), "device", s.m.device, "fstype", s.m.fstype, "mountpoint", s.m.mountpoint)
		}
	}
	return nil
}

func (c *LocalCollector) network(_ context.Context, fs procfs.FS, tw *TextWriter) error {
	nd, err := fs.NetDev()
	if err != nil {
		return err
	}
	devs := make([]string, 0, len(nd))
	for d := range nd {
		devs = append(devs, d)
	}
	sort.Strings(devs)
	for _, f := range []struct {
		name string
		v    func(procfs.NetDevLine) uint64
	}{
		{"receive_bytes", func(l procfs.NetDevLine) uint64 { return l.RxBytes }},
		{"receive_packets", func(l procfs.NetDevLine) uint64 { return l.RxPackets }},
		{"receive_errs", func(l procfs.NetDevLine) uint64 { return l.RxErrors }},
		{"receive_drop", func(l procfs.NetDevLine) uint64 { return l.RxDropped }},
		{"transmit_bytes", func(l procfs.NetDevLine) uint64 { return l.TxBytes }},
		{"transmit_packets", func(l procfs.NetDevLine) uint64 { return l.TxPackets }},
		{"transmit_errs", func(l procfs.NetDevLine) uint64 { return l.TxErrors }},
		{"transmit_drop", func(l procfs.NetDevLine) uint64 { return l.TxDropped }},
	} {
		name := "node_network_" + f.name + "_total"
		tw.Header(name, "counter", "Network device statistic "+f.name+".")
		for _, d := range devs {
			tw.Sample(name, float64(f.v(nd[d])), "device", d)
		}
	}
	return nil
}

func (c *LocalCollector) disks(_ context.Context, _ procfs.FS, tw *TextWriter) error {
	bfs, err := blockdevice.NewFS(c.ProcPath, c.SysPath)
	if err != nil {
		return err
	}
	ds, err := bfs.ProcDiskstats()
	if err != nil {
		return err
	}
	var keep []blockdevice.Diskstats
	for _, d := range ds {
		if !LocalDiskExclude.MatchString(d.DeviceName) {
			keep = append(keep, d)
		}
	}
	const sector = 512
	for _, f := range []struct {
		name, help string
		v          func(blockdevice.Diskstats) float64
	}{
		{"node_disk_read_bytes_total", "The total number of bytes read successfully.", func(d blockdevice.Diskstats) float64 { return float64(d.ReadSectors) * sector }},
		{"node_disk_written_bytes_total", "The total number of bytes written successfully.", func(d blockdevice.Diskstats) float64 { return float64(d.WriteSectors) * sector }},
		{"node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", func(d blockdevice.Diskstats) float64 { return float64(d.IOsTotalTicks) / 1000 }},
		{"node_disk_reads_completed_total", "The total number of reads completed successfully.", func(d blockdevice.Diskstats) float64 { return float64(d.ReadIOs) }},
		{"node_disk_writes_completed_total", "The total number of writes completed successfully.", func(d blockdevice.Diskstats) float64 { return float64(d.WriteIOs) }},
	} {
		tw.Header(f.name, "counter", f.help)
		for _, d := range keep {
			tw.Sample(f.name, f.v(d), "device", d.DeviceName)
		}
	}
	return nil
}

func (c *LocalCollector) uname(_ context.Context, _ procfs.FS, tw *TextWriter) error {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return err
	}
	s := func(b []byte) string {
		if i := strings.IndexByte(string(b), 0); i >= 0 {
			return string(b[:i])
		}
		return string(b)
	}
	tw.Header("node_uname_info", "gauge", "Labeled system information as provided by the uname system call.")
	tw.Sample("node_uname_info", 1, "domainname", s(u.Domainname[:]), "machine", s(u.Machine[:]), "nodename", s(u.Nodename[:]),
		"release", s(u.Release[:]), "sysname", s(u.Sysname[:]), "version", s(u.Version[:]))
	return nil
}
