package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/vigilterm/vigil/scrape/peertest"
)

// vigilBin is the vigil binary built once for the end-to-end tests, which
// run it as an operator would.
var vigilBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vigil-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	vigilBin = filepath.Join(dir, "vigil")
	if out, err := exec.Command("go", "build", "-o", vigilBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build vigil: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// event is the JSON line of DESIGN.md, "Alert events on stdout".
type event struct {
	Time        time.Time         `json:"time"`
	State       string            `json:"state"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Value       any               `json:"value"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      *time.Time        `json:"endsAt"`
	// Only when the alert is silenced locally (S in the console).
	Silenced      bool       `json:"silenced"`
	SilencedUntil *time.Time `json:"silencedUntil"`
}

// TestHeadlessAgainstNodeExporter runs the whole pipeline against a real
// node_exporter: a rule fires, its event is one JSON line on stdout, the
// reader going away ends vigil with status 0 after a final snapshot, and
// `vigil query` then reads that snapshot.
func TestHeadlessAgainstNodeExporter(t *testing.T) {
	ne := peertest.NodeExporter(t)
	dataDir := t.TempDir()

	cmd, stdout, stderr := headless(t, "--data-dir", dataDir,
		"--scrape-interval", "1s", "--eval-interval", "1s",
		"-a", "NodeUp: up{job=\"node\"} == 1", ne.Addr)
	ev := firstEvent(t, stdout, stderr, nil)
	require.Equal(t, "firing", ev.State)
	require.Equal(t, "NodeUp", ev.Labels["alertname"])
	require.Equal(t, ne.Addr, ev.Labels["instance"])
	require.Equal(t, "node", ev.Labels["job"])
	require.EqualValues(t, 1, ev.Value)
	require.Nil(t, ev.EndsAt, "endsAt is only on resolved events")

	// As in Prometheus, ALERTS is written from the cycles after the group
	// restored its for state; give it a few.
	time.Sleep(3 * time.Second)
	// The reader goes away: vigil snapshots and exits 0.
	require.NoError(t, stdout.Close())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "stderr:\n%s", stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("vigil still running 20s after its stdout reader left; stderr:\n%s", stderr.String())
	}
	require.Contains(t, stderr.String(), "reader of stdout went away")
	fi, err := os.Stat(filepath.Join(dataDir, "vigil.snapshot"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	out, err := exec.Command(vigilBin, "query", "--data-dir", dataDir, "--time", fmt.Sprint(time.Now().Unix()),
		`node_load1`).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), fmt.Sprintf(`node_load1{instance=%q, job="node"} => `, ne.Addr))

	out, err = exec.Command(vigilBin, "query", "--data-dir", dataDir, "--json", `ALERTS{alertname="NodeUp"}`).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), `"alertstate":"firing"`)
}

// headless starts vigil --headless with args; it is killed when the test
// ends.
func headless(t *testing.T, args ...string) (*exec.Cmd, io.ReadCloser, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(vigilBin, append([]string{"--headless"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, stdout, stderr
}

// firstEvent reads a vigil's stdout, a JSON event a line, up to the first
// event that match accepts (nil: any); the test fails when none comes
// within 30 s.
func firstEvent(t *testing.T, stdout io.Reader, stderr *syncBuffer, match func(event) bool) event {
	t.Helper()
	lines := bufio.NewScanner(stdout)
	got := make(chan event, 1)
	go func() {
		for lines.Scan() {
			var ev event
			if err := json.Unmarshal(lines.Bytes(), &ev); err != nil {
				t.Errorf("stdout line is not JSON: %q: %v", lines.Text(), err)
				return
			}
			if match == nil || match(ev) {
				got <- ev
				return
			}
		}
	}()
	select {
	case ev := <-got:
		return ev
	case <-time.After(30 * time.Second):
		t.Fatalf("no such event on stdout in 30s; stderr:\n%s", stderr.String())
		return event{}
	}
}

// TestDataDirLock: a second vigil on the same data dir exits 2 and names
// the pid of the first.
func TestDataDirLock(t *testing.T) {
	dataDir := t.TempDir()
	first := exec.Command(vigilBin, "--headless", "--events", "none", "--data-dir", dataDir)
	var firstErr syncBuffer
	first.Stderr = &firstErr
	require.NoError(t, first.Start())
	t.Cleanup(func() {
		_ = first.Process.Signal(syscall.SIGTERM)
		_ = first.Wait()
	})
	require.Eventually(t, func() bool { return strings.Contains(firstErr.String(), "running headless") }, 20*time.Second, 50*time.Millisecond)

	second := exec.Command(vigilBin, "--headless", "--events", "none", "--data-dir", dataDir)
	out, err := second.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, 2, exit.ExitCode())
	require.Contains(t, string(out), fmt.Sprintf("pid %d", first.Process.Pid))

	// SIGTERM ends the first cleanly, with a snapshot.
	require.NoError(t, first.Process.Signal(syscall.SIGTERM))
	require.NoError(t, first.Wait())
	_, err = os.Stat(filepath.Join(dataDir, "vigil.snapshot"))
	require.NoError(t, err)
}

// TestNoTerminal: without --headless and with no terminal anywhere (stdout
// a pipe, no controlling tty), vigil exits 2 and says to use --headless.
func TestNoTerminal(t *testing.T) {
	cmd := exec.Command(vigilBin, "--data-dir", "")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no controlling terminal
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, 2, exit.ExitCode())
	require.Contains(t, string(out), "--headless")
}

// TestBadInvocations: each mistake exits non-zero with a message that says
// what and where.
func TestBadInvocations(t *testing.T) {
	dir := t.TempDir()
	badRules := filepath.Join(dir, "bad.rules.yml")
	require.NoError(t, os.WriteFile(badRules, []byte("groups:\n- name: g\n  rules:\n  - alert: X\n    expr: up ==\n"), 0o600))
	badYAML := filepath.Join(dir, "bad.yml")
	require.NoError(t, os.WriteFile(badYAML, []byte("global:\n  scrape_interval: 5s\nc: [1, 2\n"), 0o600))
	notDir := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(notDir, nil, 0o600))
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"unknown flag", []string{"--no-such-flag"}, 2, []string{"unknown flag: --no-such-flag"}},
		{"bad --events", []string{"--headless", "--events", "xml"}, 2, []string{`--events "xml"`}},
		{"bad --color", []string{"--headless", "--color", "pink"}, 2, []string{`--color "pink": want auto, always or never`}},
		// A refusal to start is 2, whatever is refused (docs/faults.md).
		{"bad --alert", []string{"--headless", "--data-dir", "", "-a", "no expression here:"}, 2, []string{"NAME: EXPR [for DUR]"}},
		{"bad rule file", []string{"--headless", "--data-dir", "", "-r", badRules}, 2, []string{badRules, "5"}},
		{"missing config", []string{"--headless", "--data-dir", "", "-c", filepath.Join(dir, "nope.yml")}, 2, []string{"nope.yml"}},
		{"config YAML syntax", []string{"--headless", "--data-dir", "", "-c", badYAML}, 2, []string{badYAML + ":3: invalid YAML"}},
		{"bad target", []string{"--headless", "--data-dir", "", "ftp://host:21"}, 2, []string{"ftp://host:21"}},
		{"IPv6 target without brackets", []string{"--headless", "--data-dir", "", "::1"}, 2, []string{`target "::1": an IPv6 address needs brackets`}},
		{"port out of range", []string{"--headless", "--data-dir", "", "127.0.0.1:99999"}, 2, []string{`port 99999 is out of range`}},
		{"no host", []string{"--headless", "--data-dir", "", ":0"}, 2, []string{`target ":0": no host`}},
		{"credentials in a target", []string{"--headless", "--data-dir", "", "user:s3cretpw@127.0.0.1:9100"}, 2, []string{`target "user:xxxxx@127.0.0.1:9100": credentials in a target are not accepted`}},
		{"bad --alertmanager", []string{"--headless", "--data-dir", "", "--alertmanager", "localhost:9093"}, 2, []string{"--alertmanager"}},
		{"data dir that cannot be made", []string{"--headless", "--data-dir", filepath.Join(notDir, "data")}, 2, []string{"not a directory"}},
		{"API open to other machines", []string{"--headless", "--data-dir", "", "--web.listen-address", ":9090"}, 2, []string{`--web.listen-address ":9090" would serve vigil's API beyond this machine with neither a password nor TLS`}},
		{"bad --web.config.file", []string{"--headless", "--data-dir", "", "--web.listen-address", "127.0.0.1:0", "--web.config.file", filepath.Join(dir, "web.yml")}, 2, []string{"--web.config.file " + filepath.Join(dir, "web.yml")}},
		{"bad --query.max-samples", []string{"--headless", "--query.max-samples", "0"}, 2, []string{"--query.max-samples 0: must be positive"}},
		{"check without file", []string{"check", "config"}, 2, []string{"usage"}},
		{"query without expr", []string{"query"}, 2, []string{"usage"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command(vigilBin, tc.args...).CombinedOutput()
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "%s", out)
			require.Equal(t, tc.code, exit.ExitCode(), "%s", out)
			for _, w := range tc.want {
				require.Contains(t, string(out), w)
			}
			require.NotContains(t, string(out), "s3cretpw")
		})
	}
}

// TestCheckCommands runs `vigil check` on the fixtures of scrape and alert.
func TestCheckCommands(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"check", "config", "../../testdata/scrape/getting-started.yml"}, 0, []string{"SUCCESS"}},
		// Every problem, each with its place, not only the first.
		{[]string{"check", "config", "../../testdata/scrape/bad.yml"}, 1, []string{"FAILED", "bad.yml:3: ", "bad.yml:12: kubernetes_sd_configs", "bad.yml:19: remote_write", "bad.yml:20: remote_read"}},
		{[]string{"check", "rules", "../../testdata/alert/node-mixin.yml"}, 0, []string{"SUCCESS"}},
		{[]string{"check", "rules", "../../testdata/alert/bad.yml"}, 1, []string{"FAILED"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := exec.Command(vigilBin, tc.args...).CombinedOutput()
			code := 0
			var exit *exec.ExitError
			if err != nil {
				require.ErrorAs(t, err, &exit)
				code = exit.ExitCode()
			}
			require.Equal(t, tc.code, code, "%s", out)
			for _, w := range tc.want {
				require.Contains(t, string(out), w)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer that a process can write while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
