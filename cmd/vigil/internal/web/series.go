package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// checkEvery is how many series a loop reads between looks at its
// request's context.
const checkEvery = 128

// truncated is the warning of an answer cut at its limit.
var truncated = errors.New("results truncated due to limit")

// hintLimit asks the store for one more than limit, so that a cut answer
// can say so.
func hintLimit(limit int) int {
	if limit > 0 && limit < math.MaxInt {
		return limit + 1
	}
	return limit
}

// rangeParams reads the optional start and end of the metadata endpoints
// (series, labels, label values).
func rangeParams(r *http.Request) (mint, maxt int64, res *result) {
	start, err := timeParam(r, "start", minTime)
	if err != nil {
		x := invalidParam(err, "start")
		return 0, 0, &x
	}
	end, err := timeParam(r, "end", maxTime)
	if err != nil {
		x := invalidParam(err, "end")
		return 0, 0, &x
	}
	return start.UnixMilli(), end.UnixMilli(), nil
}

// series serves /api/v1/series: match[] (required), start, end, limit.
func (a *api) series(r *http.Request) result {
	if err := r.ParseForm(); err != nil {
		return result{err: badData(fmt.Errorf("error parsing form values: %w", err))}
	}
	if len(r.Form["match[]"]) == 0 {
		return result{err: badData(errors.New("no match[] parameter provided"))}
	}
	limit, err := limitParam(r.FormValue("limit"))
	if err != nil {
		return invalidParam(err, "limit")
	}
	mint, maxt, res := rangeParams(r)
	if res != nil {
		return *res
	}
	sets, err := matchersParam(r.Form["match[]"])
	if err != nil {
		return invalidParam(err, "match[]")
	}
	q, err := a.queryable.Querier(mint, maxt)
	if err != nil {
		return result{err: engineError(err)}
	}
	ctx := r.Context()
	hints := &storage.SelectHints{Start: mint, End: maxt, Func: "series", Limit: hintLimit(limit)}
	var set storage.SeriesSet
	if len(sets) > 1 {
		var all []storage.SeriesSet
		for _, ms := range sets {
			all = append(all, q.Select(ctx, true, hints, ms...))
		}
		set = storage.NewMergeSeriesSet(all, 0, storage.ChainedSeriesMerge)
	} else {
		set = q.Select(ctx, false, hints, sets[0]...)
	}
	var (
		out      []labels.Labels
		warnings = set.Warnings()
	)
	for i := 1; set.Next(); i++ {
		if i%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				_ = q.Close()
				return result{err: engineError(err)}
			}
		}
		out = append(out, set.At().Labels())
		if limit > 0 && len(out) > limit {
			out = out[:limit]
			warnings = warnings.Add(truncated)
			break
		}
	}
	if err := set.Err(); err != nil {
		_ = q.Close()
		return result{err: engineError(err)}
	}
	// The labels point into the store's memory while the querier is open.
	return result{data: labelSets(out), warnings: warnings, finalizer: func() { _ = q.Close() }}
}

// labelSets is the data of /api/v1/series: [{…},…].
type labelSets []labels.Labels

func (ls labelSets) appendJSON(e *encoder) {
	e.byte('[')
	for i, l := range ls {
		if i > 0 {
			e.byte(',')
		}
		e.labels(l)
		if e.full() {
			return
		}
	}
	e.byte(']')
}

func (ls labelSets) sizeHint() int {
	n := 2
	for _, l := range ls {
		n += labelsSize(l) + 1
	}
	return n
}

// stringList is the data of /api/v1/labels and label values: [...].
type stringList []string

func (s stringList) sizeHint() int {
	n := 2
	for _, v := range s {
		n += len(v) + 3
	}
	return n
}

func (s stringList) appendJSON(e *encoder) {
	e.byte('[')
	for i, v := range s {
		if i > 0 {
			e.byte(',')
		}
		e.str(v)
		if e.full() {
			return
		}
	}
	e.byte(']')
}

// labelNames serves /api/v1/labels: match[], start, end, limit.
func (a *api) labelNames(r *http.Request) result {
	limit, err := limitParam(r.FormValue("limit"))
	if err != nil {
		return invalidParam(err, "limit")
	}
	mint, maxt, res := rangeParams(r)
	if res != nil {
		return *res
	}
	if err := r.ParseForm(); err != nil {
		return result{err: badData(fmt.Errorf("error parsing form values: %w", err))}
	}
	sets, err := matchersParam(r.Form["match[]"])
	if err != nil {
		return result{err: badData(err)}
	}
	q, err := a.queryable.Querier(mint, maxt)
	if err != nil {
		return result{err: engineError(err)}
	}
	hints := &storage.LabelHints{Limit: hintLimit(limit)}
	names, warnings, err := union(sets, func(ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelNames(r.Context(), hints, ms...)
	})
	if err != nil {
		_ = q.Close()
		return result{err: &apiError{errorExec, err}}
	}
	if limit > 0 && len(names) > limit {
		names = names[:limit]
		warnings = warnings.Add(truncated)
	}
	return result{data: stringList(names), warnings: warnings, finalizer: func() { _ = q.Close() }}
}

// labelValues serves /api/v1/label/NAME/values: match[], start, end,
// limit. A name that is not a valid label name as it stands may come
// escaped (U__…), as Prometheus 3 clients send UTF-8 names.
func (a *api) labelValues(r *http.Request) result {
	name := r.PathValue("name")
	if strings.HasPrefix(name, "U__") {
		name = model.UnescapeName(name, model.ValueEncodingEscaping)
	}
	if !model.UTF8Validation.IsValidLabelName(name) {
		return result{err: badData(fmt.Errorf("invalid label name: %q", name))}
	}
	limit, err := limitParam(r.FormValue("limit"))
	if err != nil {
		return invalidParam(err, "limit")
	}
	mint, maxt, res := rangeParams(r)
	if res != nil {
		return *res
	}
	if err := r.ParseForm(); err != nil {
		return result{err: badData(fmt.Errorf("error parsing form values: %w", err))}
	}
	sets, err := matchersParam(r.Form["match[]"])
	if err != nil {
		return result{err: badData(err)}
	}
	q, err := a.queryable.Querier(mint, maxt)
	if err != nil {
		return result{err: &apiError{errorExec, err}}
	}
	hints := &storage.LabelHints{Limit: hintLimit(limit)}
	vals, warnings, err := union(sets, func(ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelValues(r.Context(), name, hints, ms...)
	})
	if err != nil {
		_ = q.Close()
		return result{err: &apiError{errorExec, err}}
	}
	if limit > 0 && len(vals) > limit {
		vals = vals[:limit]
		warnings = warnings.Add(truncated)
	}
	return result{data: stringList(vals), warnings: warnings, finalizer: func() { _ = q.Close() }}
}

// union calls get with each matcher set (once with none when there are
// none) and returns the sorted union of the strings.
func union(sets [][]*labels.Matcher, get func([]*labels.Matcher) ([]string, annotations.Annotations, error)) ([]string, annotations.Annotations, error) {
	if len(sets) <= 1 {
		var ms []*labels.Matcher
		if len(sets) == 1 {
			ms = sets[0]
		}
		out, warnings, err := get(ms)
		if err != nil {
			return nil, warnings, err
		}
		out = slices.Clone(out)
		slices.Sort(out)
		return out, warnings, nil
	}
	var warnings annotations.Annotations
	seen := map[string]struct{}{}
	for _, ms := range sets {
		vals, ws, err := get(ms)
		warnings.Merge(ws)
		if err != nil {
			return nil, warnings, err
		}
		for _, v := range vals {
			seen[v] = struct{}{}
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	return out, warnings, nil
}
