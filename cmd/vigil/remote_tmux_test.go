package main

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape/peertest"
)

// stallProxy stands between the console and a remote: it passes
// connections through, or, stalled, takes them and never answers (a
// remote that hangs, the hardest kind of gone: nothing fails until a
// timeout does).
type stallProxy struct {
	t       *testing.T
	ln      net.Listener
	backend string

	mu      sync.Mutex
	stalled bool
	conns   map[net.Conn]bool
}

func newStallProxy(t *testing.T, backend string) *stallProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &stallProxy{t: t, ln: ln, backend: backend, conns: map[net.Conn]bool{}}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		p.closeAll()
		wg.Wait()
	})
	return p
}

func (p *stallProxy) addr() string { return p.ln.Addr().String() }

func (p *stallProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[c] = true
	return p.stalled
}

func (p *stallProxy) serve(c net.Conn) {
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		c.Close()
	}()
	if p.track(c) {
		_, _ = io.Copy(io.Discard, c) // until the test closes it
		return
	}
	b, err := net.Dial("tcp", p.backend)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.conns[b] = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, b)
		p.mu.Unlock()
		b.Close()
	}()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(b, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, b); done <- struct{}{} }()
	<-done
}

// closeAll drops every connection, so that the next request opens a new
// one (a kept-alive connection would go on passing).
func (p *stallProxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *stallProxy) stall(on bool) {
	p.mu.Lock()
	p.stalled = on
	p.mu.Unlock()
	p.closeAll()
}

// TestRemoteConsoleOutage: the remote stops answering mid-session (it
// hangs: connections are taken, nothing comes back). The console goes on
// answering keys, says the remote is unreachable and since when, keeps
// what it read, and recovers when the remote answers again.
func TestRemoteConsoleOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for many seconds")
	}
	ne := peertest.NodeExporter(t)
	prom := peertest.Prometheus(t, "global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n  - job_name: node\n    static_configs: [{targets: ['"+ne.Addr+"']}]\n"+
		"rule_files: [rules.yml]\n", map[string]string{"rules.yml": "groups:\n  - name: g\n    rules:\n      - alert: NodeUp\n        expr: up == 1\n"})
	proxy := newStallProxy(t, prom.Addr)
	dataDir := t.TempDir()
	s := newTmux(t, vigilBin+" --data-dir "+dataDir+" --source http://"+proxy.addr()+"; sleep 600")
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dataDir, "vigil.log"))
			t.Logf("vigil.log:\n%s", log)
		}
	})
	s.waitFor("targets 1/1 up", "1 firing", "CPU")

	// The remote hangs. Keys go on being obeyed: each view shows while
	// every call to the remote waits for its timeout (5 s for a query,
	// 10 s for the poller), so a console that waited on one would show
	// nothing new for that long.
	proxy.stall(true)
	keys := func() {
		t.Helper()
		for _, k := range []struct{ key, want string }{
			{"2", "Targets 1/1 up"}, {"3", "Alerts 1"}, {"4", "Metrics"}, {"?", "closes the help"},
			{"Escape", "Metrics"}, {"5", "enter runs the query"}, {"Escape", "e edit query"}, {"1", "CPU"},
		} {
			s.run("send-keys", "-t", "vigil", k.key)
			s.waitWithin(3*time.Second, k.want)
		}
	}
	keys()
	scr := s.waitFor("unreachable since ", "no answer within 10s")
	require.Contains(t, scr, "remote http://"+proxy.addr()+" unreachable since ")
	require.Contains(t, scr, "targets 1/1 up", "what was read stays")
	keys()

	// The remote answers again: the warning goes.
	proxy.stall(false)
	require.Eventually(t, func() bool { return !strings.Contains(s.screen(), "unreachable") }, 60*time.Second, 200*time.Millisecond,
		"the console still says the remote is unreachable:\n%s", s.screen())
	s.run("send-keys", "-t", "vigil", "3")
	s.waitFor("NodeUp", "firing")
	log, err := os.ReadFile(filepath.Join(dataDir, "vigil.log"))
	require.NoError(t, err)
	require.Contains(t, string(log), "remote unreachable")
	require.Contains(t, string(log), "remote answers again")
}

// waitWithin waits at most d until the screen holds every want.
func (s *tmuxSession) waitWithin(d time.Duration, want ...string) string {
	s.t.Helper()
	var scr string
	deadline := time.Now().Add(d)
	for {
		scr = s.screen()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(scr, w)
		}
		if ok {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen did not show %q within %v; last screen:\n%s", want, d, scr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
