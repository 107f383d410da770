package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/spf13/pflag"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/store"
	"github.com/vigilterm/vigil/tui"
	"github.com/vigilterm/vigil/tui/remote"
)

// parseTime reads --time: RFC 3339, or a Unix timestamp in seconds (with a
// fraction), the two forms Prometheus' API accepts.
func parseTime(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q as a time: use RFC 3339 (2026-11-24T10:00:00Z) or Unix seconds", s)
}

// printValue writes v the way promtool prints a query result: one line per
// sample, `{labels} => value @[unix]`; for a range, each series as
// `{labels} =>` and one `value @[unix]` line per point, series sorted.
func printValue(w io.Writer, v parser.Value) error {
	var out model.Value
	switch v := v.(type) {
	case promql.Vector:
		vec := make(model.Vector, 0, len(v))
		for _, s := range v {
			vec = append(vec, &model.Sample{Metric: metric(s.Metric), Value: model.SampleValue(s.F), Timestamp: model.Time(s.T)})
		}
		out = vec
	case promql.Matrix:
		mat := make(model.Matrix, 0, len(v))
		for _, s := range v {
			ss := &model.SampleStream{Metric: metric(s.Metric)}
			for _, p := range s.Floats {
				ss.Values = append(ss.Values, model.SamplePair{Timestamp: model.Time(p.T), Value: model.SampleValue(p.F)})
			}
			mat = append(mat, ss)
		}
		out = mat
	case promql.Scalar:
		out = &model.Scalar{Value: model.SampleValue(v.V), Timestamp: model.Time(v.T)}
	case promql.String:
		out = &model.String{Value: v.V, Timestamp: model.Time(v.T)}
	default:
		return fmt.Errorf("unexpected result type %T", v)
	}
	// As promtool prints it: an empty result is an empty line.
	_, err := fmt.Fprintln(w, out)
	return err
}

// printJSON writes v as the "data" object of Prometheus' HTTP API.
func printJSON(w io.Writer, v parser.Value) error {
	if v == nil {
		return errors.New("no result")
	}
	enc := json.NewEncoder(w)
	return enc.Encode(struct {
		ResultType parser.ValueType `json:"resultType"`
		Result     parser.Value     `json:"result"`
	}{v.Type(), v})
}

func metric(ls labels.Labels) model.Metric {
	m := make(model.Metric, ls.Len())
	ls.Range(func(l labels.Label) { m[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
	return m
}

// queryUsage is `vigil query --help`.
const queryUsage = `usage:
  vigil query [--data-dir DIR | --source URL] [--time T] [--json] EXPR
  vigil query --range [--start T] [--end T] [--step D] [--data-dir DIR | --source URL] [--json] EXPR

Evaluates EXPR over the last snapshot of a data directory, without taking its
lock (so it works beside a running console), or on a remote
Prometheus-compatible API (--source, with --source-config for its auth and
TLS), and prints the result as promtool query instant / query range do. T is
RFC 3339 or Unix seconds.

Flags:
`

// queryCmd implements `vigil query`: it loads the last snapshot without
// taking the data-dir lock, so it works beside a running console, and
// evaluates EXPR once, or over a range with --range.
func queryCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("vigil query", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", defaultDataDir(), "the data directory whose last snapshot is queried")
	at := fs.String("time", "", "evaluation time of an instant query (default: now, or the snapshot's newest sample when that is older than the 5m lookback)")
	isRange := fs.Bool("range", false, "a range query, as promtool query range")
	start := fs.String("start", "", "start of a range query (default: 5m before its end)")
	end := fs.String("end", "", "end of a range query (default: as --time)")
	step := fs.Duration("step", 0, "resolution of a range query (default: the range / 250, at least 1s)")
	evalInterval := fs.Duration("eval-interval", alert.DefaultEvalInterval, "the step of subqueries that name none (x[5m:]): the console's --eval-interval, as Prometheus uses its evaluation_interval")
	asJSON := fs.Bool("json", false, "print the result as the Prometheus HTTP API's data object")
	source := fs.String("source", "", "query this remote Prometheus-compatible API (http://HOST:PORT[/PREFIX]) instead of a snapshot")
	sourceConfig := fs.String("source-config", "", "the remote's HTTP client config (basic_auth, authorization, tls_config, ...), as in prometheus.yml")
	fs.Usage = func() {
		fmt.Fprint(stderr, queryUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	expr := fs.Arg(0)
	switch {
	case *source != "" && fs.Changed("data-dir"):
		fmt.Fprintln(stderr, "vigil query: --data-dir or --source, not both")
		return exitUsage
	case *source != "" && fs.Changed("eval-interval"):
		fmt.Fprintln(stderr, "vigil query: --eval-interval with --source: the remote evaluates with its own")
		return exitUsage
	case *source == "" && *sourceConfig != "":
		fmt.Fprintln(stderr, "vigil query: --source-config needs --source")
		return exitUsage
	case *source == "" && *dataDir == "":
		fmt.Fprintln(stderr, "vigil query: no data directory: pass --data-dir")
		return exitUsage
	}
	if *isRange && *at != "" {
		fmt.Fprintln(stderr, "vigil query: --time is for instant queries; a range query takes --start and --end")
		return exitUsage
	}
	if !*isRange && (*start != "" || *end != "" || *step != 0) {
		fmt.Fprintln(stderr, "vigil query: --start, --end and --step need --range")
		return exitUsage
	}
	if *step < 0 || *evalInterval <= 0 {
		fmt.Fprintln(stderr, "vigil query: --step and --eval-interval must be positive")
		return exitUsage
	}
	// The times are read before the snapshot, so that a typo costs no load.
	var given struct{ at, start, end time.Time }
	for _, f := range []struct {
		flag string
		in   string
		out  *time.Time
	}{{"time", *at, &given.at}, {"start", *start, &given.start}, {"end", *end, &given.end}} {
		if f.in == "" {
			continue
		}
		t, err := parseTime(f.in)
		if err != nil {
			fmt.Fprintf(stderr, "vigil query: --%s: %v\n", f.flag, err)
			return exitUsage
		}
		*f.out = t
	}

	// The end of a range, or the time of an instant query.
	ts := given.at
	if *isRange {
		ts = given.end
	}
	var q tui.Querier
	if *source != "" {
		// A cut answer would be a wrong one: nothing is cut, the body
		// is bounded, and the remote has the query's time limit.
		src, err := newSource(*source, *sourceConfig, remote.Options{MaxSeries: -1, MaxBytes: queryMaxBytes})
		if err != nil {
			fmt.Fprintf(stderr, "vigil query: %v\n", err)
			return exitUsage
		}
		defer src.Close()
		q = src
		if ts.IsZero() {
			ts = time.Now()
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, queryTimeout)
		defer cancel()
	} else {
		db, closeDB, ok := openQuerySnapshot(*dataDir, stderr)
		if !ok {
			return exitFailed
		}
		defer closeDB()
		q = tui.NewEngineQuerier(newEngine(nil, *evalInterval), db)
		ts = snapshotTime(ts, db, *isRange, stderr)
	}
	var v parser.Value
	var err error
	if *isRange {
		from := given.start
		if from.IsZero() {
			from = ts.Add(-5 * time.Minute)
		}
		if !from.Before(ts) {
			fmt.Fprintln(stderr, "vigil query: the start is not before the end")
			return exitUsage
		}
		res := *step
		if res == 0 {
			// promtool's default: about 250 points, at least one a second.
			res = time.Duration(max(math.Floor(ts.Sub(from).Seconds()/250), 1)) * time.Second
		}
		v, err = q.Range(ctx, expr, from, ts, res)
	} else {
		v, err = q.Instant(ctx, expr, ts)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vigil query: %v\n", err)
		return exitFailed
	}
	if *asJSON {
		err = printJSON(stdout, v)
	} else {
		err = printValue(stdout, v)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vigil query: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// queryMaxBytes bounds a remote's answer to vigil query, and queryTimeout
// its wait, Prometheus' default query timeout.
const (
	queryMaxBytes = 1 << 30
	queryTimeout  = 2 * time.Minute
)

// openQuerySnapshot loads the last snapshot of dataDir without taking its
// lock, saying on stderr what its restore lost.
func openQuerySnapshot(dataDir string, stderr io.Writer) (*store.DB, func(), bool) {
	opts := store.DefaultOptions()
	opts.Retention = -1 // keep all that the snapshot holds
	db, err := store.OpenSnapshot(dataDir, opts)
	if err != nil {
		fmt.Fprintf(stderr, "vigil query: %v\n", err)
		return nil, nil, false
	}
	if w := db.Stats().Restore.Warning(); w != "" {
		fmt.Fprintf(stderr, "vigil query: %s\n", w)
	}
	return db, func() { _ = db.Close() }, true
}

// snapshotTime is the time to evaluate at in db: ts when given, else now,
// or the snapshot's newest sample when that is older than the 5m
// lookback (which stderr is told).
func snapshotTime(ts time.Time, db *store.DB, isRange bool, stderr io.Writer) time.Time {
	if !ts.IsZero() {
		return ts
	}
	ts = time.Now()
	st := db.Stats()
	if st.Series > 0 && st.MaxTime != math.MinInt64 {
		if newest := time.UnixMilli(st.MaxTime); ts.Sub(newest) > 5*time.Minute {
			which := "--time"
			if isRange {
				which = "--end"
			}
			fmt.Fprintf(stderr, "vigil query: the snapshot ends at %s; evaluating there (use %s to choose)\n", newest.UTC().Format(time.RFC3339), which)
			ts = newest
		}
	}
	return ts
}
