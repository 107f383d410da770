// Package pipeline connects vigil's parts for the console: adapters that
// report what scrape and alert know in the console's own types (package
// tui's contract), so that tui imports neither.
//
// It promises that the adapters lose nothing the console shows: every
// field of tui.Target, tui.Alert, tui.Rule, tui.AlertEvent and
// tui.Metadata is copied from the field of the same name, and every
// health and state keeps its Prometheus name.
package pipeline
