package alert_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/alert/internal/prom3"
	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/store"
)

const subqueryLimitRules = `groups:
  - name: subquery
    rules:
      - alert: Counted
        expr: count_over_time(app_up[20s:]) > 0
        annotations:
          count: "{{ $value }}"
  - name: limited
    limit: 1
    rules:
      - alert: Down
        expr: app_down == 1
`

// promQuery is an instant query on Prometheus' API: the values by disk
// label.
func promQuery(t *testing.T, base, expr string, at time.Time) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(expr) + "&time=" + strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64))
	require.NoError(t, err)
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	out := map[string]float64{}
	for _, s := range r.Data.Result {
		v, err := strconv.ParseFloat(s.Value[1].(string), 64)
		require.NoError(t, err)
		out[s.Metric["disk"]] = v
	}
	return out
}

// promRuleError is the last error of the named rule in Prometheus.
func promRuleError(t *testing.T, base, name string) string {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/rules")
	require.NoError(t, err)
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name      string `json:"name"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	for _, g := range r.Data.Groups {
		for _, ru := range g.Rules {
			if ru.Name == name {
				return ru.LastError
			}
		}
	}
	return "no such rule"
}

// TestSideBySideSubqueryAndLimit runs Prometheus 3, of the version vigil
// pins, and vigil on the same files and target (issue 18, items 1 and 2):
//
//   - a subquery without a step (x[20s:]) steps at the evaluation
//     interval, in rules ($value) and in queries, on both;
//   - a group's limit, exceeded, drops the rule's alerts on both, the rule
//     failing with the same error, and neither writes ALERTS while it
//     holds; when the limit holds again the alert fires again; vigil
//     reports the drop as a resolved event between the two firings.
func TestSideBySideSubqueryAndLimit(t *testing.T) {
	t.Parallel() // waits on peers and wall-clock intervals
	if testing.Short() {
		t.Skip("starts Prometheus; -short")
	}
	const evalInterval = 2 * time.Second
	exp := &exporter{}
	exp.set("app_up 1\napp_down{disk=\"a\"} 1\n")
	srv := httptest.NewServer(exp)
	defer srv.Close()

	prom := prom3.Prometheus(t, fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 2s
rule_files:
  - "*.rules.yml"
scrape_configs:
  - job_name: app
    static_configs:
      - targets: [%q]
`, srv.Listener.Addr().String()), map[string]string{"side.rules.yml": subqueryLimitRules})

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
	// One engine for rules and queries, as the binary builds it.
	engine := promql.NewEngine(alert.EngineOptions(nil, evalInterval))
	events := alert.NewChannelSink(1000)
	m, err := alert.NewManager(groups, alert.Options{
		Queryable:    db,
		Appendable:   db,
		Engine:       engine,
		EvalInterval: evalInterval,
		Sinks:        []alert.Sink{events},
	})
	require.NoError(t, err)
	m.Start()
	defer m.Close()
	vigilQuery := func(expr string, at time.Time) map[string]float64 {
		vec, err := alert.EngineQueryFunc(engine, db)(t.Context(), expr, at)
		require.NoError(t, err)
		out := map[string]float64{}
		for _, s := range vec {
			out[s.Metric.Get("disk")] = s.F
		}
		return out
	}
	firing := func(name string) (promSide, vigilSide map[string]map[string]string) {
		promSide, vigilSide = map[string]map[string]string{}, map[string]map[string]string{}
		for _, a := range promAlerts(t, prom.URL) {
			if a.Labels["alertname"] == name && a.State == "firing" {
				promSide[a.Labels["disk"]] = a.Annotations
			}
		}
		for _, a := range m.Alerts() {
			if a.Rule == name && a.State == alert.StateFiring {
				vigilSide[a.Labels.Get("disk")] = a.Annotations.Map()
			}
		}
		return promSide, vigilSide
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		if !assert.Eventually(t, cond, 60*time.Second, 200*time.Millisecond, what) {
			p, v := firing("Counted")
			pd, vd := firing("Down")
			t.Fatalf("%s\nPrometheus: Counted %v, Down %v\nvigil: Counted %v, Down %v\nPrometheus log:\n%s", what, p, pd, v, vd, prom.Log())
		}
	}

	// 1. Subqueries without a step, once both have more than the window.
	wait("Counted at 10 on both sides (20s in steps of 2s)", func() bool {
		p, v := firing("Counted")
		return len(p) == 1 && len(v) == 1 && p[""]["count"] == "10" && v[""]["count"] == "10"
	})
	// A moment later, so that at either side the series is older than
	// the window at the time queried.
	time.Sleep(2 * evalInterval)
	at := time.Now().Add(-time.Second)
	require.Equal(t, map[string]float64{"": 10}, promQuery(t, prom.URL, "count_over_time(app_up[20s:])", at))
	require.Equal(t, map[string]float64{"": 10}, vigilQuery("count_over_time(app_up[20s:])", at))

	// 2. The limit. One alert: it fires on both.
	wait("Down firing for a on both sides", func() bool {
		p, v := firing("Down")
		return len(p) == 1 && len(v) == 1 && p["a"] != nil && v["a"] != nil
	})
	// Two alerts, over the limit of one: both drop them, the rule fails.
	exp.set("app_up 1\napp_down{disk=\"a\"} 1\napp_down{disk=\"b\"} 1\n")
	const limitErr = "exceeded limit of 1 with 2 alerts"
	wait("Down dropped on both sides", func() bool {
		p, v := firing("Down")
		rs := m.Rules()
		vigilErr := ""
		for _, r := range rs {
			if r.Name == "Down" {
				vigilErr = r.LastError
			}
		}
		return len(p) == 0 && len(v) == 0 && promRuleError(t, prom.URL, "Down") == limitErr && vigilErr == limitErr
	})
	// While it holds, neither writes ALERTS for the rule.
	time.Sleep(3 * evalInterval)
	now := time.Now()
	for side, age := range map[string]map[string]float64{
		"Prometheus": promQuery(t, prom.URL, `time() - timestamp(ALERTS{alertname="Down"})`, now),
		"vigil":      vigilQuery(`time() - timestamp(ALERTS{alertname="Down"})`, now),
	} {
		require.Contains(t, age, "a", side)
		require.Greater(t, age["a"], 2*evalInterval.Seconds(), "%s wrote ALERTS over the limit", side)
	}
	// Back under the limit (b goes stale on both): it fires again.
	exp.set("app_up 1\napp_down{disk=\"a\"} 1\n")
	wait("Down firing again for a on both sides", func() bool {
		p, v := firing("Down")
		return len(p) == 1 && len(v) == 1 && p["a"] != nil && v["a"] != nil
	})

	// vigil's events for Down: fired, resolved by the drop, fired again.
	var states []string
	for len(events.C()) > 0 {
		if ev := <-events.C(); ev.Rule == "Down" {
			states = append(states, string(ev.State)+" "+ev.Labels.Get("disk"))
		}
	}
	require.Equal(t, []string{"firing a", "resolved a", "firing a"}, states)
}
