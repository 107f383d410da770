package alert_test

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/store"
)

// Example wires the package as cmd/vigil does: rules from files and flags
// (the built-in ones when there are none), a manager over the store, JSON
// events on stdout, a channel for the console, and an Alertmanager.
func Example() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	db := store.New(store.DefaultOptions())
	defer db.Close()

	groups, err := alert.LoadRules(nil, []string{"HighLoad: node_load1 > 4 for 2m"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // names file:line and rule, or shows the --alert form
		return
	}

	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE) // EPIPE instead of death on stdout
	stdout := alert.NewEventWriter(os.Stdout, alert.FormatJSON, alert.WriterOptions{Logger: logger})
	console := alert.NewChannelSink(0) // console.C(), as tui.AlertEvent, is the console's Options.AlertEvents
	am, err := alert.NewNotifier(alert.NotifierOptions{
		Alertmanagers: []alert.AlertmanagerConfig{{URLs: []string{"http://127.0.0.1:9093"}, Timeout: 10 * time.Second}},
		Logger:        logger,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}

	m, err := alert.NewManager(groups, alert.Options{
		Queryable:    db,
		Appendable:   db,
		EvalInterval: 5 * time.Second,
		Logger:       logger,
		Sinks:        []alert.Sink{stdout, console},
		Notify:       am.Send,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	m.Start()

	select {
	case <-stdout.Done(): // the reader went away: --headless snapshots and exits 0
	case <-time.After(10 * time.Millisecond):
	}

	// Shut down in order: evaluation, then what it feeds.
	_ = m.Close()
	_ = am.Close()
	_ = stdout.Close(2 * time.Second)
	fmt.Println(len(m.Rules()), "rule")
	// Output: 1 rule
}
