package tui

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTargetsSeriesRefused: a target that is up but whose series the
// store refuses (--max-series) says so on its line of the Targets view.
func TestTargetsSeriesRefused(t *testing.T) {
	opts := testOptions(t)
	targets := append(testTargets(), Target{Job: "node", Instance: "big:9100", Health: TargetUp,
		LastScrape: testNow, Series: 900, SeriesRefused: 300,
		LastWarning: "300 series refused: the store is full (--max-series)"})
	opts.Targets = TargetsFunc(func() []Target { return targets })
	m := tick(t, newTestModel(t, opts, 160, 30))
	m = press(t, m, "2")
	require.Regexp(t, `big:9100 +node +up .*300 series refused: the store is full \(--max-series\)`, m.View())
}
