package alert_test

import (
	"bytes"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
)

func TestWriteMetrics(t *testing.T) {
	st := newTestStore(t)
	ch := alert.NewChannelSink(1)
	ew := alert.NewEventWriter(&bytes.Buffer{}, alert.FormatJSON, alert.WriterOptions{})
	m := newManager(t, st, sprintfRule("0s", "0s"), alert.Options{Sinks: []alert.Sink{ch, ew}})
	n, err := alert.NewNotifier(alert.NotifierOptions{Alertmanagers: []alert.AlertmanagerConfig{{URLs: []string{"http://user:secret@127.0.0.1:1"}}}})
	require.NoError(t, err)
	defer n.Close()
	st.add(t, t0, 20, "x", "instance", "a")
	st.add(t, t0, 30, "x", "instance", "b")
	m.Eval(t.Context(), t0)

	var b bytes.Buffer
	require.NoError(t, alert.WriteMetrics(&b, m, n, ch, ew))
	require.NoError(t, ew.Close(0))
	require.NotContains(t, b.String(), "secret")
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(&b)
	require.NoError(t, err, b.String())
	require.Equal(t, 1.0, fams["vigil_rule_evaluations_total"].Metric[0].GetCounter().GetValue())
	require.Equal(t, 2.0, fams["vigil_alerts"].Metric[0].GetGauge().GetValue())
	require.Equal(t, 1.0, fams["vigil_alert_events_dropped_total"].Metric[0].GetCounter().GetValue()) // the console's room is 1
	require.Contains(t, fams, "vigil_notifications_queue_length")
}
