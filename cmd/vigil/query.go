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
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
)

// evalInstant evaluates expr at ts over q, as `promtool query instant` does
// against a server.
func evalInstant(ctx context.Context, engine *promql.Engine, q storage.Queryable, expr string, ts time.Time) (parser.Value, error) {
	qry, err := engine.NewInstantQuery(ctx, q, nil, expr, ts)
	if err != nil {
		return nil, err
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	return res.Value, nil
}

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

func metric(ls interface{ Map() map[string]string }) model.Metric {
	m := model.Metric{}
	for k, v := range ls.Map() {
		m[model.LabelName(k)] = model.LabelValue(v)
	}
	return m
}
