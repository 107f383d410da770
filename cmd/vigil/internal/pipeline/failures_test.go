package pipeline

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for a logger and a test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFailures: a part failing many times in a row is said once when it
// starts and once when it ends, in the log, the header and the metrics.
func TestFailures(t *testing.T) {
	var log syncBuffer
	f := NewFailures(slog.New(slog.NewTextHandler(&log, nil)))
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return now }
	f.Register(failSnapshot, failRules)
	metrics := func() string {
		var b strings.Builder
		require.NoError(t, f.WriteMetrics(&b))
		return b.String()
	}
	require.Contains(t, metrics(), `vigil_failing{component="snapshot"} 0`, "registered parts are there before they fail")
	require.Empty(t, f.Failing())

	for i := range 5 {
		f.Observe(failSnapshot, errors.New("snapshot failed: read-only file system"))
		f.Observe(failRules, nil)
		now = now.Add(time.Duration(i) * time.Second)
	}
	require.Equal(t, 1, strings.Count(log.String(), "msg=failing"), log.String())
	require.Contains(t, log.String(), `level=WARN msg=failing component=snapshot err="snapshot failed: read-only file system"`)
	require.Equal(t, []Failure{{Component: failSnapshot, Err: "snapshot failed: read-only file system", Since: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}}, f.Failing())
	require.Contains(t, metrics(), `vigil_failing{component="snapshot"} 1`)
	require.Contains(t, metrics(), `vigil_failing{component="rules"} 0`)

	// Another reason while it still fails: shown, not said again.
	f.Observe(failSnapshot, errors.New("snapshot failed: no space left on device"))
	require.Equal(t, "snapshot failed: no space left on device", f.Failing()[0].Err)
	require.Equal(t, 1, strings.Count(log.String(), "msg=failing"))

	for range 3 {
		f.Observe(failSnapshot, nil)
	}
	require.Equal(t, 1, strings.Count(log.String(), "msg=recovered"), log.String())
	require.Contains(t, log.String(), "level=INFO msg=recovered component=snapshot failed_for=10s failures=6")
	require.Empty(t, f.Failing())
	require.Contains(t, metrics(), `vigil_failing{component="snapshot"} 0`)
	require.Contains(t, metrics(), `vigil_failures_total{component="snapshot"} 1`)

	// A second time is a second episode; what a part says is one
	// sanitised line.
	f.Observe(failSnapshot, errors.New("bad\x1b[31m\nthing"))
	require.Contains(t, metrics(), `vigil_failures_total{component="snapshot"} 2`)
	require.NotContains(t, f.Failing()[0].Err, "\x1b")
	require.NotContains(t, f.Failing()[0].Err, "\n")
	require.Equal(t, 2, strings.Count(log.String(), "msg=failing"))
}
