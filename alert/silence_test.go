package alert_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
)

// silenceRule fires at once while x > 10, evaluated every minute.
const silenceRule = `
groups:
  - name: g
    interval: 1m
    rules:
      - alert: High
        expr: x > 10
`

var highLabels = labels.FromStrings("alertname", "High", "instance", "a")

// silenceEvent is an event as "state until" ("-" when not silenced).
func silenceEvents(evs []alert.Event) []string {
	var out []string
	for _, ev := range evs {
		u := "-"
		if !ev.SilencedUntil.IsZero() {
			u = ev.SilencedUntil.Sub(t0).String()
		}
		out = append(out, string(ev.State)+" "+u)
	}
	return out
}

// TestSilenceEvents: a local silence marks the alert's events, and an
// alert that does not move still gets one event when its silence starts,
// changes and ends (by time or lifted), in its unchanged state. Time is
// the evaluation's parameter: the silence expires at its until, exactly.
func TestSilenceEvents(t *testing.T) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	type step struct {
		x       float64
		silence *time.Time // set before evaluating: Silence(highLabels, *silence)
		want    []string
	}
	until := func(m float64) *time.Time { u := t0.Add(time.Duration(m * float64(time.Minute))); return &u }
	lift := &time.Time{}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"starts, then ends by time", []step{
			{x: 20, want: []string{"firing -"}},
			{x: 20, silence: until(3.5), want: []string{"firing 3m30s"}},
			{x: 20},
			{x: 20},
			{x: 20, want: []string{"firing -"}}, // minute 4: 3m30s has passed
			{x: 20},
		}},
		{"longer, then lifted", []step{
			{x: 20, silence: until(1), want: []string{"firing 1m0s"}},
			{x: 20, silence: until(10), want: []string{"firing 10m0s"}},
			{x: 20, silence: until(10)}, // the same again: nothing to say
			{x: 20, silence: lift, want: []string{"firing -"}},
		}},
		{"silenced before it comes, resolved while silenced", []step{
			{x: 0, silence: until(5)},
			{x: 20, want: []string{"firing 5m0s"}},
			{x: 0, want: []string{"resolved 5m0s"}},
			{x: 0},
			{x: 0}, // a resolved alert's silence ending is not news
			{x: 0},
			{x: 20, want: []string{"firing -"}},
		}},
		{"a silence of other labels does not count", []step{
			{x: 20, want: []string{"firing -"}},
			{x: 20},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newTestStore(t)
			rec := &recorder{}
			m := newManager(t, st, silenceRule, alert.Options{Sinks: []alert.Sink{rec}})
			// Never matches: one label more than the alert has.
			require.NoError(t, m.Silence(t.Context(), labels.FromStrings("alertname", "High", "instance", "a", "job", "x"), at(60)))
			for i, s := range tc.steps {
				if s.silence != nil {
					require.NoError(t, m.Silence(t.Context(), highLabels, *s.silence))
				}
				st.add(t, at(i), s.x, "x", "instance", "a")
				m.Eval(t.Context(), at(i))
				require.Equal(t, s.want, silenceEvents(rec.events), "minute %d", i)
				rec.events = nil
			}
		})
	}
}

// TestSilenceShown: Alerts reports a silence, SilencedUntil says whether it
// is in force at a time, and the JSON line of a silenced alert's event has
// every field of DESIGN.md plus silenced and silencedUntil.
func TestSilenceShown(t *testing.T) {
	st := newTestStore(t)
	rec := &recorder{}
	m := newManager(t, st, silenceRule, alert.Options{Sinks: []alert.Sink{rec}})
	st.add(t, t0, 20, "x", "instance", "a")
	m.Eval(t.Context(), t0)
	until := t0.Add(15 * time.Minute)
	require.NoError(t, m.Silence(t.Context(), highLabels, until))
	ts := t0.Add(time.Minute + 5*time.Millisecond)
	st.add(t, ts, 30, "x", "instance", "a")
	m.Eval(t.Context(), ts)

	as := m.Alerts()
	require.Len(t, as, 1)
	require.Equal(t, until, as[0].SilencedUntil)
	require.Equal(t, until, m.SilencedUntil(highLabels, until.Add(-time.Nanosecond)))
	require.True(t, m.SilencedUntil(highLabels, until).IsZero())

	require.Len(t, rec.events, 2)
	require.Equal(t, `{"time":"2026-11-24T10:01:00.005Z","state":"firing","labels":{"alertname":"High","instance":"a"},"annotations":{},"value":30,"startsAt":"2026-11-24T10:00:00Z","silenced":true,"silencedUntil":"2026-11-24T10:15:00Z"}`,
		string(alert.MarshalEvent(rec.events[1])))
	require.NotContains(t, string(alert.MarshalEvent(rec.events[0])), "silenced", "an alert not silenced has DESIGN.md's fields only")
}

// TestSilenceStillNotifies: a local silence is the console's mute, not an
// Alertmanager silence: Alertmanager keeps hearing of the alert, with the
// same labels, so the rest of the team still sees it firing (and it does
// not resolve there when its endsAt passes).
func TestSilenceStillNotifies(t *testing.T) {
	st := newTestStore(t)
	var sent []alert.NotifyAlert
	m := newManager(t, st, silenceRule, alert.Options{
		ResendDelay: time.Minute,
		Notify:      func(_ context.Context, as ...alert.NotifyAlert) { sent = append(sent, as...) },
	})
	require.NoError(t, m.Silence(t.Context(), highLabels, t0.Add(time.Hour)))
	for i := range 4 {
		ts := t0.Add(time.Duration(i) * 2 * time.Minute) // past the resend delay each time
		st.add(t, ts, 20, "x", "instance", "a")
		m.Eval(t.Context(), ts)
	}
	require.Len(t, sent, 4)
	for _, na := range sent {
		require.Equal(t, highLabels, na.Labels)
	}
}

// TestSilenceLimit: silences are bounded; replacing or lifting one is
// always allowed, and expired ones are forgotten by the evaluations.
func TestSilenceLimit(t *testing.T) {
	st := newTestStore(t)
	m := newManager(t, st, silenceRule, alert.Options{})
	ctx := t.Context()
	for i := range alert.MaxSilences {
		require.NoError(t, m.Silence(ctx, labels.FromStrings("alertname", "High", "instance", fmt.Sprint(i)), t0.Add(time.Minute)))
	}
	err := m.Silence(ctx, highLabels, t0.Add(time.Minute))
	require.ErrorIs(t, err, alert.ErrTooManySilences)
	require.ErrorContains(t, err, `{alertname="High", instance="a"}`)
	require.NoError(t, m.Silence(ctx, labels.FromStrings("alertname", "High", "instance", "0"), t0.Add(time.Hour)))
	require.NoError(t, m.Silence(ctx, labels.FromStrings("alertname", "High", "instance", "1"), time.Time{}))
	require.NoError(t, m.Silence(ctx, highLabels, t0.Add(time.Minute)), "lifting one made room")

	// An hour after they ended, the evaluation forgets them.
	m.Eval(ctx, t0.Add(61*time.Minute))
	for i := range 100 {
		require.NoError(t, m.Silence(ctx, labels.FromStrings("alertname", "Other", "i", fmt.Sprint(i)), t0.Add(2*time.Hour)))
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, m.Silence(cancelled, highLabels, t0.Add(time.Hour)), context.Canceled)
}

// TestSilenceConcurrent: the console silences while the loops evaluate
// and list alerts (run with -race).
func TestSilenceConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gs := mustGroups(t, `
groups:
  - name: a
    interval: 1s
    rules:
      - alert: A
        expr: vector(1)
  - name: b
    interval: 1s
    rules:
      - alert: B
        expr: vector(1)
`)
		ch := alert.NewChannelSink(1000)
		m, err := alert.NewManager(gs, alert.Options{Queryable: emptyQueryable, Sinks: []alert.Sink{ch}})
		require.NoError(t, err)
		m.Start()
		var wg sync.WaitGroup
		for _, name := range []string{"A", "B"} {
			wg.Go(func() {
				for i := range 20 {
					require.NoError(t, m.Silence(t.Context(), labels.FromStrings("alertname", name), time.Now().Add(time.Duration(i%3)*time.Second)))
					_ = m.Alerts()
					time.Sleep(700 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		// The last silences are 1s long at most: after them, both alerts
		// are firing and not silenced, and their last events say so.
		time.Sleep(3 * time.Second)
		require.NoError(t, m.Close())
		last := map[string]alert.Event{}
		for len(ch.C()) > 0 {
			ev := <-ch.C()
			last[ev.Rule] = ev
		}
		require.Len(t, last, 2)
		for _, ev := range last {
			require.Equal(t, alert.StateFiring, ev.State)
			require.True(t, ev.SilencedUntil.IsZero(), "%s: silenced until %s at %s", ev.Rule, ev.SilencedUntil, ev.Time)
		}
		for _, a := range m.Alerts() {
			require.True(t, a.SilencedUntil.Before(time.Now()))
		}
	})
}
