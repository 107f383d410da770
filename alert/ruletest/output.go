package ruletest

import (
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// labelAndAnnotation is one firing alert, as compared and printed.
type labelAndAnnotation struct {
	Labels      labels.Labels
	Annotations labels.Labels
}

func (la labelAndAnnotation) String() string {
	return "Labels:" + la.Labels.String() + "\nAnnotations:" + la.Annotations.String()
}

// labelsAndAnnotations sorts by labels, then annotations.
type labelsAndAnnotations []labelAndAnnotation

func (la labelsAndAnnotations) Len() int      { return len(la) }
func (la labelsAndAnnotations) Swap(i, j int) { la[i], la[j] = la[j], la[i] }
func (la labelsAndAnnotations) Less(i, j int) bool {
	if d := labels.Compare(la[i].Labels, la[j].Labels); d != 0 {
		return d < 0
	}
	return labels.Compare(la[i].Annotations, la[j].Annotations) < 0
}

func (la labelsAndAnnotations) equal(other labelsAndAnnotations) bool {
	if len(la) != len(other) {
		return false
	}
	for i := range la {
		if !labels.Equal(la[i].Labels, other[i].Labels) || !labels.Equal(la[i].Annotations, other[i].Annotations) {
			return false
		}
	}
	return true
}

// String is the list as promtool prints it: "[]", or each alert numbered
// on lines of its own.
func (la labelsAndAnnotations) String() string {
	if len(la) == 0 {
		return "[]"
	}
	var b strings.Builder
	b.WriteString("[\n")
	for i, l := range la {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(strconv.Itoa(i) + ":" + indentLines("\n"+l.String(), "  "))
	}
	b.WriteString("\n]")
	return b.String()
}

// parsedSample is one sample of an expression test, as compared and
// printed.
type parsedSample struct {
	Labels    labels.Labels
	Value     float64
	Histogram string // the histogram's test expression; empty for a float
}

func (ps parsedSample) String() string {
	if ps.Histogram != "" {
		return ps.Labels.String() + " " + ps.Histogram
	}
	return ps.Labels.String() + " " + strconv.FormatFloat(ps.Value, 'E', -1, 64)
}

func parsedSamplesString(pss []parsedSample) string {
	if len(pss) == 0 {
		return "nil"
	}
	parts := make([]string, len(pss))
	for i, ps := range pss {
		parts[i] = ps.String()
	}
	return strings.Join(parts, ", ")
}

func samplesEqual(a, b []parsedSample, eq func(x, y float64) bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !labels.Equal(a[i].Labels, b[i].Labels) || a[i].Histogram != b[i].Histogram || !eq(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

// indentLines prefixes every line but the first with indent.
func indentLines(lines, indent string) string {
	return strings.ReplaceAll(lines, "\n", "\n"+indent)
}
