package pipeline

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/store/remotewrite"
)

// receiver is a Remote-Write 1.0 receiver that counts what it is sent by
// metric name, or answers 503 while down.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	down   bool
	names  map[string]int
	tenant map[string]bool // X-Scope-OrgID values seen
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{names: map[string]int{}, tenant: map[string]bool{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.down {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(req.Body)
		raw, err := snappy.Decode(nil, body)
		var wr prompb.WriteRequest
		if err == nil {
			err = wr.Unmarshal(raw)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.tenant[req.Header.Get("X-Scope-OrgID")] = true
		for _, ts := range wr.Timeseries {
			for _, l := range ts.Labels {
				if l.Name == "__name__" {
					r.names[l.Value] += len(ts.Samples)
				}
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.names[name]
}

// TestRemoteWrite: the pipeline sends what the store accepts to the
// config's remotes (scrapes, rule results, its own metrics); a reload
// changes a remote without losing what it had queued; its state is in
// vigil's own metrics, in the console's Targets source, and, when it falls
// behind, in the header; Stop leaves what could not be sent in the spool.
func TestRemoteWrite(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "# TYPE node_load1 gauge\nnode_load1 0.5\n")
	}))
	defer target.Close()
	rcv := newReceiver(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	write := func(headers string) {
		body := `global:
  scrape_interval: 50ms
  evaluation_interval: 50ms
scrape_configs:
  - job_name: node
    static_configs: [{targets: ['` + strings.TrimPrefix(target.URL, "http://") + `']}]
remote_write:
  - name: central
    url: ` + rcv.URL + `/api/v1/write
    queue_config: {batch_send_deadline: 50ms, min_backoff: 10ms, max_backoff: 50ms}
` + headers
		require.NoError(t, os.WriteFile(cfg, []byte(body), 0o600))
	}
	write("")
	o := testOptions(filepath.Join(dir, "data"))
	o.ConfigFile = cfg
	o.Alerts = []string{"Loaded: node_load1 > 0"}
	p, err := open(t, o)
	require.NoError(t, err)
	require.NoError(t, p.Start())
	defer p.Stop()

	for _, name := range []string{"node_load1", "up", "vigil_store_series", "ALERTS"} {
		require.Eventually(t, func() bool { return rcv.count(name) > 0 }, 20*time.Second, 10*time.Millisecond, name)
	}
	remotes := p.ConsoleOptions().RemoteWrites.RemoteWrites()
	require.Len(t, remotes, 1)
	require.Equal(t, "central", remotes[0].Name)
	require.Equal(t, "1.0", remotes[0].Protocol)
	require.Positive(t, remotes[0].Sent)

	// Down: samples wait; a reload that changes the remote (a header)
	// keeps them; back up, they arrive.
	rcv.mu.Lock()
	rcv.down = true
	rcv.mu.Unlock()
	require.Eventually(t, func() bool { return p.rw.Status().Remotes[0].Failing }, 20*time.Second, 10*time.Millisecond)
	before := rcv.count("node_load1")
	time.Sleep(300 * time.Millisecond)
	pending := p.rw.Status().Remotes[0].Pending
	require.Positive(t, pending)
	write("    headers: {X-Scope-OrgID: team-a}\n")
	p.Reload()
	require.Empty(t, p.reloadErr)
	require.Equal(t, uint64(0), p.rw.Status().Remotes[0].Sent, "a changed remote is a new sender…")
	require.GreaterOrEqual(t, p.rw.Status().Remotes[0].Pending, pending, "…with the queue of the old one")

	var self bytes.Buffer
	require.NoError(t, writeRemoteWriteMetrics(&self, p.rw.Status()))
	for _, want := range []string{
		`vigil_remote_write_samples_pending{remote="central",url="` + rcv.URL + `/api/v1/write"}`,
		`vigil_remote_write_samples_retried_total{remote="central"`,
		`vigil_remote_write_samples_dropped_total{remote="central",url="` + rcv.URL + `/api/v1/write",reason="spool_full"} 0`,
		`vigil_remote_write_spool_bytes `,
		`vigil_remote_write_spool_in_memory 0`,
		`vigil_remote_write_protocol_info{remote="central",url="` + rcv.URL + `/api/v1/write",version="1.0",fell_back="false"} 1`,
	} {
		require.Contains(t, self.String(), want)
	}

	rcv.mu.Lock()
	rcv.down = false
	rcv.mu.Unlock()
	require.Eventually(t, func() bool { return p.rw.Status().Remotes[0].Pending < 50 && rcv.count("node_load1") > before+5 }, 20*time.Second, 10*time.Millisecond)
	rcv.mu.Lock()
	require.True(t, rcv.tenant["team-a"], "the reloaded config is used")
	rcv.mu.Unlock()

	// A reload that removes the remote stops it.
	require.NoError(t, os.WriteFile(cfg, []byte("global:\n  scrape_interval: 50ms\n"), 0o600))
	p.Reload()
	require.Empty(t, p.rw.Status().Remotes)
	require.Empty(t, p.ConsoleOptions().RemoteWrites.RemoteWrites())
	require.NoError(t, p.Stop())
}

// TestRemoteWriteTrouble: Failures hears when a remote falls behind or
// drops, and nothing while it keeps up; drops are a failure that ends
// once they stop.
func TestRemoteWriteTrouble(t *testing.T) {
	now := time.Now()
	var seen dropsSeen
	trouble := func(rs ...remotewrite.RemoteStatus) string {
		err := remoteWriteTrouble(remotewrite.Status{Remotes: rs}, now, seen.recent)
		if err == nil {
			return ""
		}
		return err.Error()
	}
	ok := remotewrite.RemoteStatus{Name: "a", LagKnown: true, Lag: 2 * time.Second}
	require.Empty(t, trouble(ok))
	failingBriefly := ok
	failingBriefly.Failing, failingBriefly.FailingSince = true, now.Add(-10*time.Second)
	require.Empty(t, trouble(failingBriefly), "a retry is not yet news")

	for _, tc := range []struct {
		name string
		r    remotewrite.RemoteStatus
		want string
	}{
		{"failing", remotewrite.RemoteStatus{Name: "a", Failing: true, LagKnown: true, Lag: 3 * time.Minute, Pending: 1234, LastError: "HTTP 503 Service Unavailable: down"},
			"remote write a: failing, 3m0s behind, 1234 samples waiting: HTTP 503 Service Unavailable: down"},
		{"failing, nothing sent yet", remotewrite.RemoteStatus{Name: "b", Failing: true, FailingSince: now.Add(-2 * time.Minute), Pending: 7, LastError: "connection refused"},
			"remote write b: failing, ? (nothing sent yet) behind, 7 samples waiting: connection refused"},
		{"slow", remotewrite.RemoteStatus{Name: "c", LagKnown: true, Lag: 90 * time.Second, Pending: 50000},
			"remote write c: 1m30s behind, 50000 samples waiting"},
		{"refused", remotewrite.RemoteStatus{Name: "d", LagKnown: true, Failed: 10, LastError: "HTTP 400 Bad Request: out of order"},
			"remote write d: 10 samples dropped (the receiver refused them: HTTP 400 Bad Request: out of order)"},
		{"spool full", remotewrite.RemoteStatus{Name: "e", LagKnown: true, Dropped: map[string]uint64{"spool_full": 99}},
			"remote write e: 99 samples dropped (past --remote-write-spool)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, trouble(tc.r))
		})
	}
	relabeled := remotewrite.RemoteStatus{Name: "f", LagKnown: true, Dropped: map[string]uint64{"write_relabel": 5}}
	require.Empty(t, trouble(relabeled), "what the config leaves out is no loss")

	// Drops that stopped are over after a while.
	dropped := remotewrite.RemoteStatus{Name: "e", LagKnown: true, Dropped: map[string]uint64{"spool_full": 99}}
	now = now.Add(eventDropQuiet + time.Second)
	require.Empty(t, trouble(dropped))
	dropped.Dropped["spool_full"]++
	require.Contains(t, trouble(dropped), "100 samples dropped")
}
