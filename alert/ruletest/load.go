package ruletest

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/vigilterm/vigil/store"
)

// seriesParser reads input series as Prometheus' test language reads them.
var seriesParser = parser.NewParser(parser.Options{
	EnableExperimentalFunctions: true,
	EnableBinopFillModifiers:    true,
	EnableUnquotedUTF8Names:     true,
})

// loadSample is one input sample.
type loadSample struct {
	t int64 // milliseconds
	v float64
}

// loader holds a test's input series and appends them to the store as the
// evaluation reaches their time.
type loader struct {
	order   []string // series keys in the order they are first defined
	metrics map[string]labels.Labels
	pending map[string][]loadSample
}

// newLoader reads the input series as promtool does: it writes them as a
// "load" command of the test language, one series a line (a series or
// values with a line break makes two lines), and reads that back. An
// empty or comment line ends the command, and what follows is not loaded.
// A series defined twice keeps its last values. Errors name the line of
// that command, as promtool's do.
func newLoader(tg *testGroup, start time.Time) (*loader, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "load %v\n", shortDuration(tg.Interval))
	for _, is := range tg.InputSeries {
		fmt.Fprintf(&b, "  %v %v\n", is.Series, is.Values)
	}
	l := &loader{metrics: map[string]labels.Labels{}, pending: map[string][]loadSample{}}
	gap := time.Duration(tg.Interval)
	lines := strings.Split(b.String(), "\n")
	for i := 1; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			break
		}
		metric, vals, err := seriesParser.ParseSeriesDesc(line)
		if err != nil {
			parser.EnrichParseError(err, func(pe *parser.ParseErr) { pe.LineOffset = i })
			return nil, err
		}
		key := metric.String()
		if _, ok := l.metrics[key]; !ok {
			l.order = append(l.order, key)
		}
		l.metrics[key] = metric
		var samples []loadSample
		ts := start
		for _, v := range vals {
			if v.Histogram != nil {
				return nil, fmt.Errorf("input series %s: native histograms are not supported: vigil stores float samples only", key)
			}
			if !v.Omitted {
				samples = append(samples, loadSample{t: ts.UnixMilli(), v: v.Value})
			}
			ts = ts.Add(gap)
		}
		l.pending[key] = samples
	}
	return l, nil
}

// appendTill appends every sample at or before ts (milliseconds) that is
// not in the store yet.
func (l *loader) appendTill(db *store.DB, ts int64) error {
	app := db.Appender()
	for _, key := range l.order {
		samples := l.pending[key]
		n := 0
		for ; n < len(samples) && samples[n].t <= ts; n++ {
			if _, err := app.Append(0, l.metrics[key], samples[n].t, samples[n].v); err != nil {
				_ = app.Rollback()
				return err
			}
		}
		l.pending[key] = samples[n:]
	}
	return app.Commit()
}

// shortDuration is d as the load command names it: "1m", not "1m0s".
func shortDuration(d model.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
