package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/cmd/vigil/internal/pipeline"
	"github.com/vigilterm/vigil/cmd/vigil/internal/web"
	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/store/remotewrite"
)

// options are the command line of the console (DESIGN.md, "Command line").
type options struct {
	config           string
	rules            []string
	alerts           []string
	scrapeInterval   time.Duration
	evalInterval     time.Duration
	retention        time.Duration
	maxSeries        int
	dataDir          string
	snapshotInterval time.Duration
	remoteWriteSpool string // a size, such as 1GiB
	spoolBytes       int64  // remoteWriteSpool parsed
	headless         bool
	events           string
	alertmanagers    []string
	externalURL      string // normalized by alert.ParseExternalURL
	targets          []string
	color            string
	ascii            bool
	mouse            bool
	debugListen      string // hidden: serve pprof here
	source           string // --source: the console on a remote API
	sourceConfig     string
	web              web.Options

	// set records which flags were given, so a config file's values are
	// only overridden by flags the operator typed.
	set map[string]bool
}

const usageHead = `vigil: a monitoring console for one operator in one terminal.

Usage:
  vigil [flags] [TARGET...]        TARGET: host:port or a URL; bare targets form job "node"
  vigil --source URL [--source-config FILE]
                                   the console on a remote Prometheus-compatible API
                                   (Prometheus, Thanos, Mimir, VictoriaMetrics): no scraping
  vigil check config FILE          validate a prometheus.yml like promtool check config
  vigil check rules FILE...        validate rule files like promtool check rules
  vigil test rules FILE...         run rule unit-test files like promtool test rules
  vigil query [--data-dir DIR | --source URL] [--time T] [--json] EXPR
  vigil query --range [--start T] [--end T] [--step D] [...] EXPR
                                   evaluate PromQL over the last snapshot or a remote

With no TARGET and no --config, vigil watches the machine it runs on.

Flags:
`

// defaultDataDir is $XDG_STATE_HOME/vigil, else ~/.local/state/vigil; empty
// (no snapshots) when neither can be found.
func defaultDataDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "vigil")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "vigil")
	}
	return ""
}

func newFlagSet(o *options) *pflag.FlagSet {
	fs := pflag.NewFlagSet("vigil", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringVarP(&o.config, "config", "c", "", "a prometheus.yml: global, scrape_configs, rule_files, alerting.alertmanagers, remote_write")
	fs.StringArrayVarP(&o.rules, "rules", "r", nil, "a Prometheus rule file; repeatable (default: built-in node rules when no rule is given)")
	fs.StringArrayVarP(&o.alerts, "alert", "a", nil, "a threshold rule in one line, 'NAME: EXPR [for DUR]'; repeatable")
	fs.DurationVar(&o.scrapeInterval, "scrape-interval", 5*time.Second, "scrape interval when no config sets one")
	fs.DurationVar(&o.evalInterval, "eval-interval", 5*time.Second, "rule evaluation interval when no config sets one")
	fs.DurationVar(&o.retention, "retention", time.Hour, "how much history the ring keeps")
	fs.IntVar(&o.maxSeries, "max-series", 1_000_000, "memory bound: past it new series are refused and counted")
	fs.StringVar(&o.dataDir, "data-dir", defaultDataDir(), `directory for snapshots; "" turns them off`)
	fs.DurationVar(&o.snapshotInterval, "snapshot-interval", time.Minute, "how often to snapshot (also on every clean exit)")
	fs.StringVar(&o.remoteWriteSpool, "remote-write-spool", "1GiB", "bound of the on-disk queue for remote_write: past it the oldest samples are dropped and counted")
	fs.BoolVar(&o.headless, "headless", false, "no TUI: events on stdout, logs on stderr (for systemd, cron, CI)")
	fs.StringVar(&o.events, "events", "", "what goes to stdout: json, text or none (default json when stdout is not a terminal, else none)")
	fs.StringArrayVar(&o.alertmanagers, "alertmanager", nil, "also post alerts to this Alertmanager (API v2); repeatable")
	fs.StringVar(&o.externalURL, "web.external-url", "", "the URL vigil is reached at: $externalURL in templates, the base of the generatorURL sent to Alertmanager")
	fs.StringVar(&o.color, "color", "auto", "console colours: auto (the terminal's; none when NO_COLOR is set), always or never")
	fs.BoolVar(&o.ascii, "ascii", false, "draw charts without braille, for fonts that lack it")
	def := web.DefaultOptions()
	o.web.MaxResponseBytes = def.MaxResponseBytes
	fs.StringVar(&o.web.ListenAddress, "web.listen-address", "", "serve Prometheus' read-only HTTP API (/api/v1, /federate, /metrics) on this address; off when empty; an address other machines reach needs --web.config.file")
	fs.StringVar(&o.web.ConfigFile, "web.config.file", "", "the API's TLS and basic auth: a Prometheus web config file (exporter-toolkit's format)")
	fs.DurationVar(&o.web.QueryTimeout, "query.timeout", def.QueryTimeout, "longest an API query may run, its wait for a slot included")
	fs.IntVar(&o.web.MaxSamples, "query.max-samples", def.MaxSamples, "most samples one API query may hold in memory")
	fs.IntVar(&o.web.MaxConcurrency, "query.max-concurrency", def.MaxConcurrency, "most API requests reading the store at once")
	fs.BoolVar(&o.mouse, "mouse", false, "mouse input in the console (m turns it on and off); off, the terminal's own selection works")
	fs.StringVar(&o.source, "source", "", "run the console on this remote Prometheus-compatible API (http://HOST:PORT[/PREFIX]) instead of scraping: no targets, rules or store of vigil's own")
	fs.StringVar(&o.sourceConfig, "source-config", "", "the remote's HTTP client config (basic_auth, authorization, oauth2, tls_config, proxy_url, http_headers), as in prometheus.yml")
	fs.StringVar(&o.debugListen, "debug-listen", "", "serve Go profiles (/debug/pprof/) on this address, for profiling vigil")
	_ = fs.MarkHidden("debug-listen")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHead)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses the console's command line.
func parseFlags(args []string) (*options, *pflag.FlagSet, error) {
	o := &options{set: map[string]bool{}}
	fs := newFlagSet(o)
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	fs.Visit(func(f *pflag.Flag) { o.set[f.Name] = true })
	o.targets = fs.Args()
	switch o.events {
	case "", "json", "text", "none":
	default:
		return nil, fs, fmt.Errorf("--events %q: want json, text or none", o.events)
	}
	switch o.color {
	case "auto", "always", "never":
	default:
		return nil, fs, fmt.Errorf("--color %q: want auto, always or never", o.color)
	}
	for name, d := range map[string]time.Duration{
		"scrape-interval": o.scrapeInterval, "eval-interval": o.evalInterval,
		"retention": o.retention, "snapshot-interval": o.snapshotInterval,
	} {
		if d <= 0 {
			return nil, fs, fmt.Errorf("--%s %v: must be positive", name, d)
		}
	}
	if o.externalURL != "" {
		u, err := alert.ParseExternalURL(o.externalURL)
		if err != nil {
			return nil, fs, fmt.Errorf("--web.external-url: %w", err)
		}
		o.externalURL = u
	}
	if err := o.checkSource(); err != nil {
		return nil, fs, err
	}
	if o.maxSeries <= 0 {
		return nil, fs, fmt.Errorf("--max-series %d: must be positive", o.maxSeries)
	}
	if o.web.QueryTimeout <= 0 {
		return nil, fs, fmt.Errorf("--query.timeout %v: must be positive", o.web.QueryTimeout)
	}
	for name, n := range map[string]int{"query.max-samples": o.web.MaxSamples, "query.max-concurrency": o.web.MaxConcurrency} {
		if n <= 0 {
			return nil, fs, fmt.Errorf("--%s %d: must be positive", name, n)
		}
	}
	spool, err := scrape.ParseByteSize(o.remoteWriteSpool)
	if err != nil {
		return nil, fs, fmt.Errorf("--remote-write-spool: %w", err)
	}
	if spool < remotewrite.MinSpoolBytes {
		return nil, fs, fmt.Errorf("--remote-write-spool %s: want at least 1MiB", o.remoteWriteSpool)
	}
	o.spoolBytes = int64(spool)
	return o, fs, nil
}

// pipelineOptions are what the flags and the ioPlan say of the pipeline;
// events go to stdout.
func (o *options) pipelineOptions(plan ioPlan, stdout io.Writer) pipeline.Options {
	return pipeline.Options{
		ConfigFile:       o.config,
		Targets:          o.targets,
		RuleFiles:        o.rules,
		Alerts:           o.alerts,
		Alertmanagers:    o.alertmanagers,
		ExternalURL:      o.externalURL,
		ScrapeInterval:   o.scrapeInterval,
		EvalInterval:     o.evalInterval,
		EvalIntervalSet:  o.set["eval-interval"],
		Retention:        o.retention,
		MaxSeries:        o.maxSeries,
		DataDir:          o.dataDir,
		SnapshotInterval: o.snapshotInterval,
		RemoteWriteSpool: o.spoolBytes,
		Events:           plan.events,
		Stdout:           stdout,
		Console:          plan.tui,
		Begin:            mainStart,
		Web:              o.web,
		Version:          version,
	}
}

// notWithSource are the flags of vigil's own scraping, store, rules and
// API, which mean nothing to a console on a remote.
var notWithSource = []string{
	"config", "rules", "alert", "scrape-interval", "eval-interval", "retention", "max-series",
	"snapshot-interval", "headless", "events", "alertmanager", "web.external-url",
	"web.listen-address", "web.config.file", "query.timeout", "query.max-samples", "query.max-concurrency",
}

// checkSource refuses --source with what only vigil's own pipeline does,
// and --source-config without --source.
func (o *options) checkSource() error {
	if o.source == "" {
		if o.set["source-config"] {
			return errors.New("--source-config needs --source")
		}
		return nil
	}
	for _, f := range notWithSource {
		if o.set[f] {
			return fmt.Errorf("--%s with --source: the console reads the remote; vigil does not scrape, store, evaluate or serve there", f)
		}
	}
	if len(o.targets) > 0 {
		return fmt.Errorf("targets with --source (%s): the remote's own targets are shown; scrape them there", o.targets[0])
	}
	return nil
}
