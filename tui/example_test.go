package tui_test

import (
	"context"
	"os"
	"time"

	"github.com/prometheus/prometheus/promql"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/store"
	"github.com/vigilterm/vigil/tui"
)

// How cmd/vigil wires the console: the store behind a PromQL engine, the
// scrape and rule managers as sources, alert events through a channel
// sink, and warnings polled from the store.
func ExampleRun() {
	db := store.New(store.DefaultOptions())
	defer db.Close()
	engine := promql.NewEngine(alert.DefaultEngineOptions(nil))
	scrapes := scrape.NewManager(db, scrape.Options{})
	defer scrapes.Close()
	rules, err := alert.NewManager(alert.DefaultGroups(), alert.Options{Queryable: db, Appendable: db})
	if err != nil {
		panic(err)
	}
	events := alert.NewChannelSink(0) // also given to the rule manager as a sink

	opts := tui.Options{
		Querier:     tui.NewEngineQuerier(engine, db),
		Targets:     scrapes,
		Alerts:      rules,
		Rules:       rules,
		AlertEvents: events.C(),
		Warnings: func() []tui.Status {
			// e.g. from db.Stats(): max series reached, snapshot errors.
			return nil
		},
		Refresh: time.Second,
	}
	// With stdout a pipe for events, pass /dev/tty opened read-write
	// for both in and out instead.
	if err := tui.Run(context.Background(), opts, os.Stdin, os.Stdout); err != nil {
		panic(err)
	}
}
