package tui

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/scrape/peertest"
	"github.com/vigilterm/vigil/store"
)

// TestRealNodeExporter scrapes a real node_exporter into the store and
// checks that every line of its Overview card has a value: the PromQL of
// the cards matches what node_exporter really exposes.
func TestRealNodeExporter(t *testing.T) {
	ne := peertest.NodeExporter(t)
	db := store.New(store.DefaultOptions())
	t.Cleanup(func() { _ = db.Close() })
	mgr := scrape.NewManager(db, scrape.Options{})
	t.Cleanup(mgr.Close)
	cfg, err := scrape.NewStaticConfig([]string{ne.Addr}, time.Second)
	require.NoError(t, err)
	require.NoError(t, mgr.ApplyConfig(cfg))

	// What the card reads of its target is its health; vigil's own
	// adapter (cmd/vigil/internal/pipeline) copies the rest too.
	targets := TargetsFunc(func() []Target {
		var ts []Target
		for _, th := range mgr.Targets() {
			ts = append(ts, Target{Job: th.Job, Instance: th.Instance, Health: TargetHealth(th.Health)})
		}
		return ts
	})
	opts := Options{
		Querier:  NewEngineQuerier(newTestEngine(), db),
		Targets:  targets,
		Location: time.UTC,
	}
	m := newTestModel(t, opts, 80, 24)
	var o *overview
	require.Eventually(t, func() bool {
		m = tick(t, m)
		o = m.views[viewOverview].(*overview)
		if len(o.hosts) != 1 {
			return false
		}
		for _, v := range o.hosts[0].current {
			if math.IsNaN(v) {
				return false
			}
		}
		return true
	}, 30*time.Second, 500*time.Millisecond, "the card never filled; screen:\n%s", m.View())
	require.NoError(t, o.err)
	h := o.hosts[0]
	require.Equal(t, ne.Addr, h.instance)
	require.False(t, math.IsNaN(h.ncpu))
	require.Contains(t, m.View(), "● up")
	for i, hm := range hostMetrics {
		if hm.max == 100 {
			require.True(t, h.current[i] >= 0 && h.current[i] <= 100, "%s = %v", hm.label, h.current[i])
		}
	}
	requireSafe(t, m.View())
}
