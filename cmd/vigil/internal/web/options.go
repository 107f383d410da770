package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	toolkit "github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
)

// Options are the server's settings, as the command line gives them
// (Prometheus' flag names and defaults).
type Options struct {
	ListenAddress  string        // --web.listen-address; "" is no server
	ConfigFile     string        // --web.config.file: exporter-toolkit's TLS and basic auth; "" for none
	QueryTimeout   time.Duration // --query.timeout: a query's time, its wait for a slot included
	MaxSamples     int           // --query.max-samples: samples one query may hold in memory
	MaxConcurrency int           // --query.max-concurrency: requests reading the store at once
	// MaxResponseBytes bounds one answer (before compression); a larger
	// one is refused with Prometheus' execution error. It has no flag:
	// Prometheus has none, and the bound is far above what a dashboard
	// asks for.
	MaxResponseBytes int
}

// DefaultOptions are Prometheus' defaults, with no server.
func DefaultOptions() Options {
	return Options{
		QueryTimeout:     2 * time.Minute,
		MaxSamples:       50_000_000,
		MaxConcurrency:   20,
		MaxResponseBytes: 256 << 20,
	}
}

// Check refuses what the server cannot run with, saying why: an address
// that is no host:port; a web config file that is missing or wrong (read
// and checked as exporter-toolkit reads it: users with bcrypt hashes, TLS
// certificates that load); an address other machines can reach without a
// web config, since the API would be open to them with neither
// authentication nor encryption; a limit that is not positive.
func (o Options) Check() error {
	if o.ListenAddress == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(o.ListenAddress)
	if err != nil {
		return fmt.Errorf("--web.listen-address %q: %v: want host:port, such as 127.0.0.1:9090", o.ListenAddress, err)
	}
	if o.ConfigFile != "" {
		if err := toolkit.Validate(o.ConfigFile); err != nil {
			return fmt.Errorf("--web.config.file %s: %w", o.ConfigFile, err)
		}
	} else if !loopback(host) {
		return fmt.Errorf("--web.listen-address %q would serve vigil's API beyond this machine with neither a password nor TLS: "+
			"give --web.config.file with basic_auth_users and tls_server_config (docs/api.md), or listen on loopback, such as 127.0.0.1:9090",
			o.ListenAddress)
	}
	for _, l := range []struct {
		flag string
		ok   bool
		v    any
	}{
		{"query.timeout", o.QueryTimeout > 0, o.QueryTimeout},
		{"query.max-samples", o.MaxSamples > 0, o.MaxSamples},
		{"query.max-concurrency", o.MaxConcurrency > 0, o.MaxConcurrency},
	} {
		if !l.ok {
			return fmt.Errorf("--%s %v: must be positive", l.flag, l.v)
		}
	}
	if o.MaxResponseBytes <= 0 {
		return errors.New("web: the response bound must be positive")
	}
	return nil
}

// loopback reports whether host is only reachable from this machine:
// "localhost" or a loopback IP. An empty host is every interface.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Sources are what the server reads and says of the running vigil.
type Sources struct {
	Queryable storage.Queryable // the store
	// EngineOptions are the settings of vigil's shared PromQL engine;
	// the server runs its queries on an engine of its own made from
	// them with its limits (see NewEngineOptions).
	EngineOptions promql.EngineOpts
	Targets       TargetSource                                 // nil: no targets
	Rules         RuleSource                                   // nil: no rules
	Metrics       func(ctx context.Context, w io.Writer) error // vigil's own metrics; nil: none
	// ExternalLabels are the config's global.external_labels, added to
	// what /federate answers.
	ExternalLabels labels.Labels
	Version        string        // vigil's, for /api/v1/status/buildinfo
	StartTime      time.Time     // when vigil started
	Retention      time.Duration // --retention
	// Config says whether the last config (re)load went through and
	// when the running config was loaded; nil: it did, at StartTime.
	Config func() (ok bool, at time.Time)
	// Now is the server's clock; nil is time.Now.
	Now func() time.Time
}

// NewEngineOptions are the settings of the server's own engine: base (the
// shared engine's) with the --query.* limits. The server's queries run on
// an engine of their own because the limits are the engine's to hold,
// not a query's: MaxSamples and Timeout are settings of promql.Engine,
// and the per-query limits of promql.QueryCostOpts (series and samples
// read, duration) do not include the samples held in memory that
// --query.max-samples bounds, nor the number of queries at once. One
// engine shared with the rules would put these limits on the rules too,
// and have a burst of API queries delay an alert. Concurrency is bounded
// by the server itself rather than by the engine's ActiveQueryTracker,
// because a slot must be held until the answer is written, not only
// while the engine runs.
func NewEngineOptions(base promql.EngineOpts, o Options) promql.EngineOpts {
	base.MaxSamples = o.MaxSamples
	base.Timeout = o.QueryTimeout
	base.ActiveQueryTracker = nil
	base.Reg = nil
	return base
}
