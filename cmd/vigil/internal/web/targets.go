package web

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilterm/vigil/scrape"
)

// target is one active target as /api/v1/targets shows it.
type target struct {
	DiscoveredLabels   labels.Labels `json:"discoveredLabels"`
	Labels             labels.Labels `json:"labels"`
	ScrapePool         string        `json:"scrapePool"`
	ScrapeURL          string        `json:"scrapeUrl"`
	GlobalURL          string        `json:"globalUrl"`
	LastError          string        `json:"lastError"`
	LastScrape         time.Time     `json:"lastScrape"`
	LastScrapeDuration float64       `json:"lastScrapeDuration"`
	Health             string        `json:"health"`
	ScrapeInterval     string        `json:"scrapeInterval"`
	ScrapeTimeout      string        `json:"scrapeTimeout"`
}

// targetDiscovery is the data of /api/v1/targets. vigil keeps no dropped
// targets (nor their count), so droppedTargets is always empty and
// droppedTargetCounts, a figure it cannot know, is left out.
type targetDiscovery struct {
	ActiveTargets  []target   `json:"activeTargets"`
	DroppedTargets []struct{} `json:"droppedTargets"`
}

// targets serves /api/v1/targets: state (active, dropped, any) and
// scrapePool, as Prometheus filters them. The discovered labels are
// those before relabeling, which vigil does not keep: {}.
func (a *api) targets(r *http.Request) result {
	q := r.URL.Query()
	pool := q.Get("scrapePool")
	state := strings.ToLower(q.Get("state"))
	res := targetDiscovery{ActiveTargets: []target{}, DroppedTargets: []struct{}{}}
	if state == "" || state == "any" || state == "active" {
		for _, th := range a.src.Targets.Targets() {
			if pool != "" && th.Job != pool {
				continue
			}
			res.ActiveTargets = append(res.ActiveTargets, target{
				DiscoveredLabels:   labels.EmptyLabels(),
				Labels:             th.Labels,
				ScrapePool:         th.Job,
				ScrapeURL:          th.URL,
				GlobalURL:          th.URL,
				LastError:          th.LastError,
				LastScrape:         th.LastScrape,
				LastScrapeDuration: th.LastDuration.Seconds(),
				Health:             string(th.Health),
				ScrapeInterval:     model.Duration(th.ScrapeInterval).String(),
				ScrapeTimeout:      model.Duration(th.ScrapeTimeout).String(),
			})
		}
	}
	return result{data: marshaled{res}}
}

// metadata is one declaration of a metric family in /api/v1/metadata.
// vigil keeps the TYPE line only; help and unit are empty, as
// Prometheus shows them for a target that sends none.
type metadata struct {
	Type model.MetricType `json:"type"`
	Help string           `json:"help"`
	Unit string           `json:"unit"`
}

// metricMetadata serves /api/v1/metadata: metric, limit,
// limit_per_metric.
func (a *api) metricMetadata(r *http.Request) result {
	limit := -1
	if s := r.FormValue("limit"); s != "" {
		var err error
		if limit, err = strconv.Atoi(s); err != nil {
			return result{err: badData(errors.New("limit must be a number"))}
		}
	}
	perMetric := -1
	if s := r.FormValue("limit_per_metric"); s != "" {
		var err error
		if perMetric, err = strconv.Atoi(s); err != nil {
			return result{err: badData(errors.New("limit_per_metric must be a number"))}
		}
	}
	md, err := a.src.Targets.Metadata(r.Context(), r.FormValue("metric"))
	if err != nil {
		return result{err: engineError(err)}
	}
	out := map[string][]metadata{}
	for _, name := range slices.Sorted(maps.Keys(md)) {
		if limit >= 0 && len(out) >= limit {
			break
		}
		ms := []metadata{}
		for _, m := range md[name] {
			if perMetric > 0 && len(ms) >= perMetric {
				break
			}
			ms = append(ms, metadata{Type: m.Type})
		}
		out[name] = ms
	}
	return result{data: marshaled{out}}
}

// TargetSource is what the server reads of the scrapes; *scrape.Manager
// is one.
type TargetSource interface {
	Targets() []scrape.TargetHealth
	Metadata(ctx context.Context, metric string) (map[string][]scrape.Metadata, error)
}
