package scrape

import (
	"context"
	"time"
)

// ScrapeSlots is how many phases an interval has for the first scrape of
// its targets: each target takes the one its hash picks (see offset), and
// keeps it across restarts.
//
// Prometheus gives every target its own phase. vigil is usually idle
// between scrapes, so each separate scrape would be a separate wake-up (the
// timer, the runtime's monitor thread, the network poller, a context
// switch), which on a virtual machine costs more than decompressing the
// body: a few slots an interval let the targets of a slot share one
// wake-up. They then start one after another, so the late ones take the
// slot's planned time (see onTime) to keep their timestamps on the
// interval. cmd/compare measures vigil's CPU on a fleet of 100 targets.
const ScrapeSlots = 10

// defaultTimestampTolerance is Options.TimestampTolerance when not set.
const defaultTimestampTolerance = 2 * time.Millisecond

// offset is when, from now, the first scrape happens: the start of one of
// the interval's ScrapeSlots slots, fixed by the target's hash, so that the
// targets are spread over the slots, each batch shares one wake-up, and a
// target keeps its slot across restarts.
func (l *loop) offset(now time.Time) time.Duration {
	iv := int64(l.t.interval)
	base := iv - now.UnixNano()%iv
	off := int64((l.t.hash^l.seed)%ScrapeSlots) * (iv / ScrapeSlots)
	next := base + off
	if next > iv {
		next -= iv
	}
	return time.Duration(next)
}

// snap returns the timestamp for a scrape that starts at now: the slot one
// interval after the previous one when now is within tolerance of it (and
// at most 1% of the interval), else now.
func snap(prev, now time.Time, interval, tolerance time.Duration) time.Time {
	if prev.IsZero() {
		return now
	}
	tol := min(interval/100, tolerance)
	if d := now.Sub(prev); d >= interval-tol && d <= interval+tol {
		return prev.Add(interval)
	}
	return now
}

// onTime returns the time a scrape that starts at now counts as: its slot's
// planned time when it starts at most a hundredth of the interval after it,
// else now. A slot's targets wake together (see ScrapeSlots), and the last
// of them may run some milliseconds after the first, past snap's
// tolerance: its timestamps would then wander from scrape to scrape, and a
// timestamp off the interval costs a chunk bits that one on it does not.
func onTime(planned, now time.Time, interval time.Duration) time.Time {
	if d := now.Sub(planned); d >= 0 && d <= interval/100 {
		return planned
	}
	return now
}

// run scrapes until ctx (the loop's own) ends. parent is the manager's
// context: when only the loop was stopped (the target went away), stale
// markers are written for its series at the next slot, as Prometheus does.
func (l *loop) run(parent, ctx context.Context) {
	// A timer's channel carries the time it was due, not when its
	// receiver got to run: that is the slot's planned time.
	var planned time.Time
	select {
	case planned = <-time.After(l.offset(time.Now())):
	case <-ctx.Done():
		close(l.stopped)
		return
	}
	ticker := time.NewTicker(l.t.interval)
	defer ticker.Stop()
	var last, aligned time.Time
	for {
		now := snap(aligned, onTime(planned, l.started(), l.t.interval), l.t.interval, l.tolerance)
		aligned = now
		l.scrapeOnce(ctx, now)
		last = now
		select {
		case <-ctx.Done():
		case planned = <-ticker.C:
			continue
		}
		break
	}
	close(l.stopped)
	if parent.Err() == nil && !l.noStaleness {
		l.endOfRunStaleness(parent, last, ticker)
	}
}
