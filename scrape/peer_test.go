package scrape_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/scrape/peertest"
)

// recorder is a proxy in front of a real exporter that keeps the last body
// it passed on, so a test can compare what vigil stored with exactly what
// the exporter sent.
type recorder struct {
	target string
	mu     sync.Mutex
	body   []byte
	header http.Header
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	out, _ := http.NewRequestWithContext(req.Context(), http.MethodGet, r.target+req.URL.Path, nil)
	out.Header = req.Header.Clone()
	out.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultClient.Do(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r.mu.Lock()
	r.body, r.header = b, resp.Header.Clone()
	r.mu.Unlock()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	w.Write(b)
}

// decodeSamples parses a text-format body with expfmt, a parser
// independent of the textparse one vigil uses.
func decodeSamples(t *testing.T, b []byte, h http.Header) model.Vector {
	t.Helper()
	dec := expfmt.SampleDecoder{
		Dec:  expfmt.NewDecoder(bytes.NewReader(b), expfmt.ResponseFormat(h)),
		Opts: &expfmt.DecodeOptions{Timestamp: 0},
	}
	var all model.Vector
	for {
		var v model.Vector
		if err := dec.Decode(&v); err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
		all = append(all, v...)
	}
	return all
}

func toLabels(m model.Metric, extra ...string) labels.Labels {
	b := labels.NewScratchBuilder(len(m) + 2)
	for k, v := range m {
		if v != "" { // Prometheus stores no empty labels
			b.Add(string(k), string(v))
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		b.Add(extra[i], extra[i+1])
	}
	b.Sort()
	return b.Labels()
}

func sameValue(a, b float64) bool {
	return a == b || math.IsNaN(a) && math.IsNaN(b)
}

// TestNodeExporterEverySeries: every series of a direct GET of a real
// node_exporter's /metrics is in the store with the right labels, and the
// value stored is the one of that very scrape.
func TestNodeExporterEverySeries(t *testing.T) {
	ne := peertest.NodeExporter(t)
	rec := &recorder{target: ne.URL}
	proxy := httptest.NewServer(rec)
	defer proxy.Close()
	addr := proxy.Listener.Addr().String()

	db := newTestDB(t)
	l := newTestLoopAt(t, addr, db, func(sc *scrape.ScrapeConfig) { sc.JobName = "node" })
	h := l.Scrape(t0)
	require.Equal(t, scrape.HealthUp, h.Health, h.LastError)

	rec.mu.Lock()
	body, hdr := rec.body, rec.header
	rec.mu.Unlock()
	want := decodeSamples(t, body, hdr)
	require.Greater(t, len(want), 100)
	require.Equal(t, len(want), h.LastSamples)
	for _, s := range want {
		ls := normalizeLe(toLabels(s.Metric, "job", "node", "instance", addr))
		got, ok := db.last(ls)
		require.True(t, ok, "series %s is missing", ls)
		require.Equal(t, t0.UnixMilli(), got.T, ls.String())
		require.True(t, sameValue(float64(s.Value), got.V), "%s: node_exporter sent %v, stored %v", ls, s.Value, got.V)
	}
	// And a direct GET, not through the proxy, names the same series.
	resp, err := http.Get(ne.URL + "/metrics")
	require.NoError(t, err)
	direct, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	stored := map[string]bool{}
	for _, ls := range db.series("") {
		stored[ls.String()] = true
	}
	missing := 0
	for _, s := range decodeSamples(t, direct, resp.Header) {
		if !stored[normalizeLe(toLabels(s.Metric, "job", "node", "instance", addr)).String()] {
			missing++
			t.Logf("not in the store (new since the scrape?): %s", s.Metric)
		}
	}
	require.LessOrEqual(t, missing, 2, "the direct GET and the scrape name the same series")
}

// normalizeLe writes le and quantile values as Prometheus 3 (and the
// textparse vigil uses) store them: "1" becomes "1.0". The Debian
// Prometheus is 2.x, which keeps them as sent.
func normalizeLe(ls labels.Labels) labels.Labels {
	b := labels.NewBuilder(ls)
	for _, n := range []string{"le", "quantile"} {
		v := ls.Get(n)
		if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(f, 0) && f == math.Trunc(f) && !strings.Contains(v, ".") {
			b.Set(n, v+".0")
		}
	}
	return b.Labels()
}

// promQuery runs an instant query against a real Prometheus.
func promQuery(t *testing.T, base, q string) model.Vector {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	require.NoError(t, err)
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result model.Vector `json:"result"`
		} `json:"data"`
		Error string `json:"error"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	require.Equal(t, "success", r.Status, r.Error)
	return r.Data.Result
}

// fixedBody is served unchanged to vigil and Prometheus alike: counters, a
// gauge whose job and instance clash with the target's, escapes, NaN and
// Inf, a series metric relabeling drops, a histogram and a summary.
var fixedBody = func() string {
	b, err := os.ReadFile("../testdata/scrape/fixed.prom.txt")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// TestSideBySideWithPrometheus loads one prometheus.yml into both vigil
// and a real Prometheus, scrapes the same targets, and compares the series,
// the values and the synthetic series.
func TestSideBySideWithPrometheus(t *testing.T) {
	ne := peertest.NodeExporter(t)
	fixed := server(t, fixedBody)
	config := fmt.Sprintf(`
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: fixed
    static_configs:
      - targets: [%q]
        labels:
          env: test
    relabel_configs:
      - source_labels: [__address__]
        target_label: addr_copy
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: drop_me.*
        action: drop
  - job_name: node
    static_configs:
      - targets: [%q]
`, fixed, ne.Addr)
	prom := peertest.Prometheus(t, config, nil)

	dir := t.TempDir()
	path := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(path, []byte(config), 0o600))
	cfg, err := scrape.LoadConfig(path)
	require.NoError(t, err)
	db := newTestDB(t)
	m := scrape.NewManager(db, scrape.Options{})
	defer m.Close()
	require.NoError(t, m.ApplyConfig(cfg))
	waitUp(t, m, fixed)
	waitUp(t, m, ne.Addr)
	require.Eventually(t, func() bool {
		return len(promQuery(t, prom.URL, `up == 1`)) == 2 && len(promQuery(t, prom.URL, `scrape_series_added{job="fixed"} == 0`)) == 1 &&
			len(promQuery(t, prom.URL, `scrape_series_added{job="node"} < 5`)) == 1
	}, 60*time.Second, 200*time.Millisecond, "Prometheus scrapes both targets:\n%s", prom.Log())
	require.Eventually(t, func() bool {
		s, ok := db.last(labels.FromStrings("__name__", "scrape_series_added", "job", "fixed", "instance", fixed, "env", "test", "addr_copy", fixed))
		n, nok := db.last(labels.FromStrings("__name__", "scrape_series_added", "job", "node", "instance", ne.Addr))
		return ok && s.V == 0 && nok && n.V < 5
	}, 10*time.Second, 50*time.Millisecond, "vigil scraped both targets twice")
	m.Close() // stop scraping so the store holds still while we compare

	// The fixed target: the same series with the same values.
	promFixed := promQuery(t, prom.URL, `{job="fixed"}`)
	var vigilFixed []string
	for _, ls := range db.series("") {
		if ls.Get("job") == "fixed" && !strings.HasPrefix(ls.Get("__name__"), "scrape_") && ls.Get("__name__") != "up" {
			vigilFixed = append(vigilFixed, ls.String())
		}
	}
	var promNames []string
	for _, s := range promFixed {
		ls := normalizeLe(toLabels(s.Metric))
		name := ls.Get("__name__")
		if strings.HasPrefix(name, "scrape_") || name == "up" {
			continue
		}
		promNames = append(promNames, ls.String())
		got, ok := db.last(ls)
		require.True(t, ok, "%s is in Prometheus but not in vigil", ls)
		require.True(t, sameValue(float64(s.Value), got.V), "%s: Prometheus %v, vigil %v", ls, s.Value, got.V)
	}
	sort.Strings(promNames)
	require.Equal(t, promNames, vigilFixed)
	require.Contains(t, strings.Join(vigilFixed, "\n"), `exported_instance="sensor-1", exported_job="inner"`)

	// The synthetic series agree (the duration only in being there).
	for _, job := range []string{"fixed", "node"} {
		for _, name := range []string{"up", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added", "scrape_duration_seconds"} {
			pv := promQuery(t, prom.URL, fmt.Sprintf(`%s{job=%q}`, name, job))
			require.Len(t, pv, 1, "%s{job=%q} in Prometheus", name, job)
			ls := toLabels(pv[0].Metric)
			got, ok := db.last(ls)
			require.True(t, ok, "%s is in Prometheus but not in vigil", ls)
			switch name {
			case "scrape_duration_seconds":
				require.Greater(t, got.V, 0.0)
			case "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added":
				if job == "node" { // node_exporter's own series come and go a little
					require.InDelta(t, float64(pv[0].Value), got.V, 5, ls.String())
					continue
				}
				fallthrough
			default:
				require.Equal(t, float64(pv[0].Value), got.V, ls.String())
			}
		}
	}

	// The node_exporter target: the same series (values move, names don't).
	promNode := map[string]bool{}
	for _, s := range promQuery(t, prom.URL, `{job="node"}`) {
		promNode[toLabels(s.Metric).String()] = true
	}
	vigilNode := map[string]bool{}
	for _, ls := range db.series("") {
		if ls.Get("job") == "node" {
			vigilNode[ls.String()] = true
		}
	}
	diff := 0
	for k := range promNode {
		if !vigilNode[k] {
			diff++
			t.Logf("only in Prometheus: %s", k)
		}
	}
	for k := range vigilNode {
		if !promNode[k] {
			diff++
			t.Logf("only in vigil: %s", k)
		}
	}
	require.LessOrEqual(t, diff, 4, "node_exporter series differ between Prometheus and vigil")
}
