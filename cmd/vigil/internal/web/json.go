package web

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
)

// errTooLarge is what an encoder reports once its output passed its bound.
var errTooLarge = errors.New("response too large")

// encoder appends JSON to a buffer that may not grow past max bytes: a
// response is built whole before it is sent, as Prometheus builds its own,
// so that a request over a limit gets an error instead of a cut-off body,
// and the bound is what it may cost. The hot paths (query results, series,
// label names) are written by hand, without reflection.
type encoder struct {
	b   []byte
	max int
	err error // a value that could not be encoded; the response is refused
}

// full reports whether the output passed its bound. Writers check it
// once per sample or series, so the buffer passes max by at most one of
// those before the response is dropped.
func (e *encoder) full() bool { return len(e.b) > e.max }

func (e *encoder) raw(s string) { e.b = append(e.b, s...) }
func (e *encoder) byte(c byte)  { e.b = append(e.b, c) }

// str writes s as a JSON string, escaped exactly as encoding/json escapes
// it (and Prometheus' encoder, which follows it): <, > and & as \u00XX,
// invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped. FuzzString holds
// it to that.
func (e *encoder) str(s string) { e.b = appendString(e.b, s) }

const hexDigits = "0123456789abcdef"

// safe marks the ASCII bytes that go into a JSON string as they are.
var safe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// labels writes a label set as an object, in its (sorted) order.
func (e *encoder) labels(ls labels.Labels) {
	e.byte('{')
	first := true
	ls.Range(func(l labels.Label) {
		if !first {
			e.byte(',')
		}
		first = false
		e.str(l.Name)
		e.byte(':')
		e.str(l.Value)
	})
	e.byte('}')
}

// timestamp writes milliseconds as seconds with up to three decimals, as
// Prometheus writes a sample's time: 1435781451.781, 1435781451.780 keeps
// its zero, 1435781451 has none.
func (e *encoder) timestamp(t int64) {
	if t < 0 {
		e.byte('-')
		t = -t
	}
	e.b = strconv.AppendInt(e.b, t/1000, 10)
	if f := t % 1000; f != 0 {
		e.byte('.')
		if f < 100 {
			e.byte('0')
		}
		if f < 10 {
			e.byte('0')
		}
		e.b = strconv.AppendInt(e.b, f, 10)
	}
}

// sampleValue writes a sample value as a string, as Prometheus does:
// shortest decimal, exponent form below 1e-6 and from 1e21, and "NaN",
// "+Inf", "-Inf".
func (e *encoder) sampleValue(f float64) {
	e.byte('"')
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	e.b = strconv.AppendFloat(e.b, f, format, -1, 64)
	e.byte('"')
}

// number writes f as a JSON number, as encoding/json writes a float64
// (which is how Prometheus writes a scalar's time and a duration in
// seconds). NaN and infinities, which JSON has no number for, are never
// passed to it.
func (e *encoder) number(f float64) {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	n := len(e.b)
	e.b = strconv.AppendFloat(e.b, f, format, -1, 64)
	if format == 'e' {
		// encoding/json writes 1e-7 where strconv writes 1e-07.
		if m := len(e.b); m-n >= 4 && e.b[m-4] == 'e' && e.b[m-3] == '-' && e.b[m-2] == '0' {
			e.b[m-2] = e.b[m-1]
			e.b = e.b[:m-1]
		}
	}
}

// strings writes a list of strings; nil is [].
func (e *encoder) strings(ss []string) {
	e.byte('[')
	for i, s := range ss {
		if i > 0 {
			e.byte(',')
		}
		e.str(s)
	}
	e.byte(']')
}

// formatFloat is a scalar's value as Prometheus writes it.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
