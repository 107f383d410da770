// Package tui is vigil's terminal console: a bubbletea program with five
// views (1 Overview, 2 Targets, 3 Alerts, 4 Explore, 5 Query), a header
// that always shows targets up/total, alerts firing/pending and warnings,
// and a help line. It is built for 80×24 over a slow SSH link: it redraws
// on a refresh tick (1 s by default) and on keys, never faster, uses the
// 16 ANSI colours, and keeps every view inside the window at any size.
//
// The console reads the rest of vigil through small interfaces declared
// here: Querier (PromQL, label values, series; EngineQuerier implements it
// over a promql.Engine and a storage.Queryable), TargetSource, AlertSource
// and the optional RuleSource. Alert events and status warnings arrive on
// channels (Options.AlertEvents, Options.Status) that the model reads with
// re-armed commands. Queries run off the event loop with a timeout; target,
// alert and rule snapshots are taken on it once per tick and must be
// cheap.
//
// Everything a target controls (label names and values, metric names,
// errors, annotations) is untrusted: it passes through Sanitize, which
// turns control characters and invalid UTF-8 into visible escapes and caps
// the length, before it reaches the screen.
//
// The layout follows soft-serve's pkg/ui: keymap.go (KeyMap), styles.go
// (Styles), one file per view; views render strings and only the root
// Model talks to the program.
package tui
