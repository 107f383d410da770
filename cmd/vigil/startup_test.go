package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/vigilterm/vigil/scrape/peertest"
	"github.com/vigilterm/vigil/store"
)

// startupHosts, startupPerHost and startupSamples size the snapshot startup
// is measured with, as issue #6 asks: 100,000 series (100 node_exporters of
// 1,000 series each) with an hour of history at 5 s, 720 samples a series,
// as the store's BenchmarkSnapshot holds.
const (
	startupHosts   = 100
	startupPerHost = 1000
	startupSeries  = startupHosts * startupPerHost
	startupSamples = 720
	startupStep    = 5000 // ms
)

var (
	startupOnce sync.Once
	startupSnap []byte
	startupErr  error
)

// startupSnapshot returns the bytes of a snapshot of startupSeries series
// whose newest samples are now, made once per test binary through the
// store's own API (a scrape's worth of samples per Commit, as a scrape loop
// writes them).
func startupSnapshot(b *testing.B) []byte {
	b.Helper()
	startupOnce.Do(func() {
		startupSnap, startupErr = makeStartupSnapshot()
	})
	require.NoError(b, startupErr)
	return startupSnap
}

func makeStartupSnapshot() ([]byte, error) {
	dir, err := os.MkdirTemp("", "vigil-startup")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(dir, store.Options{Retention: time.Hour, SnapshotInterval: -1})
	if err != nil {
		return nil, err
	}
	series := nodeLikeFleet(startupHosts, startupPerHost)
	refs := make([]storage.SeriesRef, len(series))
	end := time.Now().UnixMilli()
	for k := range startupSamples {
		t := end - int64(startupSamples-1-k)*startupStep
		for lo := 0; lo < len(series); lo += startupPerHost {
			app := db.Appender()
			for i := lo; i < lo+startupPerHost; i++ {
				if refs[i], err = app.Append(refs[i], series[i].lset, t, series[i].next()); err != nil {
					return nil, err
				}
			}
			if err := app.Commit(); err != nil {
				return nil, err
			}
		}
	}
	if err := db.Close(); err != nil { // writes the snapshot
		return nil, err
	}
	return os.ReadFile(filepath.Join(dir, store.SnapshotFileName))
}

// fixtureSeries is one series of the startup fixture and the generator of
// its values.
type fixtureSeries struct {
	lset labels.Labels
	next func() float64
}

// nodeLikeFleet returns hosts × perHost series with node_exporter's names
// and label sets (CPU × mode, devices, mount points, memory fields, Go
// runtime, then netstat/vmstat fields to fill up) and values that behave
// like theirs: counters that grow by uneven steps (CPU seconds in
// hundredths, bytes and packets in integers), counters that rarely move,
// gauges that wander, and constants, so the chunks compress about as real
// ones do (1.7 bytes a sample; a snapshot of 126 MiB), not as ramps.
func nodeLikeFleet(hosts, perHost int) []fixtureSeries {
	var out []fixtureSeries
	for h := range hosts {
		inst := fmt.Sprintf("host-%03d.example.com:9100", h)
		rng := rand.New(rand.NewPCG(uint64(h), 6))
		var n int
		add := func(kind byte, name string, kv ...string) {
			if n >= perHost {
				return
			}
			n++
			lset := labels.FromStrings(append([]string{"__name__", name, "instance", inst, "job", "node"}, kv...)...)
			r := rand.New(rand.NewPCG(rng.Uint64(), 0))
			v, scale := 0.0, math.Pow(10, float64(r.IntN(7)))
			var next func() float64
			switch kind {
			case 'c': // counter in hundredths: CPU seconds
				v = math.Round(r.Float64()*1e6) / 100
				rate := r.Float64()
				next = func() float64 { v += math.Round(rate*r.Float64()*500) / 100; return v }
			case 'i': // integer counter: bytes, packets, operations
				v = math.Round(r.Float64() * scale * 1e4)
				next = func() float64 { v += math.Round(r.ExpFloat64() * scale); return v }
			case 'r': // integer counter that rarely moves: errors, drops
				v = math.Round(r.Float64() * 100)
				next = func() float64 {
					if r.IntN(50) == 0 {
						v++
					}
					return v
				}
			case 'g': // gauge that wanders in pages: memory, free bytes
				v = math.Round(r.Float64()*scale*100) * 4096
				next = func() float64 { v = math.Abs(v + math.Round(r.NormFloat64()*scale)*4096); return v }
			case 'l': // gauge in hundredths: load averages, GC pauses
				v = r.Float64() * 4
				next = func() float64 { v = math.Abs(v + r.NormFloat64()*0.1); return math.Round(v*100) / 100 }
			default: // constant: sizes, flags, info
				v = math.Round(r.Float64() * scale)
				next = func() float64 { return v }
			}
			out = append(out, fixtureSeries{lset, next})
		}
		modes := []string{"idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"}
		for cpu := range 8 {
			for _, m := range modes {
				add('c', "node_cpu_seconds_total", "cpu", strconv.Itoa(cpu), "mode", m)
			}
			add('k', "node_cpu_guest_seconds_total", "cpu", strconv.Itoa(cpu), "mode", "nice")
			add('k', "node_cpu_guest_seconds_total", "cpu", strconv.Itoa(cpu), "mode", "user")
		}
		for _, dev := range []string{"docker0", "eth0", "eth1", "lo"} {
			for _, dir := range []string{"receive", "transmit"} {
				for _, f := range []string{"bytes", "packets"} {
					add('i', "node_network_"+dir+"_"+f+"_total", "device", dev)
				}
				for _, f := range []string{"errs", "drop", "fifo", "compressed"} {
					add('r', "node_network_"+dir+"_"+f+"_total", "device", dev)
				}
			}
			add('k', "node_network_up", "device", dev)
			add('k', "node_network_mtu_bytes", "device", dev)
		}
		for _, dev := range []string{"dm-0", "nvme0n1", "sda", "sdb"} {
			for _, f := range []string{"reads_completed", "reads_merged", "read_bytes", "read_time_seconds",
				"writes_completed", "writes_merged", "written_bytes", "write_time_seconds", "io_time_seconds", "io_time_weighted_seconds"} {
				add('i', "node_disk_"+f+"_total", "device", dev)
			}
			add('r', "node_disk_io_now", "device", dev)
		}
		for i, mp := range []string{"/", "/boot", "/home", "/var", "/var/lib/docker", "/run", "/tmp", "/srv"} {
			dev, fs := fmt.Sprintf("/dev/sda%d", i+1), "ext4"
			if mp == "/run" || mp == "/tmp" {
				dev, fs = "tmpfs", "tmpfs"
			}
			for _, f := range []string{"avail_bytes", "free_bytes", "files_free"} {
				add('g', "node_filesystem_"+f, "device", dev, "fstype", fs, "mountpoint", mp)
			}
			for _, f := range []string{"size_bytes", "files", "readonly", "device_error"} {
				add('k', "node_filesystem_"+f, "device", dev, "fstype", fs, "mountpoint", mp)
			}
		}
		for i := range 50 {
			add('g', fmt.Sprintf("node_memory_field%02d_bytes", i))
		}
		for _, l := range []string{"node_load1", "node_load5", "node_load15"} {
			add('l', l)
		}
		for _, q := range []string{"0", "0.25", "0.5", "0.75", "1"} {
			add('l', "go_gc_duration_seconds", "quantile", q)
		}
		for i := 0; n < perHost; i++ {
			switch i % 5 {
			case 0, 1:
				add('r', fmt.Sprintf("node_netstat_field%03d", i))
			case 2:
				add('i', fmt.Sprintf("node_vmstat_field%03d", i))
			case 3:
				add('g', fmt.Sprintf("node_vmstat_field%03d", i))
			default:
				add('k', fmt.Sprintf("node_schedstat_field%03d", i))
			}
		}
	}
	return out
}

// freshDataDir returns a data dir holding only the startup snapshot.
func freshDataDir(b *testing.B, snap []byte) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "data")
	require.NoError(b, os.Mkdir(dir, 0o700))
	require.NoError(b, os.WriteFile(filepath.Join(dir, store.SnapshotFileName), snap, 0o600))
	return dir
}

// BenchmarkStartupHeadless is the time from exec to restored-and-scraping
// in --headless mode with the 100,000-series snapshot, against a real
// prometheus-node-exporter on loopback (its first scrape makes ~1,000 new
// series, as a restart's does when a target comes back):
//
//   - s-to-running: to the log line that says vigil runs (the snapshot
//     restored, every loop started);
//   - s-to-scraping: to the "restored and scraping" line, logged once the
//     first scrape of the target is committed to the store;
//   - s-restore: the restore (store.Open) inside that, as vigil logs it
//     ("snapshot restored … took=").
//
// The scrape interval is 100 ms: a target's first scrape waits for its slot
// in the interval (fixed by a hash, the same across restarts, as in
// Prometheus), so at the default 5 s the first scrape comes 0–5 s after
// vigil runs, by design, and that wait would drown the start itself. Each
// iteration runs on a fresh copy of the data dir (the copy is not timed),
// so vigil's final snapshot on SIGTERM never changes what the next one
// restores.
func BenchmarkStartupHeadless(b *testing.B) {
	snap := startupSnapshot(b)
	ne := peertest.NodeExporter(b)
	var running, scraping, restore, cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := freshDataDir(b, snap)
		cmd := exec.Command(vigilBin, "--headless", "--events", "none", "--data-dir", dir,
			"--scrape-interval", "100ms", "--snapshot-interval", "1h", ne.Addr)
		if g := os.Getenv("STARTUP_GOGC"); g != "" { // to compare GC settings
			cmd.Env = append(os.Environ(), "GOGC="+g)
		}
		stderr, err := cmd.StderrPipe()
		require.NoError(b, err)
		lines := make(chan string, 16)
		b.StartTimer()
		start := time.Now()
		require.NoError(b, cmd.Start())
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		var log []string
	wait:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					b.Fatalf("vigil ended before it scraped:\n%s", strings.Join(log, "\n"))
				}
				log = append(log, l)
				switch {
				case strings.Contains(l, "snapshot restored"):
					restore += logDuration(b, l, "took")
				case strings.Contains(l, "vigil running headless"):
					running += time.Since(start)
				case strings.Contains(l, "restored and scraping"):
					scraping += time.Since(start)
					cpu += cpuTime(b, cmd.Process.Pid)
					break wait
				}
			case <-time.After(30 * time.Second):
				b.Fatalf("not restored and scraping within 30 s:\n%s", strings.Join(log, "\n"))
			}
		}
		b.StopTimer()
		require.NoError(b, cmd.Process.Signal(syscall.SIGTERM))
		for range lines { // the pipe must be drained before Wait
		}
		require.NoError(b, cmd.Wait())
		require.NoError(b, os.RemoveAll(dir))
		b.StartTimer()
	}
	b.ReportMetric(running.Seconds()/float64(b.N), "s-to-running")
	b.ReportMetric(scraping.Seconds()/float64(b.N), "s-to-scraping")
	b.ReportMetric(restore.Seconds()/float64(b.N), "s-restore")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s-to-scraping")
	b.ReportMetric(float64(len(snap))/(1<<20), "snapshot-MiB")
}

// cpuTime is the user and system time process pid has used so far, which
// the other work on a shared machine inflates less than it does wall time.
// Linux only, in the kernel's clock ticks (USER_HZ, 100 a second).
func cpuTime(b *testing.B, pid int) time.Duration {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(b, err)
	// Fields after the command's closing parenthesis start at field 3;
	// utime and stime are fields 14 and 15.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	utime, err := strconv.ParseInt(f[14-3], 10, 64)
	require.NoError(b, err)
	stime, err := strconv.ParseInt(f[15-3], 10, 64)
	require.NoError(b, err)
	return time.Duration(utime+stime) * (time.Second / 100)
}

// logDuration returns the duration logged as key=… in a slog text line.
func logDuration(b *testing.B, line, key string) time.Duration {
	b.Helper()
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			d, err := time.ParseDuration(v)
			require.NoError(b, err, "%s", line)
			return d
		}
	}
	b.Fatalf("no %s= in %q", key, line)
	return 0
}

// BenchmarkStartupConsole is the time from exec to the console's first
// frame (its header on the screen), with the 100,000-series snapshot, on a
// pseudo-terminal of 80×24 that answers the colour queries a real terminal
// answers, monitoring the local host (the zero-setup main job). s-restore
// is the restore inside it, read from vigil.log afterwards. Each iteration
// runs on a fresh copy of the data dir, as for BenchmarkStartupHeadless.
func BenchmarkStartupConsole(b *testing.B) {
	snap := startupSnapshot(b)
	var frame, restore, cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := freshDataDir(b, snap)
		pty, tty := openPTY(b, 80, 24)
		cmd := exec.Command(vigilBin, "--data-dir", dir, "--snapshot-interval", "1h", "--events", "none")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
		cmd.Env = append(withoutEnv(os.Environ(), "CI"), "TERM=xterm-256color")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
		shown := make(chan struct{})
		b.StartTimer()
		start := time.Now()
		require.NoError(b, cmd.Start())
		go answerTerminal(pty, "targets ", shown)
		select {
		case <-shown:
			frame += time.Since(start)
			cpu += cpuTime(b, cmd.Process.Pid)
		case <-time.After(30 * time.Second):
			b.Fatal("no first frame within 30 s")
		}
		b.StopTimer()
		_, _ = pty.Write([]byte("q"))
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		tty.Close()
		pty.Close()
		log, err := os.ReadFile(filepath.Join(dir, "vigil.log"))
		require.NoError(b, err)
		line, ok := logLine(string(log), "snapshot restored")
		require.True(b, ok, "no restore in vigil.log:\n%s", log)
		restore += logDuration(b, line, "took")
		require.NoError(b, os.RemoveAll(dir))
		b.StartTimer()
	}
	b.ReportMetric(frame.Seconds()/float64(b.N), "s-to-first-frame")
	b.ReportMetric(restore.Seconds()/float64(b.N), "s-restore")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s-to-first-frame")
}

// logLine returns the first line of log that holds msg.
func logLine(log, msg string) (string, bool) {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, msg) {
			return l, true
		}
	}
	return "", false
}

// answerTerminal reads the program's output from the pty master as a
// terminal would: it answers the background-colour (OSC 11) and cursor
// position (CSI 6n) queries termenv sends, and closes frame when want
// appears on the screen.
func answerTerminal(pty *os.File, want string, frame chan struct{}) {
	var seen bytes.Buffer
	buf := make([]byte, 32<<10)
	signalled := false
	for {
		n, err := pty.Read(buf)
		if n > 0 {
			out := buf[:n]
			seen.Write(out)
			if bytes.Contains(out, []byte("\x1b]11;?")) {
				_, _ = pty.Write([]byte("\x1b]11;rgb:0000/0000/0000\x1b\\"))
			}
			if bytes.Contains(out, []byte("\x1b[6n")) {
				_, _ = pty.Write([]byte("\x1b[1;1R"))
			}
			if !signalled && bytes.Contains(seen.Bytes(), []byte(want)) {
				close(frame)
				signalled = true
			}
		}
		if err != nil {
			return
		}
	}
}

// openPTY opens a pseudo-terminal of w×h: the master for the test, the
// slave for vigil.
func openPTY(b *testing.B, w, h int) (pty, tty *os.File) {
	b.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	require.NoError(b, err)
	pty = os.NewFile(uintptr(fd), "/dev/ptmx")
	require.NoError(b, unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	require.NoError(b, err)
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(b, err)
	require.NoError(b, unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(h), Col: uint16(w)}))
	return pty, tty
}

func withoutEnv(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// BenchmarkStartupRestore opens the store on the same 100,000-series
// snapshot in process, in a heap that earlier iterations (and the
// snapshot's making) already grew: the restore's own work, without what a
// new process pays to touch its memory for the first time. That difference
// is most of a start: compare its s-to-restore with the s-restore that
// BenchmarkStartupHeadless reads from vigil's log.
func BenchmarkStartupRestore(b *testing.B) {
	snap := startupSnapshot(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := freshDataDir(b, snap)
		b.StartTimer()
		db, err := store.Open(dir, store.Options{Retention: time.Hour, SnapshotInterval: time.Hour})
		require.NoError(b, err)
		b.StopTimer()
		require.EqualValues(b, startupSeries, db.Stats().Series)
		require.NoError(b, db.Close())
		require.NoError(b, os.RemoveAll(dir))
		b.StartTimer()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s-to-restore")
}
