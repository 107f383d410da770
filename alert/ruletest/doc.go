// Package ruletest runs Prometheus rule unit-test files, the format of
// `promtool test rules`, on vigil's own rule evaluation: `vigil test rules`.
//
// A test file names rule files (rule_files, relative to the test file, with
// globs), an evaluation_interval (1m when unset), a group_eval_order, an
// optional fuzzy_compare, and tests. Each test has input_series in the
// expanding notation of Prometheus' test language ("1+1x10", "0 _ stale"),
// loaded at its interval from its start_timestamp (the Unix epoch when
// unset), alert_rule_test cases (the alerts firing at an eval_time, with
// their labels and annotations), promql_expr_test cases (an expression's
// samples at an eval_time), external_labels and external_url.
//
// It promises what promtool promises: the same evaluation (rules run every
// evaluation_interval from the start; an alert test at eval_time is checked
// against the evaluation at or before it; expression tests query what was
// loaded and recorded by the last evaluation), the same output (stdout:
// "Processing test file: F", then "  SUCCESS" or the empty lines of the
// failures; stderr: "  FAILED:" and each failure as promtool words it), the
// same exit codes (0, or 1 when a test failed), --run, --debug,
// --ignore-unknown-fields and --junit. The rules are vigil's: alert.Manager
// over vigil's store, on a PromQL engine set as promtool sets its own (50k
// samples a query, a 100s timeout, the evaluation interval as the step of
// subqueries that name none), with the for state taken as restored from
// the first evaluation, so ALERTS is written from the start.
//
// Where it differs, and why:
//
//   - Native histograms, in input_series or as an expected histogram, fail
//     the test that uses them: vigil's store holds float samples only.
//   - --diff (promtool's experimental coloured diff) is not offered.
//   - A problem in a rule file is reported as vigil check rules reports it:
//     with a line and column also where promtool has none, and once where
//     promtool repeats it.
//   - An unknown field in a test file is named with this package's type
//     ("ruletest.testGroup") where promtool names its own ("main.testGroup").
//   - Groups missing from group_eval_order run in file order, after none of
//     those listed before them; promtool runs them in an arbitrary order.
//   - An invalid --run expression is a usage error (exit 2), not a crash.
package ruletest
