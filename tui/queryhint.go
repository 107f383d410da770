package tui

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// emptyHint says why a query found nothing, when its selectors are the
// reason: a metric no series has, a label its series do not have (with
// the ones they do: {dev="eth0"} names device), a value no series has
// (with some that are). "" when the selectors all find series.
func emptyHint(ctx context.Context, q Querier, expr string, start, end time.Time) string {
	e, err := parseExpr(expr)
	if err != nil {
		return ""
	}
	var hints []string
	seen := map[string]bool{}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok || ctx.Err() != nil {
			return nil
		}
		var byName []*labels.Matcher
		what := "these series"
		if vs.Name != "" {
			byName = []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, vs.Name)}
			what = Sanitize(vs.Name, maxNameLen)
			names, err := q.LabelValues(ctx, labels.MetricName, start, end, byName...)
			if err == nil && len(names) == 0 {
				add(&hints, seen, "no series named "+what+" in this range")
				return nil
			}
		}
		have, err := q.LabelNames(ctx, start, end, byName...)
		if err != nil {
			return nil
		}
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName {
				continue
			}
			if !slices.Contains(have, m.Name) {
				if m.Matches("") {
					continue // {x=""} asks for series without x
				}
				add(&hints, seen, what+" has no label "+strconv.Quote(Sanitize(m.Name, maxLabelLen))+"; its labels: "+someOf(have, labels.MetricName))
				continue
			}
			vals, err := q.LabelValues(ctx, m.Name, start, end, byName...)
			if err != nil {
				continue
			}
			if slices.ContainsFunc(vals, m.Matches) {
				continue
			}
			add(&hints, seen, "no "+what+" with "+Sanitize(m.String(), maxLineLen)+"; "+Sanitize(m.Name, maxLabelLen)+" is one of "+someOf(vals, ""))
		}
		return nil
	})
	return strings.Join(hints, "; ")
}

func add(hints *[]string, seen map[string]bool, h string) {
	if !seen[h] {
		seen[h] = true
		*hints = append(*hints, h)
	}
}

// someOf lists the first few of vs (but skip), sanitised.
func someOf(vs []string, skip string) string {
	var out []string
	n := 0
	for _, v := range vs {
		if v == skip {
			continue
		}
		n++
		if len(out) < 8 {
			out = append(out, Sanitize(v, 40))
		}
	}
	s := strings.Join(out, ", ")
	if n > len(out) {
		s += ", … (" + itoa(n) + ")"
	}
	return s
}
