package scrape

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"
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
	ScrapeInterval time.Duration
	ScrapeTimeout  time.Duration
}
