package remote

import (
	"bufio"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape/peertest"
	"github.com/vigilterm/vigil/tui"
)

// The real engines the console reads: Debian's prometheus (2.42), and
// VictoriaMetrics single-node with vmalert (Debian victoria-metrics),
// each scraping the same cmd/fleet targets and evaluating vigil's
// built-in rules. A test skips when one is not installed, and fails under
// CI.

var (
	fleetOnce sync.Once
	fleetBin  string
	fleetErr  error
)

// fleet is a running cmd/fleet: its targets' addresses and file_sd file.
type fleet struct {
	addrs  []string
	sdFile string
}

// startFleet starts n steady fleet targets, the last down of them down.
func startFleet(t *testing.T, n, down int) fleet {
	t.Helper()
	fleetOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vigil-fleet")
		if err != nil {
			fleetErr = err
			return
		}
		fleetBin = filepath.Join(dir, "fleet")
		if out, err := exec.Command("go", "build", "-o", fleetBin, "../../cmd/fleet").CombinedOutput(); err != nil {
			fleetErr = errors.New(string(out))
		}
	})
	require.NoError(t, fleetErr, "build cmd/fleet")
	dir := t.TempDir()
	sd := filepath.Join(dir, "fleet.json")
	for attempt := 0; ; attempt++ {
		base := 20000 + rand.IntN(10000)
		cmd := exec.Command(fleetBin, "-targets", strconv.Itoa(n), "-down", strconv.Itoa(down), "-steady", "-series", "300",
			"-listen", "127.0.0.1:"+strconv.Itoa(base), "-sd-file", sd, "-body", "../../testdata/fleet/node_exporter.prom.txt")
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if line != "fleet: ready "+strconv.Itoa(n)+" targets\n" {
			_ = cmd.Wait()
			require.Less(t, attempt, 5, "fleet did not start")
			continue // a port was taken
		}
		t.Cleanup(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			_ = cmd.Wait()
		})
		f := fleet{sdFile: sd}
		for i := range n {
			f.addrs = append(f.addrs, "127.0.0.1:"+strconv.Itoa(base+i))
		}
		return f
	}
}

// defaultRules is vigil's built-in rule file.
func defaultRules(t *testing.T) string {
	b, err := os.ReadFile("../../alert/default_rules.yml")
	require.NoError(t, err)
	return string(b)
}

func scrapeConfig(f fleet, interval time.Duration) string {
	return "global:\n  scrape_interval: " + interval.String() + "\n  scrape_timeout: " + interval.String() + "\n" +
		"scrape_configs:\n  - job_name: fleet\n    file_sd_configs: [{files: [" + f.sdFile + "]}]\n"
}

// startPrometheus starts Prometheus on the fleet with the built-in rules.
func startPrometheus(t *testing.T, f fleet, interval time.Duration) *peertest.Peer {
	t.Helper()
	cfg := strings.Replace(scrapeConfig(f, interval), "global:\n", "global:\n  evaluation_interval: "+interval.String()+"\n", 1) +
		"rule_files: [rules.yml]\n"
	return peertest.Prometheus(t, cfg, map[string]string{"rules.yml": defaultRules(t)})
}

// startVictoriaMetrics starts VictoriaMetrics scraping the fleet and, with
// rules, vmalert evaluating the built-in rules on it, its rules and
// alerts served through VictoriaMetrics (-vmalert.proxyURL).
func startVictoriaMetrics(t *testing.T, f fleet, interval time.Duration, rules bool) *peertest.Peer {
	t.Helper()
	scrape := filepath.Join(t.TempDir(), "scrape.yml")
	require.NoError(t, os.WriteFile(scrape, []byte(scrapeConfig(f, interval)), 0o600))
	if !rules {
		return peertest.VictoriaMetrics(t, "-promscrape.config="+scrape)
	}
	alertAddr := peertest.FreePort(t)
	vm := peertest.VictoriaMetrics(t, "-promscrape.config="+scrape, "-vmalert.proxyURL=http://"+alertAddr)
	peertest.VMAlert(t, alertAddr, vm.URL, defaultRules(t), "-evaluationInterval="+interval.String())
	return vm
}

func sourceOn(t *testing.T, p *peertest.Peer) *Source {
	t.Helper()
	u, err := ParseURL(p.URL)
	require.NoError(t, err)
	s, err := New(Options{URL: u, Poll: 200 * time.Millisecond})
	require.NoError(t, err)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// TestEngines: what the console reads of Prometheus and of
// VictoriaMetrics with vmalert on the same fleet: the same targets, the
// built-in rules, the down target's alert, the same series and values;
// and what each does not report said as such.
func TestEngines(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for many seconds")
	}
	const interval = time.Second
	f := startFleet(t, 4, 1)
	engines := map[string]*peertest.Peer{
		"prometheus":      startPrometheus(t, f, interval),
		"victoriametrics": startVictoriaMetrics(t, f, interval, true),
	}
	wantRules := strings.Count(defaultRules(t), "- alert: ")
	for name, p := range engines {
		t.Run(name, func(t *testing.T) {
			s := sourceOn(t, p)
			// Targets: every fleet target, the last one down, with its
			// samples and series.
			require.Eventually(t, func() bool {
				ts := s.TargetSource().Targets()
				if len(ts) != len(f.addrs) {
					return false
				}
				for _, tg := range ts {
					if tg.Health == tui.TargetUnknown || tg.Series < 0 {
						return false
					}
				}
				return true
			}, 60*time.Second, 100*time.Millisecond, "targets: %+v", s.TargetSource().Targets())
			require.NoError(t, s.TargetSource().(tui.Reporting).Reporting())
			for _, tg := range s.TargetSource().Targets() {
				require.Equal(t, "fleet", tg.Job)
				require.Contains(t, f.addrs, tg.Instance)
				require.Equal(t, interval, tg.ScrapeInterval)
				if tg.Instance == f.addrs[len(f.addrs)-1] {
					require.Equal(t, tui.TargetDown, tg.Health)
					require.Contains(t, tg.LastError, "connection refused")
					continue
				}
				require.Equal(t, tui.TargetUp, tg.Health, tg.Instance)
				require.Empty(t, tg.LastError)
				require.Equal(t, 300, tg.LastSamples, tg.Instance)
				require.Equal(t, 300, tg.Series, tg.Instance)
			}

			// Rules: the built-in ones; the down target's TargetDown
			// alert, pending first (for: 1m).
			require.Eventually(t, func() bool {
				for _, a := range s.AlertSource().Alerts() {
					if a.Rule == "TargetDown" && a.Labels.Get("instance") == f.addrs[len(f.addrs)-1] {
						return true
					}
				}
				return false
			}, 60*time.Second, 100*time.Millisecond, "alerts: %+v", s.AlertSource().Alerts())
			require.NoError(t, s.AlertSource().(tui.Reporting).Reporting())
			rules := s.RuleSource().Rules()
			require.Len(t, rules, wantRules)
			for _, r := range rules {
				require.Equal(t, tui.RuleOK, r.Health, "%s: %s", r.Name, r.LastError)
				require.NotEmpty(t, r.Expr)
				require.Equal(t, interval, r.Interval)
			}
			a := s.AlertSource().Alerts()[0]
			require.Equal(t, "vigil-targets", a.Group)
			require.Equal(t, "critical", a.Labels.Get("severity"))
			require.Contains(t, a.Annotations.Get("summary"), f.addrs[len(f.addrs)-1])
			require.Equal(t, 0.0, a.Value)
			require.False(t, a.ActiveAt.IsZero())

			// Series: names, label values, series, instant and range.
			now := time.Now()
			names, err := s.LabelValues(context.Background(), labels.MetricName, now.Add(-time.Minute), now)
			require.NoError(t, err)
			require.Contains(t, names, "node_cpu_seconds_total")
			jobs, err := s.LabelValues(context.Background(), "job", now.Add(-time.Minute), now, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "up"))
			require.NoError(t, err)
			require.Equal(t, []string{"fleet"}, jobs)
			lnames, err := s.LabelNames(context.Background(), now.Add(-time.Minute), now, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "node_load1"))
			require.NoError(t, err)
			require.Subset(t, lnames, []string{"__name__", "instance", "job"})
			sets, err := s.Series(context.Background(), now.Add(-time.Minute), now, 2, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "up"))
			require.NoError(t, err)
			require.Len(t, sets, 2, "the limit")
			v, err := s.Instant(context.Background(), `sum(up)`, now)
			require.NoError(t, err)
			require.Equal(t, float64(len(f.addrs)-1), v.(promql.Vector)[0].F)
			mat, err := s.Range(context.Background(), `up`, now.Add(-10*time.Second), now, time.Second)
			require.NoError(t, err)
			require.Len(t, mat, len(f.addrs))
			_, err = s.Instant(context.Background(), `sum(`, now)
			require.ErrorContains(t, err, "parse", "the remote's own error")

			md, err := s.Metadata(context.Background(), "")
			if name == "victoriametrics" {
				require.ErrorIs(t, err, tui.ErrNotReported, "VictoriaMetrics keeps no metadata")
				return
			}
			require.NoError(t, err)
			require.Equal(t, model.MetricTypeCounter, md["node_cpu_seconds_total"][0].Type)
			require.Equal(t, model.MetricTypeGauge, md["node_load1"][0].Type)
		})
	}
}

// TestVictoriaMetricsAlone: without -vmalert.proxyURL, VictoriaMetrics
// answers rules and alerts with empty lists, and without its own scraping
// it lists no targets: not reported, all three.
func TestVictoriaMetricsAlone(t *testing.T) {
	s := sourceOn(t, peertest.VictoriaMetrics(t))
	for what, src := range map[string]tui.Reporting{
		"targets": s.TargetSource().(tui.Reporting), "rules": s.RuleSource().(tui.Reporting), "alerts": s.AlertSource().(tui.Reporting),
	} {
		require.Eventually(t, func() bool { return errors.Is(src.Reporting(), tui.ErrNotReported) }, 30*time.Second, 50*time.Millisecond, what)
	}
	require.Empty(t, s.Warnings())
}
