//go:build !slicelabels && !dedupelabels

package store

import (
	"fmt"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
)

// labelArena builds the label sets of a restore in large slabs instead of
// one allocation per series (see slab): their page faults were a part of
// a start worth saving (BenchmarkRestore).
//
// It writes labels.Labels' own representation, which is not exported: with
// Prometheus' default stringlabels, a Labels is one string of name, value,
// name, value…, each preceded by its length in one byte (0-254) or 255 and
// three bytes little-endian. The array below fails to compile if Labels is
// ever more than that string, and TestLabelArena checks the encoding
// against labels.FromStrings, so an upgrade that changes it fails loudly.
// Other labels builds (slicelabels, dedupelabels) use labelarena_other.go.
type labelArena struct {
	pairs []string // name, value, …
	bytes slab[byte]
}

var _ [unsafe.Sizeof(labels.Labels{}) - unsafe.Sizeof("")]struct{}
var _ [unsafe.Sizeof("") - unsafe.Sizeof(labels.Labels{})]struct{}

// maxLabelLen is the longest name or value stringlabels can encode.
const maxLabelLen = 1<<24 - 1

func (a *labelArena) reset() { a.pairs = a.pairs[:0] }

// add appends one label; the strings need only live until labels returns.
func (a *labelArena) add(name, value string) { a.pairs = append(a.pairs, name, value) }

// labels returns the labels added since reset, in the order added.
func (a *labelArena) labels() (labels.Labels, error) {
	size := 0
	for _, s := range a.pairs {
		if len(s) > maxLabelLen {
			return labels.EmptyLabels(), fmt.Errorf("a label of %d bytes", len(s))
		}
		size += len(s) + 1
		if len(s) >= 255 {
			size += 3
		}
	}
	if size == 0 {
		return labels.EmptyLabels(), nil
	}
	b := a.bytes.take(size)[:0]
	for _, s := range a.pairs {
		if n := len(s); n < 255 {
			b = append(b, byte(n))
		} else {
			b = append(b, 255, byte(n), byte(n>>8), byte(n>>16))
		}
		b = append(b, s...)
	}
	data := unsafe.String(unsafe.SliceData(b), len(b))
	return *(*labels.Labels)(unsafe.Pointer(&data)), nil
}

func (a *labelArena) done() { a.bytes.done() }
