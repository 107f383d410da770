package scrape

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/model/value"
)

// textParser reads Prometheus' text format with the outcome of
// textparse.PromParser, at a fraction of its cost on the lines a target
// sends on every scrape.
//
// PromParser lexes every byte through a generated state machine, and most
// of a scrape's time went there. But a target writes the same series, with
// the same bytes, in the same order, every time. So textParser reads a
// series line itself as far as "series value [timestamp]": the series is
// found from the loop's hint or by its braces and quotes, the rest is
// checked as PromParser's lexer would and the numbers parsed with the same
// functions. A series it finds this way is only a candidate: the loop
// keeps it if PromParser already accepted it (its seriesKey is in the
// loop's cache), and asks verify otherwise, which hands the line to a
// PromParser. A HELP, TYPE or other comment line identical to one
// PromParser accepted earlier (by a hash, see metaLines) is taken as read;
// any other line goes to PromParser as well. So the errors, the labels and
// the cache keys are all PromParser's own.
//
// A PromParser starts every line from the same state, carrying over only
// the type of the last TYPE line (it shapes the "le" and "quantile" labels
// of histograms and summaries): a line parsed alone after that TYPE line
// reads as it does in the body. FuzzTextParser holds the two to the same
// entries, values and errors.
type textParser struct {
	b       []byte
	at      int // where the next line starts
	symbols *labels.SymbolTable
	meta    *metaLines

	// The current line, with its newline when it has one, and where it starts.
	line   []byte
	lineAt int

	alone int // lines handed to a PromParser of their own: see maxAlone

	// The current series entry.
	skey  []byte
	sk    seriesKey // keyOf(skey) when skOK
	skOK  bool
	ts    int64
	hasTS bool
	v     float64
	slow  textparse.Parser // a PromParser that read the current line, or nil
	rest  textparse.Parser // a PromParser reading the rest of the body, or nil

	stepAt int  // with rest: where the line after its entry's starts
	inStep bool // with rest: stepAt follows it (see nextRest)

	// The current or last TYPE entry.
	tname []byte
	ttype model.MetricType
	typeL []byte // the last TYPE line: the context a lone line needs

	buf []byte // a TYPE line and the line after it, for PromParser
}

func newTextParser(b []byte, symbols *labels.SymbolTable, meta *metaLines) *textParser {
	meta.start()
	return &textParser{b: b, symbols: symbols, meta: meta}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func (p *textParser) next(hint seriesKey) (textparse.Entry, error) {
	if p.rest != nil {
		return p.nextRest()
	}
	for p.at < len(p.b) {
		s, e := p.at, len(p.b)
		if i := bytes.IndexByte(p.b[s:], '\n'); i >= 0 {
			e = s + i
		}
		p.at = e + 1
		p.line, p.lineAt = p.b[s:min(e+1, len(p.b))], s
		p.slow = nil
		line := p.b[s:e]
		if len(line) == 0 {
			continue // a blank line, as PromParser allows
		}
		switch c := line[0]; {
		case c == '#':
			if m, ok := p.meta.get(line); ok {
				if m.mtype == 0 {
					continue
				}
				p.tname, p.ttype, p.typeL = line[m.nameAt:m.nameEnd], metricTypes[m.mtype], p.line
				return textparse.EntryType, nil
			}
		case hint.n > 0 && len(line) > int(hint.n) && maphash.Bytes(seriesSeed, line[:hint.n]) == hint.h:
			if p.sample(line, int(hint.n)) {
				p.sk, p.skOK = hint, true
				return textparse.EntrySeries, nil
			}
		default:
			if k := seriesEnd(line); k > 0 && p.sample(line, k) {
				return textparse.EntrySeries, nil
			}
		}
		if p.alone >= maxAlone && line[0] != '#' {
			return p.readRest(s)
		}
		ent, err := p.reparse()
		switch {
		case err == io.EOF:
			if len(bytes.Trim(line, " \t")) == 0 {
				continue // only blanks: PromParser skips the line
			}
			// A NUL where a line starts ends PromParser's reading.
			p.at = len(p.b)
			return textparse.EntryInvalid, io.EOF
		case err != nil:
			// Not an entry of its own; but a quoted string may go on over
			// the next lines. From here PromParser reads the rest of the
			// body, and fails where it fails.
			return p.readRest(s)
		case ent == textparse.EntrySeries:
			return ent, nil
		case ent == textparse.EntryType:
			name, t := p.slow.Type()
			p.meta.put(line, name, t)
			p.tname, p.ttype, p.typeL = name, t, p.line
			return ent, nil
		default: // HELP and comments
			p.meta.put(line, nil, "")
		}
	}
	p.meta.done = true
	return textparse.EntryInvalid, io.EOF
}

// readRest hands the body from s on to a PromParser, after the last TYPE
// line, and reads its first entry.
func (p *textParser) readRest(s int) (textparse.Entry, error) {
	in := p.b[s:]
	if len(p.typeL) > 0 {
		p.buf = append(append(p.buf[:0], p.typeL...), in...)
		in = p.buf
	}
	p.rest = textparse.NewPromParser(in, p.symbols, false)
	p.slow = p.rest
	p.at, p.stepAt, p.inStep = len(p.b), s, true
	if len(p.typeL) > 0 {
		if _, err := p.rest.Next(); err != nil {
			return textparse.EntryInvalid, fmt.Errorf("TYPE line read again: %w", err)
		}
	}
	return p.nextRest()
}

// nextRest reads the next entry of the rest of the body from PromParser.
// It follows along line by line, so that the comment lines still go to the
// loop's memory of them (else a body of many new series would leave them
// to PromParser the next time too): an entry is one line, unless a quoted
// string goes on over lines, which shows as a newline in its series or
// name and ends the following along.
func (p *textParser) nextRest() (textparse.Entry, error) {
	for {
		ent, err := p.rest.Next()
		if err != nil {
			if err == io.EOF && p.inStep {
				p.meta.done = true
			}
			return ent, err
		}
		var line []byte
		if p.inStep {
			line = p.stepLine()
		}
		switch ent {
		case textparse.EntrySeries:
			var tp *int64
			p.skey, tp, p.v = p.rest.Series()
			p.skOK = false
			if p.hasTS = tp != nil; p.hasTS {
				p.ts = *tp
			}
			if p.inStep && (bytes.IndexByte(p.skey, '\n') >= 0 || !bytes.HasPrefix(line, p.skey)) {
				p.inStep = false
			}
			return ent, nil
		case textparse.EntryType:
			p.tname, p.ttype = p.rest.Type()
			if p.inStep && bytes.IndexByte(p.tname, '\n') >= 0 {
				p.inStep = false
			}
			if p.inStep {
				p.meta.put(line, p.tname, p.ttype)
			}
			return ent, nil
		case textparse.EntryHelp:
			if name, _ := p.rest.Help(); p.inStep && bytes.IndexByte(name, '\n') >= 0 {
				p.inStep = false
			}
		}
		if p.inStep {
			p.meta.put(line, nil, "")
		}
	}
}

// stepLine returns the next line, without its newline, that PromParser
// does not skip as blank.
func (p *textParser) stepLine() []byte {
	for p.stepAt < len(p.b) {
		s, e := p.stepAt, len(p.b)
		if i := bytes.IndexByte(p.b[s:], '\n'); i >= 0 {
			e = s + i
		}
		p.stepAt = e + 1
		if line := p.b[s:e]; len(bytes.Trim(line, " \t")) > 0 {
			return line
		}
	}
	return nil
}

// seriesEnd is where the series at the start of line ends: after its name,
// or after the brace that closes its labels; 0 when it has neither.
// It checks nothing else: PromParser will, if the loop does not know the
// series.
func seriesEnd(line []byte) int {
	i := 0
	for i < len(line) && isNameByte(line[i], i > 0) {
		i++
	}
	if i == len(line) || line[i] != '{' {
		return i
	}
	for i++; i < len(line); i++ {
		switch line[i] {
		case '}':
			return i + 1
		case '"':
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' {
					i++
				}
			}
		}
	}
	return 0
}

func isNameByte(c byte, notFirst bool) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || notFirst && c >= '0' && c <= '9'
}

// sample reads " value [timestamp]" after the series that ends at k, as
// PromParser's lexer and parser do. It reports false for anything it does
// not read exactly as PromParser would, errors included.
func (p *textParser) sample(line []byte, k int) bool {
	i := k
	if i == len(line) || !isBlank(line[i]) {
		return false
	}
	for i < len(line) && isBlank(line[i]) {
		i++
	}
	j := i
	for j < len(line) && !isBlank(line[j]) {
		if line[j] == '{' {
			return false
		}
		j++
	}
	if j == i {
		return false
	}
	v, err := parseFloat(unsafe.String(&line[i], j-i))
	if err != nil {
		return false
	}
	if math.IsNaN(v) {
		v = math.Float64frombits(value.NormalNaN)
	}
	for j < len(line) && isBlank(line[j]) {
		j++
	}
	p.skey, p.v, p.hasTS, p.skOK = line[:k], v, false, false
	if j == len(line) {
		return true
	}
	i = j
	for j < len(line) && line[j] >= '0' && line[j] <= '9' {
		j++
	}
	if j == i {
		return false
	}
	ts, err := strconv.ParseInt(unsafe.String(&line[i], j-i), 10, 64)
	if err != nil {
		return false
	}
	for j < len(line) && isBlank(line[j]) {
		j++
	}
	p.ts, p.hasTS = ts, true
	return j == len(line)
}

// parseFloat parses a sample value as PromParser does: Go's float syntax
// without hexadecimal exponents or underscores.
func parseFloat(s string) (float64, error) {
	if strings.ContainsAny(s, "pP_") {
		return 0, errors.New("unsupported character in float")
	}
	return strconv.ParseFloat(s, 64)
}

// maxAlone is how many series lines of a body go to a PromParser each
// before the rest of the body goes to one: a PromParser and its label
// builder cost nothing for the few new series of a scrape, but made for
// every line of a fleet's first scrapes they are much garbage
// (cmd/compare's heap profile holds what those scrapes allocate).
// (Comment lines still go alone: the loop needs to have seen them to
// read them itself; they are about one line in three, and only new ones.)
const maxAlone = 32

// reparse hands the current line to a PromParser, after the last TYPE line
// when it is not a comment, and reads its entry.
func (p *textParser) reparse() (textparse.Entry, error) {
	in := p.line
	ctx := len(p.typeL) > 0 && in[0] != '#'
	if ctx {
		p.buf = append(append(p.buf[:0], p.typeL...), in...)
		in = p.buf
	}
	if p.line[0] != '#' {
		p.alone++
	}
	sp := textparse.NewPromParser(in, p.symbols, false)
	if ctx {
		if _, err := sp.Next(); err != nil {
			return textparse.EntryInvalid, fmt.Errorf("TYPE line read again: %w", err)
		}
	}
	ent, err := sp.Next()
	if err != nil {
		return ent, err
	}
	p.slow = sp
	if ent == textparse.EntrySeries {
		var tp *int64
		p.skey, tp, p.v = sp.Series()
		p.skOK = false
		if p.hasTS = tp != nil; p.hasTS {
			p.ts = *tp
		}
	}
	return ent, nil
}

func (p *textParser) series() ([]byte, *int64, float64) {
	if p.hasTS {
		return p.skey, &p.ts, p.v
	}
	return p.skey, nil, p.v
}

func (p *textParser) key() seriesKey {
	if !p.skOK {
		p.sk, p.skOK = keyOf(p.skey), true
	}
	return p.sk
}

func (p *textParser) verify() error {
	if p.slow != nil {
		return nil
	}
	var (
		ent textparse.Entry
		err error
	)
	if p.alone >= maxAlone {
		ent, err = p.readRest(p.lineAt)
	} else {
		ent, err = p.reparse()
	}
	switch {
	case err == io.EOF:
		return errors.New("unexpected end of input")
	case err != nil:
		return err
	case ent != textparse.EntrySeries:
		return fmt.Errorf("expected a series, got entry %d", ent)
	}
	return nil
}

func (p *textParser) labels(ls *labels.Labels) {
	if p.verify() == nil {
		p.slow.Labels(ls)
	}
}

func (p *textParser) typ() ([]byte, model.MetricType) { return p.tname, p.ttype }
