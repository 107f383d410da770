package main

import (
	"log/slog"
	"time"

	"github.com/prometheus/prometheus/promql"
)

// newEngine returns the one PromQL engine that rules, the console and
// `vigil query` share, set up as a Prometheus server sets up its own:
// 5m lookback, @ and negative offsets allowed.
func newEngine(logger *slog.Logger) *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{
		Logger:               logger,
		MaxSamples:           50_000_000,
		Timeout:              2 * time.Minute,
		LookbackDelta:        5 * time.Minute,
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
	})
}
