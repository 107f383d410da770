package alert_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
)

// TestSubqueryWithoutStep checks the step of a subquery that names none
// (`x[1m:]`): the evaluation interval, as Prometheus sets it from its global
// evaluation_interval, not a fixed minute. Over a minute of 5s samples,
// count_over_time(x[1m:]) is 12 at a 5s interval (the window is open on
// the left) and 6 at 10s.
func TestSubqueryWithoutStep(t *testing.T) {
	st := newTestStore(t)
	for i := range 25 {
		st.add(t, t0.Add(time.Duration(i)*5*time.Second), float64(i), "x")
	}
	at := t0.Add(2 * time.Minute)
	count := func(t *testing.T, eo promql.EngineOpts, expr string) float64 {
		t.Helper()
		q := alert.EngineQueryFunc(promql.NewEngine(eo), st)
		vec, err := q(context.Background(), expr, at)
		require.NoError(t, err)
		require.Len(t, vec, 1)
		return vec[0].F
	}
	for _, tc := range []struct {
		name     string
		opts     promql.EngineOpts
		want1m   float64
		wantStep float64 // of x[1m:10s], which names its step
	}{
		{"default: vigil's default interval", alert.DefaultEngineOptions(nil), 12, 6},
		{"5s", alert.EngineOptions(nil, 5*time.Second), 12, 6},
		{"10s", alert.EngineOptions(nil, 10*time.Second), 6, 6},
		{"1m", alert.EngineOptions(nil, time.Minute), 1, 6},
		{"unset: the default", alert.EngineOptions(nil, 0), 12, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want1m, count(t, tc.opts, "count_over_time(x[1m:])"))
			require.Equal(t, tc.wantStep, count(t, tc.opts, "count_over_time(x[1m:10s])"))
		})
	}

	// The rule manager's own engine follows its EvalInterval.
	rec := &recorder{}
	m := newManager(t, st, `
groups:
  - name: g
    rules:
      - alert: Counted
        expr: count_over_time(x[1m:]) > 0
        annotations:
          n: "{{ $value }}"
`, alert.Options{EvalInterval: 5 * time.Second, Sinks: []alert.Sink{rec}})
	m.Eval(context.Background(), at)
	require.Len(t, rec.events, 1)
	require.Equal(t, 12.0, rec.events[0].Value)
}
