package remote

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/config"
	"github.com/stretchr/testify/require"
)

// fakeAPI is an HTTP server with the answers a test sets per path: for
// what no real engine does (answer too much, too slowly, not at all, or
// with what a hostile remote would send). Real engines are in
// peers_test.go.
type fakeAPI struct {
	t   *testing.T
	srv *http.Server
	ln  net.Listener

	mu       sync.Mutex
	handlers map[string]http.HandlerFunc
	inFlight map[string]int
	maxIn    map[string]int // the most requests of a path at once
	calls    map[string]int
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{t: t, handlers: map[string]http.HandlerFunc{}, inFlight: map[string]int{}, maxIn: map[string]int{}, calls: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f.serve(ln)
	t.Cleanup(f.stop)
	return f
}

func (f *fakeAPI) serve(ln net.Listener) {
	f.ln = ln
	f.srv = &http.Server{Handler: http.HandlerFunc(f.handle), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = f.srv.Serve(ln) }()
}

// stop closes the server and every connection to it: the remote gone.
func (f *fakeAPI) stop() { _ = f.srv.Close() }

// restart serves again on the same address.
func (f *fakeAPI) restart() {
	var ln net.Listener
	require.Eventually(f.t, func() bool {
		var err error
		ln, err = net.Listen("tcp", f.ln.Addr().String())
		return err == nil
	}, 10*time.Second, 20*time.Millisecond)
	f.serve(ln)
}

func (f *fakeAPI) url() *url.URL {
	return &url.URL{Scheme: "http", Host: f.ln.Addr().String()}
}

func (f *fakeAPI) handle(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	h := f.handlers[r.URL.Path]
	f.calls[r.URL.Path]++
	f.inFlight[r.URL.Path]++
	f.maxIn[r.URL.Path] = max(f.maxIn[r.URL.Path], f.inFlight[r.URL.Path])
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight[r.URL.Path]--
		f.mu.Unlock()
	}()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	h(w, r)
}

func (f *fakeAPI) set(path string, h http.HandlerFunc) {
	f.mu.Lock()
	f.handlers[path] = h
	f.mu.Unlock()
}

// setData answers path with {"status":"success","data":data}.
func (f *fakeAPI) setData(path string, data any) {
	b, err := json.Marshal(map[string]any{"status": "success", "data": data})
	require.NoError(f.t, err)
	f.set(path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
}

func (f *fakeAPI) stats(path string) (calls, maxInFlight int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[path], f.maxIn[path]
}

// newTestSource is a Source on f, polling every 20ms, not started.
func newTestSource(t *testing.T, f *fakeAPI, opts Options) *Source {
	t.Helper()
	opts.URL = f.url()
	if opts.Poll == 0 {
		opts.Poll = 20 * time.Millisecond
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.Client == nil {
		c := config.DefaultHTTPClientConfig
		opts.Client = &c
	}
	s, err := New(opts)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// A target of /api/v1/targets as Prometheus 2.42 writes it.
func promTarget(instance, health, lastError string) map[string]any {
	return map[string]any{
		"discoveredLabels":   map[string]string{"__address__": instance, "job": "node"},
		"labels":             map[string]string{"instance": instance, "job": "node"},
		"scrapePool":         "node",
		"scrapeUrl":          "http://" + instance + "/metrics",
		"globalUrl":          "http://" + instance + "/metrics",
		"lastError":          lastError,
		"lastScrape":         "2026-11-24T10:00:00Z",
		"lastScrapeDuration": 0.012,
		"health":             health,
		"scrapeInterval":     "15s",
		"scrapeTimeout":      "10s",
	}
}

// An alerting rule of /api/v1/rules with its alerts.
func alertingRule(name string, alerts ...map[string]any) map[string]any {
	if alerts == nil {
		alerts = []map[string]any{}
	}
	state := "inactive"
	for _, a := range alerts {
		if a["state"] == "firing" || state == "inactive" {
			state = a["state"].(string)
		}
	}
	return map[string]any{
		"type": "alerting", "name": name, "query": "up == 0", "duration": 60,
		"labels": map[string]string{"severity": "critical"}, "annotations": map[string]string{},
		"alerts": alerts, "health": "ok", "evaluationTime": 0.001,
		"lastEvaluation": "2026-11-24T10:00:00Z", "state": state,
	}
}

func alert(instance, state string) map[string]any {
	return map[string]any{
		"labels":      map[string]string{"alertname": "TargetDown", "instance": instance, "severity": "critical"},
		"annotations": map[string]string{"summary": instance + " is down"},
		"state":       state, "activeAt": "2026-11-24T09:58:00Z", "value": "0e+00",
	}
}

func rulesData(rules ...map[string]any) map[string]any {
	if rules == nil {
		rules = []map[string]any{}
	}
	return map[string]any{"groups": []map[string]any{{
		"name": "targets", "file": "/etc/prometheus/rules.yml", "interval": 15, "rules": rules,
	}}}
}

// syncBuffer is a log's destination that tests read while it is written.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func newTextLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
