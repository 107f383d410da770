package remote

import (
	"fmt"
	"sort"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// The conversion of the API's results (client_golang's model values) into
// the PromQL values the console reads, made valid on the way: the
// remote is untrusted, and the console's tables and charts may assume
// what a PromQL engine promises (label sets sorted and unique in a
// result, points in time order).

// fromModel converts v, keeping at most max series (max < 0: all); cut is
// how many it dropped.
func fromModel(v model.Value, max int) (out parser.Value, cut int, err error) {
	switch v := v.(type) {
	case model.Vector:
		vec, cut := fromVector(v, max)
		return vec, cut, nil
	case model.Matrix:
		m, cut := fromMatrix(v, max)
		return m, cut, nil
	case *model.Scalar:
		if v == nil {
			return nil, 0, errNoResult
		}
		return promql.Scalar{T: int64(v.Timestamp), V: float64(v.Value)}, 0, nil
	case *model.String:
		if v == nil {
			return nil, 0, errNoResult
		}
		return promql.String{T: int64(v.Timestamp), V: v.Value}, 0, nil
	case nil:
		return nil, 0, errNoResult
	}
	return nil, 0, fmt.Errorf("a result of type %T", v)
}

var errNoResult = fmt.Errorf("the remote's answer holds no result")

// seen tells duplicate label sets: a PromQL engine never returns two
// series with the same labels, a remote might.
type seen map[uint64][]labels.Labels

func (s seen) add(ls labels.Labels) bool {
	h := ls.Hash()
	for _, o := range s[h] {
		if labels.Equal(o, ls) {
			return false
		}
	}
	s[h] = append(s[h], ls)
	return true
}

func fromVector(v model.Vector, max int) (promql.Vector, int) {
	out := make(promql.Vector, 0, min(len(v), capFor(max)))
	dup := seen{}
	cut := 0
	for _, s := range v {
		if s == nil {
			continue
		}
		ls := labelsOf(s.Metric)
		if !dup.add(ls) {
			continue
		}
		if max >= 0 && len(out) >= max {
			cut++
			continue
		}
		smp := promql.Sample{Metric: ls, T: int64(s.Timestamp), F: float64(s.Value)}
		if s.Histogram != nil {
			smp.F, smp.H = 0, fromHistogram(s.Histogram)
		}
		out = append(out, smp)
	}
	return out, cut
}

func fromMatrix(m model.Matrix, max int) (promql.Matrix, int) {
	out := make(promql.Matrix, 0, min(len(m), capFor(max)))
	dup := seen{}
	cut := 0
	for _, s := range m {
		if s == nil {
			continue
		}
		ls := labelsOf(s.Metric)
		if !dup.add(ls) {
			continue
		}
		if max >= 0 && len(out) >= max {
			cut++
			continue
		}
		ps := promql.Series{Metric: ls}
		if len(s.Values) > 0 {
			ps.Floats = make([]promql.FPoint, 0, len(s.Values))
			for _, p := range s.Values {
				ps.Floats = append(ps.Floats, promql.FPoint{T: int64(p.Timestamp), F: float64(p.Value)})
			}
			ps.Floats = inOrder(ps.Floats, func(p promql.FPoint) int64 { return p.T })
		}
		for _, p := range s.Histograms {
			if p.Histogram != nil {
				ps.Histograms = append(ps.Histograms, promql.HPoint{T: int64(p.Timestamp), H: fromHistogram(p.Histogram)})
			}
		}
		ps.Histograms = inOrder(ps.Histograms, func(p promql.HPoint) int64 { return p.T })
		out = append(out, ps)
	}
	return out, cut
}

// inOrder sorts points by time and keeps the first of each time.
func inOrder[P any](ps []P, t func(P) int64) []P {
	if sort.SliceIsSorted(ps, func(i, j int) bool { return t(ps[i]) < t(ps[j]) }) {
		return ps
	}
	sort.SliceStable(ps, func(i, j int) bool { return t(ps[i]) < t(ps[j]) })
	out := ps[:0]
	for i, p := range ps {
		if i > 0 && t(p) == t(ps[i-1]) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// fromHistogram keeps what the console shows of a native histogram: that
// it is one, with its count and sum. The buckets of the API's form
// (boundaries) are not those of the engine's (schema and spans).
func fromHistogram(h *model.SampleHistogram) *histogram.FloatHistogram {
	return &histogram.FloatHistogram{Count: float64(h.Count), Sum: float64(h.Sum)}
}

// capFor is a slice's capacity for at most max items: a remote's count
// is no reason to allocate.
func capFor(max int) int {
	if max < 0 {
		return 1024
	}
	return min(max, 1024)
}

// sortedLabelSets converts the label sets of /api/v1/series, sorted,
// without duplicates, at most max (max < 0: all).
func sortedLabelSets(sets []model.LabelSet, max int) ([]labels.Labels, int) {
	out := make([]labels.Labels, 0, min(len(sets), capFor(max)))
	dup := seen{}
	for _, s := range sets {
		ls := labelsOf(s)
		if dup.add(ls) {
			out = append(out, ls)
		}
	}
	sort.Slice(out, func(i, j int) bool { return labels.Compare(out[i], out[j]) < 0 })
	cut := 0
	if max >= 0 && len(out) > max {
		cut = len(out) - max
		out = out[:max]
	}
	return out, cut
}

// sortedStrings converts label names or values: sorted, without
// duplicates or the empty string, at most max (max < 0: all).
func sortedStrings[S ~string](vs []S, max int) ([]string, int) {
	out := make([]string, 0, min(len(vs), capFor(max)))
	for _, v := range vs {
		if v != "" {
			out = append(out, string(v))
		}
	}
	sort.Strings(out)
	kept := out[:0]
	for i, v := range out {
		if i > 0 && v == out[i-1] {
			continue
		}
		kept = append(kept, v)
	}
	cut := 0
	if max >= 0 && len(kept) > max {
		cut = len(kept) - max
		kept = kept[:max]
	}
	return kept, cut
}
