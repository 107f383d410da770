// Command vigil is a monitoring console for one operator in one terminal:
// it scrapes Prometheus exporters, keeps their history in an embedded store,
// evaluates alerting rules, shows it all in a TUI and writes alert events to
// stdout as JSON lines. See README.md.
//
// This package only wires: flags, construction, signals and the modes
// (console, --headless, check, query). The running pipeline is package
// pipeline (cmd/vigil/internal/pipeline); what else a test wants lives in
// scrape, store, alert, tui and cmd/vigil/internal/procs.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/vigilterm/vigil/cmd/vigil/internal/pipeline"
	"github.com/vigilterm/vigil/cmd/vigil/internal/procs"
	"github.com/vigilterm/vigil/tui"
)

// Exit codes, one rule for every command (README.md, docs/faults.md):
//
//	0  fine;
//	1  a check or test found problems (as promtool's), a query failed, or
//	   vigil failed while running (a console error, the last snapshot
//	   not written);
//	2  vigil refused to start: bad flags or arguments, a config, rule file
//	   or target that does not load, no terminal without --headless, a
//	   data dir held by another vigil or that cannot be opened.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// gcPercent is vigil's GOGC once the store is restored, unless the
// environment sets one. Almost all of vigil's heap is long-lived (series,
// chunks, the scrape caches) and it allocates little per sample, so
// collecting at a small growth rather than Go's 100% keeps the resident
// set near the live heap, for some CPU: memory is what bounds a console on
// a shared bastion host. The trade is measured with two vigils on one
// fleet, one built with another value (go run ./cmd/compare -baseline
// DIR). It is not set before the restore, when the heap only grows and
// collecting often slows the start (BenchmarkStartupHeadless, with
// STARTUP_GOGC set to compare).
const gcPercent = 10

// tuneGC sets gcPercent, unless GOGC is in the environment.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}

// mainStart is when package main was initialised: after the runtime and
// every imported package (GODEBUG=inittrace=1 shows what they take),
// before anything vigil does.
var mainStart = time.Now()

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches on the first argument.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "check":
			return checkCmd(args[1:], os.Stdin, stdout, stderr)
		case "query":
			return queryCmd(ctx, args[1:], stdout, stderr)
		case "test":
			return testCmd(args[1:], stdout, stderr)
		case "version", "--version":
			fmt.Fprintln(stdout, "vigil", version)
			return exitOK
		}
	}
	return consoleCmd(ctx, args, stderr)
}

const version = "0.1.0"

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
	if o.source != "" {
		return remoteConsoleCmd(ctx, o, stderr)
	}
	plan, err := planIO(o, os.Stdin, os.Stdout, openDevTTY)
	if err != nil {
		fmt.Fprintf(stderr, "vigil: %v\n", err)
		return exitUsage
	}
	if plan.ownsTTY {
		defer plan.tuiIn.Close()
	}

	// Everything that can be refused is checked before anything starts;
	// until the pipeline runs, a failure is a refusal to start.
	p, err := pipeline.Load(o.pipelineOptions(plan, os.Stdout))
	if err != nil {
		fmt.Fprintf(stderr, "vigil: %v\n", err)
		return exitUsage
	}

	logger, closeLog := pipeline.NewLogger(plan.logs == "stderr", stderr, o.dataDir)
	defer closeLog()
	if err := p.Open(logger, newEngine(logger, p.EvalInterval())); err != nil {
		fmt.Fprintf(stderr, "vigil: %v\n", err)
		return exitUsage // a *store.LockedError names the holder
	}
	tuneGC()
	defer procs.Govern(ctx, procs.Period, logger)()
	if w := p.RestoreWarning(); w != "" && plan.tui {
		fmt.Fprintf(stderr, "vigil: %s\n", w)
	}
	if err := p.Start(); err != nil {
		fmt.Fprintf(stderr, "vigil: %v\n", err)
		_ = p.Stop()
		return exitUsage
	}
	if o.debugListen != "" {
		stopDebug, err := serveDebug(o.debugListen, p.Self(), logger)
		if err != nil {
			fmt.Fprintf(stderr, "vigil: %v\n", err)
			_ = p.Stop()
			return exitUsage
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
				p.Reload()
			}
		}
	}()

	if plan.tui {
		opts := p.ConsoleOptions()
		opts.Color, opts.ASCII, opts.Mouse = o.color, o.ascii, o.mouse
		err = tui.Run(ctx, opts, plan.tuiIn, plan.tuiOut)
		if err != nil && !errors.Is(err, context.Canceled) {
			logger.Error("console", "err", err)
			fmt.Fprintf(stderr, "vigil: console: %v\n", err)
			code = exitFailed
		}
	} else {
		logger.Info("vigil running headless", "targets", p.TargetCount(), "rules", p.RuleCount(), "data_dir", o.dataDir)
		select {
		case <-ctx.Done():
			logger.Info("shutting down", "reason", "signal")
		case <-p.EventsDone():
			// DESIGN.md: in --headless, a reader that went away ends vigil
			// cleanly, after a final snapshot.
			logger.Info("shutting down", "reason", "the reader of stdout went away", "err", p.EventsErr())
		}
	}
	if err := p.Stop(); err != nil {
		fmt.Fprintf(stderr, "vigil: %v\n", err)
		return exitFailed
	}
	return code
}
