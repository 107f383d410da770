// Command demo shows the console on fake data; for looking at it in tmux
// while developing, not part of vigil.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/util/teststorage"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/tui"
	"github.com/vigilterm/vigil/tui/internal/fakenode"
)

func main() {
	st, err := teststorage.NewWithError()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer st.Close()
	now := time.Now()
	if err := fakenode.Write(st.Appender(context.Background()), fakenode.DefaultHosts, now, 2*time.Hour, 15*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	eng := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: 10 * time.Second, LookbackDelta: 5 * time.Minute})
	targets := []scrape.TargetHealth{
		{Job: "node", Instance: "db1:9100", Health: scrape.HealthUp, LastScrape: now.Add(-3 * time.Second), LastDuration: 23 * time.Millisecond, LastSamples: 1421},
		{Job: "node", Instance: "web1:9100", Health: scrape.HealthUp, LastScrape: now.Add(-1 * time.Second), LastDuration: 12 * time.Millisecond, LastSamples: 1380},
		{Job: "node", Instance: "batch1:9100", Health: scrape.HealthDown, LastScrape: now.Add(-4 * time.Second), LastDuration: 5 * time.Second, LastError: "Get \"http://batch1:9100/metrics\": context deadline exceeded\x1b[31m"},
	}
	alerts := []alert.Alert{
		{Rule: "HostHighLoad", State: alert.StateFiring, Labels: labels.FromStrings("alertname", "HostHighLoad", "instance", "batch1:9100", "severity", "warning"), Value: 5.2, ActiveAt: now.Add(-10 * time.Minute), FiredAt: now.Add(-8 * time.Minute)},
	}
	opts := tui.Options{
		Querier: tui.NewEngineQuerier(eng, st),
		Targets: tui.TargetsFunc(func() []scrape.TargetHealth { return targets }),
		Alerts:  tui.AlertsFunc(func() []alert.Alert { return alerts }),
	}
	if err := tui.Run(context.Background(), opts, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
