package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/pflag"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/cmd/vigil/internal/procs"
	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/store"
	"github.com/vigilterm/vigil/tui"
)

// consoleCmd is vigil's main job: scrape, store, evaluate, and show it in
// the console (or, with --headless, only write events).
func consoleCmd(ctx context.Context, args []string, stderr io.Writer) int {
	o, fs, err := parseFlags(args)
	if err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "vigil: %v\n", err)
		fs.SetOutput(stderr)
		fmt.Fprintln(stderr, "Run 'vigil --help' for usage.")
		return exitUsage
	}
	plan, err := planIO(o, os.Stdin, os.Stdout, openDevTTY)
	if err != nil {
		fmt.Fprintf(stderr, "vigil: %v\n", err)
		return exitUsage
	}
	if plan.ownsTTY {
		defer plan.tuiIn.Close()
	}

	// Everything that can be refused is checked before anything starts.
	cfg, err := loadConfig(o)
	if err != nil {
		fmt.Fprintf(stderr, "vigil: %v\n", err)
		return exitFailed
	}
	groups, err := alert.LoadRules(append(slices.Clone(cfg.RuleFiles), o.rules...), o.alerts)
	if err != nil {
		fmt.Fprintf(stderr, "vigil: %v\n", err)
		return exitFailed
	}
	amConfigs, err := alertmanagers(cfg, o.alertmanagers)
	if err != nil {
		fmt.Fprintf(stderr, "vigil: %v\n", err)
		return exitFailed
	}

	logger, closeLog := newLogger(plan, o.dataDir, stderr)
	defer closeLog()

	storeOpts := store.DefaultOptions()
	storeOpts.Retention = o.retention
	storeOpts.MaxSeries = o.maxSeries
	storeOpts.SnapshotInterval = o.snapshotInterval
	var db *store.DB
	openStart := time.Now()
	if o.dataDir == "" {
		db = store.New(storeOpts)
	} else if db, err = store.Open(o.dataDir, storeOpts); err != nil {
		fmt.Fprintf(stderr, "vigil: %v\n", err)
		var locked *store.LockedError
		if errors.As(err, &locked) {
			return exitUsage
		}
		return exitFailed
	}
	restored := db.Stats().Restore
	if restored.Path != "" {
		logger.Info("snapshot restored", "series", restored.Series, "samples", restored.Samples,
			"written", restored.Written.Format(time.RFC3339), "took", time.Since(openStart).Round(time.Millisecond))
	}
	tuneGC()
	defer procs.Govern(ctx, procs.Period, logger)()
	p := &pipeline{db: db, logger: logger, restoreWarning: restored.Warning()}
	if o.dataDir != "" {
		p.silencesPath = filepath.Join(o.dataDir, alert.SilencesFileName)
	}
	if p.restoreWarning != "" {
		logger.Warn(p.restoreWarning)
		if plan.tui {
			fmt.Fprintf(stderr, "vigil: %s\n", p.restoreWarning)
		}
	}
	if err := p.start(cfg, groups, amConfigs, plan); err != nil {
		fmt.Fprintf(stderr, "vigil: %v\n", err)
		_ = p.stop()
		return exitFailed
	}
	if o.debugListen != "" {
		stopDebug, err := serveDebug(o.debugListen, selfTarget(p), logger)
		if err != nil {
			fmt.Fprintf(stderr, "vigil: %v\n", err)
			_ = p.stop()
			return exitFailed
		}
		defer stopDebug()
	}
	code := exitOK

	// SIGHUP reloads the config: targets come and go, the store stays; a bad
	// config is refused and the running one kept. SIGPIPE is caught so that
	// a vanished reader of stdout shows up as EPIPE on the event writer
	// instead of killing vigil.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP, syscall.SIGPIPE)
	defer signal.Stop(sig)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-sig:
				if s != syscall.SIGHUP {
					continue
				}
				// Under the console, SIGHUP is also what the kernel sends
				// when the terminal hangs up (ssh dropped, tmux killed).
				// Then there is no one to show anything to: end cleanly,
				// with a final snapshot, as an editor or top would,
				// instead of living on as an orphan holding the data dir.
				if plan.tui && terminalGone(plan.tuiOut) {
					logger.Info("shutting down", "reason", "the terminal hung up")
					cancel()
					return
				}
				p.reload(o)
			}
		}
	}()

	if plan.tui {
		err = tui.Run(ctx, p.tuiOptions(o), plan.tuiIn, plan.tuiOut)
		if err != nil && !errors.Is(err, context.Canceled) {
			logger.Error("console", "err", err)
			fmt.Fprintf(stderr, "vigil: console: %v\n", err)
			code = exitFailed
		}
	} else {
		logger.Info("vigil running headless", "targets", len(p.scrape.Targets()), "rules", alert.RuleCount(groups), "data_dir", o.dataDir)
		select {
		case <-ctx.Done():
			logger.Info("shutting down", "reason", "signal")
		case <-p.eventsDone():
			// DESIGN.md: in --headless, a reader that went away ends vigil
			// cleanly, after a final snapshot.
			logger.Info("shutting down", "reason", "the reader of stdout went away", "err", p.events.Err())
		}
	}
	if err := p.stop(); err != nil {
		fmt.Fprintf(stderr, "vigil: %v\n", err)
		return exitFailed
	}
	return code
}

// loadConfig reads the config once: a prometheus.yml, bare targets, both,
// or neither (the built-in local host).
func loadConfig(o *options) (*scrape.Config, error) {
	def := scrape.GlobalConfig{
		ScrapeInterval:     model.Duration(o.scrapeInterval),
		EvaluationInterval: model.Duration(o.evalInterval),
	}
	if o.config == "" {
		if len(o.targets) == 0 {
			cfg := scrape.NewLocalConfig(o.scrapeInterval)
			cfg.Global.EvaluationInterval = model.Duration(o.evalInterval)
			return cfg, nil
		}
		cfg, err := scrape.NewStaticConfig(o.targets, o.scrapeInterval)
		if err != nil {
			return nil, err
		}
		cfg.Global.EvaluationInterval = model.Duration(o.evalInterval)
		return cfg, nil
	}
	cfg, err := scrape.LoadConfigWith(o.config, def)
	if err != nil {
		return nil, err
	}
	// A flag the operator typed wins over the file.
	if o.set["eval-interval"] {
		cfg.Global.EvaluationInterval = model.Duration(o.evalInterval)
	}
	if len(o.targets) > 0 {
		bare, err := scrape.NewStaticConfig(o.targets, time.Duration(cfg.Global.ScrapeInterval))
		if err != nil {
			return nil, err
		}
		for _, sc := range bare.ScrapeConfigs {
			for _, have := range cfg.ScrapeConfigs {
				if have.JobName == sc.JobName {
					return nil, fmt.Errorf("%s already has a job %q: put the targets %v in its static_configs instead of on the command line", o.config, sc.JobName, o.targets)
				}
			}
			cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, sc)
		}
	}
	return cfg, nil
}

// alertmanagers merges the config's alerting.alertmanagers with the
// --alertmanager URLs.
func alertmanagers(cfg *scrape.Config, urls []string) ([]alert.AlertmanagerConfig, error) {
	var out []alert.AlertmanagerConfig
	for _, am := range cfg.Alertmanagers() {
		out = append(out, alert.AlertmanagerConfig{URLs: []string{am.URL}, HTTPClientConfig: am.HTTPClient, Timeout: am.Timeout})
	}
	for _, u := range urls {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return nil, fmt.Errorf("--alertmanager %q: want a URL such as http://localhost:9093", u)
		}
		out = append(out, alert.AlertmanagerConfig{URLs: []string{u}})
	}
	return out, nil
}

// newLogger sends logs to stderr in --headless, and to vigil.log in the data
// directory under the console (never to the terminal the console draws on).
func newLogger(plan ioPlan, dataDir string, stderr io.Writer) (*slog.Logger, func()) {
	if plan.logs == "stderr" {
		return slog.New(slog.NewTextHandler(stderr, nil)), func() {}
	}
	if dataDir != "" {
		if err := os.MkdirAll(dataDir, 0o700); err == nil {
			f, err := os.OpenFile(filepath.Join(dataDir, "vigil.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
			if err == nil {
				return slog.New(slog.NewTextHandler(f, nil)), func() { f.Close() }
			}
		}
	}
	return slog.New(slog.DiscardHandler), func() {}
}
