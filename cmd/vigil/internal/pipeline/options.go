package pipeline

import (
	"io"
	"time"

	"github.com/vigilterm/vigil/cmd/vigil/internal/web"
)

// Options are what the command line says of the pipeline (DESIGN.md,
// "Command line"), as cmd/vigil parsed and checked its flags.
type Options struct {
	ConfigFile      string        // -c: a prometheus.yml; "" for none
	Targets         []string      // bare targets: job "node"
	RuleFiles       []string      // -r, after the config's rule_files
	Alerts          []string      // -a: rules in one line
	Alertmanagers   []string      // --alertmanager URLs, after the config's
	ExternalURL     string        // --web.external-url, from alert.ParseExternalURL; "" for none
	ScrapeInterval  time.Duration // when no config sets one
	EvalInterval    time.Duration // when no config sets one, or when EvalIntervalSet
	EvalIntervalSet bool          // --eval-interval was typed: it wins over the file

	Retention        time.Duration
	MaxSeries        int
	DataDir          string // snapshots, silences and the console's log; "" for none
	SnapshotInterval time.Duration
	// RemoteWriteSpool bounds remote write's spool, in bytes
	// (--remote-write-spool); 0 for its default.
	RemoteWriteSpool int64

	Events  string    // what goes to Stdout: json, text or none
	Stdout  io.Writer // where events go
	Console bool      // a console reads the pipeline (ConsoleOptions)
	// Web is the HTTP API (--web.*, --query.*): served when it has a
	// listen address.
	Web     web.Options
	Version string // vigil's, for the API's buildinfo
	// Begin is when the process started: the log line that says the
	// first target is scraped (the end of a restart, for the operator)
	// says how long after it.
	Begin time.Time
}
