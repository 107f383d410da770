package prom3

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Server is a running Prometheus 3.
type Server struct {
	URL string // http://127.0.0.1:port
	Dir string // holds prometheus.yml, the rule files and the TSDB

	mu  sync.Mutex
	log bytes.Buffer
}

// Log is what the server printed so far, for failure messages.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

func (s *Server) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.Write(p)
}

// Prometheus starts Prometheus 3 on a free loopback port with config as
// its prometheus.yml and the rule files (name → body) beside it, and waits
// until it is ready. The test's cleanup stops it.
func Prometheus(t testing.TB, config string, ruleFiles map[string]string) *Server {
	t.Helper()
	bin := Need(t, "prometheus")
	s := &Server{Dir: t.TempDir()}
	for name, body := range ruleFiles {
		if err := os.WriteFile(filepath.Join(s.Dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(s.Dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s.URL = "http://" + addr
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(s.Dir, "data"), "--web.listen-address="+addr)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = s, s
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/-/ready", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("Prometheus 3 did not become ready on %s:\n%s", s.URL, s.Log())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
