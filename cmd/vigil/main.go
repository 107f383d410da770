// Command vigil is a monitoring console for one operator in one terminal:
// it scrapes Prometheus exporters, keeps their history in an embedded store,
// evaluates alerting rules, shows it all in a TUI and writes alert events to
// stdout as JSON lines. See README.md.
//
// This package only wires: flags, the config loaded once, construction,
// signals and the modes (console, --headless, check, query). What a test
// wants lives in scrape, store, alert and tui.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// Exit codes: 0 fine, 1 a check or query failed, 2 vigil could not start
// (bad flags, no terminal, data dir held by another vigil).
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// gcPercent is vigil's GOGC once the store is restored, unless the
// environment sets one. Almost all of vigil's heap is long-lived (series,
// chunks, the scrape caches) and it allocates little per sample, so
// collecting at 10% growth instead of Go's 100% keeps the resident set
// near the live heap: memory is what bounds a console on a shared bastion
// host (see README, "Side by side with Prometheus"). It costs CPU: two
// vigils on 100 fleet targets at minute 5 held 109 MiB at 10% against 119
// at 25%, for 12% more CPU; most of what vigil allocates between
// collections is the PromQL engine's, evaluating rules. It is not set
// before the restore: the heap only grows then, and collecting every 25%
// of it cost a tenth of the start (every 10% would cost more).
const gcPercent = 10

// tuneGC sets gcPercent, unless GOGC is in the environment.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}

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
			return checkCmd(args[1:], stdout, stderr)
		case "query":
			return queryCmd(ctx, args[1:], stdout, stderr)
		case "version", "--version":
			fmt.Fprintln(stdout, "vigil", version)
			return exitOK
		}
	}
	return consoleCmd(ctx, args, stderr)
}

const version = "0.1.0"
