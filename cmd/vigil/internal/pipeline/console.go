package pipeline

import (
	"fmt"

	"github.com/vigilterm/vigil/tui"
)

// ConsoleOptions are the console's options on the pipeline: queries on
// the engine over the store, targets, declared types, alerts, rules,
// silences (kept in the data directory when there is one), the rules'
// events and the header's warnings. The look (colours, charts) is the
// caller's to set.
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
	opts.Warnings = p.Warnings
	return opts
}

// Warnings are the console's header warnings, read from the state of the
// parts each time the console refreshes: what the restore lost, a refused
// reload, --max-series reached, a failed snapshot, events no longer
// delivered or dropped, an Alertmanager that does not answer or refused
// alerts.
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

	st := p.db.Stats()
	if st.MaxSeries > 0 && st.Series >= int64(st.MaxSeries) {
		add("store", fmt.Sprintf("max series reached (%d): new series refused (%d so far)", st.MaxSeries, st.Refused.TooManySeries))
	}
	if err := st.LastSnapshot.Err; err != nil {
		add("snapshot", "snapshot failed: "+err.Error())
	}
	if p.events != nil {
		select {
		case <-p.events.Done():
			text := "events no longer delivered to stdout"
			if err := p.events.Err(); err != nil {
				text += ": " + err.Error()
			}
			add("events", text)
		default:
			if d := p.events.Dropped(); d > 0 {
				add("events", fmt.Sprintf("%d events dropped: stdout reader too slow", d))
			}
		}
	}
	if p.notify != nil {
		for _, am := range p.notify.Status() {
			if !am.Healthy && am.LastError != "" {
				add("alertmanager", "alertmanager "+am.URL+": "+am.LastError)
				break
			}
		}
		for _, am := range p.notify.Status() {
			if am.Refused > 0 {
				add("alertmanager", fmt.Sprintf("alertmanager %s refused %d alerts; last %s", am.URL, am.Refused, am.LastRefusal))
				break
			}
		}
	}
	return ws
}
