package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
)

// EngineQuerier implements Querier with a PromQL engine over a
// storage.Queryable, which is how the console reads vigil's own store.
type EngineQuerier struct {
	engine *promql.Engine
	q      storage.Queryable
}

var _ Querier = (*EngineQuerier)(nil)

// NewEngineQuerier returns a Querier that evaluates PromQL with engine
// over q (vigil's store).
func NewEngineQuerier(engine *promql.Engine, q storage.Queryable) *EngineQuerier {
	return &EngineQuerier{engine: engine, q: q}
}

// Instant implements Querier.
func (e *EngineQuerier) Instant(ctx context.Context, expr string, ts time.Time) (parser.Value, error) {
	qry, err := e.engine.NewInstantQuery(ctx, e.q, nil, expr, ts)
	if err != nil {
		return nil, err
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	// Close hands the result's memory back to the engine: copy it out.
	return copyValue(res.Value), nil
}

// Range implements Querier.
func (e *EngineQuerier) Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	if step <= 0 {
		return nil, errors.New("range query: step must be positive")
	}
	qry, err := e.engine.NewRangeQuery(ctx, e.q, nil, expr, start, end, step)
	if err != nil {
		return nil, err
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	m, err := res.Matrix()
	if err != nil {
		return nil, fmt.Errorf("range query: %w", err)
	}
	return copyMatrix(m), nil
}

// LabelValues implements Querier.
func (e *EngineQuerier) LabelValues(ctx context.Context, name string, start, end time.Time, matchers ...*labels.Matcher) ([]string, error) {
	q, err := e.q.Querier(start.UnixMilli(), end.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("label values: %w", err)
	}
	defer q.Close()
	vals, _, err := q.LabelValues(ctx, name, nil, matchers...)
	if err != nil {
		return nil, fmt.Errorf("label values: %w", err)
	}
	// The strings are only valid while the querier is open.
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string([]byte(v))
	}
	return out, nil
}

// LabelNames implements Querier.
func (e *EngineQuerier) LabelNames(ctx context.Context, start, end time.Time, matchers ...*labels.Matcher) ([]string, error) {
	q, err := e.q.Querier(start.UnixMilli(), end.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("label names: %w", err)
	}
	defer q.Close()
	names, _, err := q.LabelNames(ctx, nil, matchers...)
	if err != nil {
		return nil, fmt.Errorf("label names: %w", err)
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = string([]byte(n))
	}
	return out, nil
}

// Series implements Querier.
func (e *EngineQuerier) Series(ctx context.Context, start, end time.Time, limit int, matchers ...*labels.Matcher) ([]labels.Labels, error) {
	q, err := e.q.Querier(start.UnixMilli(), end.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("series: %w", err)
	}
	defer q.Close()
	hints := &storage.SelectHints{Start: start.UnixMilli(), End: end.UnixMilli(), Func: "series", Limit: limit}
	set := q.Select(ctx, true, hints, matchers...)
	var out []labels.Labels
	for set.Next() {
		if limit > 0 && len(out) >= limit {
			break
		}
		out = append(out, set.At().Labels().Copy())
	}
	if err := set.Err(); err != nil {
		return nil, fmt.Errorf("series: %w", err)
	}
	return out, nil
}

func copyValue(v parser.Value) parser.Value {
	switch v := v.(type) {
	case promql.Vector:
		out := make(promql.Vector, len(v))
		for i, s := range v {
			out[i] = s
			out[i].Metric = s.Metric.Copy()
			if s.H != nil {
				out[i].H = s.H.Copy()
			}
		}
		return out
	case promql.Matrix:
		return copyMatrix(v)
	default: // Scalar and String are values
		return v
	}
}

func copyMatrix(m promql.Matrix) promql.Matrix {
	out := make(promql.Matrix, len(m))
	for i, s := range m {
		out[i] = promql.Series{
			Metric: s.Metric.Copy(),
			Floats: append([]promql.FPoint(nil), s.Floats...),
		}
		for _, h := range s.Histograms {
			out[i].Histograms = append(out[i].Histograms, promql.HPoint{T: h.T, H: h.H.Copy()})
		}
	}
	return out
}
