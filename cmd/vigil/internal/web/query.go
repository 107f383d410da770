package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// maxPoints is Prometheus' bound on the points of one series in a range
// query: 60s resolution for a week, 1h for a year.
const maxPoints = 11000

// query serves /api/v1/query: query, time (default now), timeout, limit,
// lookback_delta.
func (a *api) query(r *http.Request) result {
	limit, err := limitParam(r.FormValue("limit"))
	if err != nil {
		return invalidParam(err, "limit")
	}
	ts, err := timeParam(r, "time", a.now())
	if err != nil {
		return invalidParam(err, "time")
	}
	ctx, cancel, res := a.queryContext(r)
	if res != nil {
		return *res
	}
	defer cancel()
	opts, err := queryOpts(r)
	if err != nil {
		return result{err: badData(err)}
	}
	qry, err := a.engine.NewInstantQuery(ctx, a.queryable, opts, r.FormValue("query"), ts)
	if err != nil {
		return result{err: constructionError(err)}
	}
	return a.exec(ctx, qry, limit)
}

// queryRange serves /api/v1/query_range: query, start, end, step,
// timeout, limit, lookback_delta.
func (a *api) queryRange(r *http.Request) result {
	limit, err := limitParam(r.FormValue("limit"))
	if err != nil {
		return invalidParam(err, "limit")
	}
	start, err := parseTime(r.FormValue("start"))
	if err != nil {
		return invalidParam(err, "start")
	}
	end, err := parseTime(r.FormValue("end"))
	if err != nil {
		return invalidParam(err, "end")
	}
	if end.Before(start) {
		return invalidParam(errors.New("end timestamp must not be before start time"), "end")
	}
	step, err := parseDuration(r.FormValue("step"))
	if err != nil {
		return invalidParam(err, "step")
	}
	if step <= 0 {
		return invalidParam(errors.New("zero or negative query resolution step widths are not accepted. Try a positive integer"), "step")
	}
	if end.Sub(start)/step > maxPoints {
		return result{err: badData(errors.New("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"))}
	}
	ctx, cancel, res := a.queryContext(r)
	if res != nil {
		return *res
	}
	defer cancel()
	opts, err := queryOpts(r)
	if err != nil {
		return result{err: badData(err)}
	}
	qry, err := a.engine.NewRangeQuery(ctx, a.queryable, opts, r.FormValue("query"), start, end, step)
	if err != nil {
		return result{err: constructionError(err)}
	}
	return a.exec(ctx, qry, limit)
}

// queryContext applies the request's timeout parameter; the engine's own
// (--query.timeout) applies as well, whichever ends first.
func (a *api) queryContext(r *http.Request) (context.Context, context.CancelFunc, *result) {
	ctx := r.Context()
	v := r.FormValue("timeout")
	if v == "" {
		return ctx, func() {}, nil
	}
	d, err := parseDuration(v)
	if err != nil {
		res := invalidParam(err, "timeout")
		return nil, nil, &res
	}
	if d <= 0 {
		res := invalidParam(fmt.Errorf("timeout must be positive, got %s", d), "timeout")
		return nil, nil, &res
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	return ctx, cancel, nil
}

// queryOpts reads lookback_delta.
func queryOpts(r *http.Request) (promql.QueryOpts, error) {
	var lookback time.Duration
	if v := r.FormValue("lookback_delta"); v != "" {
		d, err := parseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("error parsing lookback delta duration: %w", err)
		}
		lookback = d
	}
	return promql.NewPrometheusQueryOpts(false, lookback, nil), nil
}

// constructionError is the answer to a query the engine would not build:
// it does not parse, or its context ended first.
func constructionError(err error) *apiError {
	var (
		timeout  promql.ErrQueryTimeout
		canceled promql.ErrQueryCanceled
	)
	if errors.As(err, &timeout) || errors.As(err, &canceled) {
		return engineError(err)
	}
	return badData(fmt.Errorf("invalid parameter %q: %w", "query", err))
}

// exec runs a built query. Its result points into memory the engine takes
// back on Close, so Close is the result's finalizer: after it is written.
func (a *api) exec(ctx context.Context, qry promql.Query, limit int) result {
	res := qry.Exec(ctx)
	if res.Err != nil {
		qry.Close()
		return result{err: engineError(res.Err), warnings: res.Warnings}
	}
	warnings := res.Warnings
	v := res.Value
	if limit > 0 {
		switch x := v.(type) {
		case promql.Vector:
			if len(x) > limit {
				v = x[:limit]
				warnings = warnings.Add(errors.New("results truncated due to limit"))
			}
		case promql.Matrix:
			if len(x) > limit {
				v = x[:limit]
				warnings = warnings.Add(errors.New("results truncated due to limit"))
			}
		}
	}
	return result{data: queryData{v}, warnings: warnings, finalizer: qry.Close}
}

// queryData is the data of a query's answer: {"resultType":…,"result":…}.
type queryData struct{ v parser.Value }

func (q queryData) appendJSON(e *encoder) {
	e.raw(`{"resultType":`)
	e.str(string(q.v.Type()))
	e.raw(`,"result":`)
	switch v := q.v.(type) {
	case promql.Vector:
		e.vector(v)
	case promql.Matrix:
		e.matrix(v)
	case promql.Scalar:
		e.byte('[')
		e.number(float64(v.T) / 1000)
		e.byte(',')
		e.str(formatFloat(v.V))
		e.byte(']')
	case promql.String:
		e.byte('[')
		e.number(float64(v.T) / 1000)
		e.byte(',')
		e.str(v.V)
		e.byte(']')
	default:
		e.err = fmt.Errorf("unexpected result type %T", v)
	}
	e.byte('}')
}

// Estimates of the JSON of a sample ([1435781451.781,"12.345"]) and of a
// series' or sample's own punctuation, for sizeHint: close, not exact.
const (
	pointSize  = 30
	seriesSize = 32
)

// sizeHint is about the size of the answer's JSON.
func (q queryData) sizeHint() int {
	n := 64
	switch v := q.v.(type) {
	case promql.Vector:
		for _, s := range v {
			n += labelsSize(s.Metric) + seriesSize + pointSize
		}
	case promql.Matrix:
		for _, s := range v {
			n += labelsSize(s.Metric) + seriesSize + pointSize*len(s.Floats)
		}
	}
	return n
}

// labelsSize is about the size of a label set's JSON.
func labelsSize(ls labels.Labels) int {
	n := 2
	ls.Range(func(l labels.Label) { n += len(l.Name) + len(l.Value) + 6 })
	return n
}

// vector writes [{"metric":{…},"value":[t,"v"]},…]. vigil stores floats
// only, so there are no histograms to write.
func (e *encoder) vector(v promql.Vector) {
	e.byte('[')
	for i, s := range v {
		if i > 0 {
			e.byte(',')
		}
		e.raw(`{"metric":`)
		e.labels(s.Metric)
		e.raw(`,"value":[`)
		e.timestamp(s.T)
		e.byte(',')
		e.sampleValue(s.F)
		e.raw(`]}`)
		if e.full() {
			return
		}
	}
	e.byte(']')
}

// matrix writes [{"metric":{…},"values":[[t,"v"],…]},…]; a series
// without points has no "values", as in Prometheus.
func (e *encoder) matrix(m promql.Matrix) {
	e.byte('[')
	for i, s := range m {
		if i > 0 {
			e.byte(',')
		}
		e.raw(`{"metric":`)
		e.labels(s.Metric)
		if len(s.Floats) > 0 {
			e.raw(`,"values":[`)
			for j, p := range s.Floats {
				if j > 0 {
					e.byte(',')
				}
				e.byte('[')
				e.timestamp(p.T)
				e.byte(',')
				e.sampleValue(p.F)
				e.byte(']')
			}
			e.byte(']')
		}
		e.byte('}')
		if e.full() {
			return
		}
	}
	e.byte(']')
}
