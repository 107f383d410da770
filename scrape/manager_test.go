package scrape_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape"
)

func server(t *testing.T, text string) string {
	t.Helper()
	b := &body{}
	b.set(text)
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func jobConfig(t *testing.T, interval time.Duration, targets ...string) *scrape.Config {
	t.Helper()
	cfg, err := scrape.NewStaticConfig(targets, interval)
	require.NoError(t, err)
	return cfg
}

func healthOf(m *scrape.Manager, instance string) (scrape.TargetHealth, bool) {
	for _, h := range m.Targets() {
		if h.Instance == instance {
			return h, true
		}
	}
	return scrape.TargetHealth{}, false
}

func waitUp(t *testing.T, m *scrape.Manager, instance string) {
	t.Helper()
	require.Eventually(t, func() bool {
		h, ok := healthOf(m, instance)
		return ok && h.Health == scrape.HealthUp
	}, 10*time.Second, 10*time.Millisecond, "%s never came up: %+v", instance, m.Targets())
}

func TestManagerReload(t *testing.T) {
	db := newTestDB(t)
	a := server(t, "m{s=\"a\"} 1\n")
	b := server(t, "m{s=\"b\"} 2\n")
	const iv = 200 * time.Millisecond
	m := scrape.NewManager(db, scrape.Options{
		Internal: []scrape.InternalTarget{{Job: "vigil", Instance: "self", Collect: func(_ context.Context, w io.Writer) error {
			_, err := io.WriteString(w, "vigil_up 1\n")
			return err
		}}},
	})
	defer m.Close()

	require.NoError(t, m.ApplyConfig(jobConfig(t, iv, a, b)))
	require.Len(t, m.Targets(), 3)
	for _, h := range m.Targets() {
		require.NotEqual(t, scrape.HealthDown, h.Health) // unknown until the first scrape, then up
	}
	waitUp(t, m, a)
	waitUp(t, m, b)
	waitUp(t, m, "self")

	// A config that cannot be applied changes nothing.
	bad := jobConfig(t, iv, a)
	bad.ScrapeConfigs[0].HTTPClientConfig.TLSConfig.CAFile = "/nonexistent/ca.pem"
	require.ErrorContains(t, m.ApplyConfig(bad), `job "node"`)
	require.Len(t, m.Targets(), 3)

	// Reload without b: a goes on without a gap or a stale marker, b gets
	// stale markers for its series and synthetic series.
	require.NoError(t, m.ApplyConfig(jobConfig(t, iv, a)))
	require.Len(t, m.Targets(), 2)
	bSeries := labels.FromStrings("__name__", "m", "s", "b", "job", "node", "instance", b)
	bUp := labels.FromStrings("__name__", "up", "job", "node", "instance", b)
	require.Eventually(t, func() bool {
		s, ok := db.last(bSeries)
		u, _ := db.last(bUp)
		return ok && isStale(s.V) && isStale(u.V)
	}, 10*time.Second, 20*time.Millisecond, "b's series get stale markers")
	aSeries := labels.FromStrings("__name__", "m", "s", "a", "job", "node", "instance", a)
	for _, s := range db.samples(aSeries) {
		require.False(t, isStale(s.V), "a was never marked stale")
	}
	n := len(db.samples(aSeries))
	require.Eventually(t, func() bool { return len(db.samples(aSeries)) > n+1 }, 10*time.Second, 20*time.Millisecond)
}

func TestManagerFileSD(t *testing.T) {
	db := newTestDB(t)
	a := server(t, "fa 1\n")
	b := server(t, "fb 1\n")
	dir := t.TempDir()
	sd := filepath.Join(dir, "targets.json")
	require.NoError(t, os.WriteFile(sd, []byte(fmt.Sprintf(`[{"targets": [%q], "labels": {"env": "test"}}]`, a)), 0o600))
	cfgPath := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(`
global:
  scrape_interval: 200ms
scrape_configs:
  - job_name: sd
    file_sd_configs:
      - files: ["*.json", "*.yml"]
`), 0o600))
	cfg, err := scrape.LoadConfig(cfgPath)
	require.NoError(t, err)
	m := scrape.NewManager(db, scrape.Options{FileSDPoll: 20 * time.Millisecond})
	defer m.Close()
	require.NoError(t, m.ApplyConfig(cfg))
	waitUp(t, m, a)
	h, _ := healthOf(m, a)
	require.Equal(t, "test", h.Labels.Get("env"))

	// A broken file keeps the last good targets.
	require.NoError(t, os.WriteFile(sd, []byte(`[{"targets": [`), 0o600))
	time.Sleep(100 * time.Millisecond)
	_, ok := healthOf(m, a)
	require.True(t, ok)

	// A changed file and a new YAML file are picked up.
	require.NoError(t, os.WriteFile(sd, []byte(`[]`), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "more.yml"), []byte(fmt.Sprintf("- targets: [%q]\n", b)), 0o600))
	waitUp(t, m, b)
	require.Eventually(t, func() bool { _, ok := healthOf(m, a); return !ok }, 5*time.Second, 10*time.Millisecond)
	s, ok := db.last(labels.FromStrings("__name__", "fb", "job", "sd", "instance", b))
	require.True(t, ok)
	require.Equal(t, 1.0, s.V)
}

func TestManagerDownTarget(t *testing.T) {
	db := newTestDB(t)
	m := scrape.NewManager(db, scrape.Options{})
	defer m.Close()
	cfg := jobConfig(t, 100*time.Millisecond, "127.0.0.1:1")
	require.NoError(t, m.ApplyConfig(cfg))
	require.Eventually(t, func() bool {
		h, _ := healthOf(m, "127.0.0.1:1")
		return h.Health == scrape.HealthDown
	}, 10*time.Second, 10*time.Millisecond)
	h, _ := healthOf(m, "127.0.0.1:1")
	require.Contains(t, h.LastError, "connection refused")
	require.Equal(t, 100*time.Millisecond, h.ScrapeInterval)
	require.Equal(t, "http://127.0.0.1:1/metrics", h.URL)
	require.False(t, h.LastScrape.IsZero())
	m.Close()
	require.ErrorIs(t, m.ApplyConfig(cfg), scrape.ErrClosed)
}

func TestManagerLocalConfig(t *testing.T) {
	db := newTestDB(t)
	m := scrape.NewManager(db, scrape.Options{})
	defer m.Close()
	require.NoError(t, m.ApplyConfig(scrape.NewLocalConfig(100*time.Millisecond)))
	host, _ := os.Hostname()
	waitUp(t, m, host)
	h, _ := healthOf(m, host)
	require.Equal(t, "node", h.Job)
	require.Equal(t, "local:/proc", h.URL)
	require.Greater(t, h.Series, 10)
	ls := db.series("node_load1")
	require.Len(t, ls, 1)
	require.Equal(t, host, ls[0].Get(model.InstanceLabel))
}

// TestReloadChangedRelabeling: when a job's metric_relabel_configs change,
// the series the new rules drop go stale and the others go on.
func TestReloadChangedRelabeling(t *testing.T) {
	db := newTestDB(t)
	addr := server(t, "keep 1\ngo_away 2\n")
	m := scrape.NewManager(db, scrape.Options{})
	defer m.Close()
	cfg := jobConfig(t, 100*time.Millisecond, addr)
	require.NoError(t, m.ApplyConfig(cfg))
	keep := labels.FromStrings("__name__", "keep", "job", "node", "instance", addr)
	away := labels.FromStrings("__name__", "go_away", "job", "node", "instance", addr)
	require.Eventually(t, func() bool { _, ok := db.last(away); return ok }, 10*time.Second, 10*time.Millisecond)

	next := loadString(t, fmt.Sprintf(`
global: {scrape_interval: 100ms}
scrape_configs:
  - job_name: node
    static_configs: [{targets: [%q]}]
    metric_relabel_configs:
      - {source_labels: [__name__], regex: "go_.*", action: drop}
`, addr))
	require.NoError(t, m.ApplyConfig(next))
	require.Eventually(t, func() bool { s, _ := db.last(away); return isStale(s.V) }, 10*time.Second, 10*time.Millisecond)
	n := len(db.samples(keep))
	require.Eventually(t, func() bool { return len(db.samples(keep)) > n+2 }, 10*time.Second, 10*time.Millisecond)
	for _, s := range db.samples(keep) {
		require.False(t, isStale(s.V))
	}
}
