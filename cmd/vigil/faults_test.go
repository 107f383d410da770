package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape/peertest"
)

// The faults of issue 19, as an operator meets them: each test runs the
// vigil binary. docs/faults.md names them.

// writeProtect makes dir unwritable for a running vigil and returns what
// makes it writable again: a read-only bind mount of dir over itself when
// run as root (for whom permissions are no barrier), its permissions
// otherwise.
func writeProtect(t *testing.T, dir string) (writable func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		require.NoError(t, os.Chmod(dir, 0o500))
		t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
		return func() { require.NoError(t, os.Chmod(dir, 0o700)) }
	}
	mount := func(args ...string) error {
		out, err := exec.Command("mount", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("mount %v: %v: %s", args, err, out)
		}
		return nil
	}
	if err := mount("--bind", dir, dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v; CI is set, so this is a failure", err)
		}
		t.Skipf("root cannot bind-mount here, and permissions do not stop root: %v", err)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	require.NoError(t, mount("-o", "remount,bind,ro", dir))
	return func() { require.NoError(t, mount("-o", "remount,bind,rw", dir)) }
}

// TestHeadlessSnapshotFailureSaidOnce: with the data dir made read-only
// while vigil runs headless, stderr says once that snapshots fail, however
// many fail, and once that they work again when it is writable again.
func TestHeadlessSnapshotFailureSaidOnce(t *testing.T) {
	dataDir := t.TempDir()
	cmd, _, stderr := headless(t, "--events", "none", "--data-dir", dataDir, "--snapshot-interval", "200ms", "--scrape-interval", "1s")
	snapshot := filepath.Join(dataDir, "vigil.snapshot")
	require.Eventually(t, func() bool { _, err := os.Stat(snapshot); return err == nil }, 30*time.Second, 50*time.Millisecond, "no snapshot; stderr:\n%s", stderr)

	writable := writeProtect(t, dataDir)
	const failing = `level=WARN msg=failing component=snapshot err="snapshot failed: write snapshot ` // + the path and why
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), failing) }, 20*time.Second, 50*time.Millisecond, "stderr:\n%s", stderr)
	time.Sleep(2 * time.Second) // ten more snapshots fail
	writable()
	const recovered = `level=INFO msg=recovered component=snapshot failed_for=`
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), recovered) }, 20*time.Second, 50*time.Millisecond, "stderr:\n%s", stderr)
	time.Sleep(time.Second)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "stderr:\n%s", stderr)
	log := stderr.String()
	require.Equal(t, 1, strings.Count(log, "msg=failing"), "one line when snapshots start failing:\n%s", log)
	require.Equal(t, 1, strings.Count(log, "msg=recovered"), "one line when they work again:\n%s", log)
	require.Regexp(t, "read-only file system|permission denied", log, "it says why")
}

// vigilQuery runs vigil query over the last snapshot in dataDir and
// returns what it printed, its error included (there may be no snapshot
// yet).
func vigilQuery(dataDir, expr string) string {
	out, _ := exec.Command(vigilBin, "query", "--data-dir", dataDir, "--time", fmt.Sprint(time.Now().Unix()), expr).CombinedOutput()
	return string(out)
}

// TestMaxSeriesStillAlerts: with --max-series below what two
// node_exporter-like targets offer, the second target's series are
// refused and it says so, but up is stored for both, and when the second
// goes down up == 0 fires for it.
func TestMaxSeriesStillAlerts(t *testing.T) {
	body, err := os.ReadFile("../../testdata/fleet/node_exporter.prom.txt") // 505 series
	require.NoError(t, err)
	node := func() *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			w.Write(body)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	a, b := node(), node()
	addrA, addrB := a.Listener.Addr().String(), b.Listener.Addr().String()
	dataDir := t.TempDir()
	cmd, stdout, stderr := headless(t, "--data-dir", dataDir, "--max-series", "600",
		"--scrape-interval", "1s", "--eval-interval", "1s", "--snapshot-interval", "1s",
		"-a", `TargetDown: up{job="node"} == 0`, addrA, addrB)
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), `msg="target's series refused"`) }, 30*time.Second, 100*time.Millisecond, "stderr:\n%s", stderr)
	require.Eventually(t, func() bool {
		return strings.Contains(vigilQuery(dataDir, `count(up{job="node"} == 1)`), "{} => 2 @")
	}, 30*time.Second, 500*time.Millisecond, "up is 1 for both targets")
	require.Contains(t, stderr.String(), `msg=failing component=max_series err="max series reached (600): new series refused`)

	b.CloseClientConnections()
	b.Listener.Close()
	ev := firstEvent(t, stdout, stderr, func(ev event) bool { return ev.State == "firing" && ev.Labels["alertname"] == "TargetDown" })
	require.Equal(t, addrB, ev.Labels["instance"], "the target that went down")
	require.Eventually(t, func() bool {
		out := vigilQuery(dataDir, `up{job="node"}`)
		return strings.Contains(out, fmt.Sprintf(`up{instance=%q, job="node"} => 1 @`, addrA)) &&
			strings.Contains(out, fmt.Sprintf(`up{instance=%q, job="node"} => 0 @`, addrB))
	}, 30*time.Second, 500*time.Millisecond)
	require.Contains(t, vigilQuery(dataDir, `vigil_failing{component="max_series"}`), "=> 1 @")
	require.Eventually(t, func() bool {
		return strings.Contains(vigilQuery(dataDir, `count(ALERTS{alertname="TargetDown", alertstate="firing"})`), "{} => 1 @")
	}, 30*time.Second, 500*time.Millisecond, "ALERTS is stored past the cap")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "stderr:\n%s", stderr)
}

// secret is the password of the secret test: it must reach no place an
// operator or a reader of vigil's output sees.
const secret = "s3cretpw"

// TestSecretsGoNowhere puts a secret everywhere an operator may put one:
// in a target without a scheme and in a URL (both refused at start), in a
// config's basic_auth and authorization (a target that takes them, one
// that answers 401), in a file_sd file and in a reloaded config (refused
// while running), and in an --alertmanager URL that does not answer. It is
// then in no label, log line, event, console screen, snapshot,
// self-metric or `check config` output; where the place was reached, its
// masked form is there to show it.
func TestSecretsGoNowhere(t *testing.T) {
	noSecret := func(where, s string) {
		t.Helper()
		require.NotContains(t, s, secret, "the secret is in %s:\n%s", where, s)
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}

	// Refused at start, masked.
	for _, args := range [][]string{
		{"user:" + secret + "@127.0.0.1:9100"},
		{secret + "@127.0.0.1:9100"},
		{"http://user:" + secret + "@127.0.0.1:9100/metrics"},
		{"--alertmanager", "ftp://am:" + secret + "@127.0.0.1:9093"},
		{"-c", write("creds.yml", "scrape_configs:\n  - job_name: x\n    static_configs:\n      - targets: ['user:"+secret+"@127.0.0.1:9100']\n")},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a vigil that took it would run on
		out, err := exec.CommandContext(ctx, vigilBin, append([]string{"--headless", "--data-dir", ""}, args...)...).CombinedOutput()
		cancel()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "%v: %s", args, out)
		require.Equal(t, 2, exit.ExitCode(), "%s", out)
		require.Contains(t, string(out), "xxxxx@", "%v", args)
		noSecret(fmt.Sprintf("the refusal of %v", args), string(out))
	}
	out, err := exec.Command(vigilBin, "check", "config", filepath.Join(dir, "creds.yml")).CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "creds.yml:4: ")
	noSecret("check config", string(out))

	// Taken: a target behind basic auth, one that refuses the bearer
	// token, a file_sd file with a target holding credentials, an
	// Alertmanager that does not answer.
	authed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "u" || p != secret {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		fmt.Fprintln(w, "secured_metric 1")
	}))
	t.Cleanup(authed.Close)
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	t.Cleanup(refusing.Close)
	sdFile := write("sd.json", `[{"targets": ["u:`+secret+`@127.0.0.1:9"]}]`)
	config := write("prometheus.yml", fmt.Sprintf(`scrape_configs:
  - job_name: secure
    basic_auth: {username: u, password: %[1]s}
    static_configs: [{targets: [%[2]q]}]
  - job_name: bearer
    authorization: {credentials: %[1]s}
    static_configs: [{targets: [%[3]q]}]
  - job_name: sd
    file_sd_configs: [{files: [%[4]q]}]
`, secret, authed.Listener.Addr().String(), refusing.Listener.Addr().String(), sdFile))
	out, err = exec.Command(vigilBin, "check", "config", config).CombinedOutput()
	require.NoError(t, err, "%s", out)
	noSecret("check config", string(out))
	am := "http://am:" + secret + "@" + peertest.FreePort(t)
	args := []string{"-c", config, "--alertmanager", am, "--scrape-interval", "1s", "--eval-interval", "1s",
		"--snapshot-interval", "1s", "-a", `SecureUp: up{job="secure"} == 1`}

	// Headless: events, stderr, the snapshot, every series.
	dataDir := t.TempDir()
	cmd, stdout, stderr := headless(t, append([]string{"--data-dir", dataDir}, args...)...)
	var events strings.Builder
	ev := firstEvent(t, io.TeeReader(stdout, &events), stderr, func(ev event) bool { return ev.State == "firing" })
	require.Equal(t, authed.Listener.Addr().String(), ev.Labels["instance"])
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "msg=failing component=alertmanager") }, 30*time.Second, 100*time.Millisecond, "stderr:\n%s", stderr)
	// A reload that brings a target with credentials is refused.
	bad := strings.Replace(mustRead(t, config), "static_configs: [{targets: [\""+authed.Listener.Addr().String(), "static_configs: [{targets: [\"u:"+secret+"@"+authed.Listener.Addr().String(), 1)
	write("prometheus.yml", bad)
	require.NoError(t, cmd.Process.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "reload refused") }, 20*time.Second, 100*time.Millisecond)
	write("prometheus.yml", strings.Replace(bad, "u:"+secret+"@", "", 1))
	require.Eventually(t, func() bool {
		return strings.Contains(vigilQuery(dataDir, `ALERTS`), `ALERTS{alertname="SecureUp"`)
	}, 30*time.Second, 500*time.Millisecond, "ALERTS is written once the rules restored their state")
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "stderr:\n%s", stderr)
	_, _ = io.Copy(&events, stdout)

	log := stderr.String()
	for _, reached := range []string{
		`target \"u:xxxxx@`,               // the reload refused, and the file_sd file
		`file_sd: keeping the last good`,  // the file_sd file
		"server returned HTTP status 401", // the bearer token refused
		"am:xxxxx@",                       // the Alertmanager
	} {
		require.Contains(t, log, reached)
	}
	noSecret("stderr", log)
	noSecret("the events", events.String())
	snap, err := os.ReadFile(filepath.Join(dataDir, "vigil.snapshot"))
	require.NoError(t, err)
	noSecret("the snapshot", string(snap))
	series := vigilQuery(dataDir, `{__name__=~".+"}`)
	require.Contains(t, series, `secured_metric{instance=`)
	require.Contains(t, series, `alertmanager="http://am:xxxxx@`, "the notifier's self-metrics name the Alertmanager")
	require.Contains(t, series, `ALERTS{alertname="SecureUp"`)
	noSecret("the stored series", series)

	// The console: its screens, and vigil.log.
	dataDir = t.TempDir()
	s := newTmux(t, vigilBin+" --data-dir "+dataDir+" "+strings.Join(quoteAll(args), " ")+"; sleep 60")
	s.run("resize-window", "-t", "vigil", "-x", "250", "-y", "40")
	screens := []string{s.waitFor("am:xxxxx@", "targets 2/3 up")}
	for _, key := range []string{"2", "3", "4", "5", "1"} {
		s.run("send-keys", "-t", "vigil", key)
		time.Sleep(500 * time.Millisecond)
		screens = append(screens, s.screen())
	}
	require.Contains(t, screens[1], "401", "the Targets view shows the refused token's error")
	for i, scr := range screens {
		noSecret(fmt.Sprintf("console screen %d", i), scr)
	}
	s.run("send-keys", "-t", "vigil", "q")
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(filepath.Join(dataDir, "vigil.log"))
		return strings.Contains(string(b), "shutting down") || strings.Contains(string(b), "am:xxxxx@")
	}, 20*time.Second, 100*time.Millisecond)
	vlog, err := os.ReadFile(filepath.Join(dataDir, "vigil.log"))
	require.NoError(t, err)
	require.Contains(t, string(vlog), "am:xxxxx@")
	noSecret("vigil.log", string(vlog))
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// quoteAll quotes args for sh.
func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return out
}

// TestManySIGHUPs: 50 SIGHUPs in a second reload the config 50 times (or
// fewer, as signals merge) and vigil goes on scraping; SIGTERM still ends
// it cleanly.
func TestManySIGHUPs(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(config, []byte("global: {scrape_interval: 1s}\nscrape_configs: []\n"), 0o600))
	cmd, _, stderr := headless(t, "--events", "none", "--data-dir", filepath.Join(dir, "data"), "-c", config)
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "running headless") }, 20*time.Second, 50*time.Millisecond)
	for range 50 {
		require.NoError(t, cmd.Process.Signal(syscall.SIGHUP))
		time.Sleep(20 * time.Millisecond)
	}
	require.Eventually(t, func() bool { return strings.Count(stderr.String(), "config reloaded") > 0 }, 20*time.Second, 50*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "stderr:\n%s", stderr)
	require.NotContains(t, stderr.String(), "panic")
}

// TestRacingStarts: vigils started at once on one data directory: one
// runs, every other exits 2 naming it; after 15 quick restarts the data
// directory is still whole.
func TestRacingStarts(t *testing.T) {
	dataDir := t.TempDir()
	const n = 5
	cmds := make([]*exec.Cmd, n)
	outs := make([]*syncBuffer, n)
	for i := range cmds {
		cmds[i] = exec.Command(vigilBin, "--headless", "--events", "none", "--data-dir", dataDir, "--scrape-interval", "1s")
		outs[i] = &syncBuffer{}
		cmds[i].Stderr = outs[i]
	}
	for _, c := range cmds {
		require.NoError(t, c.Start())
	}
	t.Cleanup(func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
		}
	})
	refused, running := 0, -1
	for i, c := range cmds {
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		select {
		case err := <-done:
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "%s", outs[i])
			require.Equal(t, 2, exit.ExitCode(), "%s", outs[i])
			require.Contains(t, outs[i].String(), "in use by pid")
			refused++
		case <-time.After(5 * time.Second):
			require.Equal(t, -1, running, "two vigils run on one data directory")
			running = i
			require.NoError(t, c.Process.Signal(syscall.SIGTERM))
			require.NoError(t, <-done, "%s", outs[i])
		}
	}
	require.Equal(t, n-1, refused)

	// Flapping: fifteen starts and stops, each cut short.
	for i := range 15 {
		c := exec.Command(vigilBin, "--headless", "--events", "none", "--data-dir", dataDir, "--scrape-interval", "1s")
		var out syncBuffer
		c.Stderr = &out
		require.NoError(t, c.Start())
		time.Sleep(time.Duration(100+i*40) * time.Millisecond)
		require.NoError(t, c.Process.Signal(syscall.SIGTERM))
		require.NoError(t, c.Wait(), "restart %d: %s", i, &out)
		require.NotContains(t, out.String(), "damaged")
	}
	out, err := exec.Command(vigilBin, "query", "--data-dir", dataDir, `count(up)`).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "{} => ")
}

// TestHugeRuleFile: a 10 MB rule file that does not parse is refused at
// start with its place (exit 2), in seconds.
func TestHugeRuleFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "huge.rules.yml")
	var b strings.Builder
	b.WriteString("groups:\n- name: g\n  rules:\n")
	for b.Len() < 10<<20 {
		fmt.Fprintf(&b, "  - alert: A%d\n    expr: up == 0\n", b.Len())
	}
	b.WriteString("  - alert: Broken\n    expr: up ==\n")
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, vigilBin, "--headless", "--data-dir", "", "-r", p).CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	require.Equal(t, 2, exit.ExitCode(), "%.2000s", out)
	require.Regexp(t, `huge\.rules\.yml: \d+:\d+: group "g", rule \d+, "Broken"`, string(out))
}
