package scrape

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilterm/vigil/store"
)

// HealthState is a target's health as the console shows it.
type HealthState string

// The states of a target.
const (
	HealthUnknown HealthState = "unknown" // not scraped yet
	HealthUp      HealthState = "up"
	HealthDown    HealthState = "down"
)

// TargetHealth is a snapshot of one target's state, safe to keep and read
// from any goroutine. Every string in it is sanitised for a terminal.
type TargetHealth struct {
	Job      string
	Instance string
	URL      string        // the scrape URL, without credentials
	Labels   labels.Labels // target labels after relabeling (job, instance, ...); values as configured, sanitise to show

	Health         HealthState
	LastScrape     time.Time     // zero before the first scrape
	LastDuration   time.Duration // how long the last scrape took
	LastError      string        // short, sanitised; empty when up
	LastWarning    string        // samples the last scrape dropped (duplicates, refused by the store); sanitised
	LastSamples    int           // samples in the last scrape body
	Series         int           // series the target currently exposes
	SeriesRefused  int           // of those, the ones the store refused in the last scrape: it holds --max-series
	ScrapeInterval time.Duration
	ScrapeTimeout  time.Duration
}

func (l *loop) healthSnapshot() TargetHealth {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.health
}

// recordScrape sets the target's health after a scrape that started at
// ts, took dur and failed with err (nil: it was good), and logs a change.
func (l *loop) recordScrape(ts time.Time, dur time.Duration, st scrapeStats, err error) {
	series := 0
	if err == nil {
		series = st.series
	}
	l.mu.Lock()
	was, wasRefused := l.health.Health, l.health.SeriesRefused > 0
	l.health.LastScrape = ts
	l.health.LastDuration = dur
	l.health.LastSamples = st.total
	l.health.Series = series
	l.health.LastWarning = warning(st)
	if err == nil { // a failed scrape stored nothing: it says nothing of the limit
		l.health.SeriesRefused = st.refused[store.ErrTooManySeries]
	}
	if err != nil {
		l.health.Health = HealthDown
		l.health.LastError = Sanitize(err.Error(), DefaultSanitizeLen)
	} else {
		l.health.Health = HealthUp
		l.health.LastError = ""
	}
	h := l.health
	l.mu.Unlock()
	// A change of health is worth a line in the log (headless operators
	// read it); every failed scrape only at debug level.
	switch {
	case h.Health == HealthDown && was != HealthDown:
		l.logger.Warn("target down", "job", h.Job, "instance", h.Instance, "url", h.URL, "err", h.LastError)
	case h.Health == HealthUp && was == HealthDown:
		l.logger.Info("target up again", "job", h.Job, "instance", h.Instance, "url", h.URL)
	case h.Health == HealthDown:
		l.logger.Debug("scrape failed", "job", h.Job, "instance", h.Instance, "err", h.LastError)
	}
	// So is the store starting or ending to refuse the target's series.
	switch refused := h.SeriesRefused > 0; {
	case refused && !wasRefused:
		l.logger.Warn("target's series refused", "job", h.Job, "instance", h.Instance, "refused", h.SeriesRefused, "reason", "the store is full (--max-series)")
	case !refused && wasRefused:
		l.logger.Info("target's series taken again", "job", h.Job, "instance", h.Instance)
	}
}
