package scrape

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/stretchr/testify/require"
)

// parsed is one entry as the loop sees it.
type parsed struct {
	typ    bool   // a TYPE entry, else a series
	key    string // the series as written, or the TYPE's metric name
	ts     string // the timestamp, or "" without one
	v      uint64 // the value's bits
	mtype  string
	labels string // only where the reader read labels
}

func (e parsed) String() string {
	if e.typ {
		return fmt.Sprintf("TYPE %q %s", e.key, e.mtype)
	}
	return fmt.Sprintf("%q ts=%s v=%x labels=%s", e.key, e.ts, e.v, e.labels)
}

// promParse is the reference: PromParser over the whole body.
func promParse(body []byte) (out []parsed, err error) {
	p := textparse.NewPromParser(append([]byte(nil), body...), labels.NewSymbolTable(), false)
	for {
		e, err := p.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch e {
		case textparse.EntrySeries:
			key, tp, v := p.Series()
			var ls labels.Labels
			p.Labels(&ls)
			out = append(out, parsed{key: string(key), ts: tsString(tp), v: math.Float64bits(v), labels: ls.String()})
		case textparse.EntryType:
			name, t := p.Type()
			out = append(out, parsed{typ: true, key: string(name), mtype: string(t)})
		}
	}
}

func tsString(tp *int64) string {
	if tp == nil {
		return ""
	}
	return fmt.Sprint(*tp)
}

// reader reads bodies as a loop does: hints from the last body, labels
// only for series it does not know.
type reader struct {
	known map[string]string // series key → labels
	last  []seriesKey       // series keys of the last body, in order
	meta  *metaLines
	st    *labels.SymbolTable
}

func newReader() *reader {
	return &reader{known: map[string]string{}, meta: newMetaLines(), st: labels.NewSymbolTable()}
}

func (r *reader) read(body []byte) (out []parsed, err error) {
	p := newTextParser(append([]byte(nil), body...), r.st, r.meta)
	var keys []seriesKey
	defer func() { r.last = keys }()
	for {
		var hint seriesKey
		if len(keys) < len(r.last) {
			hint = r.last[len(keys)]
		}
		e, err := p.next(hint)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if e == textparse.EntryType {
			name, t := p.typ()
			out = append(out, parsed{typ: true, key: string(name), mtype: string(t)})
			continue
		}
		key, tp, v := p.series()
		ls, ok := r.known[string(key)]
		if !ok {
			if err := p.verify(); err != nil {
				return out, err
			}
			key, tp, v = p.series()
			if ls, ok = r.known[string(key)]; !ok {
				var lset labels.Labels
				p.labels(&lset)
				ls = lset.String()
				r.known[string(key)] = ls
			}
		}
		if k := p.key(); k != keyOf(key) {
			return out, fmt.Errorf("series %q: key %v, want %v", key, k, keyOf(key))
		}
		keys = append(keys, keyOf(key))
		out = append(out, parsed{key: string(key), ts: tsString(tp), v: math.Float64bits(v), labels: ls})
	}
}

// sameAsProm fails t unless reading body after the bodies before gives
// PromParser's entries and error. Labels are compared where the reader
// read them for the first time: a loop keeps a series' labels by its key,
// as Prometheus' scrape cache does.
func sameAsProm(t *testing.T, r *reader, body []byte) {
	t.Helper()
	before := len(r.known)
	want, wantErr := promParse(body)
	got, gotErr := r.read(body)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("body %q: error %v, PromParser's %v", body, gotErr, wantErr)
	}
	if len(got) != len(want) {
		t.Fatalf("body %q: %d entries %v, PromParser %d %v", body, len(got), got, len(want), want)
	}
	fresh := before == 0
	for i := range got {
		g, w := got[i], want[i]
		if !fresh {
			g.labels, w.labels = "", ""
		}
		if g != w {
			t.Fatalf("body %q: entry %d is %v, PromParser's %v", body, i, g, w)
		}
	}
}

var textParserCases = []string{
	"a 1\n",
	"a 1",
	"a{b=\"c\"} 1 123\n",
	"a{b=\"c\"}\t 1\t123 \t\n",
	"# HELP a x\n# TYPE a counter\na 1\na{b=\"2\"} 2\n",
	"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\n",
	"# TYPE s summary\ns{quantile=\"0.5\"} 1\n# TYPE g gauge\ng{quantile=\"0.5\"} 1\n",
	"\n\n  \t\na 1\n\n",
	"a{b=\"x\ny\"} 1\nc 2\n",
	"a{b=\"x\\\"}\"} 1\n",
	"a {b=\"c\"} 1\n",
	"a{b=\"c\"} {1\n",
	"a 1 2 3\n",
	"a 1x\n",
	"a 0x1p3\n",
	"a 1_0\n",
	"a 1e999\n",
	"a 1 99999999999999999999\n",
	"a NaN\nb +Inf\nc -Inf\nd nan\n",
	"a\n",
	"a \n",
	"a 1\n\x00b 2\n",
	"a 1\n  \x00b 2\n",
	"#foo\x00bar\na 1\n",
	"# foo\x00bar\na 1\n",
	"# HELP a\n# TYPE a\na 1\n",
	"# TYPE a bogus\na 1\n",
	"# HELP a \xff\na 1\n",
	"a{b=\"\xff\"} 1\n",
	"{\"a.b\"} 1\n",
	"{\"a.b\",c=\"d\"} 1\n",
	"{c=\"d\"} 1\n",
	"a{b=\"c\",} 1\n",
	"a{b=\"c\" d=\"e\"} 1\n",
	"a{\"b.c\"=\"d\"} 1\n",
	"# TYPE \"a.b\" counter\n{\"a.b\"} 1\n",
	"a 1\r\n",
	"a{b=\"c\"}1\n",
	"a{b=\"c\"} 1 -5\n",
	"a 1 5\nb\n",
	"a{b=\"c\"} 1\na{b=\"c\"} 2\n",
}

// TestTextParserSameAsProm reads each case cold and then after every other
// case (so with their hints and cache), against PromParser over the body.
func TestTextParserSameAsProm(t *testing.T) {
	for _, c := range textParserCases {
		sameAsProm(t, newReader(), []byte(c))
		r := newReader()
		sameAsProm(t, r, []byte(c))
		sameAsProm(t, r, []byte(c))
		for _, d := range textParserCases {
			r := newReader()
			sameAsProm(t, r, []byte(d))
			sameAsProm(t, r, []byte(c))
		}
	}
}

// TestTextParserHistogramContext: a new bucket in a known histogram gets
// the "le" PromParser gives it in the body, though its line is read alone.
func TestTextParserHistogramContext(t *testing.T) {
	r := newReader()
	body1 := "# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
	body2 := "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"2\"} 1\n"
	if _, err := r.read([]byte(body1)); err != nil {
		t.Fatal(err)
	}
	got, err := r.read([]byte(body2))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].labels != `{__name__="h_bucket", le="2.0"}` {
		t.Fatalf("got %v", got)
	}
}

// TestTextParserReadsKnownLinesItself: once a body is known, the parser
// hands none of its lines to PromParser.
func TestTextParserReadsKnownLinesItself(t *testing.T) {
	body := benchBodies(1)[0]
	r := newReader()
	if _, err := r.read(body); err != nil {
		t.Fatal(err)
	}
	p := newTextParser(body, r.st, r.meta)
	n := 0
	for i := 0; ; i++ {
		var hint seriesKey
		if n < len(r.last) {
			hint = r.last[n]
		}
		e, err := p.next(hint)
		if err != nil {
			break
		}
		if p.slow != nil {
			t.Fatalf("entry %d: line %q went to PromParser", i, p.line)
		}
		if e == textparse.EntrySeries {
			n++
		}
	}
	if n != 1000 {
		t.Fatalf("read %d series, want 1000", n)
	}
}

// TestMetaLinesBounded: a target that writes new comments every time
// does not grow the loop's memory of them past maxMetaLines.
func TestMetaLinesBounded(t *testing.T) {
	r := newReader()
	for i := 0; i < 3; i++ {
		var b strings.Builder
		for j := 0; j < 2*maxMetaLines; j++ {
			fmt.Fprintf(&b, "# HELP m%d_%d x\n", i, j)
		}
		b.WriteString("a 1\n")
		if _, err := r.read([]byte(b.String())); err != nil {
			t.Fatal(err)
		}
		if n := len(r.meta.cur) + len(r.meta.prev); n > 2*maxMetaLines {
			t.Fatalf("body %d: %d comment lines remembered, bound %d", i, n, 2*maxMetaLines)
		}
	}
}

// TestMetaLinesKeptOnce: the comment lines of a body like the last one are
// not copied; a body that differs is kept apart from the line where it
// does, and the next body is read against it.
func TestMetaLinesKeptOnce(t *testing.T) {
	r := newReader()
	body := "# HELP a x\n# TYPE a gauge\na 1\n# HELP b y\n# TYPE b counter\nb 2\n"
	for i := 0; i < 3; i++ {
		sameAsProm(t, r, []byte(body))
	}
	require.Len(t, r.meta.prev, 4)
	require.True(t, r.meta.same(), "the same body again")
	require.Empty(t, r.meta.cur, "the same lines are not copied")

	changed := strings.Replace(body, "# HELP b y", "# HELP b z", 1)
	sameAsProm(t, r, []byte(changed))
	require.False(t, r.meta.same())
	require.Len(t, r.meta.cur, 4, "kept apart from the changed line on")
	for i := 0; i < 2; i++ {
		sameAsProm(t, r, []byte(changed))
		require.True(t, r.meta.same(), "read against the changed body")
	}
	fewer := "# HELP a x\n# TYPE a gauge\na 1\n"
	sameAsProm(t, r, []byte(fewer))
	sameAsProm(t, r, []byte(fewer))
	require.Len(t, r.meta.prev, 2)
	require.True(t, r.meta.same())
	sameAsProm(t, r, []byte(body))
}

// FuzzTextParser holds textParser to PromParser's entries and errors on a
// body read after another (whose series give the hints and the cache).
func FuzzTextParser(f *testing.F) {
	for _, c := range textParserCases {
		f.Add([]byte(c), []byte(c))
		f.Add([]byte("a 1\nb{c=\"d\"} 2\n"), []byte(c))
	}
	f.Fuzz(func(t *testing.T, first, body []byte) {
		r := newReader()
		sameAsProm(t, r, first)
		sameAsProm(t, r, body)
		sameAsProm(t, r, body)
	})
}
