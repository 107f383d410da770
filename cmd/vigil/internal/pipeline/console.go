package pipeline

import (
	"fmt"
	"path/filepath"

	"github.com/vigilterm/vigil/tui"
)

// QueryHistoryFileName is the Query view's history in the data directory.
const QueryHistoryFileName = "query_history"

// ConsoleOptions are the console's options on the pipeline: queries on
// the engine over the store, targets, declared types, alerts, rules,
// silences (kept in the data directory when there is one), the rules'
// events, the header's warnings, the store's retention (the longest
// range offered) and the Query view's history file (in the data
// directory when there is one). The look (colours, charts, the mouse) is
// the caller's to set.
func (p *Pipeline) ConsoleOptions() tui.Options {
	opts := tui.DefaultOptions()
	opts.Querier = tui.NewEngineQuerier(p.engine, p.db)
	opts.Targets = Targets(p.scrape)
	opts.Metadata = Metadata(p.scrape)
	opts.Alerts = Alerts(p.rules)
	opts.Rules = Rules(p.rules)
	opts.Silences = p.rules
	if p.silences != nil {
		opts.Silences = p.silences
	}
	if p.relay != nil {
		opts.AlertEvents = p.relay.C()
	}
	if p.rw != nil {
		opts.RemoteWrites = RemoteWrites(p.rw)
	}
	opts.Warnings = p.Warnings
	// The ranges offered stop at what the store keeps.
	opts.Retention = p.opts.Retention
	if p.opts.DataDir != "" {
		opts.HistoryFile = filepath.Join(p.opts.DataDir, QueryHistoryFileName)
	}
	return opts
}

// Warnings are the console's header warnings, read each time the console
// refreshes: what the restore lost, a refused reload, what fails now
// (Failures: a snapshot, rules, events, an Alertmanager, --max-series
// reached, a remote_write receiver behind or dropping), and alerts an
// Alertmanager refused.
func (p *Pipeline) Warnings() []tui.Status {
	var ws []tui.Status
	add := func(source, text string) {
		if text != "" {
			ws = append(ws, tui.Status{Source: source, Text: text})
		}
	}
	add("restore", p.restoreWarning)
	p.mu.Lock()
	add("config", p.reloadErr)
	p.mu.Unlock()
	for _, f := range p.failures.Failing() {
		add(f.Component, f.Err)
	}
	// A refusal is the alerts' fault, not a failure that ends: it stays
	// said until vigil restarts.
	if p.notify != nil {
		for _, am := range p.notify.Status() {
			if am.Refused > 0 {
				add("alertmanager", fmt.Sprintf("alertmanager %s refused %d alerts; last %s", am.URL, am.Refused, am.LastRefusal))
				break
			}
		}
	}
	return ws
}
