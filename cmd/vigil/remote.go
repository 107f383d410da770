package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/prometheus/common/config"

	"github.com/vigilterm/vigil/cmd/vigil/internal/pipeline"
	"github.com/vigilterm/vigil/tui"
	"github.com/vigilterm/vigil/tui/remote"
)

// newSource makes the source on the remote API at rawURL, with the HTTP
// client config of the file configFile ("" for none). It makes no
// request.
func newSource(rawURL, configFile string, opts remote.Options) (*remote.Source, error) {
	u, err := remote.ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if configFile != "" {
		cfg, err := remote.LoadClientConfig(configFile)
		if err != nil {
			return nil, err
		}
		opts.Client = &cfg
	} else {
		cfg := config.DefaultHTTPClientConfig
		opts.Client = &cfg
	}
	opts.URL = u
	opts.UserAgent = "vigil/" + version
	return remote.New(opts)
}

// remoteConsoleCmd is `vigil --source URL`: the console, and only the
// console, on a remote API. Nothing is scraped, stored or evaluated here,
// and the data dir holds no store (only vigil.log); silences are the
// console's, in memory, for as long as it runs.
func remoteConsoleCmd(ctx context.Context, o *options, stderr io.Writer) int {
	// The URL and the client config are checked before anything opens.
	u, err := remote.ParseURL(o.source)
	if err != nil {
		fmt.Fprintf(stderr, "vigil: %v\n", err)
		return exitUsage
	}
	if o.sourceConfig != "" {
		if _, err := remote.LoadClientConfig(o.sourceConfig); err != nil {
			fmt.Fprintf(stderr, "vigil: %v\n", err)
			return exitUsage
		}
	}
	plan, err := planIO(o, os.Stdin, os.Stdout, openDevTTY)
	if err != nil {
		fmt.Fprintf(stderr, "vigil: %v\n", err)
		return exitUsage
	}
	if plan.ownsTTY {
		defer plan.tuiIn.Close()
	}
	logger, closeLog := pipeline.NewLogger(false, stderr, o.dataDir)
	defer closeLog()
	src, err := newSource(o.source, o.sourceConfig, remote.Options{Logger: logger.With("source", u.Redacted())})
	if err != nil {
		fmt.Fprintf(stderr, "vigil: %v\n", err)
		return exitUsage
	}
	logger.Info("console on a remote", "url", src.URL())
	// No store here: the heap is the answers being read, garbage soon
	// after; collecting early keeps a large one's peak near its size.
	tuneGC()
	src.Start()
	defer src.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A terminal that hangs up ends the console; there is nothing to
	// reload.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP, syscall.SIGPIPE)
	defer signal.Stop(sig)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-sig:
				if s == syscall.SIGHUP && terminalGone(plan.tuiOut) {
					logger.Info("shutting down", "reason", "the terminal hung up")
					cancel()
					return
				}
			}
		}
	}()

	err = tui.Run(ctx, remoteConsoleOptions(src, o), plan.tuiIn, plan.tuiOut)
	if err != nil && !errors.Is(err, context.Canceled) {
		logger.Error("console", "err", err)
		fmt.Fprintf(stderr, "vigil: console: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// remoteConsoleOptions are the console's options on src: every source of
// the console's contract is the remote's, silences included; the Query
// view's history is the one of vigil's own console, in the data
// directory. The remote's retention is not known: every range is offered.
func remoteConsoleOptions(src *remote.Source, o *options) tui.Options {
	opts := tui.DefaultOptions()
	opts.Querier = src
	opts.Metadata = src
	opts.Targets = src.TargetSource()
	opts.Alerts = src.AlertSource()
	opts.Rules = src.RuleSource()
	opts.Silences = src
	opts.AlertEvents = src.Events()
	opts.Warnings = src.Warnings
	opts.Color, opts.ASCII, opts.Mouse = o.color, o.ascii, o.mouse
	if o.dataDir != "" {
		opts.HistoryFile = filepath.Join(o.dataDir, pipeline.QueryHistoryFileName)
	}
	return opts
}
