package tui

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// formatValue prints a sample value in at most about 9 cells, the way
// Prometheus' console shows it: %g-like, with NaN and ±Inf spelled out.
func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	a := math.Abs(v)
	if a != 0 && (a >= 1e9 || a < 1e-3) {
		return strconv.FormatFloat(v, 'e', 2, 64)
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if len(s) > 12 {
		// Keep the integer part, as many decimals as fit.
		s = strconv.FormatFloat(v, 'f', max(11-len(strconv.FormatFloat(math.Trunc(v), 'f', 0, 64)), 0), 64)
		if strings.Contains(s, ".") {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
	}
	return s
}

// formatAxis prints a chart axis label in at most about 6 cells: 3
// significant digits and an SI prefix.
func formatAxis(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return formatValue(v)
	}
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a < 0.01:
		return strconv.FormatFloat(v, 'e', 1, 64)
	case round3(a) < 1000:
		return sig3(v)
	}
	prefixes := []string{"", "k", "M", "G", "T", "P", "E"}
	i := 0
	for math.Abs(round3(v)) >= 1000 && i < len(prefixes)-1 {
		v /= 1000
		i++
	}
	return sig3(v) + prefixes[i]
}

// round3 is v rounded to three significant digits, as sig3 prints it: a
// unit is chosen by the rounded value, so that 999.7 goes up to the next
// one ("1k", not "1e+03").
func round3(v float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	if err != nil {
		return v
	}
	return r
}

// sig3 prints v to three significant digits without an exponent from 1
// up: "1020" for 1023, where 'g' writes "1.02e+03" (a byte count between
// 1000 and 1023 stays in bytes).
func sig3(v float64) string {
	s := strconv.FormatFloat(v, 'g', 3, 64)
	if strings.Contains(s, "e+") {
		s = strconv.FormatFloat(round3(v), 'f', 0, 64)
	}
	return s
}

// formatSI prints v with an SI prefix (k, M, G, T) and the given unit,
// e.g. 1.2M for 1_234_567; used for rates and sizes in cards.
func formatSI(v float64, unit string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return formatValue(v)
	}
	prefixes := []string{"", "k", "M", "G", "T", "P", "E"}
	i := 0
	for math.Abs(v) >= 1000 && i < len(prefixes)-1 {
		v /= 1000
		i++
	}
	var s string
	switch a := math.Abs(v); {
	case a == 0:
		s = "0"
	case a < 10:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	default:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	}
	return s + prefixes[i] + unit
}

// formatPercent prints a percentage with one decimal.
func formatPercent(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return formatValue(v)
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "%"
}

// formatDuration prints a duration compactly: 850ms, 12s, 4m5s, 3h2m, 2d4h.
func formatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d == 0:
		return "0s"
	case d < time.Millisecond:
		return strconv.FormatInt(int64(d/time.Microsecond), 10) + "µs"
	case d < time.Second:
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	case d < 10*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	case d < time.Minute:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d < time.Hour:
		m, s := int64(d/time.Minute), int64(d%time.Minute/time.Second)
		return join2(m, "m", s, "s")
	case d < 48*time.Hour:
		h, m := int64(d/time.Hour), int64(d%time.Hour/time.Minute)
		return join2(h, "h", m, "m")
	default:
		dd, h := int64(d/(24*time.Hour)), int64(d%(24*time.Hour)/time.Hour)
		return join2(dd, "d", h, "h")
	}
}

func join2(a int64, au string, b int64, bu string) string {
	s := strconv.FormatInt(a, 10) + au
	if b != 0 {
		s += strconv.FormatInt(b, 10) + bu
	}
	return s
}

// formatAge prints how long ago t was, "-" for the zero time.
func formatAge(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return formatDuration(now.Sub(t).Truncate(time.Second))
}

// formatRange prints a time range the PromQL way: 5m, 1h, 6h, 1d.
func formatRange(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	default:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
}

// labelsString prints a label set as {a="b", c="d"} with every name and
// value sanitised and the whole cut to max cells. The metric name, when
// present and wanted, goes in front as in PromQL.
func labelsString(ls labels.Labels, withName bool, max int) string {
	var b strings.Builder
	name := ls.Get(labels.MetricName)
	if withName && name != "" {
		b.WriteString(Sanitize(name, maxNameLen))
	}
	n := 0
	b.WriteByte('{')
	ls.Range(func(l labels.Label) {
		if l.Name == labels.MetricName {
			return
		}
		if n > 0 {
			b.WriteString(", ")
		}
		n++
		b.WriteString(Sanitize(l.Name, maxLabelLen))
		b.WriteString(`="`)
		b.WriteString(Sanitize(l.Value, maxLabelLen))
		b.WriteByte('"')
	})
	b.WriteByte('}')
	s := b.String()
	if n == 0 && withName && name != "" {
		s = strings.TrimSuffix(s, "{}")
	}
	if max <= 0 {
		return s
	}
	return fit(s, max)
}

func itoa(i int) string { return strconv.Itoa(i) }

// trimFloat prints v with at most prec decimals, without trailing zeros.
func trimFloat(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

// formatShort prints v with 5 significant digits, for summaries.
func formatShort(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return formatValue(v)
	}
	return strconv.FormatFloat(v, 'g', 5, 64)
}
