package alert_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/scrape/peertest"
	"github.com/vigilterm/vigil/store"
)

// TestDefaultRulesOnRealHosts scrapes this machine, through vigil's
// built-in local target and through a real node_exporter, and evaluates
// the built-in rules: every rule runs cleanly, every metric they use
// exists (the local target has no clock metrics), and no target is down.
func TestDefaultRulesOnRealHosts(t *testing.T) {
	t.Parallel() // waits on peers and wall-clock intervals
	if testing.Short() {
		t.Skip("scrapes for seconds; -short")
	}
	for _, tc := range []struct {
		name    string
		config  func(t *testing.T) *scrape.Config
		missing string // metric-name prefix allowed to be absent
	}{
		{"local target", func(*testing.T) *scrape.Config { return scrape.NewLocalConfig(500 * time.Millisecond) }, "node_timex_"},
		{"node_exporter", func(t *testing.T) *scrape.Config {
			ne := peertest.NodeExporter(t)
			cfg, err := scrape.NewStaticConfig([]string{ne.Addr}, 500*time.Millisecond)
			require.NoError(t, err)
			return cfg
		}, "\x00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := store.New(store.DefaultOptions())
			defer db.Close()
			sm := scrape.NewManager(db, scrape.DefaultOptions())
			defer sm.Close()
			require.NoError(t, sm.ApplyConfig(tc.config(t)))
			// Enough scrapes for the rate()s.
			time.Sleep(2500 * time.Millisecond)

			m, err := alert.NewManager(alert.DefaultGroups(), alert.Options{Queryable: db, Appendable: db})
			require.NoError(t, err)
			defer m.Close()
			now := time.Now()
			m.Eval(t.Context(), now)
			for _, r := range m.Rules() {
				require.Equal(t, alert.HealthOK, r.Health, "%s: %s", r.Name, r.LastError)
			}
			for _, a := range m.Alerts() {
				require.NotEqual(t, "TargetDown", a.Rule, "%v", a.Labels)
			}

			q, err := db.Querier(now.Add(-time.Minute).UnixMilli(), now.UnixMilli())
			require.NoError(t, err)
			defer q.Close()
			for _, name := range defaultRuleMetrics(t) {
				if strings.HasPrefix(name, tc.missing) {
					continue
				}
				ss := q.Select(t.Context(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", name))
				require.True(t, ss.Next(), "no %s from the %s", name, tc.name)
			}
		})
	}
}

// defaultRuleMetrics lists the metric names the built-in rules select.
func defaultRuleMetrics(t *testing.T) []string {
	seen := map[string]bool{}
	var out []string
	for _, g := range alert.DefaultGroups() {
		for _, r := range g.Rules {
			expr, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr)
			require.NoError(t, err)
			parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
				if vs, ok := n.(*parser.VectorSelector); ok && !seen[vs.Name] {
					seen[vs.Name] = true
					out = append(out, vs.Name)
				}
				return nil
			})
		}
	}
	return out
}
