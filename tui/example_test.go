package tui_test

import (
	"context"
	"os"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/vigilterm/vigil/store"
	"github.com/vigilterm/vigil/tui"
)

// The console on its contract: a store behind a PromQL engine for the
// queries, and sources that report the console's own types. vigil wires
// its scrape and rule managers in the same way, through the adapters of
// cmd/vigil/internal/pipeline; a remote Prometheus-compatible API would be
// another set of adapters.
func ExampleRun() {
	db := store.New(store.DefaultOptions())
	defer db.Close()
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: 2 * time.Minute, LookbackDelta: 5 * time.Minute})

	targets := []tui.Target{{
		Job: "node", Instance: "db1:9100", URL: "http://db1:9100/metrics",
		Labels: labels.FromStrings("instance", "db1:9100", "job", "node"),
		Health: tui.TargetUnknown, ScrapeInterval: 15 * time.Second, ScrapeTimeout: 10 * time.Second,
	}}
	events := make(chan tui.AlertEvent, 64) // what the rules send; the console never closes it

	opts := tui.Options{
		Querier:     tui.NewEngineQuerier(engine, db),
		Targets:     tui.TargetsFunc(func() []tui.Target { return targets }),
		Alerts:      tui.AlertsFunc(func() []tui.Alert { return nil }),
		AlertEvents: events,
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
