package pipeline

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/prometheus/promql"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/cmd/vigil/internal/web"
	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/store"
	"github.com/vigilterm/vigil/store/remotewrite"
)

// Pipeline is the running vigil: scrape → store ← rules → sinks, and what
// the console reads. It owns every component and stops them in order.
// Its life: Load, Open, Start, then Reload as often as asked, then Stop.
type Pipeline struct {
	opts          Options
	cfg           *scrape.Config
	groups        []alert.GroupConfig
	alertmanagers []alert.AlertmanagerConfig

	db      *store.DB
	logger  *slog.Logger
	engine  *promql.Engine
	scrape  *scrape.Manager
	rules   *alert.Manager
	notify  *alert.Notifier     // nil without Alertmanagers
	events  *alert.EventWriter  // nil with --events none
	rw      *remotewrite.Writer // the remote_write queue; set by Open
	console *alert.ChannelSink  // nil without a console
	relay   *EventRelay         // the console sink's events in the console's type; nil without a console
	web     *web.Server         // nil without --web.listen-address
	stopped sync.Once

	restoreWarning string // what the restore of the snapshot lost, if anything

	// failures says what fails while vigil runs through it, fed by the
	// store's snapshots and by watch; stopWatch ends watch.
	failures  *Failures
	stopWatch func()
	// rwDrops is what remoteWriteState saw of each remote's drops.
	rwDrops dropsSeen
	// drops is what eventsState saw of dropped events: how many, and
	// when that last grew. Only observe (one goroutine) touches it.
	drops struct {
		seen uint64
		at   time.Time
	}

	// silences keeps the local silences in the data directory; nil
	// without one.
	silences *alert.SilenceFile

	mu        sync.Mutex // guards reloadErr and configAt: set on SIGHUP, read by the console and the API
	reloadErr string     // why the last reload was refused; "" when it was not
	configAt  time.Time  // when the running config was loaded
}

// Load reads what the pipeline will run: the config (a prometheus.yml,
// bare targets, both, or neither: the built-in local host), the rules and
// the Alertmanagers. Everything that can be refused is refused here, with
// an error that says where; nothing is started or written.
func Load(o Options) (*Pipeline, error) {
	p := &Pipeline{opts: o, configAt: time.Now()}
	var err error
	if p.cfg, err = loadConfig(&p.opts); err != nil {
		return nil, err
	}
	if err := o.Web.Check(); err != nil {
		return nil, err
	}
	if p.groups, err = alert.LoadRules(append(slices.Clone(p.cfg.RuleFiles), o.RuleFiles...), o.Alerts); err != nil {
		return nil, err
	}
	if p.alertmanagers, err = alertmanagers(p.cfg, o.Alertmanagers); err != nil {
		return nil, err
	}
	return p, nil
}

// Open opens the store: on the data directory, which it locks (a
// *store.LockedError names the vigil that holds it) and whose last
// snapshot it restores, or in memory only without one. logger is vigil's
// (NewLogger), engine the PromQL engine that the rules and the console
// share.
func (p *Pipeline) Open(logger *slog.Logger, engine *promql.Engine) error {
	p.logger, p.engine = logger, engine
	p.failures = NewFailures(logger)
	p.failures.Register(failMaxSeries)
	storeOpts := store.DefaultOptions()
	storeOpts.Retention = p.opts.Retention
	storeOpts.MaxSeries = p.opts.MaxSeries
	storeOpts.SnapshotInterval = p.opts.SnapshotInterval
	if p.opts.DataDir != "" {
		p.failures.Register(failSnapshot)
		storeOpts.OnSnapshot = observeSnapshot(p.failures)
	}
	storeOpts.OnCommit = p.onCommit
	openStart := time.Now()
	if p.opts.DataDir == "" {
		p.db = store.New(storeOpts)
	} else {
		db, err := store.Open(p.opts.DataDir, storeOpts)
		if err != nil {
			return err
		}
		p.db = db
	}
	restored := p.db.Stats().Restore
	if restored.Path != "" {
		logger.Info("snapshot restored", "series", restored.Series, "samples", restored.Samples,
			"written", restored.Written.Format(time.RFC3339), "took", time.Since(openStart).Round(time.Millisecond))
	}
	p.restoreWarning = restored.Warning()
	if p.restoreWarning != "" {
		logger.Warn(p.restoreWarning)
	}
	if err := p.openRemoteWrite(); err != nil {
		_ = p.db.Close()
		return err
	}
	return nil
}

// EvalInterval is the interval of rule groups that set none (the config's
// evaluation_interval, or --eval-interval): the engine given to Open is
// built with it, as the step of subqueries that name none.
func (p *Pipeline) EvalInterval() time.Duration {
	return time.Duration(p.cfg.Global.EvaluationInterval)
}

// RestoreWarning says what the restore of the last snapshot lost, if
// anything; "" when nothing.
func (p *Pipeline) RestoreWarning() string { return p.restoreWarning }

// Start starts the parts: the event sinks, the rules (with the local
// silences restored before their first evaluation, so that no event goes
// out unsilenced) and the scrapes. After an error, Stop stops what
// started.
func (p *Pipeline) Start() error {
	var sinks []alert.Sink
	if p.opts.Events != "none" {
		format, _, err := alert.ParseFormat(p.opts.Events)
		if err != nil {
			return err
		}
		p.events = alert.NewEventWriter(p.opts.Stdout, format, alert.WriterOptions{Logger: p.logger})
		sinks = append(sinks, p.events)
	}
	if p.opts.Console {
		p.console = alert.NewChannelSink(0)
		p.relay = RelayEvents(p.console.C())
		sinks = append(sinks, p.console)
	}

	var notify alert.NotifyFunc
	if len(p.alertmanagers) > 0 {
		n, err := alert.NewNotifier(alert.NotifierOptions{Alertmanagers: p.alertmanagers, Logger: p.logger})
		if err != nil {
			return err
		}
		p.notify, notify = n, n.Send
	}

	rules, err := alert.NewManager(p.groups, alert.Options{
		Queryable:      p.db,
		Appendable:     p.db,
		Engine:         p.engine,
		EvalInterval:   time.Duration(p.cfg.Global.EvaluationInterval),
		ExternalLabels: p.cfg.Global.ExternalLabels,
		ExternalURL:    p.opts.ExternalURL,
		Logger:         p.logger,
		Sinks:          sinks,
		Notify:         notify,
	})
	if err != nil {
		return err
	}
	p.rules = rules
	if p.opts.DataDir != "" {
		p.silences = alert.NewSilenceFile(rules, filepath.Join(p.opts.DataDir, alert.SilencesFileName))
		n, err := p.silences.Restore(time.Now())
		if err != nil {
			p.logger.Warn("local silences: not all restored", "err", err)
		}
		if n > 0 {
			p.logger.Info("local silences restored", "silences", n)
		}
	}

	first := &firstScrape{Appendable: p.db, logger: p.logger, begin: p.opts.Begin}
	p.scrape = scrape.NewManager(first, scrape.Options{
		Logger:   p.logger,
		Internal: []scrape.InternalTarget{p.Self()},
	})
	// The remotes start before the scrapes and rules, so that their
	// first samples are queued.
	if err := p.rw.ApplyConfig(remoteWrites(p.cfg), p.cfg.Global.ExternalLabels); err != nil {
		return err
	}
	if err := p.scrape.ApplyConfig(p.cfg); err != nil {
		return err
	}
	p.rules.Start()
	for _, pr := range p.probes() {
		p.failures.Register(pr.component)
	}
	p.stopWatch = p.startWatch()
	return p.serve()
}

// serve starts the HTTP API, last: it reads every other part.
func (p *Pipeline) serve() error {
	if p.opts.Web.ListenAddress == "" {
		return nil
	}
	srv, err := web.New(p.opts.Web, web.Sources{
		Queryable:      p.db,
		EngineOptions:  alert.EngineOptions(p.logger, p.EvalInterval()), // the shared engine's, as cmd/vigil makes it
		Targets:        p.scrape,
		Rules:          p.rules,
		Metrics:        p.Self().Collect,
		ExternalLabels: p.cfg.Global.ExternalLabels,
		Version:        p.opts.Version,
		StartTime:      p.opts.Begin,
		Retention:      p.opts.Retention,
		Config:         p.configStatus,
	}, p.logger)
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		_ = srv.Close()
		return err
	}
	p.web = srv
	return nil
}

// configStatus says whether the last reload went through, and when the
// running config was loaded.
func (p *Pipeline) configStatus() (ok bool, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reloadErr == "", p.configAt
}

// WebAddr is the address the HTTP API listens on; "" when it is off.
func (p *Pipeline) WebAddr() string {
	if p.web == nil {
		return ""
	}
	return p.web.Addr()
}

// Stop shuts down in dependency order: no more API requests, no more
// scrapes, no more evaluations, then the sinks drain, then the store
// takes its final snapshot and releases the data dir. It is safe to call
// more than once.
func (p *Pipeline) Stop() error {
	var errs []error
	p.stopped.Do(func() {
		if p.stopWatch != nil {
			p.stopWatch()
		}
		if p.web != nil {
			errs = append(errs, p.web.Close())
		}
		if p.scrape != nil {
			p.scrape.Close()
		}
		if p.rules != nil {
			errs = append(errs, p.rules.Close())
		}
		if p.relay != nil {
			p.relay.Close()
		}
		if p.notify != nil {
			errs = append(errs, p.notify.Close())
		}
		if p.events != nil {
			_ = p.events.Close(2 * time.Second) // a broken pipe here is expected, not a failure
		}
		if p.rw != nil {
			// After the scrapes and rules, before the store: what
			// is queued is sent for a moment, the rest waits in the
			// spool.
			errs = append(errs, p.rw.Close())
		}
		if p.db != nil {
			if err := p.db.Close(); err != nil {
				errs = append(errs, fmt.Errorf("final snapshot: %w", err))
			}
		}
	})
	return errors.Join(errs...)
}

// Reload reads the config file again (SIGHUP) and applies it: targets
// come and go, the store stays. A config that is refused leaves the
// running one in place, and the console's header says why until a reload
// goes through. Rule files are read at start only; a change to them needs
// a restart.
func (p *Pipeline) Reload() {
	if p.opts.ConfigFile == "" {
		p.logger.Info("SIGHUP: no config file to reload")
		return
	}
	cfg, err := loadConfig(&p.opts)
	if err == nil {
		// Remote write first: it refuses a config it cannot run
		// before anything changes.
		err = p.rw.ApplyConfig(remoteWrites(cfg), cfg.Global.ExternalLabels)
	}
	if err == nil {
		err = p.scrape.ApplyConfig(cfg)
	}
	p.mu.Lock()
	p.reloadErr = ""
	if err != nil {
		p.reloadErr = "reload refused: " + err.Error()
	} else {
		p.configAt = time.Now()
	}
	p.mu.Unlock()
	if err != nil {
		p.logger.Error("reload refused, the running config is kept", "err", err)
		return
	}
	p.logger.Info("config reloaded", "file", p.opts.ConfigFile, "scrape_configs", len(cfg.ScrapeConfigs), "remote_write", len(cfg.RemoteWriteConfigs))
}

// EventsDone is closed when the reader of stdout went away; never with
// --events none.
func (p *Pipeline) EventsDone() <-chan struct{} {
	if p.events == nil {
		return nil
	}
	return p.events.Done()
}

// EventsErr is why events are no longer written to stdout, once
// EventsDone is closed.
func (p *Pipeline) EventsErr() error {
	if p.events == nil {
		return nil
	}
	return p.events.Err()
}

// TargetCount is how many targets are scraped, vigil's own included.
func (p *Pipeline) TargetCount() int { return len(p.scrape.Targets()) }

// RuleCount is how many rules are evaluated.
func (p *Pipeline) RuleCount() int { return alert.RuleCount(p.groups) }
