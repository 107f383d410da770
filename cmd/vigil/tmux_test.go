package main

import (
	"bufio"
	"encoding/json"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape/peertest"
)

// tmuxSession runs a shell command in a detached 80×24 tmux session on its
// own server socket, as an operator's terminal.
type tmuxSession struct {
	t      *testing.T
	socket string
}

func newTmux(t *testing.T, command string) *tmuxSession {
	t.Helper()
	peertest.Need(t, "tmux", "tmux")
	s := &tmuxSession{t: t, socket: filepath.Join(t.TempDir(), "tmux.sock")}
	// An operator's terminal: without the test runner's CI variable, which
	// tells termenv (and so the console) there is no terminal.
	s.run("new-session", "-d", "-s", "vigil", "-x", "80", "-y", "24", "env -u CI TERM=xterm-256color sh -c '"+strings.ReplaceAll(command, "'", `'\''`)+"'")
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", s.socket, "kill-server").Run() })
	return s
}

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.socket}, args...)...).CombinedOutput()
	require.NoError(s.t, err, "tmux %v: %s", args, out)
	return string(out)
}

func (s *tmuxSession) screen() string { return s.run("capture-pane", "-p", "-t", "vigil") }

// waitFor waits until the screen holds every want, and returns it.
func (s *tmuxSession) waitFor(want ...string) string {
	s.t.Helper()
	var scr string
	deadline := time.Now().Add(60 * time.Second) // a loaded CI machine
	for time.Now().Before(deadline) {
		scr = s.screen()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(scr, w)
		}
		if ok {
			return scr
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.t.Fatalf("screen never showed %q; last screen:\n%s", want, scr)
	return ""
}

func TestConsoleInTmux(t *testing.T) {
	ne := peertest.NodeExporter(t)
	dataDir := t.TempDir()
	exitFile := filepath.Join(t.TempDir(), "exit")
	s := newTmux(t, vigilBin+" --data-dir "+dataDir+" --scrape-interval 1s "+ne.Addr+"; echo $? > "+exitFile+"; sleep 60")

	scr := s.waitFor("targets 2/2 up", "Overview")
	lines := strings.Split(strings.TrimRight(scr, "\n"), "\n")
	require.LessOrEqual(t, len(lines), 24)
	for _, l := range lines {
		require.LessOrEqual(t, len([]rune(l)), 80, "line wider than the terminal: %q", l)
	}

	s.run("send-keys", "-t", "vigil", "2")
	s.waitFor("node", ne.Addr, "up")
	s.run("send-keys", "-t", "vigil", "3")
	s.waitFor("Alerts")
	s.run("send-keys", "-t", "vigil", "?")
	s.waitFor("quit")
	s.run("send-keys", "-t", "vigil", "q")

	require.Eventually(t, func() bool {
		b, err := os.ReadFile(exitFile)
		return err == nil && strings.TrimSpace(string(b)) == "0"
	}, 20*time.Second, 100*time.Millisecond, "vigil did not exit 0 on q; screen:\n%s", s.screen())
	_, err := os.Stat(filepath.Join(dataDir, "vigil.snapshot"))
	require.NoError(t, err, "no final snapshot after q")
}

// TestConsoleWithPipedStdout: `vigil | cat > file` draws the console on the
// terminal (/dev/tty) while stdout carries only JSON lines.
func TestConsoleWithPipedStdout(t *testing.T) {
	ne := peertest.NodeExporter(t)
	dir := t.TempDir()
	events := filepath.Join(dir, "events.jsonl")
	dataDir := filepath.Join(dir, "data")
	// vigil's exit status goes to the terminal, so a vigil that ends early
	// shows why on the screen the test prints.
	s := newTmux(t, "{ "+vigilBin+" --data-dir "+dataDir+" --scrape-interval 1s --eval-interval 1s -a 'NodeUp: up == 1' "+ne.Addr+"; echo \"vigil exited: $?\" >&2; } | cat > "+events+"; sleep 60")
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dataDir, "vigil.log"))
			t.Logf("vigil.log:\n%s", log)
		}
	})

	s.waitFor("targets 2/2 up", "firing")
	// Drawn on /dev/tty with stdout a pipe and stderr on the terminal, the
	// console is still in colour (the brand is cyan).
	require.Regexp(t, `\x1b\[[0-9;]*36m`, s.run("capture-pane", "-e", "-p", "-t", "vigil"))
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(events)
		return len(b) > 0
	}, 20*time.Second, 100*time.Millisecond)

	// S on the first alert silences it for 15 minutes: the console shows
	// it, and the next evaluation writes a line on stdout that says so.
	silencedAt := time.Now()
	s.run("send-keys", "-t", "vigil", "3")
	s.waitFor("NodeUp")
	s.run("send-keys", "-t", "vigil", "S")
	s.waitFor("silenced")
	readEvents := func() []event {
		b, err := os.ReadFile(events)
		require.NoError(t, err)
		var evs []event
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			var ev event
			require.NoError(t, json.Unmarshal([]byte(line), &ev), "stdout holds a line that is not an event: %q", line)
			require.Contains(t, []string{"pending", "firing", "resolved"}, ev.State)
			evs = append(evs, ev)
		}
		return evs
	}
	var muted *event
	require.Eventually(t, func() bool {
		for _, ev := range readEvents() {
			if ev.Silenced {
				muted = &ev
				return true
			}
		}
		return false
	}, 20*time.Second, 100*time.Millisecond, "no silenced event on stdout; screen:\n%s", s.screen())
	require.Equal(t, "firing", muted.State, "the silence is news in the alert's unchanged state")
	require.Equal(t, "NodeUp", muted.Labels["alertname"])
	require.NotNil(t, muted.SilencedUntil)
	require.WithinDuration(t, silencedAt.Add(15*time.Minute), *muted.SilencedUntil, 10*time.Second)

	s.run("send-keys", "-t", "vigil", "q")
	s.waitFor("vigil exited: 0")
	require.NotEmpty(t, readEvents())

	// The silence is kept in the data directory: the next vigil on it
	// starts with the alert silenced, from the alert's first event.
	_, stdout, stderr := headless(t, "--data-dir", dataDir, "--scrape-interval", "1s", "--eval-interval", "1s",
		"-a", "NodeUp: up == 1", ne.Addr)
	ev := firstEvent(t, stdout, stderr, func(ev event) bool { return maps.Equal(ev.Labels, muted.Labels) })
	require.True(t, ev.Silenced, "the silence did not survive the restart; stderr:\n%s", stderr.String())
	require.NotNil(t, ev.SilencedUntil)
	require.True(t, muted.SilencedUntil.Equal(*ev.SilencedUntil), "silenced until %v, then %v", *muted.SilencedUntil, *ev.SilencedUntil)
}

// TestConsoleExitsOnHangup: when the terminal goes away (ssh dropped, tmux
// killed) the console ends with a final snapshot and releases the data
// dir, instead of living on as an orphan that takes SIGHUP for a reload.
func TestConsoleExitsOnHangup(t *testing.T) {
	dataDir := t.TempDir()
	s := newTmux(t, vigilBin+" --data-dir "+dataDir+" --scrape-interval 1s")
	s.waitFor("targets")
	b, err := os.ReadFile(filepath.Join(dataDir, "LOCK"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err, "LOCK holds %q", b)

	s.run("kill-server") // the terminal hangs up
	require.Eventually(t, func() bool { return syscall.Kill(pid, 0) != nil }, 20*time.Second, 50*time.Millisecond,
		"vigil (pid %d) still runs after its terminal hung up", pid)
	_, err = os.Stat(filepath.Join(dataDir, "vigil.snapshot"))
	require.NoError(t, err, "no final snapshot after the hangup")
}

// TestConsoleColourFlags: --color never and NO_COLOR draw without a colour
// sequence, --color always and the default draw in colour, and --ascii
// draws charts without braille.
func TestConsoleColourFlags(t *testing.T) {
	ne := peertest.NodeExporter(t)
	// A colour: 30-38, 40-48, 90-97, 100-107 as an SGR parameter. Not 39
	// and 49 (default colours): tmux's capture adds those after any
	// attribute, such as the reverse video that shows the selection
	// without colour.
	colour := regexp.MustCompile(`\x1b\[([0-9;]*;)?(3[0-8]|4[0-8]|9[0-7]|10[0-7])[;m]`)
	for _, tc := range []struct {
		name, env, flags string
		coloured         bool
	}{
		{"default", "", "", true},
		{"never", "", "--color never", false},
		{"NO_COLOR", "NO_COLOR=1", "", false},
		{"always beats NO_COLOR", "NO_COLOR=1", "--color always", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTmux(t, "env "+tc.env+" "+vigilBin+" --data-dir '' --scrape-interval 1s "+tc.flags+" "+ne.Addr+"; sleep 60")
			s.waitFor("targets 2/2 up")
			require.Equal(t, tc.coloured, colour.MatchString(s.run("capture-pane", "-e", "-p", "-t", "vigil")))
		})
	}
	t.Run("ascii", func(t *testing.T) {
		s := newTmux(t, vigilBin+" --data-dir '' --scrape-interval 1s --ascii "+ne.Addr+"; sleep 60")
		s.waitFor("targets 2/2 up")
		s.run("send-keys", "-t", "vigil", "4", "/", "node_load1")
		s.waitFor("node_load1")
		s.run("send-keys", "-t", "vigil", "Enter") // the filter
		time.Sleep(500 * time.Millisecond)
		s.run("send-keys", "-t", "vigil", "Enter") // the metric's series
		time.Sleep(500 * time.Millisecond)
		s.run("send-keys", "-t", "vigil", "c") // all of them in one chart
		// A line drawn with line-drawing runes: a turn up or down, since
		// a load that only falls during the test draws no ╯.
		var scr string
		require.Eventually(t, func() bool {
			scr = s.screen()
			return strings.ContainsAny(scr, "╭╮╯╰")
		}, 60*time.Second, 200*time.Millisecond, "no line drawn with --ascii")
		for _, r := range scr {
			require.False(t, r >= 0x2800 && r <= 0x28ff, "a braille rune %q with --ascii:\n%s", r, scr)
		}
	})
}

// TestConsoleExploreDeclaredTypes: Explore charts a family by the type its
// target declares. node_exporter's textfile collector serves what a cron
// job might write: a counter without _total and a gauge with it.
func TestConsoleExploreDeclaredTypes(t *testing.T) {
	dir := t.TempDir()
	prom := filepath.Join(dir, "backup.prom")
	write := func(runs int) {
		body := "# HELP backup_runs Backups run.\n# TYPE backup_runs counter\nbackup_runs " + strconv.Itoa(runs) + "\n" +
			"# HELP queue_items_total Items waiting.\n# TYPE queue_items_total gauge\nqueue_items_total 7\n"
		require.NoError(t, os.WriteFile(prom+".tmp", []byte(body), 0o644))
		require.NoError(t, os.Rename(prom+".tmp", prom))
	}
	write(42)
	ne := peertest.NodeExporter(t, "--collector.textfile.directory="+dir)
	s := newTmux(t, vigilBin+" --data-dir '' --scrape-interval 1s "+ne.Addr+"; sleep 60")
	s.waitFor("targets 2/2 up")
	for i := 1; i <= 5; i++ { // a counter that moves
		write(42 + 10*i)
		time.Sleep(time.Second)
	}

	s.run("send-keys", "-t", "vigil", "4", "/", "backup_runs")
	s.waitFor("backup_runs")
	s.run("send-keys", "-t", "vigil", "Enter") // the filter
	time.Sleep(500 * time.Millisecond)
	s.run("send-keys", "-t", "vigil", "Enter") // the metric's series
	s.waitFor(`backup_runs 1`)
	s.run("send-keys", "-t", "vigil", "Enter") // its chart
	scr := s.waitFor(`rate backup_runs{instance="`+ne.Addr+`", job="node"}`, "· r raw", "last ")
	require.Regexp(t, `last [0-9.]+/s`, scr, "a declared counter is charted per second")

	s.run("send-keys", "-t", "vigil", "Escape")
	time.Sleep(500 * time.Millisecond)
	s.run("send-keys", "-t", "vigil", "Escape")
	time.Sleep(500 * time.Millisecond)
	s.run("send-keys", "-t", "vigil", "/", "C-u", "queue_items_total")
	s.waitFor("queue_items_total")
	s.run("send-keys", "-t", "vigil", "Enter")
	time.Sleep(500 * time.Millisecond)
	s.run("send-keys", "-t", "vigil", "Enter")
	s.waitFor(`queue_items_total 1`)
	s.run("send-keys", "-t", "vigil", "Enter")
	scr = s.waitFor(`queue_items_total{instance="`+ne.Addr+`", job="node"} `, "last 7 ")
	require.NotContains(t, scr, "rate queue_items_total", "a declared gauge is charted as it is, whatever its name")
	require.NotContains(t, scr, "r raw")
}

// TestConsoleFleetInTmux: 100 fleet targets, the last 5 down, at 80×24.
// The down ones are on the first screen from the start, with their
// error, and after one key (s: by CPU) the busiest host is on the first
// line (cmd/fleet -steady: target 57).
func TestConsoleFleetInTmux(t *testing.T) {
	peertest.Need(t, "tmux", "tmux")
	dir := t.TempDir()
	fleet := filepath.Join(dir, "fleet")
	out, err := exec.Command("go", "build", "-o", fleet, "../fleet").CombinedOutput()
	require.NoError(t, err, "%s", out)
	sd := filepath.Join(dir, "fleet.json")
	var base int
	for attempt := 0; ; attempt++ {
		base = 20000 + int(time.Now().UnixNano()%10000)
		cmd := exec.Command(fleet, "-targets", "100", "-down", "5", "-steady", "-series", "300",
			"-listen", "127.0.0.1:"+strconv.Itoa(base), "-sd-file", sd, "-body", "../../testdata/fleet/node_exporter.prom.txt")
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if line == "fleet: ready 100 targets\n" {
			t.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
			break
		}
		_ = cmd.Wait()
		require.Less(t, attempt, 5, "fleet did not start")
	}
	cfg := filepath.Join(dir, "fleet.yml")
	require.NoError(t, os.WriteFile(cfg, []byte("scrape_configs:\n  - job_name: fleet\n    file_sd_configs: [{files: ["+sd+"]}]\n"), 0o644))
	addr := func(i int) string { return "127.0.0.1:" + strconv.Itoa(base+i) }

	s := newTmux(t, vigilBin+" --data-dir '' -c "+cfg+"; sleep 60")
	scr := s.waitFor("5 down", "HOST")
	for i := 95; i < 100; i++ {
		require.Regexp(t, `✖ down `+regexp.QuoteMeta(addr(i))+` +fleet +connect: connection refused`, scr, "down target %d", i)
	}
	s.run("send-keys", "-t", "vigil", "s")
	s.waitFor("by cpu")
	// Until the CPU figures are in (two scrapes), the order waits on them.
	var first string
	require.Eventually(t, func() bool {
		lines := strings.Split(s.screen(), "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, "  HOST") && i+1 < len(lines) {
				first = lines[i+1]
				return strings.Contains(first, addr(57)+" ")
			}
		}
		return false
	}, 60*time.Second, 500*time.Millisecond, "the busiest host is not first; last screen:\n%s", s.screen())
	require.Regexp(t, `9[34]\.[0-9]%`, first, "target 57 keeps its CPUs 94.1%% busy")
}

// startFleet builds cmd/fleet and serves n of its targets on loopback
// with more flags, until the test ends; it returns their addresses.
func startFleet(t *testing.T, n int, flags ...string) []string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fleet")
	out, err := exec.Command("go", "build", "-o", bin, "../fleet").CombinedOutput()
	require.NoError(t, err, "build fleet: %s", out)
	for attempt := 0; ; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port+n > 65535 {
			continue
		}
		cmd := exec.Command(bin, append([]string{"-targets", strconv.Itoa(n), "-series", "300", "-listen", "127.0.0.1:" + strconv.Itoa(port)}, flags...)...)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			_ = cmd.Wait()
			if strings.Contains(stderr.String(), "address already in use") && attempt < 5 {
				continue
			}
			t.Fatalf("fleet never got ready: %v\n%s", err, stderr.String())
		}
		require.Equal(t, "fleet: ready "+strconv.Itoa(n)+" targets\n", line)
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		})
		addrs := make([]string, n)
		for i := range addrs {
			addrs[i] = "127.0.0.1:" + strconv.Itoa(port+i)
		}
		return addrs
	}
}

// TestConsoleAlertToQuery: an alert fires on the fleet; enter on it in
// the Alerts view shows its chart with the threshold and the firing
// period marked, and e opens the Query view with the rule's expression,
// run, the prompt still in hand. The fleet is steady: of ten targets the
// tenth is the busiest, at 61.7%, the next at 55.4% (cmd/fleet's
// steady.go), so the alert is the tenth's alone.
func TestConsoleAlertToQuery(t *testing.T) {
	peertest.Need(t, "tmux", "tmux")
	addrs := startFleet(t, 10, "-steady")
	const rule = `FleetCPUBusy: 100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[10s]))) > 58`
	s := newTmux(t, vigilBin+" --data-dir "+t.TempDir()+" --scrape-interval 1s --eval-interval 1s -a '"+rule+"' "+strings.Join(addrs, " ")+"; sleep 60")
	s.waitFor("targets 11/11 up", "1 firing")

	s.run("send-keys", "-t", "vigil", "3")
	scr := s.waitFor("FleetCPUBusy", addrs[9])
	require.Contains(t, scr, "firing")
	s.run("send-keys", "-t", "vigil", "Enter")
	scr = s.waitFor("fires at > 58%", "█ firing", "e query")
	require.Contains(t, scr, "firing FleetCPUBusy")
	require.Regexp(t, `(?m)^ *(alert)? ▒*█+ *$`, scr, "the firing period under the time axis")
	require.Contains(t, scr, "╌", "the threshold")
	lines := strings.Split(strings.TrimRight(scr, "\n"), "\n")
	require.LessOrEqual(t, len(lines), 24)

	s.run("send-keys", "-t", "vigil", "e")
	scr = s.waitFor("Query", `[10s]))) > 58`, "vector · 1 result") // the prompt shows the end, where the cursor is
	require.Contains(t, scr, addrs[9])
	require.Contains(t, scr, "61.7%", "its CPUs' steady share, in the chart's unit")
	require.Contains(t, scr, "ctrl+c quit", "the prompt has the keys")
	s.run("send-keys", "-t", "vigil", "q")
	time.Sleep(300 * time.Millisecond)
	require.Contains(t, s.screen(), "1 result", "q is typed, not obeyed")
	s.run("send-keys", "-t", "vigil", "C-c")
}
