package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/store"
	"github.com/vigilterm/vigil/tui"
)

// testOptions are the flags' defaults, on the targets given.
func testOptions(dataDir string, targets ...string) Options {
	return Options{
		Targets:          targets,
		ScrapeInterval:   50 * time.Millisecond,
		EvalInterval:     50 * time.Millisecond,
		Retention:        time.Hour,
		MaxSeries:        1_000_000,
		DataDir:          dataDir,
		SnapshotInterval: time.Minute,
		Events:           "none",
		Console:          true,
		Begin:            time.Now(),
	}
}

func open(t *testing.T, o Options) (*Pipeline, error) {
	t.Helper()
	p, err := Load(o)
	require.NoError(t, err)
	logger := slog.New(slog.DiscardHandler)
	return p, p.Open(logger, promql.NewEngine(alert.DefaultEngineOptions(logger)))
}

// TestLoadRefuses: what cannot run is refused by Load, before anything
// is opened, with what and where.
func TestLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfg, []byte("scrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['a:9100']\n"), 0o600))
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"a bare target beside the config's job of that name", func(o *Options) { o.ConfigFile, o.Targets = cfg, []string{"b:9100"} }, cfg + ` already has a job "node"`},
		{"an Alertmanager that is no URL", func(o *Options) { o.Alertmanagers = []string{"localhost:9093"} }, `--alertmanager "localhost:9093": want a URL`},
		{"a rule file that is not there", func(o *Options) { o.RuleFiles = []string{filepath.Join(dir, "none.yml")} }, "none.yml"},
		{"a rule that does not parse", func(o *Options) { o.Alerts = []string{"Broken: rate(x[5m]"} }, "Broken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(filepath.Join(dir, "data"))
			tc.edit(&o)
			_, err := Load(o)
			require.ErrorContains(t, err, tc.want)
			require.NoDirExists(t, o.DataDir, "nothing is written before the checks pass")
		})
	}
}

// TestPipeline runs the whole pipeline on a target: scraped, evaluated,
// read through the console's options; the data dir is held while it
// runs, and after Stop its final snapshot holds what was scraped.
func TestPipeline(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "# TYPE node_load1 gauge\nnode_load1 0.5\n")
	}))
	defer target.Close()
	dataDir := t.TempDir()
	addr := strings.TrimPrefix(target.URL, "http://")

	p, err := open(t, testOptions(dataDir, addr))
	require.NoError(t, err)
	require.NoError(t, p.Start())
	stopped := false
	defer func() {
		if !stopped {
			_ = p.Stop()
		}
	}()
	require.Positive(t, p.RuleCount(), "the built-in rules")
	require.Equal(t, 2, p.TargetCount(), "the target and vigil's own")

	opts := p.ConsoleOptions()
	up := func() bool {
		for _, tg := range opts.Targets.Targets() {
			if tg.Instance == addr {
				return tg.Health == tui.TargetUp
			}
		}
		return false
	}
	require.Eventually(t, up, 20*time.Second, 10*time.Millisecond)
	require.NotEmpty(t, opts.Rules.Rules())
	v, err := opts.Querier.Instant(context.Background(), "node_load1", time.Now())
	require.NoError(t, err)
	require.Contains(t, v.String(), "0.5")
	require.Empty(t, p.Warnings())

	_, err = open(t, testOptions(dataDir, addr))
	var locked *store.LockedError
	require.True(t, errors.As(err, &locked), "a second pipeline on the data dir: %v", err)

	require.NoError(t, p.Stop())
	stopped = true
	require.NoError(t, p.Stop(), "twice is fine")

	again, err := open(t, testOptions(dataDir, addr))
	require.NoError(t, err)
	defer again.Stop()
	require.Positive(t, again.db.Stats().Restore.Series, "the final snapshot")
}

// TestSilencesKept: a silence set through the console's options is in
// the data dir, and the next pipeline starts with it.
func TestSilencesKept(t *testing.T) {
	dataDir := t.TempDir()
	ls := labels.FromStrings("alertname", "HostDown", "instance", "db1:9100")
	until := time.Now().Add(time.Hour)

	p, err := open(t, testOptions(dataDir, "127.0.0.1:1"))
	require.NoError(t, err)
	require.NoError(t, p.Start())
	require.NoError(t, p.ConsoleOptions().Silences.Silence(context.Background(), ls, until))
	require.NoError(t, p.Stop())
	require.FileExists(t, filepath.Join(dataDir, alert.SilencesFileName))

	p, err = open(t, testOptions(dataDir, "127.0.0.1:1"))
	require.NoError(t, err)
	require.NoError(t, p.Start())
	defer p.Stop()
	require.True(t, until.Equal(p.rules.SilencedUntil(ls, time.Now())))
}

// TestConsoleEvents: with a console, the rules' events reach it, in its
// type, and with --events they go to stdout too.
func TestConsoleEvents(t *testing.T) {
	o := testOptions("", "127.0.0.1:1")
	o.Alerts = []string{"Always: vector(1) > 0"}
	o.Events = "json"
	var out lockedBuffer
	o.Stdout = &out
	p, err := open(t, o)
	require.NoError(t, err)
	require.NoError(t, p.Start())
	defer p.Stop()
	select {
	case e := <-p.ConsoleOptions().AlertEvents:
		require.Equal(t, tui.StateFiring, e.State)
		require.Equal(t, "Always", e.Labels.Get("alertname"))
	case <-time.After(20 * time.Second):
		t.Fatal("no event reached the console")
	}
	require.Eventually(t, func() bool { return strings.Contains(out.String(), `"alertname":"Always"`) }, 20*time.Second, 10*time.Millisecond)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
