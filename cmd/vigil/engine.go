package main

import (
	"log/slog"
	"time"

	"github.com/prometheus/prometheus/promql"

	"github.com/vigilterm/vigil/alert"
)

// newEngine returns the one PromQL engine that rules, the console and
// `vigil query` share, set up as a Prometheus server sets up its own
// (alert.EngineOptions: 5m lookback, @ and negative offsets, and
// evalInterval as the step of subqueries that name none).
func newEngine(logger *slog.Logger, evalInterval time.Duration) *promql.Engine {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return promql.NewEngine(alert.EngineOptions(logger, evalInterval))
}
