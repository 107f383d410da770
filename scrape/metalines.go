package scrape

import (
	"bytes"
	"hash/maphash"
	"math"

	"github.com/prometheus/common/model"
)

// maxMetaLines bounds the comment lines a loop remembers of a body:
// node_exporter writes about 600 (a HELP and a TYPE per family). Lines
// past it are read by PromParser every time.
const maxMetaLines = 4096

// metaLines are the comment lines (HELP, TYPE and others) of a loop's last
// body that PromParser accepted, in order, by a hash of their bytes: a
// comment line that hashes as the one at its place in the last body did is
// taken as read. (A hash, not the line, which is several times longer:
// BenchmarkLoopMemory counts the comment lines. The seed is random per
// loop, so a target cannot aim at a collision.) A TYPE line keeps where
// its metric name is and its type.
//
// A target writes the same comment lines every time, so this body's are
// kept apart from the last one's only once they differ: until then cur is
// empty, n counts them and they are prev[:n], not a second copy of the
// same lines in each loop (BenchmarkLoopMemory).
type metaLines struct {
	seed maphash.Seed
	prev []metaLine // the last body's
	cur  []metaLine // this body's so far, from its first line on once it differs from prev
	n    int        // this body's lines so far
	done bool       // this body is whole: the next start takes it as prev
}

// same reports whether this body's lines so far are the last body's
// first ones, prev[:n], and so not kept apart in cur.
func (ml *metaLines) same() bool { return len(ml.cur) == 0 }

type metaLine struct {
	hash            uint64
	nameAt, nameEnd uint16
	mtype           uint8 // in metricTypes; 0 for a line other than TYPE
}

// metricTypes are the types PromParser gives a TYPE line, by metaLine.mtype.
var metricTypes = [...]model.MetricType{1: model.MetricTypeCounter, model.MetricTypeGauge, model.MetricTypeHistogram, model.MetricTypeSummary, model.MetricTypeUnknown}

func newMetaLines() *metaLines { return &metaLines{seed: maphash.MakeSeed()} }

// start begins a body.
func (ml *metaLines) start() {
	if ml.done {
		if ml.same() {
			ml.prev = ml.prev[:ml.n]
		} else {
			ml.prev, ml.cur = ml.cur, ml.prev
		}
	}
	ml.cur, ml.n, ml.done = ml.cur[:0], 0, false
}

// add appends m as this body's next line, keeping the body apart from
// the last one's from the first line where they differ.
func (ml *metaLines) add(m metaLine) {
	if ml.same() {
		if ml.n < len(ml.prev) && ml.prev[ml.n] == m {
			ml.n++
			return
		}
		ml.cur = append(ml.cur[:0], ml.prev[:ml.n]...)
	}
	ml.cur = append(ml.cur, m)
	ml.n++
}

// get returns the line at this place in the last body if line is the same.
func (ml *metaLines) get(line []byte) (metaLine, bool) {
	i := ml.n
	if i >= len(ml.prev) {
		return metaLine{}, false
	}
	m := ml.prev[i]
	if m.hash != maphash.Bytes(ml.seed, line) {
		return metaLine{}, false
	}
	ml.add(m)
	return m, true
}

// typeNameAt is where the metric name starts in a TYPE line PromParser
// accepted: after "#", blanks, "TYPE", blanks and an opening quote.
func typeNameAt(line []byte) int {
	i := 1
	for i < len(line) && isBlank(line[i]) {
		i++
	}
	if !bytes.HasPrefix(line[i:], []byte("TYPE")) {
		return -1
	}
	for i += 4; i < len(line) && isBlank(line[i]); i++ {
	}
	if i < len(line) && line[i] == '"' {
		i++
	}
	return i
}

// put remembers line, which PromParser accepted; name is the metric name
// of a TYPE line.
func (ml *metaLines) put(line, name []byte, t model.MetricType) {
	if ml.n >= maxMetaLines {
		return
	}
	m := metaLine{hash: maphash.Bytes(ml.seed, line)}
	if t != "" {
		for i, mt := range metricTypes {
			if i > 0 && mt == t {
				m.mtype = uint8(i)
			}
		}
		if m.mtype == 0 || len(line) > math.MaxUint16 {
			m.hash = 0 // not kept: read again next time
		}
		if at := typeNameAt(line); at >= 0 && bytes.HasPrefix(line[at:], name) && at+len(name) <= math.MaxUint16 {
			m.nameAt, m.nameEnd = uint16(at), uint16(at+len(name))
		} else {
			m.hash = 0
		}
	}
	ml.add(m)
}
