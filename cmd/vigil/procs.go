package main

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// vigil's steady work is small and bursty: at 100 targets × 1,000 series it
// uses about 4% of one core, in 20 scrapes a second that each wake a scrape
// goroutine and its connection's reader and writer. With a second P, each of
// those wake-ups also wakes an idle thread that spins looking for work and
// goes back to sleep: futex, usleep and epoll_wait in the profile, 10–11% of
// vigil's CPU in paired runs (two vigils on one fleet, README "What
// dominates"). So once the store is restored (which decodes on every core)
// vigil schedules on one core while one core is plenty, and takes more when
// it is not: the governor below doubles GOMAXPROCS when vigil keeps its cores
// busy and halves it when half of them would do. GOMAXPROCS in the
// environment turns the governor off.

const (
	// procsPeriod is how often the governor looks at vigil's CPU use: long
	// enough that one slow query does not add a core, short enough that a
	// fleet too big for one core gets a second within seconds.
	procsPeriod = 10 * time.Second
	// procsRaise: more cores when vigil used more than this share of the
	// ones it has over a period.
	procsRaise = 0.75
	// procsLower: half the cores when vigil used less than this share of
	// half of them, so that it would not be raised again at once.
	procsLower = 0.5
)

// nextProcs is the governor's rule: the GOMAXPROCS to use after a period in
// which vigil used cpu cores (user and system time over wall time) with cur
// of them, between 1 and most.
func nextProcs(cur, most int, cpu float64) int {
	cur = min(max(cur, 1), most)
	switch {
	case cur < most && cpu > procsRaise*float64(cur):
		return min(most, 2*cur)
	case cur > 1 && cpu < procsLower*float64(cur/2):
		return max(1, cur/2)
	}
	return cur
}

// governProcs sets GOMAXPROCS to one and then keeps it at what vigil's CPU
// use needs, up to the GOMAXPROCS vigil started with (the machine's cores or
// its cgroup's limit), until ctx ends. It does nothing when the environment
// sets GOMAXPROCS. The returned stop ends it and gives back the cores it
// started with.
func governProcs(ctx context.Context, period time.Duration, logger *slog.Logger) (stop func()) {
	if os.Getenv("GOMAXPROCS") != "" {
		return func() {}
	}
	most := runtime.GOMAXPROCS(0)
	if most <= 1 {
		return func() {}
	}
	cur := 1
	runtime.GOMAXPROCS(cur)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(period)
		defer t.Stop()
		wall, used := time.Now(), selfCPUTime()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				u := selfCPUTime()
				cpu := (u - used).Seconds() / now.Sub(wall).Seconds()
				wall, used = now, u
				if next := nextProcs(cur, most, cpu); next != cur {
					logger.Debug("scheduling on more or fewer cores", "cores", next, "was", cur, "cpu", cpu)
					cur = next
					runtime.GOMAXPROCS(cur)
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
		runtime.GOMAXPROCS(most)
	}
}

// selfCPUTime is the user and system CPU time vigil has used.
func selfCPUTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
