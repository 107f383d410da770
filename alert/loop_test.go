package alert_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
)

var emptyQueryable = storage.QueryableFunc(func(int64, int64) (storage.Querier, error) {
	return storage.NoopQuerier(), nil
})

// TestLoop runs the group loops on synctest's clock: evaluations come at
// the group's interval, at a fixed offset within it, and Close stops them.
func TestLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gs := mustGroups(t, `
groups:
  - name: fast
    interval: 10s
    rules:
      - alert: Always
        expr: vector(1) > 0
        for: 20s
  - name: default-interval
    rules:
      - alert: AlwaysNow
        expr: vector(1)
`)
		ch := alert.NewChannelSink(100)
		m, err := alert.NewManager(gs, alert.Options{Queryable: emptyQueryable, EvalInterval: 15 * time.Second, Sinks: []alert.Sink{ch}})
		require.NoError(t, err)
		start := time.Now()
		m.Start()
		time.Sleep(61 * time.Second)
		synctest.Wait()

		var events []alert.Event
		for len(ch.C()) > 0 {
			events = append(events, <-ch.C())
		}
		byRule := map[string][]alert.Event{}
		for _, ev := range events {
			byRule[ev.Rule] = append(byRule[ev.Rule], ev)
		}
		require.Len(t, byRule["Always"], 2)
		pending, firing := byRule["Always"][0], byRule["Always"][1]
		require.Equal(t, alert.StatePending, pending.State)
		require.Equal(t, alert.StateFiring, firing.State)
		require.Equal(t, 20*time.Second, firing.Time.Sub(pending.Time))
		require.LessOrEqual(t, pending.Time.Sub(start), 20*time.Second)
		require.Len(t, byRule["AlwaysNow"], 1)
		require.Equal(t, alert.StateFiring, byRule["AlwaysNow"][0].State)

		st := m.Stats()
		// 10s group: 6 cycles in 61s (first within 10-20s); 15s group: 4.
		require.InDelta(t, 6+4, st.GroupEvaluations, 2)
		require.Zero(t, st.RuleFailures)
		require.Equal(t, 2, st.Firing)
		for _, r := range m.Rules() {
			require.Equal(t, alert.HealthOK, r.Health, r.Name)
			require.Equal(t, alert.StateFiring, r.State)
		}

		require.NoError(t, m.Close())
		n := m.Stats().GroupEvaluations
		time.Sleep(time.Minute)
		require.Equal(t, n, m.Stats().GroupEvaluations, "no evaluation after Close")
	})
}

// TestEvalErrorStaysOnItsRule: a failing rule is reported on the rule and
// the other rules of the group still run.
func TestEvalErrorStaysOnItsRule(t *testing.T) {
	st := newTestStore(t)
	rec := &recorder{}
	m := newManager(t, st, `
groups:
  - name: g
    rules:
      - alert: Dup
        expr: label_replace(vector(1), "a", "x", "", "") or label_replace(vector(2), "b", "y", "", "")
        labels:
          a: same
          b: same
      - alert: Fine
        expr: vector(1)
`, alert.Options{Sinks: []alert.Sink{rec}})
	m.Eval(t.Context(), t0)
	require.Equal(t, []string{"firing Fine"}, rec.take())
	rs := m.Rules()
	require.Equal(t, alert.HealthErr, rs[0].Health)
	require.Contains(t, rs[0].LastError, "same labelset")
	require.Equal(t, alert.HealthOK, rs[1].Health)
	require.Equal(t, uint64(1), m.Stats().RuleFailures)
}
