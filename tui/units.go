package tui

import (
	"math"
	"strings"

	"github.com/prometheus/common/model"
)

// metricKind is what a metric's name (and its family's declared type,
// when there is one) says about its values: whether it is a counter
// (charted as a per-second rate) and how to print a value.
type metricKind struct {
	counter bool
	unit    string               // "bytes", "seconds", "ratio" or ""
	format  func(float64) string // a value, with its unit (and /s for a counter)
}

// kindOf reads a metric name the Prometheus way: _total, _count and _sum
// are counters. See kindAs for the unit.
func kindOf(name string) metricKind { return kindAs(name, counterByName(name)) }

// counterByName reports whether a name says counter: _total, _count, _sum.
func counterByName(name string) bool {
	for _, suf := range []string{"_total", "_count", "_sum"} {
		if strings.HasSuffix(name, suf) {
			return true
		}
	}
	return false
}

// kindAs is the kind of a metric that is a counter or not: the unit is
// the suffix before _total or _sum: _bytes (shown in KiB, MiB, GiB),
// _seconds (µs, ms, s), _ratio (shown as %). A _count or _bucket is a
// number of events whatever its histogram measures.
func kindAs(name string, counter bool) metricKind {
	k := metricKind{counter: counter}
	base := name
	for _, suf := range []string{"_total", "_sum"} {
		if b, ok := strings.CutSuffix(name, suf); ok {
			base = b
			break
		}
	}
	if strings.HasSuffix(name, "_count") || strings.HasSuffix(name, "_bucket") {
		base = ""
	}
	per := ""
	if counter {
		per = "/s"
	}
	switch {
	case strings.HasSuffix(base, "_bytes"):
		k.unit = "bytes"
		k.format = func(v float64) string { return formatIEC(v) + per }
	case strings.HasSuffix(base, "_seconds"):
		k.unit = "seconds"
		k.format = func(v float64) string { return formatSeconds(v) + per }
	case strings.HasSuffix(base, "_ratio"):
		k.unit = "ratio"
		k.format = func(v float64) string { return formatPercent(100*v) + per }
	default:
		k.format = func(v float64) string { return formatAxis(v) + per }
	}
	return k
}

// counterByType says whether the series name is a counter by what its
// family's TYPE line declares (typeOf gives a family's type, "" when none
// is known): a family declared counter; a histogram's or summary's
// _count, _sum and _bucket; an OpenMetrics counter family's _total. A
// family declared gauge is not one, whatever its name. ok is false when
// the declarations say nothing (no TYPE line, or untyped): then the name
// decides.
func counterByType(name string, typeOf func(family string) model.MetricType) (counter, ok bool) {
	if typeOf == nil {
		return false, false
	}
	switch typeOf(name) {
	case model.MetricTypeCounter:
		return true, true
	case model.MetricTypeGauge, model.MetricTypeInfo, model.MetricTypeStateset,
		model.MetricTypeHistogram, model.MetricTypeGaugeHistogram, model.MetricTypeSummary:
		// A series named as its histogram or summary family is a
		// summary's quantile: a gauge.
		return false, true
	}
	for _, suf := range []string{"_total", "_count", "_sum", "_bucket", "_created"} {
		family, found := strings.CutSuffix(name, suf)
		if !found {
			continue
		}
		t := typeOf(family)
		switch {
		case suf == "_created" && t != "" && t != model.MetricTypeUnknown:
			return false, true // a timestamp
		case suf == "_total" && t == model.MetricTypeCounter,
			suf != "_total" && (t == model.MetricTypeHistogram || t == model.MetricTypeSummary):
			return true, true
		case suf != "_total" && t == model.MetricTypeGaugeHistogram:
			return false, true
		}
	}
	return false, false
}

// formatIEC prints a byte count in B, KiB, MiB, GiB, TiB, PiB.
func formatIEC(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return formatValue(v)
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for math.Abs(v) >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return sig3(v) + units[i]
}

// formatSeconds prints seconds as ns, µs, ms or s, or as minutes and
// longer for long ones.
func formatSeconds(v float64) string {
	a := round3(math.Abs(v)) // the unit is chosen by what is printed
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return formatValue(v)
	case a == 0:
		return "0s"
	case a < 1e-6:
		return sig3(v*1e9) + "ns"
	case a < 1e-3:
		return sig3(v*1e6) + "µs"
	case a < 1:
		return sig3(v*1e3) + "ms"
	case a < 60:
		return sig3(v) + "s"
	}
	return formatAxis(v) + "s"
}
