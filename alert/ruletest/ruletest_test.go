package ruletest_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"go.yaml.in/yaml/v3"

	"github.com/vigilterm/vigil/alert/internal/prom3"
	"github.com/vigilterm/vigil/alert/ruletest"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestRun")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// result is one run: exit code and both streams.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// invocation is a command line of `test rules` after its name: flags, then
// test files.
type invocation []string

// vigil runs it through ruletest.Run, as `vigil test rules` does.
func (inv invocation) vigil(t *testing.T) result {
	t.Helper()
	var out, errOut bytes.Buffer
	o := ruletest.Options{Stdout: &out, Stderr: &errOut}
	var files []string
	var junit string
	for i := 0; i < len(inv); i++ {
		switch a := inv[i]; {
		case a == "--run":
			i++
			o.Run = append(o.Run, inv[i])
		case a == "--debug":
			o.Debug = true
		case a == "--ignore-unknown-fields":
			o.IgnoreUnknownFields = true
		case a == "--junit":
			i++
			junit = inv[i]
		default:
			files = append(files, a)
		}
	}
	var jb bytes.Buffer
	if junit != "" {
		o.JUnit = &jb
	}
	code, err := ruletest.Run(o, files...)
	if err != nil {
		errOut.WriteString(err.Error() + "\n")
	}
	if junit != "" {
		require.NoError(t, os.WriteFile(junit, jb.Bytes(), 0o600))
	}
	return result{code, out.String(), errOut.String()}
}

// promtool runs it through promtool 3 test rules, from the package's
// directory.
func (inv invocation) promtool(t *testing.T, bin string) result {
	t.Helper()
	args := []string{"test"}
	var rest []string
	for i := 0; i < len(inv); i++ {
		if inv[i] == "--junit" { // a flag of `test`, not of `test rules`
			args = append(args, "--junit", inv[i+1])
			i++
			continue
		}
		rest = append(rest, inv[i])
	}
	cmd := exec.Command(bin, append(append(args, "rules"), rest...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if err != nil {
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "%s", errOut.String())
		code = exit.ExitCode()
	}
	return result{code, out.String(), errOut.String()}
}

// ownCases are this package's test files: what they show is in their
// comments.
var ownCases = []struct {
	name string
	inv  invocation
}{
	{"pass", invocation{"testdata/pass.yml"}},
	{"fail", invocation{"testdata/fail.yml"}},
	{"both files", invocation{"testdata/fail.yml", "testdata/pass.yml"}},
	{"run", invocation{"--run", "^over", "--run", "alertname$", "testdata/fail.yml"}},
	{"order repeated", invocation{"testdata/order.yml"}},
	{"unknown rule fields", invocation{"testdata/extra-fields.yml"}},
	{"ignore unknown rule fields", invocation{"--ignore-unknown-fields", "testdata/extra-fields.yml"}},
	{"unknown test field", invocation{"testdata/unknown-field.yml"}},
	{"bad rule file", invocation{"testdata/bad-rule-file.yml"}},
	{"missing file", invocation{"testdata/pass.yml", "testdata/nothing-here.yml"}}, // nothing runs
}

// TestRun runs the package's test files: the results are the golden
// files', which TestSameAsPromtool holds to promtool's.
func TestRun(t *testing.T) {
	for _, tc := range ownCases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.inv.vigil(t).String()
			golden := filepath.Join("testdata", "TestRun", strings.ReplaceAll(tc.name, " ", "-")+".golden")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			require.Equal(t, string(want), got)
		})
	}
}

// TestRunRefusesBadRun: a --run that does not compile runs nothing.
func TestRunRefusesBadRun(t *testing.T) {
	var out bytes.Buffer
	code, err := ruletest.Run(ruletest.Options{Stdout: &out, Stderr: &out, Run: []string{"("}}, "testdata/pass.yml")
	require.ErrorContains(t, err, "--run: error parsing regexp")
	require.Equal(t, ruletest.ExitUsage, code)
	require.Empty(t, out.String())
}

// promModuleDir is the pinned Prometheus module's directory, whose
// cmd/promtool/testdata holds promtool's own test files.
func promModuleDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/prometheus/prometheus").Output()
	require.NoError(t, err)
	dir := strings.TrimSpace(string(out))
	require.DirExists(t, dir)
	return dir
}

// TestHistogramsRefused: promtool's own unittest.yml loads native
// histograms, which vigil's store does not hold: the test says so.
func TestHistogramsRefused(t *testing.T) {
	f := filepath.Join(promModuleDir(t), "cmd", "promtool", "testdata", "unittest.yml")
	r := invocation{f}.vigil(t)
	require.Equal(t, ruletest.ExitFailure, r.code)
	require.Equal(t, "  FAILED:\ninput series {__name__=\"test_histogram\"}: native histograms are not supported: vigil stores float samples only\n", r.stderr)
}

// withoutHistograms writes promtool's unittest.yml without its native
// histogram series and expressions, beside a copy of its rule file.
func withoutHistograms(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "unittest.yml"))
	require.NoError(t, err)
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(b, &doc))
	keep := func(seq *yaml.Node, drop func(*yaml.Node) bool) {
		var out []*yaml.Node
		for _, n := range seq.Content {
			if !drop(n) {
				out = append(out, n)
			}
		}
		seq.Content = out
	}
	field := func(m *yaml.Node, key string) *yaml.Node {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i+1]
			}
		}
		return nil
	}
	tests := field(doc.Content[0], "tests")
	require.NotNil(t, tests)
	dropped := 0
	for _, tg := range tests.Content {
		if is := field(tg, "input_series"); is != nil {
			keep(is, func(n *yaml.Node) bool {
				d := strings.Contains(field(n, "values").Value, "{{")
				dropped += map[bool]int{true: 1}[d]
				return d
			})
		}
		if pe := field(tg, "promql_expr_test"); pe != nil {
			keep(pe, func(n *yaml.Node) bool { return strings.Contains(field(n, "expr").Value, "histogram") })
		}
	}
	require.Equal(t, 3, dropped, "promtool's unittest.yml changed: look again at what it tests")
	tmp := t.TempDir()
	out, err := yaml.Marshal(&doc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "unittest.yml"), out, 0o600))
	rules, err := os.ReadFile(filepath.Join(dir, "rules.yml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "rules.yml"), rules, 0o600))
	return filepath.Join(tmp, "unittest.yml")
}

var (
	tookRe      = regexp.MustCompile(`(finished, took) \S+`)
	timestampRe = regexp.MustCompile(`timestamp="[^"]*"`)
	// vigil places rule-file errors that promtool gives no place.
	placeRe = regexp.MustCompile(`(\.yml): \d+:\d+: `)
)

// TestSameAsPromtool runs the same test files through promtool 3, of the
// pinned version, and vigil: the same exit code, stdout and stderr, byte
// for byte. The files are promtool's own (those that use what vigil has;
// unittest.yml without its native histograms) and this package's. Where
// vigil says more, the comparison says what it leaves out.
func TestSameAsPromtool(t *testing.T) {
	bin := prom3.Need(t, "promtool")
	promDir := filepath.Join(promModuleDir(t), "cmd", "promtool", "testdata")
	p := func(name string) string { return filepath.Join(promDir, name) }
	cases := []struct {
		name string
		inv  invocation
		// normalize, when set, is applied to both sides first: the
		// differences it hides are documented in the package doc.
		normalize func(string) string
	}{
		{name: "promtool unittest.yml without histograms", inv: invocation{withoutHistograms(t, promDir)}},
		{name: "promtool at-modifier-test.yml", inv: invocation{p("at-modifier-test.yml")}},
		{name: "promtool bad-input-series.yml", inv: invocation{p("bad-input-series.yml")}},
		{name: "promtool bad-promql.yml", inv: invocation{p("bad-promql.yml")}},
		{name: "promtool bad-rules-error-test.yml", inv: invocation{p("bad-rules-error-test.yml")}},
		{name: "promtool bad-rules-syntax-test.yml", inv: invocation{p("bad-rules-syntax-test.yml")}},
		{name: "promtool experimental-functions-test.yml", inv: invocation{p("experimental-functions-test.yml")}},
		{name: "promtool failing.yml", inv: invocation{p("failing.yml")}},
		{name: "promtool long-period.yml", inv: invocation{p("long-period.yml")}},
		{name: "promtool negative-offset-test.yml", inv: invocation{p("negative-offset-test.yml")}},
		{name: "promtool no-test-group-interval.yml", inv: invocation{p("no-test-group-interval.yml")}},
		{name: "promtool rules_run.yml", inv: invocation{p("rules_run.yml")}},
		{name: "promtool rules_run.yml --run correct", inv: invocation{"--run", "correct", p("rules_run.yml")}},
		{name: "promtool rules_run_extrafields.yml", inv: invocation{p("rules_run_extrafields.yml")}},
		{name: "promtool rules_run_extrafields.yml --ignore-unknown-fields", inv: invocation{"--ignore-unknown-fields", p("rules_run_extrafields.yml")}},
		{name: "promtool rules_run_fuzzy.yml", inv: invocation{p("rules_run_fuzzy.yml")}},
		{name: "promtool rules_run_fuzzy.yml --run correct", inv: invocation{"--run", "correct", p("rules_run_fuzzy.yml")}},
		{name: "promtool rules_run_no_fuzzy.yml", inv: invocation{p("rules_run_no_fuzzy.yml")}},
		{name: "promtool start-time-test.yml", inv: invocation{p("start-time-test.yml")}},
		{name: "debug", inv: invocation{"--debug", p("failing.yml"), "testdata/pass.yml"}, normalize: func(s string) string {
			return tookRe.ReplaceAllString(s, "$1 …")
		}},
		{name: "junit", inv: invocation{"--junit", filepath.Join(t.TempDir(), "junit.xml"), "testdata/fail.yml", "testdata/order.yml", "testdata/pass.yml"}},
		{name: "unknown test field", inv: invocation{"testdata/unknown-field.yml"}, normalize: func(s string) string {
			return strings.ReplaceAll(s, " in type ruletest.", " in type main.")
		}},
		{name: "bad rule file", inv: invocation{"testdata/bad-rule-file.yml"}, normalize: func(s string) string {
			return placeRe.ReplaceAllString(s, "$1: ")
		}},
	}
	for _, tc := range ownCases {
		if tc.name == "unknown test field" || tc.name == "bad rule file" || tc.name == "missing file" {
			continue // above or below, with what differs
		}
		cases = append(cases, struct {
			name      string
			inv       invocation
			normalize func(string) string
		}{name: tc.name, inv: tc.inv})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.inv.promtool(t, bin)
			wantJUnit := readJUnit(t, tc.inv)
			got := tc.inv.vigil(t)
			gotJUnit := readJUnit(t, tc.inv)
			if tc.normalize != nil {
				raw := got.String()
				want.stdout, want.stderr = tc.normalize(want.stdout), tc.normalize(want.stderr)
				got.stdout, got.stderr = tc.normalize(got.stdout), tc.normalize(got.stderr)
				require.NotEqual(t, raw, got.String(), "nothing left to normalize: drop the normalization")
			}
			require.Equal(t, want.String(), got.String())
			require.Equal(t, wantJUnit, gotJUnit)
		})
	}

	// A test file that is not there: nothing runs, exit 1; each says so in
	// its words.
	t.Run("missing file", func(t *testing.T) {
		inv := invocation{"testdata/pass.yml", "testdata/nothing-here.yml"}
		want, got := inv.promtool(t, bin), inv.vigil(t)
		require.Equal(t, 1, want.code)
		require.Equal(t, want.code, got.code)
		require.Empty(t, want.stdout)
		require.Empty(t, got.stdout)
		require.Contains(t, want.stderr, "testdata/nothing-here.yml' does not exist")
		require.Equal(t, "path \"testdata/nothing-here.yml\" does not exist\n", got.stderr)
	})
}

// readJUnit is the JUnit file of an invocation, without its timestamps.
func readJUnit(t *testing.T, inv invocation) string {
	t.Helper()
	for i, a := range inv {
		if a == "--junit" {
			b, err := os.ReadFile(inv[i+1])
			require.NoError(t, err)
			require.NoError(t, os.Remove(inv[i+1]))
			return timestampRe.ReplaceAllString(string(b), `timestamp="…"`)
		}
	}
	return ""
}
