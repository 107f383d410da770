package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/vigilterm/vigil/cmd/vigil/internal/pipeline"
	"github.com/vigilterm/vigil/scrape/peertest"
	"github.com/vigilterm/vigil/tui/remote"
)

// TestQueryCommandSource: vigil query --source prints what promtool query
// prints of the same Prometheus, instant and range; reads it through
// basic auth from --source-config, whose password shows nowhere; and
// refuses what makes no sense with --source.
func TestQueryCommandSource(t *testing.T) {
	peertest.Need(t, "prometheus", "promtool")
	ne := peertest.NodeExporter(t)
	prom := peertest.Prometheus(t, "global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: node\n    static_configs: [{targets: ['"+ne.Addr+"']}]\n", nil)

	query := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"query"}, args...), &out, &errb)
		return out.String(), errb.String(), code
	}
	promtool := func(args ...string) string {
		out, err := exec.Command("promtool", append([]string{"query"}, args...)...).CombinedOutput()
		require.NoError(t, err, "%s", out)
		return string(out)
	}
	src := []string{"--source", prom.URL}
	require.Eventually(t, func() bool {
		out, _, code := query(append(src, "up")...)
		return code == exitOK && strings.Contains(out, "=> 1")
	}, 60*time.Second, 200*time.Millisecond)
	time.Sleep(4 * time.Second) // a few points for the range
	at := time.Now().Add(-time.Second).Unix()
	now := fmt.Sprint(at)

	for _, expr := range []string{"up", "node_load1", `count by (mode) (node_cpu_seconds_total)`, "scalar(up)", "nothing_here"} {
		out, errOut, code := query(append(src, "--time", now, expr)...)
		require.Equal(t, exitOK, code, errOut)
		require.Equal(t, promtool("instant", "--time="+now, prom.URL, expr), out, expr)
	}
	start := fmt.Sprint(at - 4)
	out, errOut, code := query(append(src, "--range", "--start", start, "--end", now, "--step", "1s", "up")...)
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, promtool("range", "--start="+start, "--end="+now, "--step=1s", prom.URL, "up"), out)
	out, _, code = query(append(src, "--time", now, "--json", "up")...)
	require.Equal(t, exitOK, code)
	require.True(t, strings.HasPrefix(out, `{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"`+ne.Addr), out)

	// The remote's refusal: its error, exit 1.
	_, errOut, code = query(append(src, "sum(")...)
	require.Equal(t, exitFailed, code)
	require.Contains(t, errOut, "parse error")
	_, errOut, code = query("--source", "http://127.0.0.1:1", "up")
	require.Equal(t, exitFailed, code)
	require.Contains(t, errOut, "connection refused")

	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--source", prom.URL, "--data-dir", dir, "up"}, "--data-dir or --source, not both"},
		{[]string{"--source-config", filepath.Join(dir, "s.yml"), "up"}, "--source-config needs --source"},
		{[]string{"--source", prom.URL, "--eval-interval", "1m", "up"}, "the remote evaluates with its own"},
		{[]string{"--source", "http://ops:pw@" + prom.Addr, "up"}, "credentials in the URL"},
		{[]string{"--source", prom.URL, "--source-config", filepath.Join(dir, "missing.yml"), "up"}, "missing.yml"},
	} {
		_, errOut, code := query(tc.args...)
		require.Equal(t, exitUsage, code, "%v", tc.args)
		require.Contains(t, errOut, tc.want, "%v", tc.args)
	}
}

// TestQueryCommandSourceAuth: --source-config's basic auth reaches a
// Prometheus that asks for it; without it the remote's 401 is the error;
// the password shows in neither.
func TestQueryCommandSourceAuth(t *testing.T) {
	const password = "correct-horse-battery"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	require.NoError(t, err)
	dir := t.TempDir()
	webConfig := filepath.Join(dir, "web.yml")
	require.NoError(t, os.WriteFile(webConfig, []byte("basic_auth_users:\n  ops: "+string(hash)+"\n"), 0o600))
	prom := promWithAuth(t, dir, "global: {scrape_interval: 1s}\n", webConfig, "ops", password)
	sourceConfig := filepath.Join(dir, "source.yml")
	require.NoError(t, os.WriteFile(sourceConfig, []byte("basic_auth: {username: ops, password: "+password+"}\n"), 0o600))
	wrongConfig := filepath.Join(dir, "wrong.yml")
	require.NoError(t, os.WriteFile(wrongConfig, []byte("basic_auth: {username: ops, password: "+password+"-not}\n"), 0o600))

	query := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"query"}, args...), &out, &errb)
		return out.String(), errb.String(), code
	}
	out, errOut, code := query("--source", prom.URL, "--source-config", sourceConfig, "--time", "1700000000", "vector(1)")
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "{} => 1 @[1700000000]\n", out)
	for _, cfg := range []string{"", wrongConfig} {
		args := []string{"--source", prom.URL, "vector(1)"}
		if cfg != "" {
			args = append(args, "--source-config", cfg)
		}
		out, errOut, code = query(args...)
		require.Equal(t, exitFailed, code)
		require.Contains(t, errOut, "401")
		require.NotContains(t, out+errOut, password)
	}
}

// TestSourceFlags: the console on a remote refuses what only vigil's own
// pipeline does.
func TestSourceFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--source", "http://p:9090", "-c", "x.yml"}, "--config with --source"},
		{[]string{"--source", "http://p:9090", "--headless"}, "--headless with --source"},
		{[]string{"--source", "http://p:9090", "--web.listen-address", ":9090"}, "--web.listen-address with --source"},
		{[]string{"--source", "http://p:9090", "db1:9100"}, "targets with --source (db1:9100)"},
		{[]string{"--source-config", "s.yml"}, "--source-config needs --source"},
	} {
		_, _, err := parseFlags(tc.args)
		require.ErrorContains(t, err, tc.want, "%v", tc.args)
	}
	o, _, err := parseFlags([]string{"--source", "http://p:9090", "--source-config", "s.yml", "--data-dir", "/tmp/x", "--color", "never"})
	require.NoError(t, err)
	require.Equal(t, "http://p:9090", o.source)

	var errb bytes.Buffer
	code := run(context.Background(), []string{"--source", "ftp://p"}, nil, &errb)
	require.Equal(t, exitUsage, code)
	require.Contains(t, errb.String(), "want an http or https URL")
}

// promWithAuth starts Prometheus with a web config (basic auth), which
// peertest's readiness probe cannot pass.
func promWithAuth(t *testing.T, dir, config, webConfig, user, password string) *peertest.Peer {
	t.Helper()
	bin := peertest.Need(t, "prometheus", "prometheus")
	cfg := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfg, []byte(config), 0o600))
	addr := peertest.FreePort(t)
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--web.config.file="+webConfig)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	p := &peertest.Peer{Addr: addr, URL: "http://" + addr, Dir: dir}
	require.Eventually(t, func() bool {
		req, _ := http.NewRequest(http.MethodGet, p.URL+"/-/ready", nil)
		req.SetBasicAuth(user, password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 100*time.Millisecond, "prometheus did not start")
	return p
}

// TestRemoteConsoleOptions: every source of the console is the remote's,
// the look is the flags', the Query view's history is in the data
// directory, as for vigil's own console.
func TestRemoteConsoleOptions(t *testing.T) {
	dir := t.TempDir()
	o, _, err := parseFlags([]string{"--source", "http://127.0.0.1:1", "--data-dir", dir, "--mouse", "--ascii", "--color", "never"})
	require.NoError(t, err)
	src, err := newSource(o.source, "", remote.Options{})
	require.NoError(t, err)
	defer src.Close()
	opts := remoteConsoleOptions(src, o)
	require.Equal(t, src, opts.Querier)
	require.Equal(t, src, opts.Metadata)
	require.Equal(t, src, opts.Silences)
	require.NotNil(t, opts.Targets)
	require.NotNil(t, opts.Alerts)
	require.NotNil(t, opts.Rules)
	require.NotNil(t, opts.AlertEvents)
	require.NotNil(t, opts.Warnings)
	require.True(t, opts.Mouse)
	require.True(t, opts.ASCII)
	require.Equal(t, "never", opts.Color)
	require.Equal(t, filepath.Join(dir, pipeline.QueryHistoryFileName), opts.HistoryFile)
	require.Zero(t, opts.Retention, "the remote's retention is not known")
}
