package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilterm/vigil/tui"
)

// targetsSource, rulesSource and alertsSource are the Source as the
// console's target, rule and alert sources: each reports on its own list.
type (
	targetsSource struct{ *Source }
	rulesSource   struct{ *Source }
	alertsSource  struct{ *Source }
)

var (
	_ tui.TargetSource = targetsSource{}
	_ tui.Reporting    = targetsSource{}
	_ tui.RuleSource   = rulesSource{}
	_ tui.Reporting    = rulesSource{}
	_ tui.AlertSource  = alertsSource{}
	_ tui.Reporting    = alertsSource{}
)

// TargetSource is the source as the console's tui.TargetSource (with
// tui.Reporting).
func (s *Source) TargetSource() tui.TargetSource { return targetsSource{s} }

// Targets implements tui.TargetSource: the targets last read, copied.
func (s targetsSource) Targets() []tui.Target {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]tui.Target(nil), s.targets.items...)
}

// Reporting implements tui.Reporting.
func (s targetsSource) Reporting() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return reporting(s.Source, &s.targets)
}

// apiTargets is the data of /api/v1/targets, as much of it as the
// console shows. discoveredLabels is read for the scrape interval and
// timeout only, which VictoriaMetrics gives there and not beside health.
type apiTargets struct {
	Active []apiTarget `json:"activeTargets"`
}

type apiTarget struct {
	Labels             map[string]string `json:"labels"`
	ScrapePool         string            `json:"scrapePool"`
	ScrapeURL          string            `json:"scrapeUrl"`
	LastError          string            `json:"lastError"`
	LastScrape         time.Time         `json:"lastScrape"`
	LastScrapeDuration float64           `json:"lastScrapeDuration"`
	Health             string            `json:"health"`
	ScrapeInterval     string            `json:"scrapeInterval"`
	ScrapeTimeout      string            `json:"scrapeTimeout"`
	LastSamplesScraped *float64          `json:"lastSamplesScraped"` // VictoriaMetrics'
	Discovered         struct {
		Interval string `json:"__scrape_interval__"`
		Timeout  string `json:"__scrape_timeout__"`
	} `json:"discoveredLabels"`
}

// apiResponse is the envelope of every answer of the API.
type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
}

// errNotServed is a 404 (or 405, 501): the remote has no such endpoint.
var errNotServed = errors.New("not served")

func notServed(status int) bool {
	return status == http.StatusNotFound || status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented
}

// fetchTargets reads the active targets. client_golang's Targets would
// read the dropped ones too, and its ActiveTarget has no scrape interval.
func (s *Source) fetchTargets(ctx context.Context) ([]tui.Target, error) {
	u := s.client.URL("/api/v1/targets", nil)
	u.RawQuery = url.Values{"state": {"active"}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, body, err := s.client.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if notServed(resp.StatusCode) {
		return nil, errNotServed
	}
	return parseTargets(resp.StatusCode, body, s.opts.MaxSeries)
}

// parseTargets reads an answer of /api/v1/targets: the targets, at most
// max of them (max < 0: all), in the console's types.
func parseTargets(status int, body []byte, max int) ([]tui.Target, error) {
	var env apiResponse
	if err := json.Unmarshal(body, &env); err != nil {
		if status/100 != 2 {
			return nil, fmt.Errorf("targets: HTTP %d", status)
		}
		return nil, fmt.Errorf("targets: the answer is not the API's JSON (is --source the API's base, what comes before /api/v1?): %w", err)
	}
	if env.Status != "success" {
		if env.Error == "" {
			env.Error = fmt.Sprintf("HTTP %d", status)
		}
		return nil, fmt.Errorf("targets: %s", env.Error)
	}
	var data apiTargets
	if err := json.Unmarshal(env.Data, &data); err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	ts := data.Active
	if max >= 0 && len(ts) > max {
		ts = ts[:max]
	}
	out := make([]tui.Target, 0, len(ts))
	for _, t := range ts {
		out = append(out, consoleTarget(t))
	}
	return out, nil
}

// consoleTarget is t in the console's type; what the remote does not
// say (samples, series, the interval) is not known.
func consoleTarget(t apiTarget) tui.Target {
	ls := labelsOf(t.Labels)
	job := t.ScrapePool
	if job == "" {
		job = ls.Get("job")
	}
	ct := tui.Target{
		Job:            job,
		Instance:       ls.Get("instance"),
		URL:            t.ScrapeURL,
		Labels:         ls,
		LastError:      t.LastError,
		LastSamples:    -1,
		Series:         -1,
		ScrapeInterval: duration(t.ScrapeInterval, t.Discovered.Interval),
		ScrapeTimeout:  duration(t.ScrapeTimeout, t.Discovered.Timeout),
		LastDuration:   seconds(t.LastScrapeDuration),
	}
	switch strings.ToLower(t.Health) {
	case "up":
		ct.Health = tui.TargetUp
	case "down":
		ct.Health = tui.TargetDown
	default:
		ct.Health = tui.TargetUnknown
	}
	// Prometheus says 0001-01-01 for a target never scraped.
	if t.LastScrape.Year() > 1970 {
		ct.LastScrape = t.LastScrape
	}
	if n := t.LastSamplesScraped; n != nil && *n >= 0 && *n < math.MaxInt32 {
		ct.LastSamples = int(*n)
	}
	return ct
}

// labelsOf is m as valid labels: sorted, without empty values.
func labelsOf[M ~map[K]V, K, V ~string](m M) labels.Labels {
	b := labels.NewScratchBuilder(len(m))
	for n, v := range m {
		if n != "" && v != "" {
			b.Add(string(n), string(v))
		}
	}
	b.Sort()
	return b.Labels()
}

// duration reads the first of ds that is a Prometheus duration ("15s",
// "1m30s"); 0 (not known) when none is.
func duration(ds ...string) time.Duration {
	for _, d := range ds {
		if v, err := model.ParseDuration(d); err == nil && v > 0 {
			return time.Duration(v)
		}
	}
	return 0
}

// seconds is a count of seconds from the remote as a duration; 0 when it
// is not one (NaN, negative, longer than a day).
func seconds(f float64) time.Duration {
	if math.IsNaN(f) || f < 0 || f > 86400 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// Target-level series that give what /api/v1/targets does not: the
// samples of the last scrape, and the series kept of them.
const (
	samplesExpr = "scrape_samples_scraped"
	seriesExpr  = "scrape_samples_post_metric_relabeling"
)

// pollTargets reads the targets, then their samples and series. When the
// remote serves no targets it asks again only every recheckNotServed,
// and meanwhile asks for the cheapest query there is, so that the header
// still says whether it answers.
func (s *Source) pollTargets(ctx context.Context) {
	now := s.opts.Now()
	s.mu.Lock()
	gone := s.targets.gone
	s.mu.Unlock()
	if !gone.IsZero() && now.Sub(gone) < recheckNotServed {
		pctx, cancel := s.pollCtx(ctx)
		_, _, _, err := s.api.Query(pctx, "1", time.Time{})
		cancel()
		if err != nil {
			s.pollFailed(err)
		}
		return
	}

	pctx, cancel := s.pollCtx(ctx)
	ts, err := s.fetchTargets(pctx)
	cancel()
	switch {
	case errors.Is(err, errNotServed):
		s.setTargets(nil, fmt.Errorf("%w: it serves no /api/v1/targets", tui.ErrNotReported), now)
		return
	case err != nil:
		s.pollFailed(err)
		s.failedList("targets", err)
		return
	case len(ts) == 0:
		s.setTargets(nil, fmt.Errorf("%w: it lists no active target", tui.ErrNotReported), time.Time{})
		return
	}
	s.countSeries(ctx, ts)
	s.setTargets(ts, nil, time.Time{})
}

// countSeries fills the samples and series of ts from the series the
// remote's scrapes write, where it has them; they stay not known
// otherwise.
func (s *Source) countSeries(ctx context.Context, ts []tui.Target) {
	byLabels := make(map[string]*tui.Target, len(ts))
	for i := range ts {
		byLabels[ts[i].Labels.String()] = &ts[i]
	}
	for _, q := range []struct {
		expr string
		set  func(*tui.Target, int)
	}{
		{samplesExpr, func(t *tui.Target, n int) {
			if t.LastSamples < 0 {
				t.LastSamples = n
			}
		}},
		{seriesExpr, func(t *tui.Target, n int) { t.Series = n }},
	} {
		pctx, cancel := s.pollCtx(ctx)
		v, _, _, err := s.api.Query(pctx, q.expr, time.Time{})
		cancel()
		if err != nil {
			s.pollFailed(err)
			continue
		}
		vec, ok := v.(model.Vector)
		if !ok {
			continue
		}
		for _, smp := range vec {
			m := smp.Metric.Clone()
			delete(m, model.MetricNameLabel)
			t := byLabels[labelsOf(m).String()]
			f := float64(smp.Value)
			if t != nil && f >= 0 && f < math.MaxInt32 {
				q.set(t, int(f))
			}
		}
	}
}

func (s *Source) setTargets(ts []tui.Target, err error, gone time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if errors.Is(err, tui.ErrNotReported) && s.targets.gone.IsZero() && !gone.IsZero() {
		s.opts.Logger.Info("the remote serves no targets", "url", s.where)
	}
	s.targets = list[tui.Target]{items: ts, read: true, err: err, gone: gone}
	delete(s.notes, "targets")
}

// failedList keeps what was read of a kind when reading it again fails,
// and says why in the header when the remote answered (a failure to
// reach it is said once, as unreachable).
func (s *Source) failedList(kind string, err error) {
	err = s.redact.err(err)
	s.mu.Lock()
	reached := s.failing.IsZero()
	switch kind {
	case "targets":
		if !s.targets.read {
			s.targets.err = fmt.Errorf("not known: %w", err)
		}
	case "rules":
		if !s.rules.read {
			s.rules.err = fmt.Errorf("not known: %w", err)
		}
		fallthrough
	case "alerts":
		if !s.alerts.read {
			s.alerts.err = fmt.Errorf("not known: %w", err)
		}
	}
	s.mu.Unlock()
	if reached && !errors.Is(err, context.Canceled) {
		s.note(kind, "remote "+kind+": "+err.Error())
	}
}
