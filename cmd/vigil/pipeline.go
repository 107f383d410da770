package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/prometheus/promql"

	"github.com/vigilterm/vigil/alert"
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
	status  chan tui.Status    // warnings for the console's header
	mu      sync.Mutex         // guards cfg during a reload
	cfg     *scrape.Config     // the config running now
	stopped sync.Once
}

func (p *pipeline) start(cfg *scrape.Config, groups []alert.GroupConfig, ams []alert.AlertmanagerConfig, o *options, plan ioPlan) int {
	p.cfg = cfg
	p.engine = newEngine(p.logger)

	var sinks []alert.Sink
	if plan.events != "none" {
		format, _, err := alert.ParseFormat(plan.events)
		if err != nil {
			fmt.Fprintf(os.Stderr, "vigil: %v\n", err)
			return exitUsage
		}
		p.events = alert.NewEventWriter(os.Stdout, format, alert.WriterOptions{Logger: p.logger})
		sinks = append(sinks, p.events)
	}
	if plan.tui {
		p.console = alert.NewChannelSink(0)
		p.status = make(chan tui.Status, 16)
		sinks = append(sinks, p.console)
	}

	var notify alert.NotifyFunc
	if len(ams) > 0 {
		n, err := alert.NewNotifier(alert.NotifierOptions{Alertmanagers: ams, Logger: p.logger})
		if err != nil {
			fmt.Fprintf(os.Stderr, "vigil: %v\n", err)
			return exitFailed
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
		fmt.Fprintf(os.Stderr, "vigil: %v\n", err)
		return exitFailed
	}
	p.rules = rules

	p.scrape = scrape.NewManager(p.db, scrape.Options{
		Logger:   p.logger,
		Internal: []scrape.InternalTarget{selfTarget(p)},
	})
	if err := p.scrape.ApplyConfig(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "vigil: %v\n", err)
		return exitFailed
	}
	p.rules.Start()
	return exitOK
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
	if err != nil {
		p.logger.Error("reload refused, the running config is kept", "err", err)
		p.setStatus("config", "reload refused: "+err.Error())
		return
	}
	if err := p.scrape.ApplyConfig(cfg); err != nil {
		p.logger.Error("reload refused, the running config is kept", "err", err)
		p.setStatus("config", "reload refused: "+err.Error())
		return
	}
	p.mu.Lock()
	p.cfg = cfg
	p.mu.Unlock()
	p.logger.Info("config reloaded", "file", o.config, "scrape_configs", len(cfg.ScrapeConfigs))
	p.setStatus("config", "")
}

func (p *pipeline) setStatus(source, text string) {
	if p.status == nil {
		return
	}
	select {
	case p.status <- tui.Status{Source: source, Text: text}:
	default: // the console is behind; the next check sends it again
	}
}

// eventsDone is closed when the reader of stdout went away; never with
// --events none.
func (p *pipeline) eventsDone() <-chan struct{} {
	if p.events == nil {
		return nil
	}
	return p.events.Done()
}

// watchStatus turns the state of the parts into header warnings for the
// console, each sent when it changes.
func (p *pipeline) watchStatus(ctx context.Context, restoreWarning string) {
	last := map[string]string{}
	send := func(source, text string) {
		if last[source] == text {
			return
		}
		last[source] = text
		select {
		case p.status <- tui.Status{Source: source, Text: text}:
		case <-ctx.Done():
		}
	}
	if restoreWarning != "" {
		send("restore", restoreWarning)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		st := p.db.Stats()
		text := ""
		if st.MaxSeries > 0 && st.Series >= int64(st.MaxSeries) {
			text = fmt.Sprintf("max series reached (%d): new series refused (%d so far)", st.MaxSeries, st.Refused.TooManySeries)
		}
		send("store", text)
		text = ""
		if err := st.LastSnapshot.Err; err != nil {
			text = "snapshot failed: " + err.Error()
		}
		send("snapshot", text)
		text = ""
		if p.events != nil {
			select {
			case <-p.events.Done():
				text = "events no longer delivered to stdout"
				if err := p.events.Err(); err != nil {
					text += ": " + err.Error()
				}
			default:
				if d := p.events.Dropped(); d > 0 {
					text = fmt.Sprintf("%d events dropped: stdout reader too slow", d)
				}
			}
		}
		send("events", text)
		text = ""
		if p.notify != nil {
			for _, am := range p.notify.Status() {
				if !am.Healthy && am.LastError != "" {
					text = "alertmanager " + am.URL + ": " + am.LastError
					break
				}
			}
		}
		send("alertmanager", text)

		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (p *pipeline) tuiOptions() tui.Options {
	opts := tui.DefaultOptions()
	opts.Querier = tui.NewEngineQuerier(p.engine, p.db)
	opts.Targets = p.scrape
	opts.Alerts = p.rules
	opts.Rules = p.rules
	if p.console != nil {
		opts.AlertEvents = p.console.C()
	}
	opts.Status = p.status
	return opts
}
