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

	"github.com/vigilterm/vigil/store"
	"github.com/vigilterm/vigil/tui"
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
// sample, `{labels} => value @[unix]`.
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
	s := out.String()
	if s != "" {
		s += "\n"
	}
	_, err := io.WriteString(w, s)
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

// queryCmd implements `vigil query [--data-dir DIR] [--time T] [--json] EXPR`:
// it loads the last snapshot without taking the data-dir lock, so it works
// beside a running console, and evaluates EXPR once.
func queryCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("vigil query", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", defaultDataDir(), "the data directory whose last snapshot is queried")
	at := fs.String("time", "", "evaluation time, RFC 3339 or Unix seconds (default: now, or the snapshot's newest sample when that is older than the 5m lookback)")
	asJSON := fs.Bool("json", false, "print the result as the Prometheus HTTP API's data object")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vigil query [--data-dir DIR] [--time T] [--json] EXPR")
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
	if *dataDir == "" {
		fmt.Fprintln(stderr, "vigil query: no data directory: pass --data-dir")
		return exitUsage
	}

	opts := store.DefaultOptions()
	opts.Retention = 100 * 365 * 24 * time.Hour // keep all that the snapshot holds
	db, err := store.OpenSnapshot(*dataDir, opts)
	if err != nil {
		fmt.Fprintf(stderr, "vigil query: %v\n", err)
		return exitFailed
	}
	defer db.Close()
	st := db.Stats()
	if w := st.Restore.Warning(); w != "" {
		fmt.Fprintf(stderr, "vigil query: %s\n", w)
	}

	ts := time.Now()
	if *at != "" {
		if ts, err = parseTime(*at); err != nil {
			fmt.Fprintf(stderr, "vigil query: --time: %v\n", err)
			return exitUsage
		}
	} else if st.Series > 0 && st.MaxTime != math.MinInt64 {
		if newest := time.UnixMilli(st.MaxTime); ts.Sub(newest) > 5*time.Minute {
			fmt.Fprintf(stderr, "vigil query: the snapshot ends at %s; evaluating there (use --time to choose)\n", newest.UTC().Format(time.RFC3339))
			ts = newest
		}
	}

	v, err := tui.NewEngineQuerier(newEngine(nil), db).Instant(ctx, expr, ts)
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
