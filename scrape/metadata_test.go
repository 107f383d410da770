package scrape_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape"
)

// TestManagerMetadata: Metadata reports what the targets' TYPE lines
// declare, one entry per distinct declaration of a family, after a reload
// as before it.
func TestManagerMetadata(t *testing.T) {
	db := newTestDB(t)
	a := server(t, "# TYPE node_forks counter\nnode_forks 10\n# TYPE queue_items_total gauge\nqueue_items_total 3\n")
	b := server(t, "# TYPE node_forks gauge\nnode_forks 11\n# TYPE other untyped\nother 1\n")
	m := scrape.NewManager(db, scrape.Options{})
	defer m.Close()
	require.NoError(t, m.ApplyConfig(jobConfig(t, 100*time.Millisecond, a, b)))
	waitUp(t, m, a)
	waitUp(t, m, b)

	want := map[string][]scrape.Metadata{
		"node_forks":        {{Type: model.MetricTypeCounter}, {Type: model.MetricTypeGauge}},
		"queue_items_total": {{Type: model.MetricTypeGauge}},
		"other":             {{Type: model.MetricTypeUnknown}},
	}
	got, err := m.Metadata(t.Context(), "")
	require.NoError(t, err)
	require.Equal(t, want, got)
	got, err = m.Metadata(t.Context(), "queue_items_total")
	require.NoError(t, err)
	require.Equal(t, map[string][]scrape.Metadata{"queue_items_total": {{Type: model.MetricTypeGauge}}}, got)

	// A reload that changes the job's settings replaces the loops: what
	// they declared is still there, before and after their first scrape.
	cfg := jobConfig(t, 100*time.Millisecond, a)
	cfg.ScrapeConfigs[0].HonorLabels = true
	require.NoError(t, m.ApplyConfig(cfg))
	got, err = m.Metadata(t.Context(), "node_forks")
	require.NoError(t, err)
	require.Equal(t, []scrape.Metadata{{Type: model.MetricTypeCounter}}, got["node_forks"])
	time.Sleep(300 * time.Millisecond)
	got, err = m.Metadata(t.Context(), "")
	require.NoError(t, err)
	require.Equal(t, map[string][]scrape.Metadata{"node_forks": {{Type: model.MetricTypeCounter}}, "queue_items_total": {{Type: model.MetricTypeGauge}}}, got)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = m.Metadata(ctx, "")
	require.ErrorIs(t, err, context.Canceled)
}
