package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/util/teststorage"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/tui/internal/fakenode"
)

// evil returns the i-th hostile string, with a marker to find it by.
func evil(i int) string { return "x" + itoa(i) + hostile[i%len(hostile)] }

// hostileOptions returns sources where every string a target or a rule
// file controls is hostile, including series in the store.
func hostileOptions(t *testing.T) Options {
	st := teststorage.New(t)
	app := st.Appender(context.Background())
	hosts := append([]fakenode.Host(nil), fakenode.DefaultHosts...)
	hosts[0].Instance = evil(0)
	hosts[1].Instance = evil(4)
	require.NoError(t, fakenode.Write(app, hosts, testNow, 20*time.Minute, 15*time.Second))
	app = st.Appender(context.Background())
	for i := range hostile {
		for ts := testNow.Add(-10 * time.Minute); !ts.After(testNow); ts = ts.Add(15 * time.Second) {
			_, err := app.Append(0, labels.FromStrings(
				"__name__", "aaa_evil_"+itoa(i)+hostile[i],
				"job", evil(i+1), "instance", evil(i+2), evil(i + 3)[1:2]+"label", evil(i+4),
			), ts.UnixMilli(), float64(i))
			require.NoError(t, err)
			// What the host page shows of each host: devices, mount
			// points, CPU names and uname, all an exporter's to say.
			for _, h := range hosts {
				base := []string{"instance", h.Instance, "job", "node"}
				for _, ls := range [][]string{
					{"__name__", "node_filesystem_size_bytes", "mountpoint", evil(i), "device", evil(i + 1), "fstype", evil(i + 2)},
					{"__name__", "node_filesystem_avail_bytes", "mountpoint", evil(i), "device", evil(i + 1), "fstype", evil(i + 2)},
					{"__name__", "node_network_receive_bytes_total", "device", evil(i + 3)},
					{"__name__", "node_disk_read_bytes_total", "device", evil(i + 4)},
					{"__name__", "node_cpu_seconds_total", "cpu", evil(i + 5), "mode", "idle"},
					{"__name__", "node_uname_info", "nodename", evil(i), "sysname", evil(i + 1), "release", evil(i + 2), "machine", "x" + itoa(i)},
				} {
					v := float64(ts.Unix()-testNow.Unix()+10000) * 100
					_, err := app.Append(0, labels.FromStrings(append(ls, base...)...), ts.UnixMilli(), v)
					require.NoError(t, err)
				}
			}
		}
	}
	require.NoError(t, app.Commit())

	var targets []Target
	var alerts []Alert
	var rules []Rule
	for i := range hostile {
		targets = append(targets, Target{
			Job: evil(i), Instance: evil(i + 1), URL: evil(i + 2), Health: TargetDown,
			Labels:     labels.FromStrings("job", evil(i), "instance", evil(i+1), "zone", evil(i+3)),
			LastScrape: testNow.Add(-time.Second), LastError: evil(i + 4),
		})
		alerts = append(alerts, Alert{
			Rule: evil(i), Group: evil(i + 1), State: StateFiring,
			Labels:      labels.FromStrings("alertname", evil(i), "instance", evil(i+2)),
			Annotations: labels.FromStrings("summary", evil(i+3), "description", strings.Repeat(evil(i+4), 20)),
			Value:       float64(i), ActiveAt: testNow.Add(-time.Minute), FiredAt: testNow,
		})
		rules = append(rules, Rule{Name: evil(i), Group: evil(i + 1), Health: RuleErr, LastError: evil(i + 2),
			File: evil(i + 3), Expr: evil(i + 4), Labels: labels.FromStrings(evil(i+5), evil(i+6)), Recording: i%2 == 0})
	}
	return Options{
		Querier:  NewEngineQuerier(newTestEngine(), st),
		Targets:  TargetsFunc(func() []Target { return targets }),
		Alerts:   AlertsFunc(func() []Alert { return alerts }),
		Rules:    RulesFunc(func() []Rule { return rules }),
		Now:      func() time.Time { return testNow },
		Location: time.UTC,
	}
}

// TestHostileInput walks every view over hostile data and checks that no
// screen holds a control character or invalid UTF-8.
func TestHostileInput(t *testing.T) {
	opts := hostileOptions(t)
	events := make(chan AlertEvent, len(hostile))
	status := make(chan Status, len(hostile))
	opts.AlertEvents, opts.Status = events, status
	walks := [][]string{
		nil,
		{"enter"}, {"l", "enter"}, {"j", "enter", "j", "j"}, {"v"}, {"s", "enter", "G"}, {"/", "x", "enter"},
		{"2"}, {"2", "w"}, {"2", "enter"}, {"2", "j", "j", "enter"}, {"2", "G", "enter"},
		{"3"}, {"3", "w"}, {"3", "l", "l", "w"}, {"3", "enter"}, {"3", "j", "j", "j", "enter"}, {"3", "l"}, {"3", "l", "enter"}, {"3", "l", "G", "enter"}, {"3", "l", "l"},
		{"4"}, {"4", "enter"}, {"4", "enter", "enter"}, {"4", "j", "j", "enter", "j", "enter"},
		{"4", "G", "enter"}, {"4", "G", "enter", "enter"},
		{"5", "node_load1", "enter"}, {"5", `{job=~"x.*"}`, "enter"}, {"5", `count by (instance) ({__name__=~"aaa.*"})`, "enter"},
		{"5", `label_replace(vector(1), "a", "\x1b[2J", "", "")`, "enter"},
	}
	for _, size := range []struct{ w, h int }{{80, 24}, {40, 12}, {200, 50}} {
		for _, keys := range walks {
			m := newTestModel(t, opts, size.w, size.h)
			for i := range hostile {
				events <- AlertEvent{Time: testNow, State: StateFiring, Labels: labels.FromStrings("alertname", evil(i), "x", evil(i+1)), Value: 1}
				m = deliver(t, m, m.c.waitAlertEvent())
				status <- Status{Source: evil(i), Text: evil(i + 1)}
				m = deliver(t, m, m.c.waitStatus())
			}
			m = tick(t, m)
			m = press(t, m, keys...)
			screen := m.View()
			requireSafe(t, screen)
			requireFits(t, screen, size.w, size.h)
		}
	}
}
