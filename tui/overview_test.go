package tui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
)

func TestBriefNames(t *testing.T) {
	hosts := func(pairs ...string) []host {
		var hs []host
		for i := 0; i < len(pairs); i += 2 {
			hs = append(hs, host{instance: pairs[i], nodename: pairs[i+1]})
		}
		return hs
	}
	for _, tc := range []struct {
		name    string
		hosts   []host
		targets []Target
		want    map[string]string
	}{
		{"nodenames", hosts("10.0.0.1:9100", "db1", "10.0.0.2:9100", "web1"), nil,
			map[string]string{"10.0.0.1:9100": "db1", "10.0.0.2:9100": "web1"}},
		{"a shared nodename: one port", hosts("db1:9100", "vm", "web1:9100", "vm"), []Target{{Instance: "gone:9100"}},
			map[string]string{"db1:9100": "db1", "web1:9100": "web1", "gone:9100": "gone"}},
		{"ports differ", hosts("127.0.0.1:9100", "vm", "127.0.0.1:9101", "vm"), nil, map[string]string{}},
		{"hosts would clash", hosts("db1:9100", "", "db1.example.com:9100", ""), nil,
			map[string]string{"db1:9100": "db1", "db1.example.com:9100": "db1.example.com"}},
		{"one host the same", hosts("vm", "vm"), nil, map[string]string{}},
		{"no port", hosts("vm", ""), []Target{{Instance: "vigil"}}, map[string]string{}},
		{"a target on another port", hosts("db1:9100", ""), []Target{{Instance: "app:8080"}}, map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, briefNames(tc.hosts, tc.targets))
		})
	}
}

func TestBriefError(t *testing.T) {
	tg := Target{Instance: "db1:9100", URL: "http://db1:9100/metrics"}
	for in, want := range map[string]string{
		`Get "http://db1:9100/metrics": dial tcp db1:9100: connect: connection refused`: "connect: connection refused",
		`Get "http://db1:9100/metrics": context deadline exceeded`:                      "context deadline exceeded",
		`Get "http://db1:9100/metrics": dial tcp 10.0.0.1:9100: i/o timeout`:            "dial tcp 10.0.0.1:9100: i/o timeout",
		`server returned HTTP status 500 Internal Server Error`:                         "server returned HTTP status 500 Internal Server Error",
		`Get "http://db1:9100/metrics": `:                                               `Get "http://db1:9100/metrics": `,
		// VictoriaMetrics' scrapes.
		`error when scraping "http://db1:9100/metrics": dial tcp4 db1:9100: connect: connection refused; try -enableTCP6 command-line flag if you scrape ipv6 addresses`: "connect: connection refused",
	} {
		tg.LastError = in
		require.Equal(t, want, briefError(tg), in)
	}
}

func TestCmpNumeric(t *testing.T) {
	names := []string{"cpu10", "cpu2", "sdb", "cpu1", "sda", "nvme0n1", "nvme10n1", "nvme2n1", "cpu01"}
	slices.SortStableFunc(names, cmpNumeric)
	require.Equal(t, []string{"cpu1", "cpu01", "cpu2", "cpu10", "nvme0n1", "nvme2n1", "nvme10n1", "sda", "sdb"}, names)
}

// TestCompactLayoutFits: the table's line is exactly the width at every
// width and name length, and alert names come before sparklines.
func TestCompactLayoutFits(t *testing.T) {
	for w := 40; w <= 300; w++ {
		for _, nameW := range []int{4, 12, 18, 40} {
			c := compactLayout(w, nameW)
			total := 1 + 1 + c.name + 3*(1+colValue) + 1 + colLoad + 2*(1+colRate) + 1 + c.alerts
			if c.cpuSpark > 0 {
				total += c.cpuSpark + 1
			}
			if c.memSpark > 0 {
				total += c.memSpark + 1
			}
			if w >= 80 {
				require.Equal(t, w, total, "width %d, names %d: %+v", w, nameW, c)
			}
			if c.cpuSpark > 0 {
				require.GreaterOrEqual(t, c.alerts, 14, "width %d: %+v", w, c)
			}
		}
	}
}

// TestOverviewFilter: / matches a host by what the table does not show:
// a label value of its target, its alerts' state and name, down.
func TestOverviewFilter(t *testing.T) {
	opts := fleetViewOptions(t, 24)
	for filter, want := range map[string][]string{
		"firing":      {"host07"},
		"pending":     {"host16"},
		"nodecpubusy": {"host07"},
		"down":        {"host05", "host12"},
		"fra host0":   {"host02", "host04", "host06", "host08"},
	} {
		m := tick(t, newTestModel(t, opts, 100, 40))
		m = press(t, m, append(append([]string{"/"}, strings.Split(filter, "")...), "enter")...)
		o := m.views[viewOverview].(*overview)
		var got []string
		for _, h := range o.shown {
			got = append(got, h.name)
		}
		require.ElementsMatch(t, want, got, "/%s", filter)
	}
}

// TestOverviewSorts: each order puts first the host it says.
func TestOverviewSorts(t *testing.T) {
	m := tick(t, newTestModel(t, fleetViewOptions(t, 24), 100, 40))
	o := m.views[viewOverview].(*overview)
	firsts := map[string]string{}
	for range overviewSorts {
		firsts[overviewSorts[o.sortBy].name] = o.shown[0].name
		for _, h := range o.shown[1:] {
			require.LessOrEqual(t, overviewSorts[o.sortBy].cmp(&o.shown[0], &h), 0, "by %s", overviewSorts[o.sortBy].name)
		}
		m = press(t, m, "s")
	}
	require.Equal(t, "trouble", overviewSorts[o.sortBy].name, "s comes round")
	require.Equal(t, "host07", firsts["trouble"], "two firing alerts")
	require.Equal(t, "host07", firsts["alerts"])
	require.Equal(t, "host01", firsts["name"])
	require.Contains(t, []string{"host07", "host14", "host21"}, firsts["cpu"], "80% busy")
}

// TestOverviewCursorFollowsOnceMoved: the cursor stays on the first line
// while the order changes, and follows its host once moved there.
func TestOverviewCursorFollowsOnceMoved(t *testing.T) {
	opts := fleetViewOptions(t, 24)
	alerts := opts.Alerts.Alerts()
	now := testNow
	opts.Now = func() time.Time { return now }
	opts.Alerts = AlertsFunc(func() []Alert { return alerts })
	m := tick(t, newTestModel(t, opts, 100, 40))
	o := m.views[viewOverview].(*overview)
	require.Equal(t, "host07", o.shown[o.cursor].name)
	alerts = append(alerts, Alert{Rule: "X", State: StateFiring, Labels: labels.FromStrings("alertname", "X", "instance", "host09:9100")},
		Alert{Rule: "Y", State: StateFiring, Labels: labels.FromStrings("alertname", "Y", "instance", "host09:9100")},
		Alert{Rule: "Z", State: StateFiring, Labels: labels.FromStrings("alertname", "Z", "instance", "host09:9100")})
	m = tick(t, m)
	require.Equal(t, 0, o.cursor)
	require.Equal(t, "host09", o.shown[0].name, "three firing come first")
	m = press(t, m, "j")
	sel := o.shown[o.cursor].name
	alerts = alerts[:len(alerts)-3]
	m = tick(t, m)
	require.Equal(t, sel, o.shown[o.cursor].name, "moved: the cursor follows its host")
}

func TestWrapWords(t *testing.T) {
	require.Equal(t, []string{"connect:", "connection", "refused"}, wrapWords("connect: connection refused", 10))
	require.Equal(t, []string{"abcdefghij", "klm"}, wrapWords("abcdefghijklm", 10))
	require.Equal(t, []string{"short"}, wrapWords("short", 10))
}

// TestOverviewTinyWindows: no size breaks the Overview's cards, its table
// or a host's page.
func TestOverviewTinyWindows(t *testing.T) {
	fleet := fleetViewOptions(t, 24)
	one := replayOptions(t, nodeRecording, "node", "127.0.0.1:9100")
	for _, opts := range []Options{fleet, one} {
		for _, keys := range [][]string{nil, {"v"}, {"s", "v"}, {"enter"}, {"enter", "G"}, {"/", "x"}} {
			for _, size := range []struct{ w, h int }{{1, 1}, {10, 3}, {20, 5}, {30, 8}, {40, 10}, {45, 12}, {79, 23}, {149, 40}, {150, 40}, {300, 80}} {
				m := newTestModel(t, opts, size.w, size.h)
				m = press(t, tick(t, m), keys...)
				requireFits(t, m.View(), size.w, size.h)
			}
		}
	}
}

// TestHostPageHelp: the page's keys are in the help line and in ?.
func TestHostPageHelp(t *testing.T) {
	m := press(t, tick(t, newTestModel(t, fleetViewOptions(t, 24), 120, 40)), "enter")
	require.Contains(t, m.View(), "esc hosts")
	require.Contains(t, m.View(), "↑/↓ scroll")
	help := press(t, m, "?").View()
	require.Contains(t, help, "back to the hosts")
	require.Contains(t, help, "scroll down")
}

// TestOverviewOneHost: the Overview of one host is its page once every
// target has been scraped, and the list again when a second host comes.
func TestOverviewOneHost(t *testing.T) {
	opts, _, _ := fleetOptions(t, 3)
	all := opts.Targets.Targets()
	targets := all[:1]
	opts.Targets = TargetsFunc(func() []Target { return targets })
	opts.Alerts = nil
	q := opts.Querier
	only := ""
	opts.Querier = filterQuerier{q, func() string { return only }}
	only = "host01:9100"
	now := testNow
	opts.Now = func() time.Time { return now }
	unscraped := Target{Job: "node", Instance: "new:9100", Health: TargetUnknown}
	targets = append(targets[:1:1], unscraped)
	m := tick(t, newTestModel(t, opts, 100, 30))
	o := m.views[viewOverview].(*overview)
	require.Len(t, o.hosts, 1)
	require.Nil(t, o.page, "a target not scraped yet may be a second host")
	require.Contains(t, m.View(), "Hosts 1")

	targets = targets[:1]
	m = tick(t, m)
	require.NotNil(t, o.page)
	require.Contains(t, m.View(), "host01 host01:9100 · 15m")
	require.Contains(t, m.View(), "FILESYSTEM")

	only = ""
	targets = all
	now = now.Add(valueStep) // the next current values
	m = tick(t, m)
	require.Len(t, o.hosts, 3)
	require.Nil(t, o.page, "a second host: the list")
	require.Contains(t, m.View(), "Hosts 3")
}

// filterQuerier answers only for the instance only() names, when it
// names one: hosts that come and go.
type filterQuerier struct {
	Querier
	only func() string
}

func (f filterQuerier) Instant(ctx context.Context, expr string, ts time.Time) (parser.Value, error) {
	v, err := f.Querier.Instant(ctx, expr, ts)
	if vec, ok := v.(promql.Vector); ok && f.only() != "" {
		var out promql.Vector
		for _, s := range vec {
			if s.Metric.Get("instance") == f.only() {
				out = append(out, s)
			}
		}
		return out, err
	}
	return v, err
}

func (f filterQuerier) Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	m, err := f.Querier.Range(ctx, expr, start, end, step)
	if f.only() == "" {
		return m, err
	}
	var out promql.Matrix
	for _, s := range m {
		if s.Metric.Get("instance") == f.only() {
			out = append(out, s)
		}
	}
	return out, err
}
