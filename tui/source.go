package tui

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// Querier is what the console reads time series through: PromQL plus the
// metadata calls that Explore and the Query view's completion need. EngineQuerier implements
// it over vigil's own store; a remote Prometheus could stand behind it.
//
// Results belong to the caller (they are not reused by the implementation).
// Calls may block; the console makes them off its event loop with a
// timeout.
type Querier interface {
	// Instant evaluates expr at ts. The value is a promql.Vector,
	// promql.Scalar, promql.Matrix or promql.String.
	Instant(ctx context.Context, expr string, ts time.Time) (parser.Value, error)
	// Range evaluates expr from start to end every step.
	Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) (promql.Matrix, error)
	// LabelValues returns the sorted values of label name among the series
	// with data between start and end that match all matchers; with name
	// "__name__" these are the metric names.
	LabelValues(ctx context.Context, name string, start, end time.Time, matchers ...*labels.Matcher) ([]string, error)
	// LabelNames returns the sorted names of the labels of the series
	// with data between start and end that match all matchers, as
	// Prometheus' /api/v1/labels does (the Query view completes them).
	LabelNames(ctx context.Context, start, end time.Time, matchers ...*labels.Matcher) ([]string, error)
	// Series returns the label sets of at most limit series with data
	// between start and end that match all matchers, sorted.
	Series(ctx context.Context, start, end time.Time, limit int, matchers ...*labels.Matcher) ([]labels.Labels, error)
}

// TargetSource lists the scrape targets and their health (vigil's
// adapter reads scrape's Manager). Called on the console's event loop once
// per refresh, so it must be cheap and must not block.
type TargetSource interface {
	Targets() []Target
}

// AlertSource lists the active and recently resolved alerts (vigil's
// adapter reads alert's Manager). Called like TargetSource.Targets.
type AlertSource interface {
	Alerts() []Alert
}

// RuleSource lists every rule with its health (vigil's adapter reads
// alert's Manager). Optional (Options.Rules may be nil).
type RuleSource interface {
	Rules() []Rule
}

// Silencer mutes one alert until a time; alert's Manager implements it
// (Manager.Silence: the alert's events then say so, on stdout too). The
// alert is named by its labels exactly as the AlertSource lists them, and
// the AlertSource reports the silence back (Alert.SilencedUntil): the
// console keeps no silence of its own. A zero until lifts the silence.
// Called off the event loop with the query timeout, so a remote source may
// stand behind it. Optional (Options.Silences may be nil: no S key).
type Silencer interface {
	Silence(ctx context.Context, ls labels.Labels, until time.Time) error
}

// MetadataSource tells what the targets declare of metric families: the
// type from their TYPE lines, by family name, one entry per distinct
// declaration, as Prometheus' /api/v1/metadata does (metric "" asks for
// every family). vigil's adapter reads scrape's Manager; a remote
// Prometheus could stand behind it. Explore uses it to chart a family declared
// counter as a rate whatever its name, and one declared gauge as it is.
// Optional: without it, a metric's name decides. Called off the event
// loop with the query timeout.
type MetadataSource interface {
	Metadata(ctx context.Context, metric string) (map[string][]Metadata, error)
}

// RemoteWriteSource lists the remote_write receivers and their queues
// (vigil's adapter reads store/remotewrite). Optional: without it, or with
// none configured, the Targets view shows no remote write section. Called
// like TargetSource.Targets.
type RemoteWriteSource interface {
	RemoteWrites() []RemoteWrite
}

// ErrNotReported is what a source answers for what its backend does not
// serve, or answers with nothing: a remote without /api/v1/targets (Mimir),
// or whose /api/v1/metadata is empty (VictoriaMetrics). The console says so
// where the list would be, rather than show an empty one. A MetadataSource
// returns it (wrapped) from Metadata; a TargetSource, AlertSource or
// RuleSource through Reporting.
var ErrNotReported = errors.New("not reported by the remote")

// Reporting is an optional interface of TargetSource, AlertSource and
// RuleSource, for a source that cannot always list what it is asked for
// (a remote that does not serve it, or has not answered yet). Called on
// the event loop with the list: it must be cheap and must not block.
type Reporting interface {
	// Reporting returns nil when the list is what the source knows, else
	// why it is not: an error wrapping ErrNotReported, or one that says
	// why the list is not known yet. The views show it in place of an
	// empty list, and the header the counts it would give as not known.
	Reporting() error
}

// reporting is what src says of its list through Reporting; nil when it
// does not implement it.
func reporting(src any) error {
	if r, ok := src.(Reporting); ok {
		return r.Reporting()
	}
	return nil
}

// The function forms, for callers that would rather pass a method value.
type (
	TargetsFunc      func() []Target
	AlertsFunc       func() []Alert
	RulesFunc        func() []Rule
	SilenceFunc      func(ctx context.Context, ls labels.Labels, until time.Time) error
	MetadataFunc     func(ctx context.Context, metric string) (map[string][]Metadata, error)
	RemoteWritesFunc func() []RemoteWrite
)

// RemoteWrites implements RemoteWriteSource.
func (f RemoteWritesFunc) RemoteWrites() []RemoteWrite { return f() }

// Metadata implements MetadataSource.
func (f MetadataFunc) Metadata(ctx context.Context, metric string) (map[string][]Metadata, error) {
	return f(ctx, metric)
}

// Silence implements Silencer.
func (f SilenceFunc) Silence(ctx context.Context, ls labels.Labels, until time.Time) error {
	return f(ctx, ls, until)
}

// Targets implements TargetSource.
func (f TargetsFunc) Targets() []Target { return f() }

// Alerts implements AlertSource.
func (f AlertsFunc) Alerts() []Alert { return f() }

// Rules implements RuleSource.
func (f RulesFunc) Rules() []Rule { return f() }

var (
	_ TargetSource   = TargetsFunc(nil)
	_ AlertSource    = AlertsFunc(nil)
	_ RuleSource     = RulesFunc(nil)
	_ Silencer       = SilenceFunc(nil)
	_ MetadataSource = MetadataFunc(nil)
)

// Status is a warning from the rest of vigil for the header, sent on
// Options.Status. A Status replaces the earlier one with the same Source;
// an empty Text clears it. Examples: {"events", "events no longer
// delivered: broken pipe"}, {"store", "max series reached: 1000000"},
// {"snapshot", "snapshot failed: disk full"}.
type Status struct {
	Source string
	Text   string
}
