package scrape

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilterm/vigil/store"
)

// scrapeStats counts one scrape's samples for the synthetic series.
type scrapeStats struct {
	total       int // samples in the body
	added       int // samples after metric relabeling
	seriesAdded int // series new to the target
	series      int // series in this body (after relabeling)
	keys        int // cache keys hit by this body
	refused     map[error]int
	example     string // one refused series, for the warning
}

// errDuplicateSeries names a series that is twice in one body.
var errDuplicateSeries = errors.New("duplicate series in one body")

// isRefused reports whether the store refused a sample (which drops the
// sample, not the scrape) rather than failed.
func isRefused(err error) bool {
	return errors.Is(err, store.ErrOutOfOrder) || errors.Is(err, store.ErrDuplicate) ||
		errors.Is(err, store.ErrTooOld) || errors.Is(err, store.ErrTooManySeries)
}

func refusedKind(err error) error {
	for _, e := range []error{store.ErrOutOfOrder, store.ErrDuplicate, store.ErrTooOld, store.ErrTooManySeries} {
		if errors.Is(err, e) {
			return e
		}
	}
	return err
}

// refuse counts a dropped sample of series ls (if known) for the warning.
func (st *scrapeStats) refuse(why error, ls labels.Labels) {
	if st.refused == nil {
		st.refused = map[error]int{}
	}
	st.refused[why]++
	if st.example == "" && !ls.IsEmpty() {
		st.example = ls.String()
	}
}

// warning is TargetHealth.LastWarning for a scrape: what it dropped, and
// why. Series refused for the store's series limit come first, in words
// that name the flag: raising it is what the operator can do.
func warning(st scrapeStats) string {
	if len(st.refused) == 0 {
		return ""
	}
	var parts []string
	if n := st.refused[store.ErrTooManySeries]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d series refused: the store is full (--max-series)", n))
	}
	n := 0
	var whys []string
	for e, c := range st.refused {
		if e == store.ErrTooManySeries {
			continue
		}
		n += c
		whys = append(whys, fmt.Sprintf("%d %s", c, e))
	}
	if n > 0 {
		sort.Strings(whys)
		parts = append(parts, fmt.Sprintf("%d samples dropped (%s)", n, strings.Join(whys, ", ")))
	}
	msg := strings.Join(parts, "; ")
	if st.example != "" {
		msg += ", e.g. " + st.example
	}
	return Sanitize(msg, DefaultSanitizeLen)
}

// reportNames are the synthetic series every scrape writes, in the order
// of reportSeries' arrays.
var reportNames = [5]string{"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"}

// reportSeries are a loop's synthetic series.
type reportSeries struct {
	refs    [5]storage.SeriesRef
	labels  [5]labels.Labels // built on first use
	written bool             // written at least once
}

type reportValues struct {
	duration                   float64
	scraped, post, seriesAdded int
}

// appendReport writes the synthetic series: up with the given value and,
// when rv is set, the others; with rv nil every one gets the value (stale
// markers at the end of a target). Refusals are counted in st when given.
func (l *loop) appendReport(app store.Appender, t int64, up float64, rv *reportValues, st *scrapeStats) {
	r := &l.report
	vals := [5]float64{up, up, up, up, up}
	if rv != nil {
		vals = [5]float64{up, rv.duration, float64(rv.scraped), float64(rv.post), float64(rv.seriesAdded)}
	}
	if r.labels[0].IsEmpty() {
		for i, name := range reportNames {
			l.lb.Reset(l.t.labels)
			l.lb.Set(model.MetricNameLabel, name)
			r.labels[i] = l.lb.Labels()
		}
	}
	for i := range reportNames {
		// Reserved: a store at its series limit still takes them, so that
		// a target that goes down always says so (see store.Appender).
		ref, err := app.AppendReserved(r.refs[i], r.labels[i], t, vals[i])
		switch {
		case err == nil:
			r.refs[i] = ref
		case st != nil:
			st.refuse(refusedKind(err), r.labels[i])
		}
	}
	r.written = true
}
