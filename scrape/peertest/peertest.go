// Package peertest starts the real programs vigil is tested against, the
// Debian packages prometheus-node-exporter, prometheus and
// prometheus-alertmanager, on loopback ports for the length of one test.
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
	bin := Need(t, "prometheus", "prometheus")
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
	waitReady(t, p, "/-/ready")
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
	p := &Peer{Addr: addr, URL: "http://" + addr, Dir: dir, cmd: cmd, stderr: stderr}
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
