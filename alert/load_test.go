package alert_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
)

func fixture(name string) string { return filepath.Join("..", "testdata", "alert", name) }

func TestLoadFiles(t *testing.T) {
	gs, err := alert.LoadFiles(fixture("node-mixin.yml"), fixture("awesome-host.yml"))
	require.NoError(t, err)
	require.Equal(t, 19, alert.RuleCount(gs))
	require.Equal(t, fixture("node-mixin.yml"), gs[0].File)
	require.Equal(t, "node-exporter", gs[0].Name)
}

func TestLoadErrorsNameFileLineRule(t *testing.T) {
	_, err := alert.LoadFiles(fixture("node-mixin.yml"), fixture("bad.yml"), fixture("bad-yaml.yml"), fixture("missing.yml"))
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		fixture("bad.yml") + `: 5:15: group "broken", rule 1, "BadExpr": could not parse expression`,
		fixture("bad.yml") + `: 6:9: group "broken", rule 2, "BadTemplate": annotation "summary"`,
		fixture("bad.yml") + `: 10:17: group "broken", rule 3, "job:up:sum": invalid field 'for' in recording rule`,
		fixture("bad-yaml.yml") + `: yaml: unmarshal errors:` + "\n  line 6: field unknown_field not found",
		fixture("missing.yml") + `: open`,
	} {
		require.Contains(t, msg, want)
	}
}

func TestCheckRules(t *testing.T) {
	var out bytes.Buffer
	ok := alert.CheckRules(&out, fixture("awesome-host.yml"), fixture("bad.yml"))
	require.False(t, ok)
	got := out.String()
	require.True(t, strings.HasPrefix(got, "Checking "+fixture("awesome-host.yml")+"\n  SUCCESS: 8 rules found\n\nChecking "+fixture("bad.yml")+"\n  FAILED:\n"), got)
	require.Contains(t, got, `"BadExpr": could not parse expression`)

	out.Reset()
	require.True(t, alert.CheckRules(&out, fixture("node-mixin.yml")))
	require.Equal(t, "Checking "+fixture("node-mixin.yml")+"\n  SUCCESS: 11 rules found\n", out.String())
}

func TestParseAlertFlag(t *testing.T) {
	for _, tc := range []struct {
		in, name, expr string
		hold           time.Duration
		err            string
	}{
		{in: "HighLoad: node_load1 > 4 for 2m", name: "HighLoad", expr: "node_load1 > 4", hold: 2 * time.Minute},
		{in: "HighLoad:node_load1 > 4", name: "HighLoadNodeLoad1High", expr: "HighLoad:node_load1 > 4"}, // a metric name with a colon
		{in: "node_load1 > 4", name: "NodeLoad1High", expr: "node_load1 > 4"},
		{in: "  up == 0   for 30s ", name: "Up", expr: "up == 0", hold: 30 * time.Second},
		{in: "(node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) < 0.1", name: "NodeMemoryMemAvailableBytesLow", expr: "(node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) < 0.1"},
		{in: "instance:node_cpu:ratio > 0.9", name: "InstanceNodeCpuRatioHigh", expr: "instance:node_cpu:ratio > 0.9"},
		{in: `Disk: node_filesystem_avail_bytes{mountpoint="/"} < 1e9 FOR 1h`, name: "Disk", expr: `node_filesystem_avail_bytes{mountpoint="/"} < 1e9`, hold: time.Hour},
		{in: "vector(1)", name: "Alert", expr: "vector(1)"},
		{in: "", err: "empty"},
		{in: "Name:", err: "no expression"},
		{in: "High Load: x > 1", err: "expression"},
		{in: "9lives: x > 1", err: `name "9lives"`},
		{in: "X: x > 1 for soon", err: `duration after "for"`},
		{in: "X: rate(x[5m]", err: "expression"},
		{in: "X: x[5m]", err: "range vector"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r, err := alert.ParseAlertFlag(tc.in)
			if tc.err != "" {
				require.ErrorIs(t, err, alert.ErrAlertFlag)
				require.ErrorContains(t, err, tc.err)
				require.ErrorContains(t, err, "NAME: EXPR [for DUR]")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.name, r.Alert)
			require.Equal(t, tc.expr, r.Expr)
			require.Equal(t, tc.hold, time.Duration(r.For))
		})
	}
}

// TestAlertFlagRuleEvaluates runs a shorthand rule: its annotations expand.
func TestAlertFlagRuleEvaluates(t *testing.T) {
	gs, err := alert.AlertFlagGroups([]string{"node_load1 > 4", "node_load1 > 8", `Up: up{job="x"} == 0`})
	require.NoError(t, err)
	require.Equal(t, "NodeLoad1High", gs[0].Rules[0].Alert)
	require.Equal(t, "NodeLoad1High2", gs[0].Rules[1].Alert)

	st := newTestStore(t)
	rec := &recorder{}
	m, err := alert.NewManager(gs, alert.Options{Queryable: st, Appendable: st, Sinks: []alert.Sink{rec}})
	require.NoError(t, err)
	st.add(t, t0, 5.5, "node_load1", "instance", "db1:9100")
	m.Eval(context.Background(), t0)
	require.Equal(t, []string{"firing NodeLoad1High"}, rec.take()[:1])
	as := m.Alerts()
	require.Equal(t, "NodeLoad1High on db1:9100: 5.5", as[0].Annotations.Get("summary"))
	require.Equal(t, "node_load1 > 4 is 5.5 on db1:9100.", as[0].Annotations.Get("description"))

	_, err = alert.AlertFlagGroups([]string{"ok: up == 0", "bad: (", "also bad:"})
	require.ErrorContains(t, err, `"bad: ("`)
	require.ErrorContains(t, err, `"also bad:"`)
}

func TestDefaultRules(t *testing.T) {
	gs := alert.DefaultGroups()
	require.GreaterOrEqual(t, alert.RuleCount(gs), 10)
	for _, g := range gs {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Annotations["summary"], r.Alert)
			require.NotEmpty(t, r.Annotations["description"], r.Alert)
			require.NotEmpty(t, r.Labels["severity"], r.Alert)
		}
	}
}

// TestRealWorldRulesEvaluate evaluates the built-in rules and the
// real-world rule files over node_exporter-like data: every rule runs
// without an error, and the loaded hosts go pending on the load rules.
func TestRealWorldRulesEvaluate(t *testing.T) {
	db := newTestStore(t)
	end := t0.Add(time.Hour)
	nodeHosts(t, db.DB, 10, 10, end)
	files, err := alert.LoadFiles(fixture("node-mixin.yml"), fixture("awesome-host.yml"))
	require.NoError(t, err)
	gs := append(alert.DefaultGroups(), files...)
	m, err := alert.NewManager(gs, alert.Options{Queryable: db, Appendable: db})
	require.NoError(t, err)
	m.Eval(t.Context(), end)
	for _, r := range m.Rules() {
		require.Equal(t, alert.HealthOK, r.Health, "%s/%s: %s", r.Group, r.Name, r.LastError)
	}
	pending := map[string]int{}
	for _, a := range m.Alerts() {
		pending[a.Rule]++
	}
	require.Equal(t, map[string]int{"NodeLoadHigh": 1, "NodeSystemSaturation": 1}, pending)
}
