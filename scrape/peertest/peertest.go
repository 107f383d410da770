// Package peertest starts the real programs vigil is tested against, the
// Debian packages prometheus-node-exporter, prometheus,
// prometheus-alertmanager and victoria-metrics (with its vmalert), and the
// Prometheus 3 built from the pinned module, on loopback ports for the
// length of one test.
//
// A test that needs a peer which is not installed is skipped with a message
// that says how to install it; when the CI environment variable is set it
// fails instead, so that a CI machine without the peers cannot go green by
// skipping.
package peertest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Peer is one running peer process.
type Peer struct {
	Addr string // host:port it listens on
	URL  string // http://Addr
	Dir  string // its working directory (config, storage)

	cmd    *exec.Cmd
	stderr *lockedWriter
	// What Restart runs again.
	bin, readyPath string
	args           []string
}

// Log returns what the peer printed on stderr so far, for failure messages.
// It is safe to call while the peer runs.
func (p *Peer) Log() string {
	p.stderr.mu.Lock()
	defer p.stderr.mu.Unlock()
	return p.stderr.w.String()
}

var portMu sync.Mutex

// FreePort returns a loopback address with a port that was free a moment ago.
func FreePort(t testing.TB) string {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Need returns the path of the named program, skipping the test (or failing
// it under CI) when it is not installed.
func Need(t testing.TB, pkg string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s not installed (apt-get install -y %s)", names[0], pkg)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s; CI is set, so this is a failure", msg)
	}
	t.Skip(msg)
	return ""
}

// NodeExporter starts prometheus-node-exporter with the given extra flags.
func NodeExporter(t testing.TB, args ...string) *Peer {
	t.Helper()
	bin := Need(t, "prometheus-node-exporter", "prometheus-node-exporter", "node_exporter")
	addr := FreePort(t)
	p := start(t, bin, addr, append([]string{"--web.listen-address=" + addr}, args...))
	waitReady(t, p, "/metrics")
	return p
}

// Prometheus starts a Prometheus server with the given prometheus.yml body
// (and rule files, name → body, written beside it).
func Prometheus(t testing.TB, config string, ruleFiles map[string]string, args ...string) *Peer {
	t.Helper()
	return prometheusWith(t, Need(t, "prometheus", "prometheus"), config, ruleFiles, args)
}

func prometheusWith(t testing.TB, bin, config string, ruleFiles map[string]string, args []string) *Peer {
	t.Helper()
	dir := t.TempDir()
	for name, body := range ruleFiles {
		writeFile(t, filepath.Join(dir, name), body)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	writeFile(t, cfg, config)
	addr := FreePort(t)
	p := startIn(t, dir, bin, addr, append([]string{
		"--config.file=" + cfg,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		"--web.enable-lifecycle",
	}, args...))
	p.readyPath = "/-/ready"
	waitReady(t, p, p.readyPath)
	return p
}

// Alertmanager starts prometheus-alertmanager with the given alertmanager.yml
// body, clustering off.
func Alertmanager(t testing.TB, config string) *Peer {
	t.Helper()
	bin := Need(t, "prometheus-alertmanager", "prometheus-alertmanager", "alertmanager")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	writeFile(t, cfg, config)
	addr := FreePort(t)
	p := startIn(t, dir, bin, addr, []string{
		"--config.file=" + cfg,
		"--storage.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		"--cluster.listen-address=",
	})
	waitReady(t, p, "/-/ready")
	return p
}

// VictoriaMetrics starts a single-node VictoriaMetrics (Debian
// victoria-metrics) with its storage in a temporary directory. Samples are
// queryable as soon as they are written (-search.latencyOffset=0s) and
// queries are not cached, so a test sees what was just written.
func VictoriaMetrics(t testing.TB, args ...string) *Peer {
	t.Helper()
	bin := Need(t, "victoria-metrics", "victoria-metrics")
	dir := t.TempDir()
	addr := FreePort(t)
	p := startIn(t, dir, bin, addr, append([]string{
		"-storageDataPath=" + filepath.Join(dir, "data"),
		"-httpListenAddr=" + addr,
		"-search.latencyOffset=0s",
		"-search.disableCache",
		"-loggerLevel=WARN",
	}, args...))
	p.readyPath = "/health"
	waitReady(t, p, p.readyPath)
	return p
}

// VMAlert starts vmalert (Debian victoria-metrics) on addr (from
// FreePort, so that a VictoriaMetrics started before it can proxy to it
// with -vmalert.proxyURL), evaluating the rule file body every second on
// the Prometheus-compatible API at datasource, where it also writes its
// alerts' state and reads it back on a restart. vmalert will not start
// alerting rules without a notifier; it gets one where nothing listens.
func VMAlert(t testing.TB, addr, datasource, rules string, args ...string) *Peer {
	t.Helper()
	bin := Need(t, "victoria-metrics", "vmalert")
	dir := t.TempDir()
	ruleFile := filepath.Join(dir, "rules.yml")
	writeFile(t, ruleFile, rules)
	p := startIn(t, dir, bin, addr, append([]string{
		"-rule=" + ruleFile,
		"-httpListenAddr=" + addr,
		"-evaluationInterval=1s",
		"-datasource.url=" + datasource,
		"-remoteWrite.url=" + datasource,
		"-remoteRead.url=" + datasource,
		"-notifier.url=http://127.0.0.1:1",
		"-loggerLevel=WARN",
	}, args...))
	p.readyPath = "/health"
	waitReady(t, p, p.readyPath)
	return p
}

// Prom3Dir is where the Prometheus 3 programs built from the pinned module
// are: $VIGIL_PROM3_DIR, else /opt/prom3 (.ci/run builds them there).
func Prom3Dir() string {
	if d := os.Getenv("VIGIL_PROM3_DIR"); d != "" {
		return d
	}
	return "/opt/prom3"
}

// Prometheus3 is Prometheus with the Prometheus 3 server of Prom3Dir.
func Prometheus3(t testing.TB, config string, args ...string) *Peer {
	t.Helper()
	bin := filepath.Join(Prom3Dir(), "prometheus")
	if fi, err := os.Stat(bin); err != nil || fi.Mode()&0o111 == 0 {
		msg := fmt.Sprintf("Prometheus 3 not found at %s: build it with GOBIN=%s go install github.com/prometheus/prometheus/cmd/prometheus@<go.mod's version> (or set VIGIL_PROM3_DIR)", bin, Prom3Dir())
		if os.Getenv("CI") != "" {
			t.Fatalf("%s; CI is set, so this is a failure", msg)
		}
		t.Skip(msg)
	}
	return prometheusWith(t, bin, config, nil, args)
}

// Stop stops the peer (SIGTERM, then SIGKILL after 10s) and waits for it;
// Restart starts it again, on the same address and directory.
func (p *Peer) Stop(t testing.TB) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		_ = p.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// Restart starts a stopped peer again, as it was started, and waits until
// it is ready.
func (p *Peer) Restart(t testing.TB) {
	t.Helper()
	q := startIn(t, p.Dir, p.bin, p.Addr, p.args)
	p.cmd, p.stderr = q.cmd, q.stderr
	waitReady(t, p, p.readyPath)
}

// DefaultAlertmanagerConfig routes everything to a receiver that sends
// nowhere, with short group timings so tests see alerts quickly.
const DefaultAlertmanagerConfig = `route:
  receiver: "null"
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: "null"
`

func start(t testing.TB, bin, addr string, args []string) *Peer {
	t.Helper()
	return startIn(t, t.TempDir(), bin, addr, args)
}

func startIn(t testing.TB, dir, bin, addr string, args []string) *Peer {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	stderr := &lockedWriter{w: &bytes.Buffer{}}
	cmd.Stderr = stderr
	cmd.Stdout = stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	p := &Peer{Addr: addr, URL: "http://" + addr, Dir: dir, cmd: cmd, stderr: stderr, bin: bin, args: args}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return p
}

func waitReady(t testing.TB, p *Peer, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s did not become ready on %s%s: %v\n%s", filepath.Base(p.cmd.Path), p.URL, path, err, p.Log())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func writeFile(t testing.TB, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Port returns the port of a host:port address.
func Port(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
