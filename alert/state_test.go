package alert_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/store"
)

const ruleHigh = `
groups:
  - name: g
    interval: 1m
    rules:
      - alert: High
        expr: x > 10
        for: %s
        keep_firing_for: %s
        labels:
          severity: page
        annotations:
          summary: "x is {{ $value }} on {{ $labels.instance }}"
`

func sprintfRule(hold, keep string) string {
	return replaceAll(ruleHigh, hold, keep)
}

func replaceAll(format string, a ...string) string {
	out := []byte{}
	i := 0
	for j := 0; j < len(format); j++ {
		if format[j] == '%' && j+1 < len(format) && format[j+1] == 's' {
			out = append(out, a[i]...)
			i++
			j++
			continue
		}
		out = append(out, format[j])
	}
	return string(out)
}

// TestStateMachine runs one series through a rule minute by minute and
// checks the events of each evaluation.
func TestStateMachine(t *testing.T) {
	for _, tc := range []struct {
		name   string
		hold   string
		keep   string
		values []float64  // x at minute i, evaluated at minute i
		want   [][]string // events at minute i
	}{
		{
			name:   "for holds then fires, resolves when gone",
			hold:   "2m",
			keep:   "0s",
			values: []float64{20, 20, 20, 20, 0},
			want:   [][]string{{"pending High"}, nil, {"firing High"}, nil, {"resolved High"}},
		},
		{
			name:   "for 0 fires at once",
			hold:   "0s",
			keep:   "0s",
			values: []float64{20, 20, 0, 0},
			want:   [][]string{{"firing High"}, nil, {"resolved High"}, nil},
		},
		{
			name:   "keep_firing_for keeps it firing after it goes away",
			hold:   "0s",
			keep:   "2m",
			values: []float64{20, 0, 0, 0},
			want:   [][]string{{"firing High"}, nil, nil, {"resolved High"}},
		},
		{
			name:   "keep_firing_for restarts when it comes back",
			hold:   "0s",
			keep:   "2m",
			values: []float64{20, 0, 20, 0, 0, 0},
			want:   [][]string{{"firing High"}, nil, nil, nil, nil, {"resolved High"}},
		},
		{
			name:   "flapping pending never fires",
			hold:   "2m",
			keep:   "0s",
			values: []float64{20, 0, 20, 0, 20, 20, 20},
			want: [][]string{
				{"pending High"}, {"resolved High"}, {"pending High"}, {"resolved High"},
				{"pending High"}, nil, {"firing High"},
			},
		},
		{
			name:   "fires again after resolving",
			hold:   "0s",
			keep:   "0s",
			values: []float64{20, 0, 20},
			want:   [][]string{{"firing High"}, {"resolved High"}, {"firing High"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newTestStore(t)
			rec := &recorder{}
			m := newManager(t, st, sprintfRule(tc.hold, tc.keep), alert.Options{Sinks: []alert.Sink{rec}})
			for i, v := range tc.values {
				ts := t0.Add(time.Duration(i) * time.Minute)
				st.add(t, ts, v, "x", "instance", "a")
				m.Eval(context.Background(), ts)
				require.Equal(t, tc.want[i], rec.take(), "minute %d", i)
			}
		})
	}
}

func TestEventContent(t *testing.T) {
	st := newTestStore(t)
	rec := &recorder{}
	m := newManager(t, st, sprintfRule("1m", "0s"), alert.Options{Sinks: []alert.Sink{rec}})
	for i, v := range []float64{20, 30, 0} {
		ts := t0.Add(time.Duration(i)*time.Minute + 123*time.Millisecond)
		st.add(t, ts, v, "x", "instance", "db1:9100", "job", "node")
		m.Eval(context.Background(), ts)
	}
	require.Len(t, rec.events, 3)
	want := labels.FromStrings("alertname", "High", "instance", "db1:9100", "job", "node", "severity", "page")
	for _, ev := range rec.events {
		require.Equal(t, want, ev.Labels)
		require.Equal(t, "High", ev.Rule)
		require.Equal(t, "g", ev.Group)
		require.Equal(t, t0.Add(123*time.Millisecond), ev.StartsAt)
	}
	fire := rec.events[1]
	require.Equal(t, alert.StateFiring, fire.State)
	require.Equal(t, 30.0, fire.Value)
	require.Equal(t, "x is 30 on db1:9100", fire.Annotations.Get("summary"))
	require.True(t, fire.EndsAt.IsZero())
	res := rec.events[2]
	require.Equal(t, alert.StateResolved, res.State)
	require.Equal(t, t0.Add(2*time.Minute+123*time.Millisecond), res.EndsAt)
	require.Equal(t, `{"time":"2026-11-24T10:01:00.123Z","state":"firing","labels":{"alertname":"High","instance":"db1:9100","job":"node","severity":"page"},"annotations":{"summary":"x is 30 on db1:9100"},"value":30,"startsAt":"2026-11-24T10:00:00.123Z"}`,
		string(alert.MarshalEvent(fire)))
}

func TestResolvedRetention(t *testing.T) {
	st := newTestStore(t)
	m := newManager(t, st, sprintfRule("0s", "0s"), alert.Options{})
	st.add(t, t0, 20, "x", "instance", "a")
	m.Eval(context.Background(), t0)
	st.add(t, t0.Add(time.Minute), 0, "x", "instance", "a")
	m.Eval(context.Background(), t0.Add(time.Minute))

	for _, tc := range []struct {
		after time.Duration
		want  int
	}{{time.Minute, 1}, {15 * time.Minute, 1}, {16*time.Minute + time.Second, 0}} {
		ts := t0.Add(time.Minute + tc.after)
		st.add(t, ts, 0, "x", "instance", "a")
		m.Eval(context.Background(), ts)
		as := m.Alerts()
		require.Len(t, as, tc.want, "%s after resolving", tc.after)
		if tc.want > 0 {
			require.Equal(t, alert.StateResolved, as[0].State)
			require.Equal(t, t0.Add(time.Minute), as[0].ResolvedAt)
		}
	}
}

// TestAlertsSeries checks the ALERTS and ALERTS_FOR_STATE series: none
// before the for state is restored (the first two evaluations), then one
// per state, and a stale marker when the pending series gives way to
// firing.
func TestAlertsSeries(t *testing.T) {
	st := newTestStore(t)
	m := newManager(t, st, sprintfRule("3m", "0s"), alert.Options{})
	sel := func(state string) []*labels.Matcher {
		return []*labels.Matcher{
			labels.MustNewMatcher(labels.MatchEqual, "__name__", "ALERTS"),
			labels.MustNewMatcher(labels.MatchEqual, "alertstate", state),
		}
	}
	for i := range 5 {
		ts := t0.Add(time.Duration(i) * time.Minute)
		st.add(t, ts, 20, "x", "instance", "a")
		m.Eval(context.Background(), ts)
		_, _, ok := lastSample(t, st, ts, sel("pending")...)
		require.Equal(t, i >= 2, ok, "minute %d", i)
	}
	ts := t0.Add(4 * time.Minute)
	ls, v, ok := lastSample(t, st, ts, sel("pending")...)
	require.True(t, ok)
	require.True(t, value.IsStaleNaN(v), "pending series is stale once firing")
	require.Equal(t, "page", ls.Get("severity"))
	_, v, ok = lastSample(t, st, ts, sel("firing")...)
	require.True(t, ok)
	require.Equal(t, 1.0, v)
	ls, v, ok = lastSample(t, st, ts, labels.MustNewMatcher(labels.MatchEqual, "__name__", "ALERTS_FOR_STATE"))
	require.True(t, ok)
	require.Equal(t, float64(t0.Unix()), v)
	require.Equal(t, labels.FromStrings("__name__", "ALERTS_FOR_STATE", "alertname", "High", "instance", "a", "severity", "page"), ls)
}

// TestRestoreForState restarts vigil (manager and store, through the
// store's snapshot): the alert gets its for clock back from
// ALERTS_FOR_STATE, shifted by the time vigil was down.
func TestRestoreForState(t *testing.T) {
	const rules = `
groups:
  - name: g
    interval: 1m
    rules:
      - alert: High
        expr: x > 10
        for: 10m
`
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	for _, tc := range []struct {
		name      string
		tolerance time.Duration
		firesAt   int
	}{
		// Down from minute 5 to 6: active since 0, plus one minute down.
		{"restored", time.Hour, 12},
		// The outage tolerance excludes the old state: a new clock.
		{"outage too long", 90 * time.Second, 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The first run, with its store in a data dir.
			dir := t.TempDir()
			db1, err := store.Open(dir, store.DefaultOptions())
			require.NoError(t, err)
			st := testStore{db1}
			m1 := newManager(t, st, rules, alert.Options{ForGracePeriod: time.Minute})
			for i := 0; i <= 5; i++ {
				st.add(t, at(i), 20, "x", "instance", "a")
				m1.Eval(context.Background(), at(i))
			}
			require.NoError(t, m1.Close())
			require.NoError(t, db1.Close()) // the final snapshot

			// The restart: the store comes back from the snapshot.
			db2, err := store.Open(dir, store.DefaultOptions())
			require.NoError(t, err)
			defer db2.Close()
			st = testStore{db2}
			rec := &recorder{}
			m2 := newManager(t, st, rules, alert.Options{ForGracePeriod: time.Minute, OutageTolerance: tc.tolerance, Sinks: []alert.Sink{rec}})
			fired := -1
			for i := 6; i <= 17 && fired < 0; i++ {
				st.add(t, at(i), 20, "x", "instance", "a")
				m2.Eval(context.Background(), at(i))
				for _, ev := range rec.events {
					if ev.State == alert.StateFiring {
						fired = i
					}
				}
			}
			require.Equal(t, tc.firesAt, fired)
		})
	}
}

// TestNoRestore: as promtool test rules runs rules, ALERTS is written from
// the first evaluation.
func TestNoRestore(t *testing.T) {
	for _, noRestore := range []bool{false, true} {
		st := newTestStore(t)
		m := newManager(t, st, sprintfRule("3m", "0s"), alert.Options{NoRestore: noRestore})
		st.add(t, t0, 20, "x", "instance", "a")
		m.Eval(context.Background(), t0)
		_, _, ok := lastSample(t, st, t0, labels.MustNewMatcher(labels.MatchEqual, "__name__", "ALERTS"))
		require.Equal(t, noRestore, ok, "NoRestore %v", noRestore)
	}
}
