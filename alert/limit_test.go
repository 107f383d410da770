package alert_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
)

// TestGroupLimit follows Prometheus 3: when a rule's alerts exceed the
// group's limit, all of them are dropped and the rule fails; when it holds
// again they start over. vigil reports the drop: every alert that was
// pending or firing gets a resolved event, so a reader of stdout never
// sees an alert fire twice without resolving between.
func TestGroupLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		hold string
		want [][]string // events at minute i
	}{
		{
			name: "for 0",
			hold: "0s",
			want: [][]string{
				{"firing High a"},
				{"resolved High a"}, // b joins: over the limit, a is dropped
				nil,                 // still over: nothing new
				{"firing High a"},   // b goes: a starts again
			},
		},
		{
			name: "for 1m",
			hold: "1m",
			want: [][]string{
				{"pending High a"},
				{"resolved High a"},
				nil,
				{"pending High a"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newTestStore(t)
			rec := &recorder{}
			m := newManager(t, st, `
groups:
  - name: g
    interval: 1m
    limit: 1
    rules:
      - alert: High
        expr: x > 10
        for: `+tc.hold+`
`, alert.Options{Sinks: []alert.Sink{rec}})
			series := [][]string{{"a"}, {"a", "b"}, {"a", "b"}, {"a"}}
			for i, insts := range series {
				ts := t0.Add(time.Duration(i) * time.Minute)
				for _, in := range insts {
					st.add(t, ts, 20, "x", "instance", in)
				}
				if i == 3 {
					st.add(t, ts, math.Float64frombits(value.StaleNaN), "x", "instance", "b")
				}
				m.Eval(context.Background(), ts)
				var got []string
				for _, ev := range rec.events {
					got = append(got, string(ev.State)+" "+ev.Labels.Get("alertname")+" "+ev.Labels.Get("instance"))
					if ev.State == alert.StateResolved {
						require.Equal(t, ts, ev.EndsAt)
					}
				}
				rec.events = nil
				require.Equal(t, tc.want[i], got, "minute %d", i)

				rs := m.Rules()
				require.Len(t, rs, 1)
				if len(insts) > 1 {
					require.Equal(t, alert.HealthErr, rs[0].Health)
					require.Equal(t, "exceeded limit of 1 with 2 alerts", rs[0].LastError)
					require.Empty(t, m.Alerts(), "minute %d", i)
				} else {
					require.Equal(t, alert.HealthOK, rs[0].Health)
				}
			}
		})
	}
}

// TestGroupLimitErrors: the limit errors read as Prometheus' and match
// ErrLimit.
func TestGroupLimitErrors(t *testing.T) {
	st := newTestStore(t)
	m := newManager(t, st, `
groups:
  - name: g
    limit: 1
    rules:
      - record: x:copy
        expr: x
`, alert.Options{})
	st.add(t, t0, 1, "x", "instance", "a")
	st.add(t, t0, 1, "x", "instance", "b")
	m.Eval(context.Background(), t0)
	rs := m.Rules()
	require.Equal(t, "exceeded limit of 1 with 2 series", rs[0].LastError)
	_, _, ok := lastSample(t, st, t0, labels.MustNewMatcher(labels.MatchEqual, "__name__", "x:copy"))
	require.False(t, ok, "nothing is written over the limit")
}
