package alert

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
)

// QueryFunc evaluates an instant query at ts; rules and templates query
// through it.
type QueryFunc func(ctx context.Context, expr string, ts time.Time) (promql.Vector, error)

// EngineQueryFunc queries q through engine. A scalar result becomes a
// vector of one sample without labels, as in Prometheus.
func EngineQueryFunc(engine promql.QueryEngine, q storage.Queryable) QueryFunc {
	return func(ctx context.Context, expr string, ts time.Time) (promql.Vector, error) {
		qry, err := engine.NewInstantQuery(ctx, q, nil, expr, ts)
		if err != nil {
			return nil, err
		}
		defer qry.Close()
		res := qry.Exec(ctx)
		if res.Err != nil {
			return nil, res.Err
		}
		switch v := res.Value.(type) {
		case promql.Vector:
			return v, nil
		case promql.Scalar:
			return promql.Vector{{T: v.T, F: v.V, Metric: labels.EmptyLabels()}}, nil
		default:
			return nil, errors.New("rule result is not a vector or scalar")
		}
	}
}

// DefaultEngineOptions are EngineOptions at vigil's default evaluation
// interval (DefaultEvalInterval).
func DefaultEngineOptions(logger *slog.Logger) promql.EngineOpts {
	return EngineOptions(logger, DefaultEvalInterval)
}

// EngineOptions are the PromQL engine settings of a Prometheus server whose
// global evaluation_interval is evalInterval: 5m lookback, 50M samples per
// query, 2m timeout, @ and negative offsets enabled, and evalInterval as the
// step of a subquery that names none (`x[5m:]`), for rules and queries
// alike, as Prometheus sets it. Zero or less is DefaultEvalInterval.
func EngineOptions(logger *slog.Logger, evalInterval time.Duration) promql.EngineOpts {
	if evalInterval <= 0 {
		evalInterval = DefaultEvalInterval
	}
	step := evalInterval.Milliseconds()
	return promql.EngineOpts{
		Logger:                   logger,
		MaxSamples:               50_000_000,
		Timeout:                  2 * time.Minute,
		LookbackDelta:            5 * time.Minute,
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		Parser:                   exprParser,
		NoStepSubqueryIntervalFn: func(int64) int64 { return step },
	}
}
