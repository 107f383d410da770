package store

import (
	"math"
	"math/bits"
)

// Decimal scaling: a chunk may hold its values multiplied by a power of ten.
//
// Exporters write decimals: node_exporter prints a collector's duration as
// 0.000532127 and CPU seconds in hundredths. Parsed, such a value is the
// float64 nearest the decimal, whose 52-bit mantissa is a binary expansion
// that never ends, so two values that differ in their last printed digit
// differ in most of their bits and XOR compression saves little: a change
// costs nearly a whole value (BenchmarkCompressionBreakdown's B/change).
// The same values times 10⁹ are integers below 2⁵³, whose mantissas end in
// zeros: 532127 against 532130 differ in a few bits.
//
// So a chunk has a scale, the byte before its chunkenc bytes. Scale 0 stores
// values as they are. A scale s > 0 names a power of ten 10^k and how a
// reader gets a value back: odd s = 2k+1 divides by 10^k, even s = 2k+2
// multiplies by 10^−k as a float64 holds it. The chunk stores a finite
// value v as w = round(v × 10^k), and only where |w| ≤ 2⁵³ and the reader's
// operation on w gives v back bit for bit. Division is correctly rounded,
// so it gives back every v parsed from a decimal with at most k digits
// after the point and 15 in all; multiplication gives back what a program
// computed as an integer times 10^−k (node_exporter's disk times are
// milliseconds × 0.001, printed as 24.996000000000002), and fewer decimals,
// since 10^−k is rounded. NaN (staleness markers among them) and ±Inf are
// stored as they are at any scale; no scaled finite value is either, so a
// reader tells them apart. Nothing is lost: every append is checked, and a
// value that does not fit moves the open chunk to a larger scale (its
// samples re-encoded), or to scale 0 when none fits.
//
// A chunk's scale is the smallest that fits its values, unless scaling
// would lengthen them (fitScale), so integers stay at scale 1, where w = v,
// and counters cost what they did; memSeries.firstScale says where a new
// chunk starts. Scales are ordered by k, division first, so the smallest
// that fits is found by counting up. Division takes most of the decimals
// exporters print; multiplication takes what division cannot, such as
// node_exporter's disk times. BenchmarkCompression measures what scaling
// saves on recorded node_exporter scrapes, against chunkenc alone in its
// "unscaled" runs.
const (
	scaleNone = 0
	// maxScale is the largest scale: 10^22 is the largest power of ten a
	// float64 holds exactly.
	maxScale = 2*22 + 2
)

// scaleFactor[s] is scale s's power of ten, scaleInverse[s] its inverse as
// a float64 holds it (both unused at scale 0).
var scaleFactor, scaleInverse = func() (f, inv [maxScale + 1]float64) {
	p := 1.0
	for k := 0; 2*k+2 <= maxScale; k++ {
		f[2*k+1], f[2*k+2] = p, p
		inv[2*k+1], inv[2*k+2] = 1/p, 1/p
		p *= 10
	}
	return f, inv
}()

// scaleValue returns what a chunk of scale s stores for v, and false when v
// does not fit that scale.
func scaleValue(v float64, s uint8) (float64, bool) {
	switch {
	case s == scaleNone:
		return v, true
	case s == 1 && v == math.Trunc(v) && math.Abs(v) <= 1<<53:
		return v, true // an integer, as it is: no division to check
	case v-v != 0: // NaN or ±Inf
		return v, true
	}
	w := math.RoundToEven(v * scaleFactor[s])
	if math.Abs(w) > 1<<53 || math.Float64bits(unscale(w, s)) != math.Float64bits(v) {
		return 0, false
	}
	return w, true
}

// unscale returns the value appended for w, read from a chunk of scale s.
func unscale(w float64, s uint8) float64 {
	switch {
	case s <= 1 || math.IsNaN(w):
		return w
	case s&1 == 0:
		return w * scaleInverse[s]
	}
	return w / scaleFactor[s]
}

// fitScale returns the smallest scale from from on that v fits, or
// scaleNone when none does or when v takes more bits so scaled than as it
// is. from is at least 1.
//
// The second is for binary fractions: 3.25 is 13/4, a 4-bit mantissa, and
// 325 takes 9, so a series stepping by a quarter takes more bytes scaled.
// A decimal such as 0.000532127 has all 53 bits, and 532127 20.
func fitScale(v float64, from uint8) uint8 {
	s, w := smallestScale(v, from)
	if s != scaleNone && significantBits(w) > significantBits(v) {
		return scaleNone
	}
	return s
}

// smallestScale returns the smallest scale from from on that v fits and
// what it stores for v there, or scaleNone when none does. from is at
// least 1. (Scale 2, multiplying by 10⁰, takes only what scale 1 takes, so
// no chunk ends up there.)
func smallestScale(v float64, from uint8) (uint8, float64) {
	for s := from; s <= maxScale; s++ {
		if w, ok := scaleValue(v, s); ok {
			return s, w
		}
	}
	return scaleNone, v
}

// significantBits returns how many bits of x's mantissa, its leading 1
// included, come before its trailing zeros; 0 for zero.
func significantBits(x float64) int {
	b := math.Float64bits(x)
	if b<<1 == 0 {
		return 0
	}
	m := b&(1<<52-1) | 1<<52
	return 53 - bits.TrailingZeros64(m)
}
