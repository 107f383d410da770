package procs

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestNext(t *testing.T) {
	for _, c := range []struct {
		cur, most int
		cpu       float64
		want      int
	}{
		{1, 2, 0.04, 1}, // vigil at 100 targets
		{1, 2, 0.74, 1},
		{1, 2, 0.80, 2}, // one core kept busy
		{1, 2, 1.05, 2},
		{2, 2, 0.60, 2}, // still more than half of one
		{2, 2, 0.49, 1},
		{2, 2, 1.90, 2}, // no more to give
		{2, 8, 1.60, 4},
		{4, 8, 3.10, 8},
		{8, 8, 1.90, 4}, // half of them would do
		{4, 8, 0.90, 2},
		{4, 8, 1.10, 4},
		{1, 1, 5.00, 1},
		{3, 2, 0.10, 1}, // the machine shrank under it
		{0, 2, 0.10, 1},
	} {
		t.Run(fmt.Sprintf("%d of %d at %.2f", c.cur, c.most, c.cpu), func(t *testing.T) {
			require.Equal(t, c.want, Next(c.cur, c.most, c.cpu))
		})
	}
}

// TestGovern runs the governor on given CPU readings, in a bubble whose
// clock moves only when everything in it waits: one core once it starts,
// a second after a period in which vigil kept the one busy, back to one
// after an idle period, and the cores it started with when it ends.
func TestGovern(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			mu    sync.Mutex
			used  time.Duration // the CPU vigil has used, as the test says
			procs []int         // every GOMAXPROCS the governor set
		)
		cpuTime := func() time.Duration { mu.Lock(); defer mu.Unlock(); return used }
		setProcs := func(n int) { mu.Lock(); defer mu.Unlock(); procs = append(procs, n) }
		spend := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); used += d }
		set := func() []int { mu.Lock(); defer mu.Unlock(); return append([]int(nil), procs...) }
		// period waits past the next look of the governor, which sees
		// what was spent since its last.
		period := func() {
			time.Sleep(Period)
			synctest.Wait()
		}

		stop := govern(context.Background(), Period, slog.New(slog.DiscardHandler), 2, cpuTime, setProcs)
		stopped := false
		defer func() {
			if !stopped { // a failed check: the bubble must end empty
				stop()
			}
		}()
		require.Equal(t, []int{1}, set(), "the governor starts on one core")
		time.Sleep(time.Millisecond) // the test's steps fall between the governor's looks

		spend(8 * time.Second) // 0.8 of a core: one core kept busy
		period()
		require.Equal(t, []int{1, 2}, set(), "a busy core gets a second")

		spend(12 * time.Second) // 1.2 cores: more than half of one
		period()
		require.Equal(t, []int{1, 2}, set(), "both are still wanted")

		spend(4 * time.Second) // 0.4 of a core
		period()
		require.Equal(t, []int{1, 2, 1}, set(), "an idle vigil goes back to one core")

		period() // nothing spent
		require.Equal(t, []int{1, 2, 1}, set())

		stop()
		stopped = true
		require.Equal(t, []int{1, 2, 1, 2}, set(), "the cores it started with")
	})
}

// TestGovernOnOneCore: with one core there is nothing to govern.
func TestGovernOnOneCore(t *testing.T) {
	var procs []int
	stop := govern(context.Background(), time.Millisecond, slog.New(slog.DiscardHandler), 1,
		func() time.Duration { return time.Hour }, func(n int) { procs = append(procs, n) })
	stop()
	require.Empty(t, procs)
}

// TestGovernThisProcess: Govern on the real runtime puts vigil on one core
// at once and gives back the cores it started with when stopped. (What it
// decides in between is TestGovern's: it looks only once an hour here.)
func TestGovernThisProcess(t *testing.T) {
	t.Setenv("GOMAXPROCS", "")
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	stop := Govern(context.Background(), time.Hour, slog.New(slog.DiscardHandler))
	require.Equal(t, 1, runtime.GOMAXPROCS(0), "the governor starts on one core")
	stop()
	require.Equal(t, 2, runtime.GOMAXPROCS(0), "the cores it started with")
}

func TestGovernLeftToTheEnvironment(t *testing.T) {
	t.Setenv("GOMAXPROCS", "2")
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	stop := Govern(context.Background(), time.Millisecond, slog.New(slog.DiscardHandler))
	defer stop()
	time.Sleep(20 * time.Millisecond)
	// Checked while it runs: stop gives back the cores it started with,
	// so after it the check would pass whatever the governor did.
	require.Equal(t, 2, runtime.GOMAXPROCS(0))
}

// TestCPUTime: the CPU this process has used, which only grows.
func TestCPUTime(t *testing.T) {
	a := CPUTime()
	require.Positive(t, a)
	for i := 0; CPUTime() == a; i++ {
		_ = fmt.Sprint(i) // spend a little
	}
	require.Greater(t, CPUTime(), a)
}
