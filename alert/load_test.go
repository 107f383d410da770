package alert_test

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/scrape/peertest"
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
		fixture("bad.yml") + `: 9:11: group "broken", rule 2, "BadTemplate": annotation "summary"`,
		fixture("bad.yml") + `: 10:17: group "broken", rule 3, "job:up:sum": invalid field 'for' in recording rule`,
		fixture("bad-yaml.yml") + `: yaml: unmarshal errors:` + "\n  line 6: field unknown_field not found",
		fixture("missing.yml") + `: open`,
	} {
		require.Contains(t, msg, want)
	}
}

func TestCheckRules(t *testing.T) {
	var out, errOut bytes.Buffer
	ok := alert.CheckRules(&out, &errOut, alert.LoadOptions{}, fixture("awesome-host.yml"), fixture("bad.yml"))
	require.False(t, ok)
	require.Equal(t, "Checking "+fixture("awesome-host.yml")+"\n  SUCCESS: 8 rules found\n\nChecking "+fixture("bad.yml")+"\n\n", out.String())
	require.True(t, strings.HasPrefix(errOut.String(), "  FAILED:\n"), errOut.String())
	require.Contains(t, errOut.String(), `"BadExpr": could not parse expression`)

	out.Reset()
	errOut.Reset()
	require.True(t, alert.CheckRules(&out, &errOut, alert.LoadOptions{}, fixture("node-mixin.yml")))
	require.Equal(t, "Checking "+fixture("node-mixin.yml")+"\n  SUCCESS: 11 rules found\n\n", out.String())
	require.Empty(t, errOut.String())

	// An unknown field fails, unless it is to be ignored.
	out.Reset()
	errOut.Reset()
	require.False(t, alert.CheckRules(&out, &errOut, alert.LoadOptions{}, fixture("bad-yaml.yml")))
	require.True(t, alert.CheckRules(&out, &errOut, alert.LoadOptions{IgnoreUnknownFields: true}, fixture("bad-yaml.yml")))
}

// TestCheckRulesPlaces: every problem is reported once, with its line and
// column, where rulefmt gives none or 0:0.
func TestCheckRulesPlaces(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"bad-groups.yml", []string{
			`6:5: groupname: "a" is repeated in the same file`,
			`10:5: Groupname must not be empty`,
		}},
		{"bad-durations.yml", []string{
			`6:14: group "durations", rule 1, "BadFor": for: unknown unit "x" in duration "5x"`,
		}},
		{"bad-names.yml", []string{
			`4:7: group "names": invalid label name: `,
			`9:11: group "names", rule 1, "X": invalid label name: __name__`,
			`11:11: group "names", rule 1, "X": invalid annotation name: `,
			`12:11: group "names", rule 1, "X": annotation "ok": template: __alert_X:1: unclosed action`,
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var out, errOut bytes.Buffer
			require.False(t, alert.CheckRules(&out, &errOut, alert.LoadOptions{}, fixture(tc.file)))
			want := "  FAILED:\n"
			for _, w := range tc.want {
				want += fixture(tc.file) + ": " + w + "\n"
			}
			require.Equal(t, want, errOut.String())
		})
	}
}

// TestCheckRulesGroupPlacesAsPromtool2: Debian's promtool (2.42) places
// the errors of a group's name; vigil places them where it does.
func TestCheckRulesGroupPlacesAsPromtool2(t *testing.T) {
	promtool := peertest.Need(t, "prometheus", "promtool")
	out, _ := exec.Command(promtool, "check", "rules", fixture("bad-groups.yml")).CombinedOutput()
	place := regexp.MustCompile(`(?m)^\S+: (\d+:\d+): `)
	theirs := place.FindAllStringSubmatch(string(out), -1)
	require.Len(t, theirs, 2, "%s", out)
	var errOut bytes.Buffer
	alert.CheckRules(io.Discard, &errOut, alert.LoadOptions{}, fixture("bad-groups.yml"))
	ours := place.FindAllStringSubmatch(errOut.String(), -1)
	require.Len(t, ours, 2, "%s", errOut.String())
	for i := range theirs {
		require.Equal(t, theirs[i][1], ours[i][1])
	}
}

// TestCheckRulesWarnsOfNonClassicNames: a label or annotation name of an
// alerting rule that an Alertmanager before 0.27 refuses is a warning with
// its place, not a failure.
func TestCheckRulesWarnsOfNonClassicNames(t *testing.T) {
	var out, errOut bytes.Buffer
	require.True(t, alert.CheckRules(&out, &errOut, alert.LoadOptions{}, fixture("utf8-names.yml")))
	require.Equal(t, "Checking "+fixture("utf8-names.yml")+"\n  SUCCESS: 2 rules found\n\n", out.String())
	f := fixture("utf8-names.yml")
	require.Equal(t, "  WARNING: 3 label or annotation name(s) that Alertmanager before 0.27 refuses (400 invalid label set): it takes [a-zA-Z_][a-zA-Z0-9_]* only.\n"+
		f+`: 4:7: group "utf8": label name "team-name"`+"\n"+
		f+`: 9:11: group "utf8", rule 1, "X": label name "bad-label"`+"\n"+
		f+`: 11:11: group "utf8", rule 1, "X": annotation name "runbook.url"`+"\n", errOut.String())
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

// TestCheckRulesFrom checks a rule file from standard input, as promtool
// check rules does without a file.
func TestCheckRulesFrom(t *testing.T) {
	var out, errOut bytes.Buffer
	require.True(t, alert.CheckRulesFrom(&out, &errOut, alert.LoadOptions{}, strings.NewReader("groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n")))
	require.Equal(t, "Checking standard input\n  SUCCESS: 1 rules found\n\n", out.String())
	out.Reset()
	require.False(t, alert.CheckRulesFrom(&out, &errOut, alert.LoadOptions{}, strings.NewReader("groups:\n  - name: \"\"\n    rules: []\n")))
	require.Equal(t, "Checking standard input\n\n", out.String())
	require.Equal(t, "  FAILED:\nstandard input: 2:5: Groupname must not be empty\n", errOut.String())
}
