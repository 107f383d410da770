package tui

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/util/teststorage"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/tui/internal/fakenode"
)

var recordLocal = flag.Bool("record-local", false, "re-record "+localRecording+" from vigil's local target (takes three minutes)")

// The recordings the host page's golden screens replay: real scrapes one
// second apart of vigil's built-in local target and of a real
// node_exporter 1.5 (the store's fixture), on the project's machine.
const (
	localRecording = "testdata/local.scrapes.gz"
	nodeRecording  = "../testdata/store/node_exporter.scrapes.gz"
)

func TestRecordLocal(t *testing.T) {
	if !*recordLocal {
		t.Skip("run with -record-local to re-record the local target")
	}
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	require.NoError(t, err)
	c := &scrape.LocalCollector{ProcPath: "/proc", SysPath: "/sys"}
	next := time.Now().Truncate(time.Second).Add(time.Second)
	for range 180 {
		time.Sleep(time.Until(next))
		var body bytes.Buffer
		require.NoError(t, c.Collect(context.Background(), &body))
		require.NoError(t, fakenode.WriteScrape(zw, next, body.Bytes()))
		next = next.Add(time.Second)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, os.MkdirAll(filepath.Dir(localRecording), 0o755))
	require.NoError(t, os.WriteFile(localRecording, out.Bytes(), 0o644))
}

// replayOptions are the console's options over one recorded host, as
// `vigil` shows it: the host's target, up, and vigil's own.
func replayOptions(t testing.TB, path, job, instance string) Options {
	t.Helper()
	st := teststorage.New(t)
	n, err := fakenode.Replay(st.Appender(context.Background()), path, job, instance, testNow)
	require.NoError(t, err)
	require.Greater(t, n, 60)
	targets := []Target{
		{Job: job, Instance: instance, URL: "http://" + instance + "/metrics", Health: TargetUp,
			Labels:     labels.FromStrings("instance", instance, "job", job),
			LastScrape: testNow.Add(-time.Second), LastDuration: 18 * time.Millisecond, LastSamples: 512, Series: 512,
			ScrapeInterval: time.Second, ScrapeTimeout: time.Second},
		{Job: "vigil", Instance: "vigil", URL: "internal:vigil", Health: TargetUp,
			Labels:     labels.FromStrings("instance", "vigil", "job", "vigil"),
			LastScrape: testNow.Add(-time.Second), LastDuration: 90 * time.Microsecond, LastSamples: 33, Series: 33,
			ScrapeInterval: time.Second, ScrapeTimeout: time.Second},
	}
	return Options{
		Querier:  NewEngineQuerier(newTestEngine(), st),
		Targets:  TargetsFunc(func() []Target { return targets }),
		Alerts:   AlertsFunc(func() []Alert { return nil }),
		Now:      func() time.Time { return testNow },
		Location: time.UTC,
	}
}

// fleetViewOptions are n fake hosts, three of their targets down (one
// since before vigil started, so without data), alerts firing and
// pending on some.
func fleetViewOptions(t testing.TB, n int) Options {
	t.Helper()
	opts, hosts, _ := fleetOptions(t, n)
	var targets []Target
	for i, h := range hosts {
		tg := Target{Job: "node", Instance: h.Instance, URL: "http://" + h.Instance + "/metrics", Health: TargetUp,
			Labels:     labels.FromStrings("instance", h.Instance, "job", "node", "dc", []string{"ams", "fra"}[i%2]),
			LastScrape: testNow, LastDuration: 20 * time.Millisecond, LastSamples: 40, Series: 40,
			ScrapeInterval: 5 * time.Second, ScrapeTimeout: 5 * time.Second}
		if i == 4 || i == 11 {
			tg.Health = TargetDown
			tg.LastError = `Get "http://` + h.Instance + `/metrics": dial tcp ` + h.Instance + `: connect: connection refused`
		}
		targets = append(targets, tg)
	}
	targets = append(targets, Target{Job: "node", Instance: "gone:9100", URL: "http://gone:9100/metrics", Health: TargetDown,
		Labels:    labels.FromStrings("instance", "gone:9100", "job", "node", "dc", "ams"),
		LastError: `Get "http://gone:9100/metrics": context deadline exceeded`, LastScrape: testNow})
	alert := func(rule, inst string, state AlertState, v float64) Alert {
		a := Alert{Rule: rule, Group: "node", State: state, Value: v,
			Labels:   labels.FromStrings("alertname", rule, "instance", inst, "job", "node", "severity", "warning"),
			ActiveAt: testNow.Add(-7 * time.Minute), LastEval: testNow}
		if state == StateFiring {
			a.FiredAt = testNow.Add(-2 * time.Minute)
		}
		return a
	}
	alerts := []Alert{
		alert("NodeCPUBusy", hosts[6].Instance, StateFiring, 95.1),
		alert("NodeLoadHigh", hosts[6].Instance, StateFiring, 2.6),
		alert("NodeFilesystemAlmostFull", hosts[15].Instance, StatePending, 3.2),
		alert("TargetDown", "gone:9100", StateFiring, 0),
	}
	opts.Targets = TargetsFunc(func() []Target { return targets })
	opts.Alerts = AlertsFunc(func() []Alert { return alerts })
	return opts
}

// TestHostViews renders the host page, the sorted and compact Overview of
// a fleet and an alerts table with shared labels at 80×24 and 220×60 and
// compares them with the golden screens (-update writes them).
func TestHostViews(t *testing.T) {
	local := replayOptions(t, localRecording, "node", "vm")
	node := replayOptions(t, nodeRecording, "node", "127.0.0.1:9100")
	fleet := fleetViewOptions(t, 24)
	shared := testOptions(t)
	var alerts []Alert
	for i := range 8 {
		inst := "10.0.0." + itoa(i) + ":9100"
		rule := []string{"NodeCPUBusy", "NodeCPUBusy", "NodeFilesystemAlmostFull"}[i%3]
		alerts = append(alerts, Alert{Rule: rule, Group: "node", State: []AlertState{StateFiring, StatePending}[i%2], Value: 91 + float64(i),
			Labels: labels.FromStrings("alertname", rule, "cluster", "production-eu-west-1", "env", "production",
				"instance", inst, "job", "node", "severity", []string{"warning", "warning", "critical"}[i%3]),
			ActiveAt: testNow.Add(-time.Duration(i+1) * time.Minute)})
	}
	shared.Alerts = AlertsFunc(func() []Alert { return alerts })

	for _, tc := range []struct {
		name string
		opts Options
		keys map[int][]string // by width; nil: none
	}{
		{"local_host", local, map[int][]string{80: {"-"}, 220: {"-"}}},
		{"local_host_scrolled", local, map[int][]string{80: {"-", "G"}, 220: {"-", "G"}}},
		{"node_exporter_host", node, map[int][]string{80: {"-"}, 220: {"-"}}},
		{"overview_by_trouble", fleet, nil},
		{"overview_by_cpu", fleet, map[int][]string{80: {"s"}, 220: {"s"}}},
		{"overview_compact", fleet, map[int][]string{80: nil, 220: {"v"}}},
		{"overview_cards", fleet, map[int][]string{80: {"v"}, 220: nil}},
		{"fleet_host", fleet, map[int][]string{80: {"s", "enter"}, 220: {"s", "enter"}}},
		{"alerts_shared_labels", shared, map[int][]string{80: {"3"}, 220: {"3"}}},
	} {
		for _, size := range []struct{ w, h int }{{80, 24}, {220, 60}} {
			t.Run(tc.name+"_"+itoa(size.w)+"x"+itoa(size.h), func(t *testing.T) {
				m := newTestModel(t, tc.opts, size.w, size.h)
				m = tick(t, m)
				m = press(t, m, tc.keys[size.w]...)
				m = tick(t, m)
				screen := m.View()
				requireFits(t, screen, size.w, size.h)
				golden.RequireEqual(t, []byte(screen+"\n"))
			})
		}
	}
}
