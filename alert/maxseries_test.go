package alert_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/store"
)

// TestAlertsPastMaxSeries: a store that holds its --max-series still takes
// ALERTS and ALERTS_FOR_STATE (its reserve), and still refuses a recording
// rule's new series.
func TestAlertsPastMaxSeries(t *testing.T) {
	db := store.New(store.Options{Retention: time.Hour, MaxSeries: 1})
	t.Cleanup(func() { _ = db.Close() })
	st := testStore{db}
	m := newManager(t, st, `
groups:
  - name: g
    interval: 1m
    rules:
      - record: x:doubled
        expr: x * 2
      - alert: High
        expr: x > 10
`, alert.Options{})
	for i := range 3 {
		ts := t0.Add(time.Duration(i) * time.Minute)
		st.add(t, ts, 20, "x", "instance", "a") // the one series the cap allows
		m.Eval(context.Background(), ts)
	}
	end := t0.Add(3 * time.Minute)
	_, v, ok := lastSample(t, st, end, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "ALERTS"),
		labels.MustNewMatcher(labels.MatchEqual, "alertstate", "firing"))
	require.True(t, ok, "ALERTS is written past the cap")
	require.Equal(t, 1.0, v)
	_, _, ok = lastSample(t, st, end, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "ALERTS_FOR_STATE"))
	require.True(t, ok, "ALERTS_FOR_STATE is written past the cap")
	_, _, ok = lastSample(t, st, end, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "x:doubled"))
	require.False(t, ok, "a recording rule's new series is refused past the cap")
	s := db.Stats()
	require.EqualValues(t, 1, s.Series-s.ReservedSeries)
	require.EqualValues(t, 2, s.ReservedSeries)
}
