package alert_test

import (
	"context"
	"log/slog"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
)

// TestTemplates expands labels and annotations with Prometheus' template
// package: $labels, $value, $externalLabels, $externalURL, humanize and
// friends, query; a failed expansion shows as Prometheus shows it.
func TestTemplates(t *testing.T) {
	st := newTestStore(t)
	m := newManager(t, st, `
groups:
  - name: g
    rules:
      - alert: Disk
        expr: free_bytes < 2e9
        labels:
          severity: "{{ if lt $value 1e9 }}critical{{ else }}warning{{ end }}"
        annotations:
          summary: "{{ $labels.mount }} on {{ $labels.instance }}: {{ $value | humanize1024 }}B free"
          site: "{{ $externalLabels.site }} {{ $externalURL }}"
          total: "{{ with query \"sum(free_bytes)\" }}{{ . | first | value | humanize }}{{ end }}"
          percent: "{{ 0.256 | humanizePercentage }} {{ 93784 | humanizeDuration }}"
          broken: "{{ template \"nope\" }}"
`, alert.Options{ExternalLabels: labels.FromStrings("site", "lab"), ExternalURL: "http://vigil.example:9090"})
	st.add(t, t0, 5e8, "free_bytes", "instance", "db1", "mount", "/")
	st.add(t, t0, 1.5e9, "free_bytes", "instance", "db1", "mount", "/var")
	m.Eval(t.Context(), t0)

	as := m.Alerts()
	require.Len(t, as, 2)
	byMount := map[string]alert.Alert{}
	for _, a := range as {
		byMount[a.Labels.Get("mount")] = a
	}
	root, varr := byMount["/"], byMount["/var"]
	require.Equal(t, "critical", root.Labels.Get("severity"))
	require.Equal(t, "warning", varr.Labels.Get("severity"))
	require.Equal(t, "/ on db1: 476.8MiB free", root.Annotations.Get("summary"))
	require.Equal(t, "lab http://vigil.example:9090", root.Annotations.Get("site"))
	require.Equal(t, "2G", root.Annotations.Get("total"))
	require.Equal(t, "25.6% 1d 2h 3m 4s", root.Annotations.Get("percent"))
	require.Equal(t, `<error expanding template: error executing template __alert_Disk: template: __alert_Disk:1:124: executing "__alert_Disk" at <{{template "nope"}}>: template "nope" not defined>`, root.Annotations.Get("broken"))
}

// TestRecordingRule writes its result under the new name with the rule's
// labels, and marks a series that went away stale.
func TestRecordingRule(t *testing.T) {
	st := newTestStore(t)
	m := newManager(t, st, `
groups:
  - name: g
    rules:
      - record: job:x:sum
        expr: sum by (job) (x)
        labels:
          source: vigil
`, alert.Options{})
	st.add(t, t0, 1, "x", "job", "a", "i", "1")
	st.add(t, t0, 2, "x", "job", "a", "i", "2")
	st.add(t, t0, 5, "x", "job", "b")
	m.Eval(t.Context(), t0)
	sel := func(job string) []*labels.Matcher {
		return []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "__name__", "job:x:sum"), labels.MustNewMatcher(labels.MatchEqual, "job", job)}
	}
	ls, v, ok := lastSample(t, st, t0, sel("a")...)
	require.True(t, ok)
	require.Equal(t, 3.0, v)
	require.Equal(t, labels.FromStrings("__name__", "job:x:sum", "job", "a", "source", "vigil"), ls)

	// Job b's series goes stale (a stale marker, as Prometheus writes one).
	t1 := t0.Add(time.Minute)
	st.add(t, t1, 1, "x", "job", "a", "i", "1")
	st.add(t, t1, math.Float64frombits(value.StaleNaN), "x", "job", "b")
	m.Eval(t.Context(), t1)
	_, v, ok = lastSample(t, st, t1, sel("b")...)
	require.True(t, ok)
	require.True(t, value.IsStaleNaN(v), "job:x:sum{job=b} is stale")
}

// TestTemplatesExpandedWhenRead: an alert's annotations are expanded when
// something reads them (an event, Alerts, a send), at most once an
// evaluation, from that evaluation's sample; not on every evaluation.
func TestTemplatesExpandedWhenRead(t *testing.T) {
	st := newTestStore(t)
	var expansions atomic.Int64
	logger := slog.New(countHandler{msg: "expand alert template", n: &expansions})
	m := newManager(t, st, `
groups:
  - name: g
    rules:
      - alert: Hot
        expr: temp > 50
        for: 1h
        annotations:
          summary: "{{ $value }} degrees at {{ $labels.room }}"
          broken: "{{ template \"nope\" }}"
`, alert.Options{Logger: logger})
	eval := func(i int) {
		ts := t0.Add(time.Duration(i) * time.Minute)
		st.add(t, ts, 60+float64(i), "temp", "room", "lab")
		m.Eval(t.Context(), ts)
	}
	for i := range 10 {
		eval(i)
	}
	// The pending event of the first evaluation, then nothing read them.
	require.EqualValues(t, 1, expansions.Load())
	as := m.Alerts()
	require.Len(t, as, 1)
	require.Equal(t, "69 degrees at lab", as[0].Annotations.Get("summary"))
	require.EqualValues(t, 2, expansions.Load())
	m.Alerts()
	require.EqualValues(t, 2, expansions.Load(), "read twice in one evaluation, expanded twice")
	eval(10)
	require.Equal(t, "70 degrees at lab", m.Alerts()[0].Annotations.Get("summary"))
	require.EqualValues(t, 3, expansions.Load())
}

// countHandler counts the log records with one message.
type countHandler struct {
	msg string
	n   *atomic.Int64
}

func (h countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.n.Add(1)
	}
	return nil
}
func (h countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countHandler) WithGroup(string) slog.Handler      { return h }
