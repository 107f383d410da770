package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/prometheus/promql"

	"github.com/vigilterm/vigil/alert"
	adapt "github.com/vigilterm/vigil/cmd/vigil/internal/pipeline"
	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/store"
	"github.com/vigilterm/vigil/tui"
)

// pipeline is the running vigil: scrape → store ← rules → sinks, and what
// the console reads. It owns every component and stops them in order.
type pipeline struct {
	db      *store.DB
	logger  *slog.Logger
	engine  *promql.Engine
	scrape  *scrape.Manager
	rules   *alert.Manager
	notify  *alert.Notifier    // nil without Alertmanagers
	events  *alert.EventWriter // nil with --events none
	console *alert.ChannelSink // nil in --headless
	relay   *adapt.EventRelay  // the console sink's events in the console's type; nil in --headless
	stopped sync.Once

	restoreWarning string // what the restore of the snapshot lost, if anything

	// silencesPath is the file that keeps the local silences, "" for none
	// (no data directory); silences saves them there when one is set.
	silencesPath string
	silences     *alert.SilenceFile

	mu        sync.Mutex // guards reloadErr: set on SIGHUP, read by the console
	reloadErr string     // why the last reload was refused; "" when it was not
}

func (p *pipeline) start(cfg *scrape.Config, groups []alert.GroupConfig, ams []alert.AlertmanagerConfig, plan ioPlan) error {
	p.engine = newEngine(p.logger)

	var sinks []alert.Sink
	if plan.events != "none" {
		format, _, err := alert.ParseFormat(plan.events)
		if err != nil {
			return err
		}
		p.events = alert.NewEventWriter(os.Stdout, format, alert.WriterOptions{Logger: p.logger})
		sinks = append(sinks, p.events)
	}
	if plan.tui {
		p.console = alert.NewChannelSink(0)
		p.relay = adapt.RelayEvents(p.console.C())
		sinks = append(sinks, p.console)
	}

	var notify alert.NotifyFunc
	if len(ams) > 0 {
		n, err := alert.NewNotifier(alert.NotifierOptions{Alertmanagers: ams, Logger: p.logger})
		if err != nil {
			return err
		}
		p.notify, notify = n, n.Send
	}

	rules, err := alert.NewManager(groups, alert.Options{
		Queryable:      p.db,
		Appendable:     p.db,
		Engine:         p.engine,
		EvalInterval:   time.Duration(cfg.Global.EvaluationInterval),
		ExternalLabels: cfg.Global.ExternalLabels,
		Logger:         p.logger,
		Sinks:          sinks,
		Notify:         notify,
	})
	if err != nil {
		return err
	}
	p.rules = rules
	if p.silencesPath != "" {
		p.silences = alert.NewSilenceFile(rules, p.silencesPath)
		n, err := p.silences.Restore(time.Now())
		if err != nil {
			p.logger.Warn("local silences: not all restored", "err", err)
		}
		if n > 0 {
			p.logger.Info("local silences restored", "silences", n)
		}
	}

	first := &firstScrape{Appendable: p.db, logger: p.logger, begin: mainStart}
	p.scrape = scrape.NewManager(first, scrape.Options{
		Logger:   p.logger,
		Internal: []scrape.InternalTarget{selfTarget(p)},
	})
	if err := p.scrape.ApplyConfig(cfg); err != nil {
		return err
	}
	p.rules.Start()
	return nil
}

// stop shuts down in dependency order: no more scrapes, no more
// evaluations, then the sinks drain, then the store takes its final
// snapshot and releases the data dir.
func (p *pipeline) stop() error {
	var errs []error
	p.stopped.Do(func() {
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
		if err := p.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("final snapshot: %w", err))
		}
	})
	return errors.Join(errs...)
}

// reload applies the config file again (SIGHUP). Rule files are read at
// start only; a change to them needs a restart, and the log says so.
func (p *pipeline) reload(o *options) {
	if o.config == "" {
		p.logger.Info("SIGHUP: no config file to reload")
		return
	}
	cfg, err := loadConfig(o)
	if err == nil {
		err = p.scrape.ApplyConfig(cfg)
	}
	p.mu.Lock()
	p.reloadErr = ""
	if err != nil {
		p.reloadErr = "reload refused: " + err.Error()
	}
	p.mu.Unlock()
	if err != nil {
		p.logger.Error("reload refused, the running config is kept", "err", err)
		return
	}
	p.logger.Info("config reloaded", "file", o.config, "scrape_configs", len(cfg.ScrapeConfigs))
}

// eventsDone is closed when the reader of stdout went away; never with
// --events none.
func (p *pipeline) eventsDone() <-chan struct{} {
	if p.events == nil {
		return nil
	}
	return p.events.Done()
}

// warnings are the header warnings of the console, read from the state of
// the parts each time the console refreshes.
func (p *pipeline) warnings() []tui.Status {
	var ws []tui.Status
	add := func(source, text string) {
		if text != "" {
			ws = append(ws, tui.Status{Source: source, Text: text})
		}
	}
	add("restore", p.restoreWarning)
	p.mu.Lock()
	add("config", p.reloadErr)
	p.mu.Unlock()

	st := p.db.Stats()
	if st.MaxSeries > 0 && st.Series >= int64(st.MaxSeries) {
		add("store", fmt.Sprintf("max series reached (%d): new series refused (%d so far)", st.MaxSeries, st.Refused.TooManySeries))
	}
	if err := st.LastSnapshot.Err; err != nil {
		add("snapshot", "snapshot failed: "+err.Error())
	}
	if p.events != nil {
		select {
		case <-p.events.Done():
			text := "events no longer delivered to stdout"
			if err := p.events.Err(); err != nil {
				text += ": " + err.Error()
			}
			add("events", text)
		default:
			if d := p.events.Dropped(); d > 0 {
				add("events", fmt.Sprintf("%d events dropped: stdout reader too slow", d))
			}
		}
	}
	if p.notify != nil {
		for _, am := range p.notify.Status() {
			if !am.Healthy && am.LastError != "" {
				add("alertmanager", "alertmanager "+am.URL+": "+am.LastError)
				break
			}
		}
	}
	return ws
}

func (p *pipeline) tuiOptions(o *options) tui.Options {
	opts := tui.DefaultOptions()
	opts.Color, opts.ASCII = o.color, o.ascii
	opts.Querier = tui.NewEngineQuerier(p.engine, p.db)
	opts.Targets = adapt.Targets(p.scrape)
	opts.Metadata = adapt.Metadata(p.scrape)
	opts.Alerts = adapt.Alerts(p.rules)
	opts.Rules = adapt.Rules(p.rules)
	opts.Silences = p.rules
	if p.silences != nil {
		opts.Silences = p.silences
	}
	if p.relay != nil {
		opts.AlertEvents = p.relay.C()
	}
	opts.Warnings = p.warnings
	return opts
}
