// Package alert evaluates Prometheus recording and alerting rules over the
// store and reports what changes.
//
// It owns:
//
//   - loading rules: Prometheus rule files validated by model/rulefmt
//     (LoadFiles), every problem once and with its line and column, also
//     where rulefmt gives none; the one-line --alert shorthand
//     (ParseAlertFlag), the embedded default node rules (DefaultGroups) and
//     the promtool-like check (CheckRules), which also warns of label names
//     an Alertmanager before 0.27 refuses;
//   - evaluation: one loop per group at its interval, offset in time as
//     Prometheus offsets it, queries through a promql.Engine set up as a
//     Prometheus server sets up its own (EngineOptions: the evaluation
//     interval is the step of subqueries that name none) (Manager);
//   - a group's limit as Prometheus 3 keeps it: a rule over it fails and
//     drops all its alerts, which start over once it holds; vigil sends
//     each dropped pending or firing alert's resolved event (Alertmanager
//     hears nothing, as from Prometheus: its alerts end at their endsAt);
//   - the state machine, which is Prometheus': a new result is pending, fires
//     once `for` has passed (at once with `for: 0`), is kept firing for
//     `keep_firing_for`, is resolved when it goes away, and a resolved alert is
//     kept for 15 minutes;
//   - the ALERTS and ALERTS_FOR_STATE series, written to the store, and the
//     restoration of the `for` clock from ALERTS_FOR_STATE after a restart
//     (Options.OutageTolerance, Options.ForGracePeriod);
//   - event sinks: JSON lines and readable text (EventWriter), a channel for
//     the console (ChannelSink), and Alertmanager API v2 (Notifier), with
//     absolute generator URLs when an external URL is set
//     (ParseExternalURL); an alert Alertmanager refuses as invalid (400) is
//     not retried but counted and named with its reason
//     (AlertmanagerStatus.Refused);
//   - local silences (Manager.Silence): the console's mute of one alert,
//     and the file that keeps them across restarts (SilenceFile).
//
// Choices where Prometheus has no precedent:
//
//   - One Event per transition: pending, firing, resolved. A pending alert
//     whose condition goes away before it fires also gets a resolved event, so
//     a consumer that tracks pending alerts can forget it; Alertmanager never
//     hears of pending alerts, as in Prometheus.
//   - An event's StartsAt is the moment the condition first held (Prometheus'
//     activeAt); the Alertmanager notification's startsAt is the moment the
//     alert fired, as Prometheus sends it.
//   - Local silences (Manager.Silence, the console's S key): an alert whose
//     label set is silenced until a time still moves through the state
//     machine, but its events carry Event.SilencedUntil: in JSON two
//     fields after DESIGN.md's, which are unchanged and the only ones when
//     nothing is silenced (…,"startsAt":"…","silenced":true,
//     "silencedUntil":"2026-11-24T11:00:05Z"}); text events end in
//     silenced-until=…. When a silence starts,
//     changes or ends while its alert is pending or firing, the next
//     evaluation sends one event in the alert's unchanged state saying
//     what the silence now is: a reader of stdout learns that the
//     operator muted an alert, and hears it again when the mute ends.
//     Silences expire by the evaluation time, are bounded (MaxSilences)
//     and live in the Manager's memory; a SilenceFile saves them in the
//     data directory (SilencesFileName) at each change and sets them
//     again at start. A damaged entry of the file loses that entry only.
//   - A local silence is not an Alertmanager silence: Alertmanager keeps
//     getting the alert as before, with the same labels and no
//     annotation added. One operator muting an alert in one terminal must
//     not hide it from the rest of the team; and since Alertmanager ends
//     an alert whose endsAt passes without news, not posting it would
//     show it there as resolved, which it is not. A team-wide mute is an
//     Alertmanager silence, with its author and comment, made with
//     amtool or Alertmanager's UI.
//   - Sinks never block evaluation: each has a bounded queue, and what would
//     overflow it is counted (Dropped) and logged, never lost silently.
//
// Evaluation takes its time as a parameter (Manager.Eval); the loops use
// the time package only, so tests run them under testing/synctest.
//
// As in Prometheus, a group writes no ALERTS or ALERTS_FOR_STATE samples
// in its first two evaluations: after the second it restores the for
// clocks from ALERTS_FOR_STATE (which the store keeps in its snapshot), and
// only then writes, so that the old clocks are not overwritten first.
//
// The wiring, in order (Example shows it whole):
//
//	groups, err := LoadRules(ruleFiles, alertFlags) // or CheckRules for `vigil check rules`
//	signal.Notify(ch, syscall.SIGPIPE)              // so stdout reports EPIPE
//	w := NewEventWriter(os.Stdout, FormatJSON, WriterOptions{…}) // w.Done(), w.Err()
//	c := NewChannelSink(0)                          // c.C() for the console
//	n, err := NewNotifier(NotifierOptions{…})       // n.Status() for the console
//	m, err := NewManager(groups, Options{Queryable, Appendable, Engine, Sinks: {w, c}, Notify: n.Send, …})
//	m.Start() … m.Close(); n.Close(); w.Close(timeout)
package alert
