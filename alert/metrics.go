package alert

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteMetrics writes the counters of the manager, the sinks and the
// notifier (each may be nil) in Prometheus' text format, for vigil's own
// target:
//
//	vigil_rule_evaluations_total, vigil_rule_evaluation_failures_total,
//	vigil_rule_group_iterations_total, vigil_rule_group_iterations_missed_total,
//	vigil_rule_evaluation_seconds_total, vigil_rule_group_last_duration_seconds{rule_group},
//	vigil_rule_samples_written_total, vigil_rule_samples_refused_total,
//	vigil_alerts{state}, vigil_alert_events_total,
//	vigil_alert_events_dropped_total{sink}, vigil_alert_events_undelivered_total{sink},
//	vigil_notifications_sent_total{alertmanager}, vigil_notifications_failed_total{alertmanager},
//	vigil_notifications_dropped_total{alertmanager}, vigil_notifications_queue_length{alertmanager}.
//
// Sinks are named by their type: "stdout" for an EventWriter, "console"
// for a ChannelSink.
func WriteMetrics(w io.Writer, m *Manager, n *Notifier, sinks ...Sink) error {
	var b strings.Builder
	metric := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	if m != nil {
		s := m.Stats()
		for _, c := range []struct {
			name, typ, help string
			v               float64
		}{
			{"vigil_rule_evaluations_total", "counter", "Rule evaluations, failed or not.", float64(s.RuleEvaluations)},
			{"vigil_rule_evaluation_failures_total", "counter", "Failed rule evaluations.", float64(s.RuleFailures)},
			{"vigil_rule_group_iterations_total", "counter", "Evaluation cycles of rule groups.", float64(s.GroupEvaluations)},
			{"vigil_rule_group_iterations_missed_total", "counter", "Group cycles skipped because one ran late.", float64(s.MissedIterations)},
			{"vigil_rule_evaluation_seconds_total", "counter", "Time spent evaluating rule groups.", s.EvalTime.Seconds()},
			{"vigil_rule_samples_written_total", "counter", "Recording-rule, ALERTS and ALERTS_FOR_STATE samples written.", float64(s.SamplesWritten)},
			{"vigil_rule_samples_refused_total", "counter", "Rule samples the store refused.", float64(s.SamplesRefused)},
			{"vigil_alert_events_total", "counter", "Alert state transitions.", float64(s.Events)},
		} {
			metric(c.name, c.typ, c.help)
			fmt.Fprintf(&b, "%s %v\n", c.name, c.v)
		}
		metric("vigil_alerts", "gauge", "Alerts by state.")
		fmt.Fprintf(&b, "vigil_alerts{state=\"firing\"} %d\nvigil_alerts{state=\"pending\"} %d\n", s.Firing, s.Pending)
		metric("vigil_rule_group_last_duration_seconds", "gauge", "How long the last cycle of a group took.")
		names := make([]string, 0, len(s.LastGroupDuration))
		for g := range s.LastGroupDuration {
			names = append(names, g)
		}
		sort.Strings(names)
		for _, g := range names {
			fmt.Fprintf(&b, "vigil_rule_group_last_duration_seconds{rule_group=\"%s\"} %v\n", escapeLabel(g), s.LastGroupDuration[g].Seconds())
		}
	}
	if len(sinks) > 0 {
		metric("vigil_alert_events_dropped_total", "counter", "Events a sink's full queue refused.")
		var undelivered []string
		for _, s := range sinks {
			switch s := s.(type) {
			case *EventWriter:
				fmt.Fprintf(&b, "vigil_alert_events_dropped_total{sink=\"stdout\"} %d\n", s.Dropped())
				undelivered = append(undelivered, fmt.Sprintf("vigil_alert_events_undelivered_total{sink=\"stdout\"} %d\n", s.Undelivered()))
			case *ChannelSink:
				fmt.Fprintf(&b, "vigil_alert_events_dropped_total{sink=\"console\"} %d\n", s.Dropped())
			}
		}
		if len(undelivered) > 0 {
			metric("vigil_alert_events_undelivered_total", "counter", "Events not written because the reader had gone away.")
			b.WriteString(strings.Join(undelivered, ""))
		}
	}
	if n != nil {
		st := n.Status()
		for _, c := range []struct {
			name, typ, help string
			v               func(AlertmanagerStatus) float64
		}{
			{"vigil_notifications_sent_total", "counter", "Alerts delivered to an Alertmanager.", func(s AlertmanagerStatus) float64 { return float64(s.Sent) }},
			{"vigil_notifications_failed_total", "counter", "Alerts given up after every attempt.", func(s AlertmanagerStatus) float64 { return float64(s.Failed) }},
			{"vigil_notifications_dropped_total", "counter", "Alerts dropped from a full queue.", func(s AlertmanagerStatus) float64 { return float64(s.Dropped) }},
			{"vigil_notifications_refused_total", "counter", "Alerts the Alertmanager refused as invalid (400).", func(s AlertmanagerStatus) float64 { return float64(s.Refused) }},
			{"vigil_notifications_queue_length", "gauge", "Alerts waiting to be sent.", func(s AlertmanagerStatus) float64 { return float64(s.Queued) }},
		} {
			metric(c.name, c.typ, c.help)
			for _, s := range st {
				fmt.Fprintf(&b, "%s{alertmanager=\"%s\"} %v\n", c.name, escapeLabel(s.URL), c.v(s))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// escapeLabel escapes a label value for the text format.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
