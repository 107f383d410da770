package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNextProcs(t *testing.T) {
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
			require.Equal(t, c.want, nextProcs(c.cur, c.most, c.cpu))
		})
	}
}

// TestGovernProcs runs the governor on this process: one core once it
// starts, a second while two goroutines keep the one busy, back to one when
// they stop, and the cores it started with when it ends.
func TestGovernProcs(t *testing.T) {
	t.Setenv("GOMAXPROCS", "")
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))

	stop := governProcs(context.Background(), 100*time.Millisecond, slog.New(slog.DiscardHandler))
	require.Equal(t, 1, runtime.GOMAXPROCS(0), "the governor starts on one core")

	burn, wg := make(chan struct{}), sync.WaitGroup{}
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-burn:
					return
				default:
				}
				for i := 0; i < 1e5; i++ {
					_ = i * i
				}
			}
		})
	}
	require.Eventually(t, func() bool { return runtime.GOMAXPROCS(0) == 2 }, 10*time.Second, 20*time.Millisecond,
		"two busy goroutines get a second core")
	close(burn)
	wg.Wait()
	require.Eventually(t, func() bool { return runtime.GOMAXPROCS(0) == 1 }, 10*time.Second, 20*time.Millisecond,
		"an idle vigil goes back to one core")
	stop()
	require.Equal(t, 2, runtime.GOMAXPROCS(0), "the cores it started with")
}

func TestGovernProcsLeftToTheEnvironment(t *testing.T) {
	t.Setenv("GOMAXPROCS", "2")
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	stop := governProcs(context.Background(), time.Millisecond, slog.New(slog.DiscardHandler))
	defer stop()
	time.Sleep(20 * time.Millisecond)
	// Checked while it runs: stop gives back the cores it started with,
	// so after it the check would pass whatever the governor did.
	require.Equal(t, 2, runtime.GOMAXPROCS(0))
}

// TestProcessMetrics: vigil's own metrics say how much CPU it has used and
// how many cores it schedules on, as Prometheus' collectors name them.
func TestProcessMetrics(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	var b strings.Builder
	require.NoError(t, writeProcessMetrics(&b))
	out := b.String()
	require.Contains(t, out, "# TYPE go_sched_gomaxprocs_threads gauge\ngo_sched_gomaxprocs_threads 3\n")
	require.Contains(t, out, "# TYPE process_cpu_seconds_total counter\n")
	_, after, ok := strings.Cut(out, "\nprocess_cpu_seconds_total ")
	require.True(t, ok, out)
	line, _, _ := strings.Cut(after, "\n")
	cpu, err := strconv.ParseFloat(line, 64)
	require.NoError(t, err, out)
	require.Positive(t, cpu, "this test process has used some CPU")
	require.LessOrEqual(t, cpu, selfCPUTime().Seconds())
}
