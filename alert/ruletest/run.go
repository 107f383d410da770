package ruletest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v2"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/store"
)

// Exit codes of Run: promtool's, and a usage error.
const (
	ExitSuccess = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Options configure Run.
type Options struct {
	// Stdout and Stderr receive the report, as promtool splits it.
	Stdout, Stderr io.Writer
	// Run, when not empty, keeps only the tests whose name matches one of
	// these regular expressions (promtool's --run, repeatable).
	Run []string
	// Debug reports when each test starts and ends, and dumps every series
	// of a test (input and recorded) on Stderr after it.
	Debug bool
	// IgnoreUnknownFields accepts fields of rule files that Prometheus does
	// not know (not of test files, as in promtool).
	IgnoreUnknownFields bool
	// JUnit, when set, receives the results as JUnit XML.
	JUnit io.Writer
}

// exprParser reads expected labels and histograms as promtool does.
var exprParser = parser.NewParser(parser.Options{})

// Run runs the test files in order and returns the exit code: ExitSuccess,
// or ExitFailure when any test failed or a file could not be run. When
// nothing can run it returns an error with the exit code: a test file
// that does not exist (ExitFailure, as promtool refuses it), a --run
// expression that does not compile (ExitUsage; promtool crashes).
func Run(o Options, files ...string) (int, error) {
	var run *regexp.Regexp
	if len(o.Run) > 0 {
		var err error
		if run, err = regexp.Compile(strings.Join(o.Run, "|")); err != nil {
			return ExitUsage, fmt.Errorf("--run: %w", err)
		}
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			return ExitFailure, fmt.Errorf("path %q does not exist", f)
		}
	}
	failed := false
	var junit junitXML
	for _, f := range files {
		fmt.Fprintf(o.Stdout, "Processing test file: %s\n", f)
		if errs := o.runFile(f, run, junit.suite(f)); errs != nil {
			fmt.Fprintln(o.Stderr, "  FAILED:")
			for _, e := range errs {
				fmt.Fprintln(o.Stderr, e.Error())
				fmt.Fprintln(o.Stdout)
			}
			failed = true
		} else {
			fmt.Fprintln(o.Stdout, "  SUCCESS")
		}
		fmt.Fprintln(o.Stdout)
	}
	if o.JUnit != nil {
		if err := junit.write(o.JUnit); err != nil {
			fmt.Fprintf(o.Stderr, "failed to write JUnit XML: %s\n", err)
		}
	}
	if failed {
		return ExitFailure, nil
	}
	return ExitSuccess, nil
}

// runFile runs one test file and returns every failure.
func (o Options) runFile(filename string, run *regexp.Regexp, suite *junitSuite) []error {
	b, err := os.ReadFile(filename)
	if err != nil {
		suite.abort(err)
		return []error{err}
	}
	var file unitTestFile
	if err := yaml.UnmarshalStrict(b, &file); err != nil {
		suite.abort(err)
		return []error{err}
	}
	if err := file.resolveRuleFiles(filepath.Dir(filename), func(s string) { fmt.Fprint(o.Stderr, s) }); err != nil {
		suite.abort(err)
		return []error{err}
	}
	if file.EvaluationInterval == 0 {
		file.EvaluationInterval = model.Duration(time.Minute)
	}
	evalInterval := time.Duration(file.EvaluationInterval)
	suite.settime(time.Now().Format("2006-01-02T15:04:05"))
	// Groups earlier in group_eval_order are evaluated first.
	order := map[string]int{}
	for i, gn := range file.GroupEvalOrder {
		if _, ok := order[gn]; ok {
			err := fmt.Errorf("group name repeated in evaluation order: %s", gn)
			suite.abort(err)
			return []error{err}
		}
		order[gn] = i
	}

	var errs []error
	for i := range file.Tests {
		tg := &file.Tests[i]
		if run != nil && !run.MatchString(tg.TestGroupName) {
			continue
		}
		name := tg.TestGroupName
		if name == "" {
			name = fmt.Sprintf("unnamed#%d", i)
		}
		tc := suite.testCase(name)
		if tg.Interval == 0 {
			tg.Interval = file.EvaluationInterval
		}
		ers := o.runTest(tg, name, evalInterval, order, file.FuzzyCompare, file.RuleFiles)
		for _, e := range ers {
			tc.fail(e.Error())
		}
		errs = append(errs, ers...)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// runTest runs one test and returns its failures.
func (o Options) runTest(tg *testGroup, name string, evalInterval time.Duration, order map[string]int, fuzzy bool, ruleFiles []string) []error {
	if o.Debug {
		began := time.Now()
		fmt.Fprintf(o.Stderr, "DEBUG: Starting test %s\n", name)
		defer func() { fmt.Fprintf(o.Stderr, "DEBUG: Test %s finished, took %v\n", name, time.Since(began)) }()
	}
	mint := time.Unix(0, 0).UTC()
	if !tg.StartTimestamp.IsZero() {
		mint = tg.StartTimestamp.Time
	}
	maxt := mint.Add(tg.maxEvalTime())
	input, err := newLoader(tg, mint)
	if err != nil {
		return []error{err}
	}

	groups, errs := o.loadGroups(ruleFiles, order)
	if errs != nil {
		return errs
	}
	db := store.New(store.Options{Retention: -1, MaxSeries: -1, SnapshotInterval: -1})
	defer db.Close()
	engine := promql.NewEngine(engineOptions(evalInterval))
	defer engine.Close()
	query := alert.EngineQueryFunc(engine, db)
	m, err := alert.NewManager(groups, alert.Options{
		Queryable:      db,
		Appendable:     db,
		Engine:         engine,
		EvalInterval:   time.Duration(tg.Interval),
		ExternalLabels: tg.ExternalLabels,
		ExternalURL:    tg.ExternalURL,
		NoRestore:      true,
	})
	if err != nil {
		return []error{err}
	}
	defer m.Close()

	eq := floatEqual
	if fuzzy {
		eq = fuzzyEqual
	}

	// The alert tests by eval_time, and the rules each asks about.
	byTime := map[model.Duration][]alertTestCase{}
	for _, a := range tg.AlertRuleTests {
		if a.Alertname == "" {
			in := ""
			if tg.TestGroupName != "" {
				in = fmt.Sprintf(" (in TestGroup %s)", tg.TestGroupName)
			}
			return []error{fmt.Errorf("an item under alert_rule_test misses required attribute alertname at eval_time %v%s", a.EvalTime, in)}
		}
		byTime[a.EvalTime] = append(byTime[a.EvalTime], a)
	}
	times := make([]model.Duration, 0, len(byTime))
	for t := range byTime {
		times = append(times, t)
	}
	slices.Sort(times)

	ctx := context.Background()
	next := 0 // the first of times not checked yet
	for ts := mint; !ts.After(maxt); ts = ts.Add(evalInterval) {
		if err := input.appendTill(db, ts.Sub(time.Unix(0, 0).UTC()).Milliseconds()); err != nil {
			errs = append(errs, err)
		} else {
			m.Eval(ctx, ts)
			var evalErrs []error
			for _, r := range m.Rules() {
				if r.LastError != "" {
					evalErrs = append(evalErrs, fmt.Errorf("    rule: %s, time: %s, err: %s", r.Name, ts.Sub(time.Unix(0, 0).UTC()), r.LastError))
				}
			}
			if len(evalErrs) > 0 {
				// An evaluation that fails ends the test: what follows
				// would be measured against a broken state.
				return append(errs, evalErrs...)
			}
		}

		// The alert tests whose eval_time falls in [ts, ts+interval) are
		// checked against this evaluation.
		for next < len(times) && ts.Sub(mint) <= time.Duration(times[next]) && time.Duration(times[next]) < ts.Add(evalInterval).Sub(mint) {
			errs = append(errs, checkAlerts(tg, byTime[times[next]], m.Alerts())...)
			next++
		}
	}

	for _, tc := range tg.PromqlExprTests {
		if err := checkExpr(ctx, tg, tc, mint, query, eq); err != nil {
			errs = append(errs, err)
		}
	}

	if o.Debug {
		o.dump(ctx, tg, mint, engine, db)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// engineOptions are vigil's engine settings with promtool's limits for
// tests: 50k samples a query, a 100s timeout.
func engineOptions(evalInterval time.Duration) promql.EngineOpts {
	eo := alert.EngineOptions(slog.New(slog.DiscardHandler), evalInterval)
	eo.MaxSamples = 10000
	eo.Timeout = 100 * time.Second
	return eo
}

// loadGroups loads the rule files as promtool does, the first file with a
// problem ending the load, and orders the groups by group_eval_order
// (those it does not name count as its first).
func (o Options) loadGroups(files []string, order map[string]int) ([]alert.GroupConfig, []error) {
	var groups []alert.GroupConfig
	for _, f := range files {
		gs, err := alert.LoadOptions{IgnoreUnknownFields: o.IgnoreUnknownFields}.LoadFile(f)
		if err != nil {
			var j interface{ Unwrap() []error }
			if errors.As(err, &j) {
				return nil, j.Unwrap()
			}
			return nil, []error{err}
		}
		groups = append(groups, gs...)
	}
	slices.SortStableFunc(groups, func(a, b alert.GroupConfig) int {
		return cmp.Compare(order[a.Name], order[b.Name])
	})
	return groups, nil
}

// checkAlerts compares the firing alerts with the expected ones of the
// cases at one eval_time.
func checkAlerts(tg *testGroup, cases []alertTestCase, active []alert.Alert) []error {
	var errs []error
	for _, tc := range cases {
		var got labelsAndAnnotations
		for _, a := range active {
			if a.Rule == tc.Alertname && a.State == alert.StateFiring {
				got = append(got, labelAndAnnotation{Labels: a.Labels, Annotations: a.Annotations})
			}
		}
		var exp labelsAndAnnotations
		for _, a := range tc.ExpAlerts {
			// The expected labels are the rule's: alertname is added.
			ls := labels.NewBuilder(labels.FromMap(a.ExpLabels)).Set(labels.AlertName, tc.Alertname).Labels()
			exp = append(exp, labelAndAnnotation{Labels: ls, Annotations: labels.FromMap(a.ExpAnnotations)})
		}
		sort.Sort(got)
		sort.Sort(exp)
		if exp.equal(got) {
			continue
		}
		name := ""
		if tg.TestGroupName != "" {
			name = fmt.Sprintf("    name: %s,\n", tg.TestGroupName)
		}
		errs = append(errs, fmt.Errorf("%s    alertname: %s, time: %s, \n        exp:%v, \n        got:%v",
			name, tc.Alertname, tc.EvalTime.String(), indentLines(exp.String(), "            "), indentLines(got.String(), "            ")))
	}
	return errs
}

// checkExpr evaluates one expression test.
func checkExpr(ctx context.Context, tg *testGroup, tc promqlTestCase, mint time.Time, query alert.QueryFunc, eq func(a, b float64) bool) error {
	res, err := query(ctx, tc.Expr, mint.Add(time.Duration(tc.EvalTime)))
	if err != nil {
		return fmt.Errorf("    expr: %q, time: %s, err: %s", tc.Expr, tc.EvalTime.String(), err.Error())
	}
	var got []parsedSample
	for _, s := range res {
		got = append(got, parsedSample{Labels: s.Metric, Value: s.F, Histogram: histogramExpression(s.H)})
	}
	var exp []parsedSample
	for _, s := range tc.ExpSamples {
		ls, err := exprParser.ParseMetric(s.Labels)
		var h *histogram.FloatHistogram
		if err == nil && s.Histogram != "" {
			_, values, perr := exprParser.ParseSeriesDesc("{} " + s.Histogram)
			switch {
			case perr != nil:
				err = perr
			case len(values) != 1:
				err = fmt.Errorf("expected 1 value, got %d", len(values))
			case values[0].Histogram == nil:
				err = fmt.Errorf("expected histogram, got %v", values[0])
			default:
				h = values[0].Histogram
			}
		}
		if err != nil {
			return fmt.Errorf("    expr: %q, time: %s, err: %w", tc.Expr, tc.EvalTime.String(), fmt.Errorf("labels %q: %w", s.Labels, err))
		}
		exp = append(exp, parsedSample{Labels: ls, Value: s.Value, Histogram: histogramExpression(h)})
	}
	byLabels := func(a, b parsedSample) int { return labels.Compare(a.Labels, b.Labels) }
	slices.SortStableFunc(exp, byLabels)
	slices.SortStableFunc(got, byLabels)
	if samplesEqual(exp, got, eq) {
		return nil
	}
	return fmt.Errorf("    expr: %q, time: %s,\n        exp: %v\n        got: %v", tc.Expr,
		tc.EvalTime.String(), parsedSamplesString(exp), parsedSamplesString(got))
}

// dump writes every series of the test, input and recorded, up to its
// last eval_time (rounded up to a second, PromQL's resolution of a range).
func (o Options) dump(ctx context.Context, tg *testGroup, mint time.Time, engine *promql.Engine, db *store.DB) {
	d := (tg.maxEvalTime() + time.Second).Truncate(time.Second)
	expr := fmt.Sprintf(`{__name__=~".+"}[%v]`, d)
	q, err := engine.NewInstantQuery(ctx, db, nil, expr, mint.Add(d))
	if err != nil {
		fmt.Fprintf(o.Stderr, "DEBUG: Failed querying, expr: %q, err: %v\n", expr, err)
		return
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		fmt.Fprintf(o.Stderr, "DEBUG: Failed query exec, expr: %q, err: %v\n", expr, res.Err)
		return
	}
	mat, ok := res.Value.(promql.Matrix)
	if !ok {
		fmt.Fprintf(o.Stderr, "DEBUG: Got unexpected type %T\n", res.Value)
		return
	}
	fmt.Fprintf(o.Stderr, "DEBUG: Dump of all data (input_series and rules) at %v:\n", d)
	fmt.Fprintln(o.Stderr, mat.String())
}

func floatEqual(a, b float64) bool { return a == b }

// fuzzyEqual also takes the next float either side (fuzzy_compare).
func fuzzyEqual(a, b float64) bool {
	return a == b || math.Nextafter(a, math.Inf(-1)) == b || math.Nextafter(a, math.Inf(1)) == b
}

func histogramExpression(h *histogram.FloatHistogram) string {
	if h == nil {
		return ""
	}
	return h.TestExpression()
}
