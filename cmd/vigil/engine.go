package main

import (
	"log/slog"

	"github.com/prometheus/prometheus/promql"

	"github.com/vigilterm/vigil/alert"
)

// newEngine returns the one PromQL engine that rules, the console and
// `vigil query` share, set up as a Prometheus server sets up its own
// (alert.DefaultEngineOptions: 5m lookback, @ and negative offsets).
func newEngine(logger *slog.Logger) *promql.Engine {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return promql.NewEngine(alert.DefaultEngineOptions(logger))
}
