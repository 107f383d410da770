package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape/peertest"
)

// longEnv runs the tests that take minutes, such as the comparison of
// the console on remotes with a local vigil, which waits for an alert to
// fire (.ci/run runs each in a step of its own).
const longEnv = "VIGIL_LONG"

// steadyFigures is what cmd/fleet -expect writes of one target.
type steadyFigures struct {
	CPU  float64 `json:"cpu_busy_percent"`
	Mem  float64 `json:"memory_used_percent"`
	Disk float64 `json:"filesystem_used_percent"`
	Rx   float64 `json:"receive_bytes_per_second"`
	Tx   float64 `json:"transmit_bytes_per_second"`
}

// steadyFleet starts cmd/fleet -steady with n targets, the last down of
// them down; it returns the file_sd file and the figures of the targets
// that answer, by address.
func steadyFleet(t *testing.T, n, down int) (string, []string, map[string]steadyFigures) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "fleet")
	out, err := exec.Command("go", "build", "-o", bin, "../fleet").CombinedOutput()
	require.NoError(t, err, "%s", out)
	sd, expect := filepath.Join(dir, "fleet.json"), filepath.Join(dir, "expect.json")
	for attempt := 0; ; attempt++ {
		base := 20000 + rand.IntN(10000)
		cmd := exec.Command(bin, "-targets", strconv.Itoa(n), "-down", strconv.Itoa(down), "-steady", "-series", "300",
			"-listen", "127.0.0.1:"+strconv.Itoa(base), "-sd-file", sd, "-expect", expect, "-body", "../../testdata/fleet/node_exporter.prom.txt")
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if line != "fleet: ready "+strconv.Itoa(n)+" targets\n" {
			_ = cmd.Wait()
			require.Less(t, attempt, 5, "fleet did not start")
			continue
		}
		t.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
		b, err := os.ReadFile(expect)
		require.NoError(t, err)
		var want map[string]steadyFigures
		require.NoError(t, json.Unmarshal(b, &want))
		var addrs []string
		for i := range n {
			addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(base+i))
		}
		return sd, addrs, want
	}
}

// victoriaMetricsWithRules starts VictoriaMetrics scraping by the
// prometheus.yml scrape (no rule_files), and vmalert evaluating rules on
// it every 5s, served through it (-vmalert.proxyURL).
func victoriaMetricsWithRules(t *testing.T, scrape, rules string) string {
	t.Helper()
	scrapeFile := filepath.Join(t.TempDir(), "scrape.yml")
	require.NoError(t, os.WriteFile(scrapeFile, []byte(scrape), 0o600))
	alertAddr := peertest.FreePort(t)
	vm := peertest.VictoriaMetrics(t, "-promscrape.config="+scrapeFile, "-vmalert.proxyURL=http://"+alertAddr)
	peertest.VMAlert(t, alertAddr, vm.URL, rules, "-evaluationInterval=5s")
	return vm.URL
}

// newTmuxSized is newTmux in a w×h terminal.
func newTmuxSized(t *testing.T, w, h int, command string) *tmuxSession {
	t.Helper()
	peertest.Need(t, "tmux", "tmux")
	s := &tmuxSession{t: t, socket: filepath.Join(t.TempDir(), "tmux.sock")}
	s.run("new-session", "-d", "-s", "vigil", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h),
		"env -u CI TERM=xterm-256color sh -c '"+strings.ReplaceAll(command, "'", `'\''`)+"'")
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", s.socket, "kill-server").Run() })
	return s
}

// consoleView is what one console shows of the fleet: the figures of
// each host (Overview's table), the health of each target of the fleet's
// job, and the firing alerts (alertname and instance).
type consoleView struct {
	hosts   map[string][6]float64 // cpu, mem, disk, load, rx, tx
	targets map[string]string
	firing  []string
}

var (
	hostRow   = regexp.MustCompile(`(127\.0\.0\.1:\d+)\s+([\d.]+)%.*?\s([\d.]+)%.*?\s([\d.]+)%\s+([\d.]+)/\d+\s+([\d.]+)(k|M|G|)B/s\s+([\d.]+)(k|M|G|)B/s`)
	targetRow = regexp.MustCompile(`^(127\.0\.0\.1:\d+)\s+(?:fleet\s+)?(up|down|unknown)\s`)
	firingRow = regexp.MustCompile(`^firing\s+(\S+)\s.*instance="([^"]+)"`)
)

func si(v, prefix string) float64 {
	f, _ := strconv.ParseFloat(v, 64)
	return f * map[string]float64{"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[prefix]
}

// read reads what the console in s shows: the Overview as a table (v),
// the Targets view, the Alerts view; it leaves the console on the
// Overview.
func readConsole(t *testing.T, s *tmuxSession) consoleView {
	t.Helper()
	v := consoleView{hosts: map[string][6]float64{}, targets: map[string]string{}}
	s.run("send-keys", "-t", "vigil", "1")
	scr := s.waitFor("HOST")
	for _, l := range strings.Split(scr, "\n") {
		if m := hostRow.FindStringSubmatch(l); m != nil {
			f := func(s string) float64 { x, _ := strconv.ParseFloat(s, 64); return x }
			v.hosts[m[1]] = [6]float64{f(m[2]), f(m[3]), f(m[4]), f(m[5]), si(m[6], m[7]), si(m[8], m[9])}
		}
	}
	s.run("send-keys", "-t", "vigil", "2")
	scr = s.waitFor("INSTANCE")
	for _, l := range strings.Split(scr, "\n") {
		if m := targetRow.FindStringSubmatch(l); m != nil {
			v.targets[m[1]] = m[2]
		}
	}
	s.run("send-keys", "-t", "vigil", "3")
	scr = s.waitFor("STATE")
	for _, l := range strings.Split(scr, "\n") {
		if m := firingRow.FindStringSubmatch(l); m != nil {
			v.firing = append(v.firing, m[1]+" "+m[2])
		}
	}
	sort.Strings(v.firing)
	s.run("send-keys", "-t", "vigil", "1")
	return v
}

// TestRemoteConsoleMatchesLocal: Prometheus, and VictoriaMetrics with
// vmalert, scrape the fleet a local vigil scrapes, each with the built-in
// rules. The console on each remote shows the same hosts, targets and
// firing alerts as the local one, and the same figures within 5%, which
// are the fleet's own (VictoriaMetrics' rate does not extrapolate; the
// host page's rates are divided by the clock's, which holds on both).
func TestRemoteConsoleMatchesLocal(t *testing.T) {
	if os.Getenv(longEnv) == "" {
		t.Skipf("waits minutes for an alert to fire: set %s=1 (.ci/run does)", longEnv)
	}
	sd, addrs, want := steadyFleet(t, 6, 1)
	down := addrs[len(addrs)-1]
	dir := t.TempDir()
	// VictoriaMetrics refuses an evaluation_interval in its scrape config.
	scrape := "global: {scrape_interval: 5s}\nscrape_configs:\n  - job_name: fleet\n    file_sd_configs: [{files: [" + sd + "]}]\n"
	fleetYml := filepath.Join(dir, "fleet.yml")
	require.NoError(t, os.WriteFile(fleetYml, []byte(scrape), 0o600))
	rules, err := os.ReadFile("../../alert/default_rules.yml")
	require.NoError(t, err)
	prom := peertest.Prometheus(t, strings.Replace(scrape, "{scrape_interval: 5s}", "{scrape_interval: 5s, evaluation_interval: 5s}", 1)+
		"rule_files: [rules.yml]\n", map[string]string{"rules.yml": string(rules)})
	vm := victoriaMetricsWithRules(t, scrape, string(rules))

	consoles := map[string]*tmuxSession{
		"local":           newTmuxSized(t, 220, 60, vigilBin+" --data-dir '' -c "+fleetYml+"; sleep 600"),
		"prometheus":      newTmuxSized(t, 220, 60, vigilBin+" --data-dir '' --source "+prom.URL+"; sleep 600"),
		"victoriametrics": newTmuxSized(t, 220, 60, vigilBin+" --data-dir '' --source "+vm+"; sleep 600"),
	}
	for name, s := range consoles {
		// The table of hosts: one line each, all in sight.
		s.waitFor("Hosts")
		s.run("send-keys", "-t", "vigil", "v")
		// TargetDown of the down target fires after its minute.
		func() {
			defer func() {
				if t.Failed() {
					t.Logf("%s:\n%s", name, s.screen())
				}
			}()
			deadline := time.Now().Add(4 * time.Minute)
			for !strings.Contains(s.screen(), "alerts 1 firing") {
				require.True(t, time.Now().Before(deadline), "%s: TargetDown never fired:\n%s", name, s.screen())
				time.Sleep(time.Second)
			}
		}()
	}

	views := map[string]consoleView{}
	for name, s := range consoles {
		views[name] = readConsole(t, s)
	}
	local := views["local"]
	require.Equal(t, []string{"TargetDown " + down}, local.firing)
	require.Len(t, local.hosts, len(addrs)-1)
	require.Len(t, local.targets, len(addrs))
	for name, v := range views {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, local.firing, v.firing, "firing alerts")
			require.Equal(t, local.targets, v.targets, "the fleet's targets")
			require.Equal(t, "down", v.targets[down])
			require.Len(t, v.hosts, len(local.hosts), "hosts")
			for inst, got := range v.hosts {
				w, ok := want[inst]
				require.True(t, ok, "a host that is none of the fleet's: %s", inst)
				for i, exp := range []float64{w.CPU, w.Mem, w.Disk, local.hosts[inst][3], w.Rx, w.Tx} {
					name := []string{"cpu", "memory", "disk", "load", "rx", "tx"}[i]
					require.InDelta(t, exp, got[i], math.Max(0.05*exp, 0.05), "%s of %s", name, inst)
					require.InDelta(t, local.hosts[inst][i], got[i], math.Max(0.05*local.hosts[inst][i], 0.05), "%s of %s against the local console", name, inst)
				}
			}
		})
	}

	// The host page of the busiest host, on each: the same figures as
	// the local one's within 5%.
	pages := map[string]string{}
	for name, s := range consoles {
		s.run("send-keys", "-t", "vigil", "s") // by cpu
		s.waitFor("by cpu")
		s.run("send-keys", "-t", "vigil", "Enter")
		pages[name] = s.waitFor("FILESYSTEM", "DISK I/O")
	}
	cpuLine := regexp.MustCompile(`(?m)^CPU\s+([\d.]+)%`)
	memLine := regexp.MustCompile(`(?m)^MEM\s+([\d.]+)%`)
	for name, p := range pages {
		for _, re := range []*regexp.Regexp{cpuLine, memLine} {
			l, r := re.FindStringSubmatch(pages["local"]), re.FindStringSubmatch(p)
			require.NotNil(t, l, "local page:\n%s", pages["local"])
			require.NotNil(t, r, "%s page:\n%s", name, p)
			lv, rv := si(l[1], ""), si(r[1], "")
			require.InDelta(t, lv, rv, math.Max(0.05*lv, 0.05), "%s: %s", name, re)
		}
	}

	// At 80×24 too: every line fits, the counts are in the header.
	for name, s := range consoles {
		s.run("resize-window", "-t", "vigil", "-x", "80", "-y", "24")
		s.run("send-keys", "-t", "vigil", "Escape", "1")
		scr := s.waitFor("1 firing")
		for _, l := range strings.Split(strings.TrimRight(scr, "\n"), "\n") {
			require.LessOrEqual(t, len([]rune(l)), 80, "%s: %q", name, l)
		}
		if name != "local" {
			require.Contains(t, scr, fmt.Sprintf("targets %d/%d up", len(addrs)-1, len(addrs)), name)
		}
	}
}
