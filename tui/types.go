package tui

import (
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// The console's own types: what the sources of source.go report. They are
// plain values shaped like the objects of Prometheus' HTTP API
// (/api/v1/targets, /alerts, /rules, /metadata), so that vigil's own
// scrape and alert packages and a remote Prometheus-compatible API are two
// adapters behind the same contract; the console imports neither side.
// Every value is a copy that the console may keep and reorder. Strings
// that came from a target or a remote are untrusted: the console
// sanitises them before they reach the screen.

// TargetHealth is a target's health, as /api/v1/targets names it.
type TargetHealth string

// The healths of a target.
const (
	TargetUnknown TargetHealth = "unknown" // not scraped yet
	TargetUp      TargetHealth = "up"
	TargetDown    TargetHealth = "down"
)

// Target is one scrape target, shaped like an active target of
// /api/v1/targets: Job is its scrapePool, URL its scrapeUrl (without
// credentials), Labels its labels after relabelling, LastDuration its
// lastScrapeDuration; the others as named there. LastWarning,
// LastSamples, Series and SeriesRefused are vigil's own. A remote source
// that cannot tell LastSamples or Series gives -1 (shown as not known),
// and a zero ScrapeInterval or ScrapeTimeout is not known either.
type Target struct {
	Job      string
	Instance string
	URL      string
	Labels   labels.Labels

	Health         TargetHealth
	LastScrape     time.Time     // zero before the first scrape
	LastDuration   time.Duration // how long the last scrape took
	LastError      string        // empty when up
	LastWarning    string        // samples the last scrape dropped (duplicates, refused by the store)
	LastSamples    int           // samples in the last scrape body
	Series         int           // series the target currently exposes
	SeriesRefused  int           // of those, the ones the store refused: it holds --max-series (LastWarning says so)
	ScrapeInterval time.Duration
	ScrapeTimeout  time.Duration
}

// AlertState is an alert's place in the pending/firing/resolved state
// machine, or a rule's state, as Prometheus names them.
type AlertState string

// The states of an alert and of a rule. StateResolved is vigil's own (its
// resolved alerts stay listed a while); StateInactive is a rule's, never
// an alert's.
const (
	StatePending  AlertState = "pending"
	StateFiring   AlertState = "firing"
	StateResolved AlertState = "resolved"
	StateInactive AlertState = "inactive"
)

// Alert is one active or recently resolved alert, shaped like an alert of
// /api/v1/alerts (labels, annotations, state, activeAt, value). Rule and
// Group name its rule (as the alerting rule that lists it in /api/v1/rules
// does); FiredAt, ResolvedAt, LastEval and SilencedUntil are vigil's own.
type Alert struct {
	Rule        string // the alerting rule's name (alertname)
	Group       string // the rule group's name
	State       AlertState
	Labels      labels.Labels // including alertname, after templating
	Annotations labels.Labels // after templating
	Value       float64
	ActiveAt    time.Time // when it became pending
	FiredAt     time.Time // zero unless it fired
	ResolvedAt  time.Time // zero unless resolved
	LastEval    time.Time
	// SilencedUntil is when the alert's local silence (Silencer) ends, or
	// ended: compare it with now. Zero when there is none.
	SilencedUntil time.Time
}

// RuleHealth is a rule's health, as /api/v1/rules names it.
type RuleHealth string

// The healths of a rule.
const (
	RuleUnknown RuleHealth = "unknown" // not evaluated yet
	RuleOK      RuleHealth = "ok"
	RuleErr     RuleHealth = "err"
)

// Rule is one rule with its health, shaped like a rule of /api/v1/rules:
// Recording is its type "recording", Expr its query, For its duration,
// LastEval its lastEvaluation, LastDuration its evaluationTime; Group,
// File and Interval come from its group. Firing and Pending count its
// alerts.
type Rule struct {
	Group         string
	File          string
	Name          string
	Recording     bool
	Expr          string
	For           time.Duration
	KeepFiringFor time.Duration
	Labels        labels.Labels
	Annotations   labels.Labels
	Interval      time.Duration // the group's

	Health       RuleHealth
	State        AlertState // firing, pending or inactive; inactive for recording rules
	Firing       int
	Pending      int
	LastEval     time.Time     // zero before the first evaluation
	LastDuration time.Duration // how long the last evaluation took
	LastError    string        // empty when healthy
}

// AlertEvent is one state transition of an alert, as vigil writes it to
// stdout (DESIGN.md, "Alert events on stdout"): what the Alerts view's
// event log lists.
type AlertEvent struct {
	Time        time.Time
	State       AlertState // pending, firing or resolved
	Labels      labels.Labels
	Annotations labels.Labels
	Value       float64
	StartsAt    time.Time
	EndsAt      time.Time // set on resolved only
	// SilencedUntil is when the alert's local silence ends, when one is
	// in force at Time; zero when the alert is not silenced.
	SilencedUntil time.Time

	Rule  string // the alerting rule's name
	Group string // the rule group's name
}

// Metadata is what the targets declare of a metric family, shaped like an
// entry of /api/v1/metadata. Only the type is read (from the TYPE line);
// help and unit are not.
type Metadata struct {
	Type model.MetricType
}

// RemoteWrite is one remote_write receiver that vigil sends its samples
// to, as the Targets view lists it below the targets. Name and URL
// (without credentials) come from the config; the rest is the queue's
// state.
type RemoteWrite struct {
	Name string
	URL  string
	// Protocol is "1.0" or "2.0"; FellBack says the receiver refused 2.0
	// and is sent 1.0.
	Protocol string
	FellBack bool
	// Failing says the last request failed and is being retried; the
	// samples wait in the spool.
	Failing bool
	Pending int64 // samples waiting
	// Lag is how far what the receiver took is behind what vigil
	// holds; not known (LagKnown false) before the first send while
	// samples wait.
	Lag      time.Duration
	LagKnown bool
	Sent     uint64 // samples the receiver took since start
	Dropped  uint64 // samples lost: refused by the receiver, past the spool's bound, damaged
	LastSend time.Time
	// LastError is the last failure, with the receiver's message
	// (untrusted).
	LastError string
	// InMemory says the queue is not on disk (no data directory): what
	// waits is lost on exit.
	InMemory bool
}
