package tui

import (
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// labelSplit is what tells a set of series apart: the names of the labels
// whose values differ between them, and the labels they all share. Tables
// lead with the first and show the second once above the rows; chart
// legends show only the first. Without it, label columns sorted by name
// put labels such as cluster= or env= in front and the one that tells the
// rows apart (usually instance) is cut off at the edge.
type labelSplit struct {
	// differ are the names whose value is not the same on every set (a
	// name missing from some sets counts as differing): instance first,
	// then the metric name, then the others by how many distinct values
	// they take (most first), then by name.
	differ []string
	// shared are the labels with one value on every set, sorted by name.
	shared labels.Labels
}

// splitLabels splits sets as labelSplit says. With fewer than two sets
// nothing differs and every label of the one set is shared.
func splitLabels(sets []labels.Labels) labelSplit {
	if len(sets) == 0 {
		return labelSplit{shared: labels.EmptyLabels()}
	}
	distinct := map[string]map[string]struct{}{}
	present := map[string]int{}
	for _, ls := range sets {
		ls.Range(func(l labels.Label) {
			vs := distinct[l.Name]
			if vs == nil {
				vs = map[string]struct{}{}
				distinct[l.Name] = vs
			}
			vs[l.Value] = struct{}{}
			present[l.Name]++
		})
	}
	var s labelSplit
	b := labels.NewScratchBuilder(len(distinct))
	for name, vs := range distinct {
		if len(vs) == 1 && present[name] == len(sets) {
			for v := range vs {
				b.Add(name, v)
			}
			continue
		}
		s.differ = append(s.differ, name)
	}
	b.Sort()
	s.shared = b.Labels()
	rank := func(name string) int {
		switch name {
		case "instance":
			return 0
		case labels.MetricName:
			return 1
		}
		return 2
	}
	slices.SortFunc(s.differ, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		if na, nb := len(distinct[a]), len(distinct[b]); na != nb {
			return nb - na
		}
		return strings.Compare(a, b)
	})
	return s
}

// distinct prints the differing labels of ls in the split's order, as
// name="value" pairs (the metric name bare, in front), sanitised and cut
// to max cells (no cut when max <= 0). A set that differs in nothing
// prints as "{}".
func (s labelSplit) distinct(ls labels.Labels, max int) string {
	var name string
	var pairs []string
	for _, n := range s.differ {
		if n == labels.MetricName {
			name = Sanitize(ls.Get(n), maxNameLen)
			continue
		}
		if ls.Has(n) {
			pairs = append(pairs, Sanitize(n, maxLabelLen)+`="`+Sanitize(ls.Get(n), maxLabelLen)+`"`)
		}
	}
	out := strings.Join(pairs, ", ")
	switch {
	case name != "" && out != "":
		out = name + " " + out
	case name != "":
		out = name
	case out == "":
		out = "{}"
	}
	if max <= 0 {
		return out
	}
	return fit(out, max)
}
