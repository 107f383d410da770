package scrape

import (
	"io"
	"math"
	"strconv"
	"strings"
)

// TextWriter writes the Prometheus text format (0.0.4), for the Collect
// funcs of internal targets. The first error sticks and is returned by Err.
type TextWriter struct {
	w    io.Writer
	err  error
	buf  []byte
	last string
}

// NewTextWriter returns a TextWriter on w.
func NewTextWriter(w io.Writer) *TextWriter { return &TextWriter{w: w} }

// Err returns the first write error.
func (t *TextWriter) Err() error { return t.err }

// helpEscaper escapes a HELP text. It is built once: a Replacer builds its
// tables on first use, and vigil's own metrics write a header for every
// family on every scrape (cmd/compare's heap profile holds what vigil
// allocates).
var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

// Header writes the HELP and TYPE lines of a metric family (typ: counter,
// gauge, untyped). Write it once, before the family's samples.
func (t *TextWriter) Header(name, typ, help string) {
	t.buf = append(t.buf[:0], "# HELP "...)
	t.buf = append(t.buf, name...)
	t.buf = append(t.buf, ' ')
	t.buf = append(t.buf, helpEscaper.Replace(help)...)
	t.buf = append(t.buf, "\n# TYPE "...)
	t.buf = append(t.buf, name...)
	t.buf = append(t.buf, ' ')
	t.buf = append(t.buf, typ...)
	t.buf = append(t.buf, '\n')
	t.flush()
}

// Sample writes one sample; labels are name, value pairs.
func (t *TextWriter) Sample(name string, v float64, labels ...string) {
	t.buf = append(t.buf[:0], name...)
	if len(labels) > 0 {
		t.buf = append(t.buf, '{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				t.buf = append(t.buf, ',')
			}
			t.buf = append(t.buf, labels[i]...)
			t.buf = append(t.buf, `="`...)
			for _, c := range []byte(labels[i+1]) {
				switch c {
				case '\\':
					t.buf = append(t.buf, `\\`...)
				case '"':
					t.buf = append(t.buf, `\"`...)
				case '\n':
					t.buf = append(t.buf, `\n`...)
				default:
					t.buf = append(t.buf, c)
				}
			}
			t.buf = append(t.buf, '"')
		}
		t.buf = append(t.buf, '}')
	}
	t.buf = append(t.buf, ' ')
	switch {
	case math.IsInf(v, 1):
		t.buf = append(t.buf, "+Inf"...)
	case math.IsInf(v, -1):
		t.buf = append(t.buf, "-Inf"...)
	case math.IsNaN(v):
		t.buf = append(t.buf, "NaN"...)
	default:
		t.buf = strconv.AppendFloat(t.buf, v, 'g', -1, 64)
	}
	t.buf = append(t.buf, '\n')
	t.flush()
}

func (t *TextWriter) flush() {
	if t.err == nil {
		_, t.err = t.w.Write(t.buf)
	}
}
