package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/store"
)

// watchPeriod is how often the parts without a hook of their own are
// looked at for Failures: well within the interval at which any of them
// retries, so that no failure goes by unseen, and cheap (each look copies
// a few counters).
const watchPeriod = time.Second

// eventDropQuiet is how long after the last dropped event the events are
// said to be delivered again: drops come in bursts, and a burst is one
// failure.
const eventDropQuiet = 30 * time.Second

// probe reads one part's state for Failures: nil while it works.
type probe struct {
	component string
	state     func() error
}

// probes are the parts Pipeline.watch looks at. The snapshots report
// themselves (store.Options.OnSnapshot).
func (p *Pipeline) probes() []probe {
	ps := []probe{
		{failMaxSeries, p.maxSeriesState},
		{failRules, p.rulesState},
	}
	if p.events != nil || p.console != nil {
		ps = append(ps, probe{failEvents, p.eventsState})
	}
	if p.notify != nil {
		ps = append(ps, probe{failAlertmanager, p.alertmanagerState})
	}
	if p.rw != nil {
		ps = append(ps, probe{failRemoteWrite, p.remoteWriteState})
	}
	return ps
}

// observe looks at every probe once.
func (p *Pipeline) observe() {
	for _, pr := range p.probes() {
		p.failures.Observe(pr.component, pr.state())
	}
}

// startWatch looks at the probes every watchPeriod until stop is called.
func (p *Pipeline) startWatch() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(watchPeriod)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				p.observe()
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}

// observeSnapshot is the store's OnSnapshot: each attempt says whether
// snapshots fail.
func observeSnapshot(failures *Failures) func(store.SnapshotStats) {
	return func(st store.SnapshotStats) {
		var err error
		if st.Err != nil {
			err = fmt.Errorf("snapshot failed: %w", st.Err)
		}
		failures.Observe(failSnapshot, err)
	}
}

func (p *Pipeline) maxSeriesState() error {
	st := p.db.Stats()
	if !st.Full() {
		return nil
	}
	return fmt.Errorf("max series reached (%d): new series refused (%d so far)", st.MaxSeries, st.Refused.TooManySeries)
}

func (p *Pipeline) rulesState() error {
	if p.rules == nil {
		return nil
	}
	var first alert.RuleStatus
	n := 0
	for _, r := range p.rules.Rules() {
		if r.Health == alert.HealthErr {
			if n == 0 {
				first = r
			}
			n++
		}
	}
	if n == 0 {
		return nil
	}
	msg := fmt.Sprintf("rule %s (group %s) fails: %s", first.Name, first.Group, first.LastError)
	if n > 1 {
		msg = fmt.Sprintf("%d rules fail; %s", n, msg)
	}
	return errors.New(msg)
}

// eventsState says that events are not delivered: the reader of stdout
// went away (for good), or a sink dropped events in the last
// eventDropQuiet because its reader is too slow.
func (p *Pipeline) eventsState() error {
	if p.events != nil {
		select {
		case <-p.events.Done():
			text := "events no longer delivered to stdout"
			if err := p.events.Err(); err != nil {
				text += ": " + err.Error()
			}
			return errors.New(text)
		default:
		}
	}
	var dropped uint64
	if p.events != nil {
		dropped += p.events.Dropped()
	}
	if p.console != nil {
		dropped += p.console.Dropped()
	}
	d, now := &p.drops, time.Now()
	if dropped > d.seen {
		d.seen, d.at = dropped, now
	}
	if !d.at.IsZero() && now.Sub(d.at) < eventDropQuiet {
		return fmt.Errorf("%d events dropped: their reader is too slow", dropped)
	}
	return nil
}

func (p *Pipeline) alertmanagerState() error {
	var bad []alert.AlertmanagerStatus
	for _, am := range p.notify.Status() {
		if !am.Healthy && am.LastError != "" {
			bad = append(bad, am)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	msg := "alertmanager " + bad[0].URL + ": " + bad[0].LastError
	if len(bad) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(bad)-1)
	}
	return errors.New(msg)
}
