package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/vigilterm/vigil/store"
)

// startupSeries and startupSamples size the snapshot startup is measured
// with: 100,000 node_exporter-like series with an hour at 5 s each, as
// issue #6 asks.
const (
	startupSeries  = 100_000
	startupSamples = 720
)

var (
	startupOnce sync.Once
	startupSnap []byte
	startupErr  error
)

// startupSnapshot returns the bytes of a snapshot of startupSeries series
// whose newest samples are now, made once per test binary.
func startupSnapshot(b *testing.B) []byte {
	b.Helper()
	startupOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vigil-startup")
		if err != nil {
			startupErr = err
			return
		}
		defer os.RemoveAll(dir)
		db, err := store.Open(dir, store.Options{Retention: time.Hour, SnapshotInterval: time.Hour})
		if err != nil {
			startupErr = err
			return
		}
		end := time.Now().UnixMilli()
		refs := make([]storage.SeriesRef, startupSeries)
		lsets := make([]labels.Labels, startupSeries)
		for i := range lsets {
			lsets[i] = labels.FromStrings("__name__", fmt.Sprintf("node_metric_%03d_total", i%500),
				"instance", fmt.Sprintf("host%03d.example.com:9100", i/1000), "job", "node",
				"device", fmt.Sprintf("dev%d", i%1000/500))
		}
		for k := range startupSamples {
			t := end - int64(startupSamples-1-k)*5000
			app := db.Appender()
			for i := range lsets {
				if refs[i], err = app.Append(refs[i], lsets[i], t, float64(k*(i%7))); err != nil {
					startupErr = err
					return
				}
			}
			if startupErr = app.Commit(); startupErr != nil {
				return
			}
		}
		if startupErr = db.Close(); startupErr != nil {
			return
		}
		startupSnap, startupErr = os.ReadFile(filepath.Join(dir, store.SnapshotFileName))
	})
	require.NoError(b, startupErr)
	return startupSnap
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
// in --headless mode with a 100,000-series snapshot: to the log line that
// says vigil runs (the snapshot restored, every loop started), and to the
// first request at the target (the first scrape waits for its slot, a
// hash offset within the interval, 100ms here).
func BenchmarkStartupHeadless(b *testing.B) {
	snap := startupSnapshot(b)
	scraped := make(chan struct{}, 1)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case scraped <- struct{}{}:
		default:
		}
		fmt.Fprintln(w, "up_metric 1")
	}))
	defer target.Close()

	var running, first time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := freshDataDir(b, snap)
		select {
		case <-scraped:
		default:
		}
		cmd := exec.Command(vigilBin, "--headless", "--events", "none", "--data-dir", dir,
			"--scrape-interval", "100ms", "--snapshot-interval", "1h", target.URL)
		if g := os.Getenv("STARTUP_GOGC"); g != "" { // to compare GC settings
			cmd.Env = append(os.Environ(), "GOGC="+g)
		}
		stderr, err := cmd.StderrPipe()
		require.NoError(b, err)
		b.StartTimer()
		start := time.Now()
		require.NoError(b, cmd.Start())
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "vigil running headless") {
				running += time.Since(start)
				break
			}
		}
		select {
		case <-scraped:
			first += time.Since(start)
		case <-time.After(30 * time.Second):
			b.Fatal("no scrape within 30 s")
		}
		b.StopTimer()
		go func() { _, _ = io.Copy(io.Discard, stderr) }()
		require.NoError(b, cmd.Process.Signal(syscall.SIGTERM))
		require.NoError(b, cmd.Wait())
		b.StartTimer()
	}
	b.ReportMetric(running.Seconds()/float64(b.N), "s-to-running")
	b.ReportMetric(first.Seconds()/float64(b.N), "s-to-first-scrape")
}

// BenchmarkStartupConsole is the time from exec to the console's first
// frame (its header on the screen), on a pseudo-terminal of 80×24 that
// answers the colour queries a real terminal answers, with a
// 100,000-series snapshot.
func BenchmarkStartupConsole(b *testing.B) {
	snap := startupSnapshot(b)
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := freshDataDir(b, snap)
		pty, tty := openPTY(b, 80, 24)
		cmd := exec.Command(vigilBin, "--data-dir", dir, "--snapshot-interval", "1h", "--events", "none")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
		cmd.Env = append(withoutEnv(os.Environ(), "CI"), "TERM=xterm-256color")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
		frame := make(chan struct{})
		b.StartTimer()
		start := time.Now()
		require.NoError(b, cmd.Start())
		go answerTerminal(pty, "targets ", frame)
		select {
		case <-frame:
			total += time.Since(start)
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
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s-to-first-frame")
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

// BenchmarkStartupRestore is the restore's share of a start: opening the
// store on the same 100,000-series snapshot, in process.
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
		require.NoError(b, os.Remove(filepath.Join(dir, store.SnapshotFileName))) // no final snapshot to wait for
		require.NoError(b, db.Close())
		b.StartTimer()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s-to-restore")
}
