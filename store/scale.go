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
// differ in most of their bits and XOR compression saves little: 7 bytes a
// change. The same values times 10⁹ are integers below 2⁵³, whose mantissas
// end in zeros: 532127 against 532130 differ in a few bits.
//
// So a chunk has a scale, the byte before its chunkenc bytes. Scale 0 stores
// values as they are. Scale s > 0 stores a finite value v as
// w = round(v × 10^(s−1)), and only where |w| ≤ 2⁵³ and w / 10^(s−1), the
// division a reader does, gives v back bit for bit (IEEE division is
// correctly rounded, so it does for every v parsed from a decimal with at
// most s−1 digits after the point and 15 in all). NaN (staleness markers among them) and
// ±Inf are stored as they are at any scale; no scaled finite value is
// either, so a reader tells them apart. Nothing is lost: every append is
// checked, and a value that does not fit moves the open chunk to a larger
// scale (its samples re-encoded), or to scale 0 when none fits.
//
// A chunk's scale is the smallest that fits its values, unless scaling
// would lengthen them (fitScale), so integers stay at scale 1, where w = v,
// and counters cost what they did; memSeries.firstScale says where a new
// chunk starts. On the recorded
// node_exporter scrapes (BenchmarkCompression) this takes EncXOR2 from 1.34
// to 0.86 bytes a sample. Multiplying by a rounded 10^−k instead of dividing
// is faster to read but fits fewer values (1.18 bytes a sample): the product
// is rounded twice.
const (
	scaleNone = 0
	// maxScale is the largest scale: 10^22 is the largest power of ten a
	// float64 holds exactly.
	maxScale = 23
)

// pow10[s] is 10^(s−1), the divisor of scale s (pow10[0] is unused).
var pow10 = func() (p [maxScale + 1]float64) {
	p[1] = 1
	for s := 2; s <= maxScale; s++ {
		p[s] = p[s-1] * 10
	}
	return p
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
	w := math.RoundToEven(v * pow10[s])
	if math.Abs(w) > 1<<53 || math.Float64bits(w/pow10[s]) != math.Float64bits(v) {
		return 0, false
	}
	return w, true
}

// unscale returns the value appended for w, read from a chunk of scale s.
func unscale(w float64, s uint8) float64 {
	if s > 1 && !math.IsNaN(w) {
		return w / pow10[s]
	}
	return w
}

// fitScale returns the smallest scale from from on that v fits, or
// scaleNone when none does or when v takes more bits so scaled than as it
// is. from is at least 1.
//
// The second is for binary fractions: 3.25 is 13/4, a 4-bit mantissa, and
// 325 takes 9; a series stepping by a quarter held 15% more bytes scaled.
// A decimal such as 0.000532127 has all 53 bits, and 532127 20.
func fitScale(v float64, from uint8) uint8 {
	s := smallestScale(v, from)
	if s != scaleNone {
		if w, _ := scaleValue(v, s); significantBits(w) > significantBits(v) {
			return scaleNone
		}
	}
	return s
}

// smallestScale returns the smallest scale from from on that v fits, or
// scaleNone when none does. from is at least 1.
func smallestScale(v float64, from uint8) uint8 {
	for s := from; s <= maxScale; s++ {
		if _, ok := scaleValue(v, s); ok {
			return s
		}
	}
	return scaleNone
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
