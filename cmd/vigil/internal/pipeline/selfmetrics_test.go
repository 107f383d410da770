package pipeline

import (
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/cmd/vigil/internal/procs"
)

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
	require.LessOrEqual(t, cpu, procs.CPUTime().Seconds())
}
