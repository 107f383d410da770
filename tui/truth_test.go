package tui

import (
	"bufio"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/scrape/peertest"
	"github.com/vigilterm/vigil/store"
)

// longEnv runs the tests that take minutes (.ci/run sets it in a step of
// its own): the truthfulness test goes on to 3 minutes.
const longEnv = "VIGIL_LONG"

// steady is what cmd/fleet -expect writes of one target.
type steady struct {
	CPU  float64 `json:"cpu_busy_percent"`
	Mem  float64 `json:"memory_used_percent"`
	Disk float64 `json:"filesystem_used_percent"`
	Rx   float64 `json:"receive_bytes_per_second"`
	Tx   float64 `json:"transmit_bytes_per_second"`
}

// startFleet builds and starts cmd/fleet with -steady on n loopback
// ports, and returns the figures it says its targets have.
func startFleet(t *testing.T, n int) map[string]steady {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "fleet")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/fleet").CombinedOutput()
	require.NoError(t, err, "%s", out)
	expect := filepath.Join(dir, "expect.json")
	for attempt := 0; ; attempt++ {
		base := 20000 + rand.IntN(10000)
		cmd := exec.Command(bin, "-targets", strconv.Itoa(n), "-steady", "-expect", expect,
			"-listen", "127.0.0.1:"+strconv.Itoa(base), "-series", "300", "-body", "../testdata/fleet/node_exporter.prom.txt")
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if line != "fleet: ready "+strconv.Itoa(n)+" targets\n" {
			_ = cmd.Wait()
			require.Less(t, attempt, 5, "fleet did not start: %s", stderr.String())
			continue // a port was taken
		}
		t.Cleanup(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			_ = cmd.Wait()
		})
		b, err := os.ReadFile(expect)
		require.NoError(t, err)
		var want map[string]steady
		require.NoError(t, json.Unmarshal(b, &want))
		require.Len(t, want, n)
		return want
	}
}

// pipeline is vigil's running parts on a fresh store: scraping the
// targets every interval, the built-in rules, and the console on them.
type pipeline struct {
	db     *store.DB
	scrape *scrape.Manager
	rules  *alert.Manager
	m      Model
}

func startPipeline(t *testing.T, targets []string, interval time.Duration, w, h int) *pipeline {
	t.Helper()
	p := &pipeline{db: store.New(store.DefaultOptions())}
	t.Cleanup(func() { _ = p.db.Close() })
	p.scrape = scrape.NewManager(p.db, scrape.Options{})
	t.Cleanup(p.scrape.Close)
	cfg, err := scrape.NewStaticConfig(targets, interval)
	require.NoError(t, err)
	p.rules, err = alert.NewManager(alert.DefaultGroups(), alert.Options{Queryable: p.db, Appendable: p.db})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.rules.Close() })
	// What the console reads of the parts: vigil's adapters
	// (cmd/vigil/internal/pipeline) copy more, the figures need no more.
	opts := Options{
		Querier: NewEngineQuerier(newTestEngine(), p.db),
		Targets: TargetsFunc(func() []Target {
			var ts []Target
			for _, th := range p.scrape.Targets() {
				ts = append(ts, Target{Job: th.Job, Instance: th.Instance, Labels: th.Labels, Health: TargetHealth(th.Health),
					LastScrape: th.LastScrape, LastError: th.LastError, ScrapeInterval: interval})
			}
			return ts
		}),
		Alerts: AlertsFunc(func() []Alert {
			var as []Alert
			for _, a := range p.rules.Alerts() {
				as = append(as, Alert{Rule: a.Rule, Group: a.Group, State: AlertState(a.State), Labels: a.Labels, Value: a.Value, ActiveAt: a.ActiveAt})
			}
			return as
		}),
		Location: time.UTC,
	}
	require.NoError(t, p.scrape.ApplyConfig(cfg))
	p.m = newTestModel(t, opts, w, h)
	return p
}

// tick drives the console to the clock's now, as its refresh tick does.
func (p *pipeline) tick(t *testing.T) {
	now := time.Now()
	p.m = drive(t, p.m, func() tea.Msg { return tickMsg(now) })
}

// TestTruthfulFromTheStart starts vigil's parts on a fresh store against
// fleet hosts whose figures are known (cmd/fleet -steady) and reads the
// Overview and a host page as the seconds pass: every figure is right
// (within 2 percentage points) or says it is not known yet, none is
// unknown 20 s after the start (two scrape intervals after the second
// sample), no sparkline draws a point off the truth, and no built-in
// rule goes pending on a host that is not busy. With VIGIL_LONG set it
// goes on to 3 minutes.
func TestTruthfulFromTheStart(t *testing.T) {
	t.Parallel() // waits on the wall clock
	const n = 6
	want := startFleet(t, n)
	var addrs []string
	for a := range want {
		addrs = append(addrs, a)
	}
	start := time.Now()
	p := startPipeline(t, addrs, 5*time.Second, 220, 60)
	o := p.m.views[viewOverview].(*overview)

	end := 30 * time.Second
	if os.Getenv(longEnv) != "" {
		end = 3 * time.Minute
	}
	checkpoints := map[time.Duration]bool{10 * time.Second: false, 20 * time.Second: true, 30 * time.Second: true, 3 * time.Minute: true}
	for step := time.Second; step <= end; step += time.Second {
		time.Sleep(time.Until(start.Add(step)))
		p.tick(t)
		p.rules.Eval(t.Context(), time.Now())
		if step <= time.Minute {
			for _, a := range p.rules.Alerts() {
				inst := a.Labels.Get("instance")
				require.Greater(t, want[inst].CPU, 90.0, "at %s: %s is %s on %s, which is %.0f%% busy",
					step, a.Rule, a.State, inst, want[inst].CPU)
			}
		}
		mustKnow, checkpoint := checkpoints[step]
		if !checkpoint {
			continue
		}
		require.NoError(t, o.err)
		require.Len(t, o.hosts, n, "at %s", step)
		for _, h := range o.hosts {
			w := want[h.instance]
			for _, f := range []struct {
				metric int
				want   float64
				tol    float64
			}{
				{metricCPU, w.CPU, 2}, {metricMem, w.Mem, 2}, {metricDisk, w.Disk, 2},
				{metricRx, w.Rx, 0.02 * w.Rx}, {metricTx, w.Tx, 0.02 * w.Tx},
			} {
				name := hostMetrics[f.metric].label
				got := h.current[f.metric]
				if math.IsNaN(got) {
					require.False(t, mustKnow, "at %s: %s of %s is not known", step, name, h.instance)
					require.True(t, h.warming(f.metric), "at %s: %s of %s is not known and does not say warming up", step, name, h.instance)
					continue
				}
				require.InDelta(t, f.want, got, f.tol, "at %s: %s of %s", step, name, h.instance)
				for i, v := range h.values[f.metric] {
					if !math.IsNaN(v) {
						require.InDelta(t, f.want, v, f.tol, "at %s: point %d of the %s sparkline of %s: %v", step, i, name, h.instance, h.values[f.metric])
					}
				}
			}
		}
		screen := p.m.View()
		require.NotContains(t, screen, "no hosts")

		// The host page of the busiest host says the same.
		p.m = press(t, p.m, "s", "enter") // by CPU, the first
		require.NotNil(t, o.page)
		page := o.page.instance
		d := o.page.data
		require.NotNil(t, d)
		w := want[page]
		all := cpuUsage{modes: map[string]float64{}}
		for _, u := range d.cpus {
			for m, v := range u.modes {
				all.modes[m] += v
			}
		}
		if len(d.cpus) == 0 {
			require.False(t, mustKnow, "at %s: the page of %s has no CPU", step, page)
		} else {
			require.InDelta(t, w.CPU, 100*all.busy(), 2, "at %s: the page's CPU of %s", step, page)
		}
		require.InDelta(t, w.Mem, 100*(1-d.mem["MemAvailable"]/d.mem["MemTotal"]), 2)
		require.Len(t, d.fss, 1)
		require.InDelta(t, w.Disk, 100*(1-d.fss[0].avail/d.fss[0].size), 2)
		for _, nic := range d.nets {
			if nic.device == "eth0" && !math.IsNaN(nic.rx) {
				require.InDelta(t, w.Rx, nic.rx, 0.02*w.Rx, "at %s: the page's receive rate of %s", step, page)
			}
		}
		screen = p.m.View()
		t.Logf("at %s:\n%s", step, screen)
		if mustKnow {
			require.NotContains(t, screen, "warming up", "at %s", step)
			require.Equal(t, 2, strings.Count(screen, "…"), "at %s: only the prediction of when / fills, and what it waits for:\n%s", step, screen)
		}
		p.m = press(t, p.m, "esc")
		o.sortBy = 0 // back to trouble first, for the next s
	}
}

// TestNodeExporterFiguresPresent: against a real node_exporter every
// figure of the card and of the host page is there within 10 s of a
// fresh start (scraped every 2 s: the console reads current values at a
// 5 s step, so at 5 s a second sample might not be in yet).
func TestNodeExporterFiguresPresent(t *testing.T) {
	t.Parallel()
	ne := peertest.NodeExporter(t)
	start := time.Now()
	p := startPipeline(t, []string{ne.Addr}, 2*time.Second, 220, 60)
	o := p.m.views[viewOverview].(*overview)
	time.Sleep(time.Until(start.Add(10 * time.Second)))
	p.tick(t)
	p.m = drive(t, p.m, func() tea.Msg { return nil })
	require.NoError(t, o.err)
	require.Len(t, o.hosts, 1)
	h := o.hosts[0]
	for i, hm := range hostMetrics {
		require.False(t, math.IsNaN(h.current[i]), "%s is not known at 10 s", hm.label)
	}
	require.NotNil(t, o.page, "one host: the Overview is its page")
	p.m = drive(t, p.m, o.page.refresh())
	d := o.page.data
	require.NotNil(t, d)
	require.NotEmpty(t, d.cpus)
	for _, u := range d.cpus {
		require.False(t, math.IsNaN(u.busy()), "cpu %s", u.name)
	}
	for i, l := range d.load {
		require.False(t, math.IsNaN(l), "load %d", i)
	}
	for _, name := range []string{"MemTotal", "MemAvailable", "MemFree", "Cached", "Buffers", "SwapTotal"} {
		require.Contains(t, d.mem, name)
	}
	require.NotEmpty(t, d.fss)
	for _, f := range d.fss {
		require.False(t, math.IsNaN(f.avail), f.mountpoint)
		require.Equal(t, "…", fullIn(f), "%s: a prediction waits for %s of history", f.mountpoint, fillHistory)
	}
	require.NotEmpty(t, d.disks)
	for _, x := range d.disks {
		for _, v := range []float64{x.read, x.written, x.busy} {
			require.False(t, math.IsNaN(v), "disk %s", x.device)
		}
	}
	require.NotEmpty(t, d.nets)
	for _, x := range d.nets {
		for _, v := range []float64{x.rx, x.tx, x.rxErr, x.txErr, x.rxDrop, x.txDrop} {
			require.False(t, math.IsNaN(v), "interface %s", x.device)
		}
	}
	require.False(t, math.IsNaN(d.boot))
	require.NotEmpty(t, d.uname["nodename"])
	screen := p.m.View()
	require.NotContains(t, screen, "warming up")
	require.Equal(t, 2, strings.Count(screen, "…"), "only the prediction of when / fills, and what it waits for:\n%s", screen)
	require.NotContains(t, screen, "no node_")
}
