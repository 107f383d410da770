package tui

import (
	"math"
	"strconv"
	"strings"
)

// metricKind is what a metric's name says about its values: whether it is
// a counter (charted as a per-second rate) and how to print a value.
type metricKind struct {
	counter bool
	unit    string               // "bytes", "seconds", "ratio" or ""
	format  func(float64) string // a value, with its unit (and /s for a counter)
}

// kindOf reads a metric name the Prometheus way: _total, _count and _sum
// are counters; the unit is the suffix before that: _bytes (shown in
// KiB, MiB, GiB), _seconds (µs, ms, s), _ratio (shown as %).
func kindOf(name string) metricKind {
	var k metricKind
	base := name
	for _, suf := range []string{"_total", "_count", "_sum"} {
		if b, ok := strings.CutSuffix(name, suf); ok {
			k.counter, base = true, b
			break
		}
	}
	per := ""
	if k.counter {
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
	return strconv.FormatFloat(v, 'g', 3, 64) + units[i]
}

// formatSeconds prints seconds as ns, µs, ms or s, or as minutes and
// longer for long ones.
func formatSeconds(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return formatValue(v)
	case a == 0:
		return "0s"
	case a < 1e-6:
		return strconv.FormatFloat(v*1e9, 'g', 3, 64) + "ns"
	case a < 1e-3:
		return strconv.FormatFloat(v*1e6, 'g', 3, 64) + "µs"
	case a < 1:
		return strconv.FormatFloat(v*1e3, 'g', 3, 64) + "ms"
	case a < 60:
		return strconv.FormatFloat(v, 'g', 3, 64) + "s"
	}
	return formatAxis(v) + "s"
}
