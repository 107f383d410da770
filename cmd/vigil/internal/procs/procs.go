// Package procs keeps vigil's GOMAXPROCS at what its CPU use needs: one
// core while one is plenty, more when vigil keeps its cores busy, never
// more than the machine (or its cgroup) gives.
//
// vigil's steady work is small and bursty: scrapes that each wake a
// scrape goroutine and its connection's reader and writer. With a second
// P, each of those wake-ups also wakes an idle thread that spins looking
// for work and goes back to sleep (futex, usleep and epoll_wait in a
// profile), which costs more CPU than the work itself at a modest fleet.
// So once the store is restored (which decodes on every core) vigil
// schedules on one core, and the governor doubles GOMAXPROCS when vigil
// keeps its cores busy and halves it when half of them would do. What it
// saves is measured with two vigils on one fleet, one built without it
// (go run ./cmd/compare -baseline DIR).
//
// It promises: GOMAXPROCS in the environment turns the governor off; the
// decision (Next) depends only on the CPU vigil used over a period, so
// that it is tested with given readings; Govern's stop ends its goroutine
// and gives back the cores vigil started with.
package procs

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// Period is how often the governor looks at vigil's CPU use: long
	// enough that one slow query does not add a core, short enough that a
	// fleet too big for one core gets a second within seconds.
	Period = 10 * time.Second
	// raise: more cores when vigil used more than this share of the ones
	// it has over a period.
	raise = 0.75
	// lower: half the cores when vigil used less than this share of half
	// of them, so that it would not be raised again at once.
	lower = 0.5
)

// Next is the governor's rule: the GOMAXPROCS to use after a period in
// which vigil used cpu cores (user and system time over wall time) with cur
// of them, between 1 and most.
func Next(cur, most int, cpu float64) int {
	cur = min(max(cur, 1), most)
	switch {
	case cur < most && cpu > raise*float64(cur):
		return min(most, 2*cur)
	case cur > 1 && cpu < lower*float64(cur/2):
		return max(1, cur/2)
	}
	return cur
}

// Govern sets GOMAXPROCS to one and then keeps it at what vigil's CPU use
// needs, up to the GOMAXPROCS vigil started with (the machine's cores or
// its cgroup's limit), looking every period, until ctx ends. It does
// nothing when the environment sets GOMAXPROCS. The returned stop ends it
// and gives back the cores it started with.
func Govern(ctx context.Context, period time.Duration, logger *slog.Logger) (stop func()) {
	if os.Getenv("GOMAXPROCS") != "" {
		return func() {}
	}
	return govern(ctx, period, logger, runtime.GOMAXPROCS(0), CPUTime, func(n int) { runtime.GOMAXPROCS(n) })
}

// govern is Govern on most cores, reading the CPU used so far with cpuTime
// and setting the cores with setProcs: the seams of its tests.
func govern(ctx context.Context, period time.Duration, logger *slog.Logger, most int, cpuTime func() time.Duration, setProcs func(int)) (stop func()) {
	if most <= 1 {
		return func() {}
	}
	cur := 1
	setProcs(cur)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(period)
		defer t.Stop()
		wall, used := time.Now(), cpuTime()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				u := cpuTime()
				cpu := (u - used).Seconds() / now.Sub(wall).Seconds()
				wall, used = now, u
				if next := Next(cur, most, cpu); next != cur {
					logger.Debug("scheduling on more or fewer cores", "cores", next, "was", cur, "cpu", cpu)
					cur = next
					setProcs(cur)
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
		setProcs(most)
	}
}

// CPUTime is the user and system CPU time vigil has used.
func CPUTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
