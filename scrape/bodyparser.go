package scrape

import (
	"hash/maphash"
	"math"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// bodyParser is what a loop reads a body through: textparse's Parser,
// narrowed to what the loop uses. textParser implements it for the text
// format; parserOf adapts textparse's other parsers.
type bodyParser interface {
	// next advances to the next series or TYPE entry, skipping the others.
	// hint is the key of the series the loop expects next (the one at this
	// position in the last body), or the zero key: a parser may use it to
	// skip work, never to change what it returns.
	next(hint seriesKey) (textparse.Entry, error)
	// series is the current series entry, as textparse.Parser.Series.
	series() (key []byte, ts *int64, v float64)
	// key is keyOf the current series' key.
	key() seriesKey
	// verify makes sure the current series entry is what textparse's
	// parser makes of it, and fails as that parser would. A loop calls it
	// before it keeps a series it has not seen: series and labels may
	// change, never a series already verified.
	verify() error
	labels(*labels.Labels)
	typ() ([]byte, model.MetricType)
}

// seriesKey identifies a series as a body writes it (the bytes of
// `name{labels}` that textparse's Series returns) by their length and a
// hash of them: the loop's cache holds this instead of the bytes, which
// are several times longer (BenchmarkLoopMemory). Two
// different series with one key would be taken for one; with a 64-bit hash
// that is about one chance in 10^13 for a target of 1,000 series, and the
// seed is random per process, so a target cannot aim at it.
type seriesKey struct {
	n uint32 // the length, for the hint; 0 in the zero key
	h uint64
}

var seriesSeed = maphash.MakeSeed()

func keyOf(b []byte) seriesKey {
	return seriesKey{n: uint32(min(len(b), math.MaxUint32)), h: maphash.Bytes(seriesSeed, b)}
}

// parserOf is a bodyParser over a textparse.Parser (OpenMetrics, protobuf).
type parserOf struct{ textparse.Parser }

func (p parserOf) key() seriesKey {
	b, _, _ := p.Series()
	return keyOf(b)
}

func (p parserOf) next(seriesKey) (textparse.Entry, error) {
	for {
		e, err := p.Next()
		if err != nil || e == textparse.EntrySeries || e == textparse.EntryType {
			return e, err
		}
	}
}

func (p parserOf) series() ([]byte, *int64, float64) { return p.Series() }
func (p parserOf) verify() error                     { return nil }
func (p parserOf) labels(ls *labels.Labels)          { p.Labels(ls) }
func (p parserOf) typ() ([]byte, model.MetricType)   { return p.Type() }
