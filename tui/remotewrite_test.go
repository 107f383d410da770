package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/stretchr/testify/require"
)

// testRemotes are remote_write receivers in every state the Targets view
// tells apart.
func testRemotes() []RemoteWrite {
	return []RemoteWrite{
		{Name: "central", URL: "https://mimir.example.com/api/v1/push", Protocol: "2.0",
			LagKnown: true, Lag: 3 * time.Second, Pending: 120, Sent: 1_234_567, LastSend: testNow.Add(-2 * time.Second)},
		{Name: "victoria", URL: "http://victoria:8428/api/v1/write", Protocol: "1.0", Failing: true,
			LagKnown: true, Lag: 4*time.Minute + 10*time.Second, Pending: 54_321, Sent: 99, Dropped: 2000,
			LastError: "HTTP 503 Service Unavailable: \x1b[31mstorage is read-only"},
		{Name: "old-prometheus", URL: "http://prom:9090/api/v1/write", Protocol: "1.0", FellBack: true, LagKnown: true, Sent: 42},
	}
}

// TestTargetsRemoteWrite: the Targets view lists the receivers below the
// targets, with their state and lag; a receiver's error is sanitised; a
// queue in memory says so; with none, the view is as it was.
func TestTargetsRemoteWrite(t *testing.T) {
	for _, tc := range []struct {
		name    string
		remotes []RemoteWrite
		w, h    int
	}{
		{"three_80x24", testRemotes(), 80, 24},
		{"three_160x48", testRemotes(), 160, 48},
		{"memory_80x24", []RemoteWrite{{Name: "http://victoria:8428/api/v1/write", Protocol: "1.0", Pending: 7, InMemory: true}}, 80, 24},
		{"too_small_60x8", testRemotes(), 60, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions(t)
			opts.RemoteWrites = RemoteWritesFunc(func() []RemoteWrite { return tc.remotes })
			m := newTestModel(t, opts, tc.w, tc.h)
			m = press(t, m, "2")
			m = tick(t, m)
			screen := m.View()
			requireFits(t, screen, tc.w, tc.h)
			require.NotContains(t, screen, "\x1b[31m")
			golden.RequireEqual(t, []byte(screen+"\n"))
		})
	}

	// Without remotes the view is the one TestViews knows.
	opts := testOptions(t)
	without := press(t, newTestModel(t, opts, 80, 24), "2")
	opts.RemoteWrites = RemoteWritesFunc(func() []RemoteWrite { return nil })
	with := press(t, newTestModel(t, opts, 80, 24), "2")
	require.Equal(t, tick(t, without).View(), tick(t, with).View())
	require.False(t, strings.Contains(tick(t, with).View(), "Remote write"))
}

func TestCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 9999: "9999", 12_345: "12.3k", 4_500_000: "4.5M", 7_000_000_000: "7.0G"} {
		require.Equal(t, want, count(n))
	}
}
