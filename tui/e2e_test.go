package tui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/store"
	"github.com/vigilterm/vigil/tui/internal/fakenode"
)

// e2eEnv makes the test binary run the console on fake data instead of
// the tests: TestTmux starts it that way inside tmux. By hand:
//
//	go test -c -o /tmp/tui.test ./tui && VIGIL_TUI_E2E=1 /tmp/tui.test
const e2eEnv = "VIGIL_TUI_E2E"

// e2eMain runs the console on a real store holding fake node_exporter
// history, on the terminal.
func e2eMain() int {
	db := store.New(store.DefaultOptions())
	defer db.Close()
	now := time.Now()
	if err := fakenode.Write(db.Appender(), fakenode.DefaultHosts, now, 30*time.Minute, 15*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	targets := testTargets()
	for i := range targets {
		targets[i].LastScrape = now.Add(-time.Second)
	}
	alerts := testAlerts()
	opts := DefaultOptions() // made before Run, as cmd/vigil does
	opts.Querier = NewEngineQuerier(newTestEngine(), db)
	opts.Targets = TargetsFunc(func() []Target { return targets })
	opts.Alerts = AlertsFunc(func() []Alert { return alerts })
	opts.Rules = RulesFunc(testRules)
	in, out := os.Stdin, os.Stdout
	if os.Getenv(e2eEnv) == "tty" {
		// As vigil does when stdout carries events: the console on the
		// terminal itself.
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer tty.Close()
		in, out = tty, tty
	}
	if err := Run(context.Background(), opts, in, out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// tmux drives one tmux server of its own.
type tmux struct {
	t      *testing.T
	socket string
}

func (x *tmux) run(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", x.socket}, args...)...).CombinedOutput()
	return string(out), err
}

func (x *tmux) screen() string {
	out, _ := x.run("capture-pane", "-p", "-t", "tui")
	return out
}

// coloured is the screen with its colour escapes.
func (x *tmux) coloured() string {
	out, _ := x.run("capture-pane", "-p", "-e", "-t", "tui")
	return out
}

func (x *tmux) waitFor(want string) string {
	x.t.Helper()
	deadline := time.Now().Add(60 * time.Second) // a race build on a busy machine starts slowly
	for {
		s := x.screen()
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			x.t.Fatalf("screen never showed %q; it shows:\n%s", want, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (x *tmux) keys(keys ...string) {
	x.t.Helper()
	out, err := x.run(append([]string{"send-keys", "-t", "tui"}, keys...)...)
	require.NoError(x.t, err, out)
}

// startTmux starts the test binary as the console in a tmux of its own,
// at 80×24, through sh -c script (with $exe the binary).
func startTmux(t *testing.T, name, script string) *tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is not installed (apt-get install tmux); CI is set, so this is a failure")
		}
		t.Skip("tmux is not installed: apt-get install tmux")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	x := &tmux{t: t, socket: "vigil-tui-" + name + "-" + strconv.Itoa(os.Getpid())}
	t.Cleanup(func() { _, _ = x.run("kill-server") })
	out, err := x.run("new-session", "-d", "-s", "tui", "-x", "80", "-y", "24",
		// The operator's terminal: the test runner's CI variable would
		// tell termenv there is no terminal at all.
		"env", "-u", "CI", "exe="+exe, "TERM=xterm-256color", "sh", "-c", script)
	require.NoError(t, err, out)
	return x
}

// TestTmuxEventsOnStdout runs the console on /dev/tty with stdout a pipe,
// as vigil does when events go to stdout: it must still be in colour.
func TestTmuxEventsOnStdout(t *testing.T) {
	x := startTmux(t, "tty", e2eEnv+`=tty "$exe" | cat >/dev/null`)
	x.waitFor("web1:9100")
	// The brand is cyan (tmux may write it as 36m or 1;36m).
	require.Regexp(t, `\x1b\[[0-9;]*36m`, x.coloured(), "the screen is in colour")
	x.keys("q")
}

// TestTmux runs the console in a real terminal (tmux at 80×24), drives it
// with keys and reads the screen back.
func TestTmux(t *testing.T) {
	x := startTmux(t, "keys", e2eEnv+`=1 "$exe"`)

	// The Overview lists every target at once and draws the host cards
	// when their queries are in: wait for a card.
	x.waitFor("web1:9100")
	s := x.waitFor("CPU")
	require.Contains(t, s, "targets 2/4 up")
	require.Contains(t, s, "1 firing 1 pending")
	require.Contains(t, s, "CPU")

	x.keys("2")
	x.waitFor("SAMPLES")
	x.keys("3")
	x.waitFor("HostHighLoad")
	x.keys("4")
	x.waitFor("node_cpu_seconds_total")
	x.keys("/", "load", "Enter", "Enter")
	x.waitFor("3 series")
	x.keys("Enter")
	x.waitFor("avg")
	x.keys("5")
	x.keys("-l", "node_load1")
	x.keys("Enter")
	s = x.waitFor("3 results")
	require.Contains(t, s, `instance="db1:9100"`)
	x.keys("Escape", "?")
	x.waitFor("Everywhere")
	x.keys("Escape", "q")

	// The session ends with the program.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := x.run("has-session", "-t", "tui"); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("q did not quit; the screen shows:\n%s", x.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
