package alert_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/scrape/peertest"
)

type postedAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

// fakeAM records POSTs and fails the first `fail` of them.
type fakeAM struct {
	mu      sync.Mutex
	fail    int
	batches [][]postedAlert
	paths   []string
}

func (f *fakeAM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paths = append(f.paths, r.URL.Path)
	if f.fail > 0 {
		f.fail--
		http.Error(w, "busy\x1b[31m", http.StatusServiceUnavailable)
		return
	}
	var as []postedAlert
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &as); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.batches = append(f.batches, as)
}

func (f *fakeAM) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, b := range f.batches {
		n += len(b)
	}
	return n
}

func notifyAlerts(n int) []alert.NotifyAlert {
	var out []alert.NotifyAlert
	for i := range n {
		out = append(out, alert.NotifyAlert{
			Labels:       labels.FromStrings("alertname", "A", "i", fmt.Sprint(i)),
			Annotations:  labels.FromStrings("summary", "s"),
			StartsAt:     t0,
			EndsAt:       t0.Add(4 * time.Minute),
			GeneratorURL: "http://vigil/graph?g0.expr=up&g0.tab=1",
		})
	}
	return out
}

func TestNotifierBatchesAndRetries(t *testing.T) {
	f := &fakeAM{fail: 2}
	srv := httptest.NewServer(f)
	defer srv.Close()
	n, err := alert.NewNotifier(alert.NotifierOptions{
		Alertmanagers: []alert.AlertmanagerConfig{{URLs: []string{srv.URL + "/prefix/"}}},
		MaxBatchSize:  2,
		Backoff:       time.Millisecond,
	})
	require.NoError(t, err)
	defer n.Close()

	n.Send(t.Context(), notifyAlerts(5)...)
	require.Eventually(t, func() bool { return f.count() == 5 }, 5*time.Second, 5*time.Millisecond)
	f.mu.Lock()
	require.Len(t, f.batches, 3)
	require.Equal(t, "/prefix/api/v2/alerts", f.paths[0])
	first := f.batches[0][0]
	f.mu.Unlock()
	require.Equal(t, map[string]string{"alertname": "A", "i": "0"}, first.Labels)
	require.Equal(t, t0, first.StartsAt)
	require.Equal(t, t0.Add(4*time.Minute), first.EndsAt)
	require.Equal(t, "http://vigil/graph?g0.expr=up&g0.tab=1", first.GeneratorURL)

	// The server has the last batch before the notifier has read its
	// answer: wait for the notifier to count it.
	require.Eventually(t, func() bool { return n.Status()[0].Sent == 5 }, 5*time.Second, 5*time.Millisecond)
	st := n.Status()[0]
	require.True(t, st.Healthy)
	require.Contains(t, st.LastError, "503 Service Unavailable: busy [31m")
	require.Equal(t, alert.NotifierStats{Alertmanagers: 1, Sent: 5}, n.Stats())
}

func TestNotifierGivesUpAndKeepsError(t *testing.T) {
	f := &fakeAM{fail: 1000}
	srv := httptest.NewServer(f)
	defer srv.Close()
	n, err := alert.NewNotifier(alert.NotifierOptions{
		Alertmanagers: []alert.AlertmanagerConfig{{URLs: []string{srv.URL}}},
		Attempts:      2,
		Backoff:       time.Millisecond,
	})
	require.NoError(t, err)
	defer n.Close()
	n.Send(t.Context(), notifyAlerts(3)...)
	require.Eventually(t, func() bool { return n.Stats().Failed == 3 }, 5*time.Second, 5*time.Millisecond)
	st := n.Status()[0]
	require.False(t, st.Healthy)
	require.Contains(t, st.LastError, "503")
}

func TestNotifierBadURL(t *testing.T) {
	for _, u := range []string{"am:9093", "ftp://x", "http://"} {
		_, err := alert.NewNotifier(alert.NotifierOptions{Alertmanagers: []alert.AlertmanagerConfig{{URLs: []string{u}}}})
		require.ErrorContains(t, err, u)
	}
	require.Equal(t, []string{"https://a:9093/am", "https://b:9093/am"}, alert.AlertmanagerURLs("https", "am/", []string{"a:9093", "b:9093"}))
}

// TestRealAlertmanager: a real prometheus-alertmanager receives the alert
// vigil fires, reports it through its API, and notifies its receiver of it
// firing and then resolved.
func TestRealAlertmanager(t *testing.T) {
	t.Parallel() // waits on peers and wall-clock intervals
	type webhook struct {
		Status string `json:"status"`
		Alerts []struct {
			Status       string            `json:"status"`
			Labels       map[string]string `json:"labels"`
			Annotations  map[string]string `json:"annotations"`
			GeneratorURL string            `json:"generatorURL"`
		} `json:"alerts"`
	}
	var (
		hookMu sync.Mutex
		hooks  []webhook
	)
	hookSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var h webhook
		_ = json.NewDecoder(r.Body).Decode(&h)
		hookMu.Lock()
		hooks = append(hooks, h)
		hookMu.Unlock()
	}))
	defer hookSrv.Close()
	am := peertest.Alertmanager(t, fmt.Sprintf(`route:
  receiver: hook
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s
        send_resolved: true
`, hookSrv.URL))

	n, err := alert.NewNotifier(alert.NotifierOptions{Alertmanagers: []alert.AlertmanagerConfig{{URLs: []string{am.URL}}}})
	require.NoError(t, err)
	defer n.Close()

	st := newTestStore(t)
	m := newManager(t, st, `
groups:
  - name: g
    rules:
      - alert: DiskFull
        expr: x > 10
        labels:
          severity: critical
        annotations:
          summary: "{{ $labels.instance }} at {{ $value }}"
`, alert.Options{Notify: n.Send, ExternalURL: "http://vigil:9999", ExternalLabels: labels.FromStrings("site", "lab")})

	now := time.Now().Add(-time.Minute)
	st.add(t, now, 42, "x", "instance", "db1")
	m.Eval(t.Context(), now)

	// The alert as the Alertmanager API shows it.
	var got []struct {
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		GeneratorURL string            `json:"generatorURL"`
		Status       struct {
			State string `json:"state"`
		} `json:"status"`
	}
	require.Eventually(t, func() bool {
		resp, err := http.Get(am.URL + "/api/v2/alerts")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		got = nil
		return json.NewDecoder(resp.Body).Decode(&got) == nil && len(got) == 1
	}, 10*time.Second, 50*time.Millisecond, "alertmanager never showed the alert")
	require.Equal(t, map[string]string{"alertname": "DiskFull", "instance": "db1", "severity": "critical", "site": "lab"}, got[0].Labels)
	require.Equal(t, "db1 at 42", got[0].Annotations["summary"])
	require.Equal(t, "active", got[0].Status.State)
	require.True(t, strings.HasPrefix(got[0].GeneratorURL, "http://vigil:9999/graph?g0.expr=x+%3E+10"), got[0].GeneratorURL)

	// It goes away: Alertmanager hears at once and notifies "resolved".
	// (As in Prometheus, the resolved time is the evaluation's, which is
	// past when Alertmanager gets it; a future endsAt would not resolve.)
	later := time.Now()
	st.add(t, later, 0, "x", "instance", "db1")
	m.Eval(t.Context(), later)
	resolved := assert.Eventually(t, func() bool {
		hookMu.Lock()
		defer hookMu.Unlock()
		return len(hooks) > 0 && hooks[len(hooks)-1].Status == "resolved"
	}, 15*time.Second, 50*time.Millisecond)
	if !resolved {
		resp, err := http.Get(am.URL + "/api/v2/alerts")
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("no resolved notification; alertmanager has %s\nnotifier: %+v", b, n.Status())
	}
	hookMu.Lock()
	require.Equal(t, "firing", hooks[0].Status)
	require.Equal(t, "DiskFull", hooks[0].Alerts[0].Labels["alertname"])
	hookMu.Unlock()
	require.Equal(t, uint64(2), n.Stats().Sent)
}

// TestAlertmanagerRefusal: Debian's Alertmanager 0.25 refuses label and
// annotation names that Prometheus 3 and vigil accept (400 invalid label
// set) and takes the rest of the batch. vigil counts the refused alert,
// names it and why in the log and in Status, does not retry it, and counts
// the others as sent.
func TestAlertmanagerRefusal(t *testing.T) {
	am := peertest.Alertmanager(t, peertest.DefaultAlertmanagerConfig)
	var logs syncBuf
	n, err := alert.NewNotifier(alert.NotifierOptions{
		Alertmanagers: []alert.AlertmanagerConfig{{URLs: []string{am.URL}}},
		Backoff:       time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(&logs, nil)),
	})
	require.NoError(t, err)
	defer n.Close()
	n.Send(t.Context(),
		alert.NotifyAlert{Labels: labels.FromStrings("alertname", "Good", "severity", "page"), StartsAt: time.Now(), EndsAt: time.Now().Add(time.Hour)},
		alert.NotifyAlert{Labels: labels.FromStrings("alertname", "Bad", "bad-label", "x"), StartsAt: time.Now(), EndsAt: time.Now().Add(time.Hour)},
	)
	require.Eventually(t, func() bool { return n.Stats().Refused == 1 }, 10*time.Second, 10*time.Millisecond, "%+v", n.Status())
	st := n.Status()[0]
	require.Equal(t, uint64(1), st.Sent)
	require.Equal(t, uint64(0), st.Failed)
	require.True(t, st.Healthy, "a refused alert is not an unhealthy Alertmanager")
	require.Equal(t, `Bad: label name "bad-label" is not [a-zA-Z_][a-zA-Z0-9_]*`, st.LastRefusal)
	log := logs.String()
	require.Contains(t, log, `msg="alertmanager refused an alert"`)
	require.Contains(t, log, "alert=Bad")
	require.Contains(t, log, `invalid label set`) // Alertmanager's own words
	require.NotContains(t, log, "alert=Good")

	var got []struct {
		Labels map[string]string `json:"labels"`
	}
	resp, err := http.Get(am.URL + "/api/v2/alerts")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	require.Len(t, got, 1)
	require.Equal(t, "Good", got[0].Labels["alertname"])
}

// TestNotifierRefusalNotRetried: a 400 whose cause vigil cannot see in the
// alerts counts the whole batch as refused, after one POST.
func TestNotifierRefusalNotRetried(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		posts.Add(1)
		http.Error(w, "start time must be before end time", http.StatusBadRequest)
	}))
	defer srv.Close()
	n, err := alert.NewNotifier(alert.NotifierOptions{Alertmanagers: []alert.AlertmanagerConfig{{URLs: []string{srv.URL}}}, Backoff: time.Millisecond})
	require.NoError(t, err)
	defer n.Close()
	n.Send(t.Context(), notifyAlerts(2)...)
	require.Eventually(t, func() bool { return n.Stats().Refused == 2 }, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, int32(1), posts.Load())
	require.Contains(t, n.Status()[0].LastRefusal, "2 alerts: post alerts: 400 Bad Request: start time must be before end time")
}

func TestAlertmanagerRefusalReason(t *testing.T) {
	require.Empty(t, alert.AlertmanagerRefusal(labels.FromStrings("alertname", "A", "_x9", "v"), labels.FromStrings("summary", "s")))
	require.Equal(t, `label name "a.b" is not [a-zA-Z_][a-zA-Z0-9_]*; annotation name "runbook-url" is not [a-zA-Z_][a-zA-Z0-9_]*`,
		alert.AlertmanagerRefusal(labels.FromStrings("alertname", "A", "a.b", "v"), labels.FromStrings("runbook-url", "u")))
}

// syncBuf is a log destination the notifier's goroutine writes while the
// test reads.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
