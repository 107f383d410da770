package alert

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// State is an alert's place in the pending/firing/resolved state machine.
type State string

// The states of an alert, as in Prometheus and in the event stream.
const (
	StatePending  State = "pending"
	StateFiring   State = "firing"
	StateResolved State = "resolved"
)

// Alert is one active or recently resolved alert instance, a copy safe to
// keep and read from any goroutine.
type Alert struct {
	Rule        string // the alerting rule's name (alertname)
	Group       string // the rule group's name
	State       State
	Labels      labels.Labels // including alertname, after templating
	Annotations labels.Labels // after templating
	Value       float64
	ActiveAt    time.Time // when it became pending
	FiredAt     time.Time // zero unless it fired
	ResolvedAt  time.Time // zero unless resolved
	LastEval    time.Time
	// SilencedUntil is when the alert's local silence (Manager.Silence)
	// ends, or ended: compare it with now. Zero when there is none.
	SilencedUntil time.Time
}

// Event is one state transition, the unit written to stdout as a JSON line
// (DESIGN.md, "Alert events on stdout") and sent to the console and
// Alertmanager.
type Event struct {
	Time        time.Time
	State       State
	Labels      labels.Labels
	Annotations labels.Labels
	Value       float64
	StartsAt    time.Time
	EndsAt      time.Time // set on resolved only
	// SilencedUntil is when the alert's local silence (Manager.Silence)
	// ends, when one is in force at Time; zero when the alert is not
	// silenced. In the JSON line: "silenced":true and "silencedUntil".
	SilencedUntil time.Time

	Rule  string // the alerting rule's name
	Group string // the rule group's name
}

// StateInactive is a rule's state (RuleStatus.State) when none of its alerts
// is pending or firing. An Alert or Event is never inactive.
const StateInactive State = "inactive"
