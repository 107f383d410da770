package remote

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/vigilterm/vigil/tui"
)

// The console's reads of series: tui.Querier on the remote's PromQL, and
// tui.MetadataSource. Each call takes the console's context (its query
// timeout); the console never has two of a view's in flight.

// Instant implements tui.Querier: /api/v1/query.
func (s *Source) Instant(ctx context.Context, expr string, ts time.Time) (parser.Value, error) {
	var status int
	v, ws, _, err := s.api.Query(withStatus(ctx, &status), expr, ts)
	s.warned("query", ws)
	if err != nil {
		return nil, s.fail("query", wrongBase(err, status))
	}
	out, cut, err := fromModel(v, s.opts.MaxSeries)
	if err != nil {
		return nil, s.fail("query", err)
	}
	s.cut("query", expr, seriesIn(out), cut)
	return out, nil
}

// Range implements tui.Querier: /api/v1/query_range.
func (s *Source) Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	if step <= 0 {
		return nil, errors.New("range query: step must be positive")
	}
	var status int
	v, ws, _, err := s.api.QueryRange(withStatus(ctx, &status), expr, v1.Range{Start: start, End: end, Step: step})
	s.warned("query", ws)
	if err != nil {
		return nil, s.fail("range query", wrongBase(err, status))
	}
	out, cut, err := fromModel(v, s.opts.MaxSeries)
	if err != nil {
		return nil, s.fail("range query", err)
	}
	m, ok := out.(promql.Matrix)
	if !ok {
		return nil, s.fail("range query", fmt.Errorf("the remote answered a %s, not a matrix", out.Type()))
	}
	s.cut("range query", expr, len(m), cut)
	return m, nil
}

// LabelValues implements tui.Querier: /api/v1/label/NAME/values.
func (s *Source) LabelValues(ctx context.Context, name string, start, end time.Time, matchers ...*labels.Matcher) ([]string, error) {
	vals, ws, _, err := s.api.LabelValues(ctx, name, selectors(matchers), start, end, s.limit(0)...)
	s.warned("label values", ws)
	if err != nil {
		return nil, s.fail("label values", err)
	}
	out, cut := sortedStrings(vals, s.opts.MaxSeries)
	s.cut("label values", name, len(out), cut)
	return out, nil
}

// LabelNames is the label names of the series that match (/api/v1/labels),
// for the Query view's completion.
func (s *Source) LabelNames(ctx context.Context, start, end time.Time, matchers ...*labels.Matcher) ([]string, error) {
	names, ws, _, err := s.api.LabelNames(ctx, selectors(matchers), start, end, s.limit(0)...)
	s.warned("label names", ws)
	if err != nil {
		return nil, s.fail("label names", err)
	}
	out, cut := sortedStrings(names, s.opts.MaxSeries)
	s.cut("label names", "", len(out), cut)
	return out, nil
}

// Series implements tui.Querier: /api/v1/series.
func (s *Source) Series(ctx context.Context, start, end time.Time, limit int, matchers ...*labels.Matcher) ([]labels.Labels, error) {
	sets, ws, _, err := s.api.Series(ctx, selectors(matchers), start, end, s.limit(limit)...)
	s.warned("series", ws)
	if err != nil {
		return nil, s.fail("series", err)
	}
	max := s.opts.MaxSeries
	if limit > 0 && (max < 0 || limit < max) {
		// The caller asked for so many: the rest is not a cut to warn of.
		out, _ := sortedLabelSets(sets, limit)
		return out, nil
	}
	out, cut := sortedLabelSets(sets, max)
	s.cut("series", "", len(out), cut)
	return out, nil
}

// Metadata implements tui.MetadataSource: /api/v1/metadata. A remote that
// serves none, or answers with nothing, gives tui.ErrNotReported.
func (s *Source) Metadata(ctx context.Context, metric string) (map[string][]tui.Metadata, error) {
	var status int
	md, err := s.api.Metadata(withStatus(ctx, &status), metric, "")
	switch {
	case err != nil && notServed(status):
		return nil, fmt.Errorf("%w: it serves no /api/v1/metadata", tui.ErrNotReported)
	case err != nil:
		return nil, s.fail("metadata", err)
	case len(md) == 0 && metric == "":
		return nil, fmt.Errorf("%w: its metadata is empty", tui.ErrNotReported)
	}
	out := make(map[string][]tui.Metadata, len(md))
	n := 0
	for name, ms := range md {
		if s.opts.MaxSeries >= 0 && n >= s.opts.MaxSeries {
			break
		}
		if name == "" {
			continue
		}
		cm := make([]tui.Metadata, 0, len(ms))
		for _, m := range ms {
			cm = append(cm, tui.Metadata{Type: metricType(string(m.Type))})
		}
		out[name] = cm
		n++
	}
	return out, nil
}

// wrongBase adds to the error of a query the remote does not serve at
// all what is likely wrong: every engine serves /api/v1/query, so a 404
// is a URL without the API's prefix (Mimir's /prometheus).
func wrongBase(err error, status int) error {
	if notServed(status) {
		return fmt.Errorf("%w (no /api/v1/query there: is --source the API's base, what comes before /api/v1?)", err)
	}
	return err
}

// limit asks the remote for at most n answers (the limit parameter of
// Prometheus 2.49 and later; older remotes ignore it, and the answer is
// cut here): n, or one more than MaxSeries to tell a cut.
func (s *Source) limit(n int) []v1.Option {
	switch {
	case n > 0:
		return []v1.Option{v1.WithLimit(uint64(n))}
	case s.opts.MaxSeries > 0:
		return []v1.Option{v1.WithLimit(uint64(s.opts.MaxSeries) + 1)}
	}
	return nil
}

// selectors are matchers as the match[] of the API: one selector, or none.
func selectors(ms []*labels.Matcher) []string {
	if len(ms) == 0 {
		return nil
	}
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return []string{"{" + strings.Join(parts, ",") + "}"}
}

// fail is err of the call what, with no secret in it; a refused or reset
// connection makes the header say the remote is unreachable (the
// transport has said so already).
func (s *Source) fail(what string, err error) error {
	return s.redact.err(fmt.Errorf("%s: %w", what, err))
}

// cut says in the header, for a minute, that a result held more series
// than the console takes.
func (s *Source) cut(what, expr string, kept, cut int) {
	if cut <= 0 {
		return
	}
	if len(expr) > 60 {
		expr = expr[:57] + "…"
	}
	if expr != "" {
		expr = " of " + strconv.Quote(expr)
	}
	s.note("cut", fmt.Sprintf("remote %s%s cut to its first %d series: narrow it", what, expr, kept))
}

// seriesIn is how many series v holds.
func seriesIn(v parser.Value) int {
	switch v := v.(type) {
	case promql.Vector:
		return len(v)
	case promql.Matrix:
		return len(v)
	}
	return 1
}

// metricType is a type of /api/v1/metadata as the console's; unknown
// for what is none of Prometheus' types.
func metricType(t string) model.MetricType {
	switch mt := model.MetricType(strings.ToLower(t)); mt {
	case model.MetricTypeCounter, model.MetricTypeGauge, model.MetricTypeHistogram, model.MetricTypeGaugeHistogram,
		model.MetricTypeSummary, model.MetricTypeInfo, model.MetricTypeStateset:
		return mt
	}
	return model.MetricTypeUnknown
}
