package alert_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/scrape/peertest"
	"github.com/vigilterm/vigil/store"
)

// exporter serves a metrics body the test changes.
type exporter struct {
	mu   sync.Mutex
	body string
}

func (e *exporter) set(s string) {
	e.mu.Lock()
	e.body = s
	e.mu.Unlock()
}

func (e *exporter) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprint(w, e.body)
}

const sideBySideRules = `groups:
  - name: side-by-side
    rules:
      - record: queue:depth:sum
        expr: sum by (job) (app_queue_depth)
      - alert: QueueDeep
        expr: app_queue_depth > 10
        for: 4s
        labels:
          severity: warning
          team: "{{ $labels.queue }}-owners"
        annotations:
          summary: "queue {{ $labels.queue }} on {{ $labels.instance }} is {{ $value | humanize }} deep"
          description: "{{ $labels.job }}: {{ printf \"%.1f\" $value }} items at {{ $externalLabels.site }}"
      - alert: QueuesDeep
        expr: queue:depth:sum > 25
        annotations:
          summary: "{{ $value }} items in all queues of {{ $labels.job }}"
      - alert: NoWorkers
        expr: absent(app_workers{job="app"})
        for: 4s
        labels:
          severity: info
        annotations:
          summary: "no workers in {{ $labels.job }}"
`

type promAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    time.Time         `json:"activeAt"`
}

func promAlerts(t *testing.T, url string) []promAlert {
	t.Helper()
	resp, err := http.Get(url + "/api/v1/alerts")
	require.NoError(t, err)
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Alerts []promAlert `json:"alerts"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	return r.Data.Alerts
}

// key is an alert's identity and content, to compare the two sides.
func key(labels, annotations map[string]string) string {
	l, _ := json.Marshal(labels)
	a, _ := json.Marshal(annotations)
	return string(l) + " " + string(a)
}

// TestSideBySideWithPrometheus runs a real Prometheus and vigil on the
// same prometheus.yml and rule file over the same target: the same alerts
// fire with the same labels and annotations, and they become active
// within one evaluation interval (plus the scrape interval, since each
// side scrapes on its own clock) of each other.
func TestSideBySideWithPrometheus(t *testing.T) {
	t.Parallel() // waits on peers and wall-clock intervals
	if testing.Short() {
		t.Skip("starts Prometheus; -short")
	}
	const (
		scrapeInterval = time.Second
		evalInterval   = 2 * time.Second
	)
	exp := &exporter{}
	exp.set("app_queue_depth{queue=\"a\"} 1\napp_queue_depth{queue=\"b\"} 2\n")
	srv := httptest.NewServer(exp)
	defer srv.Close()
	target := srv.Listener.Addr().String()

	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 2s
  external_labels:
    site: lab
rule_files:
  - "*.rules.yml"
scrape_configs:
  - job_name: app
    static_configs:
      - targets: [%q]
`, target)
	prom := peertest.Prometheus(t, cfg, map[string]string{"queue.rules.yml": sideBySideRules})

	// vigil on the very same files.
	vcfg, err := scrape.LoadConfig(filepath.Join(prom.Dir, "prometheus.yml"))
	require.NoError(t, err)
	require.Equal(t, evalInterval, time.Duration(vcfg.Global.EvaluationInterval))
	groups, err := alert.LoadFiles(vcfg.RuleFiles...)
	require.NoError(t, err)
	db := store.New(store.DefaultOptions())
	defer db.Close()
	sm := scrape.NewManager(db, scrape.DefaultOptions())
	defer sm.Close()
	require.NoError(t, sm.ApplyConfig(vcfg))
	events := alert.NewChannelSink(100)
	m, err := alert.NewManager(groups, alert.Options{
		Queryable:      db,
		Appendable:     db,
		EvalInterval:   time.Duration(vcfg.Global.EvaluationInterval),
		ExternalLabels: vcfg.Global.ExternalLabels,
		Sinks:          []alert.Sink{events},
	})
	require.NoError(t, err)
	m.Start()
	defer m.Close()

	// Let both scrape the quiet target (Prometheus applies new targets
	// only every 5s) and evaluate a little, then fill queue a and the sum.
	require.Eventually(t, func() bool {
		resp, err := http.Get(prom.URL + "/api/v1/query?query=up")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `"value":[`)
	}, 30*time.Second, 100*time.Millisecond, "Prometheus never scraped the target")
	require.Eventually(t, func() bool {
		ts := sm.Targets()
		return len(ts) == 1 && ts[0].Health == scrape.HealthUp
	}, 10*time.Second, 50*time.Millisecond, "vigil never scraped the target")
	time.Sleep(2 * evalInterval)
	exp.set("app_queue_depth{queue=\"a\"} 42\napp_queue_depth{queue=\"b\"} 2\n")

	firing := func(want int) (map[string]time.Time, map[string]time.Time) {
		var prom1, vig map[string]time.Time
		require.Eventually(t, func() bool {
			prom1, vig = map[string]time.Time{}, map[string]time.Time{}
			for _, a := range promAlerts(t, prom.URL) {
				if a.State == "firing" {
					prom1[key(a.Labels, a.Annotations)] = a.ActiveAt
				}
			}
			for _, a := range m.Alerts() {
				if a.State == alert.StateFiring {
					vig[key(a.Labels.Map(), a.Annotations.Map())] = a.ActiveAt
				}
			}
			return len(prom1) == want && len(vig) == want
		}, 30*time.Second, 100*time.Millisecond, "want %d firing on each side", want)
		return prom1, vig
	}
	p1, v1 := firing(3)
	for k, pa := range p1 {
		va, ok := v1[k]
		require.True(t, ok, "Prometheus fires %s, vigil does not; vigil has %v", k, v1)
		d := va.Sub(pa).Abs()
		t.Logf("%s: active at %s in Prometheus, %s in vigil (%s apart)", k, pa.Format("15:04:05.000"), va.Format("15:04:05.000"), d)
		// Each side scrapes and evaluates on its own clock: the data can be
		// a scrape interval apart, the evaluations an evaluation interval.
		require.LessOrEqual(t, d, evalInterval+scrapeInterval, "%s: active at %s in Prometheus, %s in vigil", k, pa, va)
	}

	// Queue a drains: both resolve QueueDeep and QueuesDeep; NoWorkers
	// stays.
	exp.set("app_queue_depth{queue=\"a\"} 0\napp_queue_depth{queue=\"b\"} 2\n")
	p2, v2 := firing(1)
	require.Equal(t, keys(p2), keys(v2))

	// The events vigil wrote for the transitions.
	var states []string
	for len(events.C()) > 0 {
		ev := <-events.C()
		states = append(states, string(ev.State)+" "+ev.Rule)
	}
	require.Subset(t, states, []string{"pending QueueDeep", "firing QueueDeep", "resolved QueueDeep", "firing QueuesDeep", "resolved QueuesDeep"})
}

func keys(m map[string]time.Time) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
