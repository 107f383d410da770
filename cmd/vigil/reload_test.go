package main

import (
	"fmt"
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

// TestSIGHUPReload: a job added to the config file is scraped after SIGHUP
// without losing what the store holds; a broken config is refused with the
// running one kept and the error on stderr.
func TestSIGHUPReload(t *testing.T) {
	ne := peertest.NodeExporter(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfgPath := filepath.Join(dir, "prometheus.yml")
	writeCfg := func(body string) { require.NoError(t, os.WriteFile(cfgPath, []byte(body), 0o600)) }
	one := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: first\n    static_configs:\n      - targets: ['%s']\n", ne.Addr)
	two := one + fmt.Sprintf("  - job_name: second\n    static_configs:\n      - targets: ['%s']\n", ne.Addr)
	writeCfg(one)

	cmd := exec.Command(vigilBin, "--headless", "--events", "none", "-c", cfgPath,
		"--data-dir", dataDir, "--snapshot-interval", "1s", "-a", "Up: up == 1")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})

	// upJobs reads the jobs with up == 1 from the last snapshot, beside the
	// running vigil, as an operator would.
	upJobs := func() string {
		out, err := exec.Command(vigilBin, "query", "--data-dir", dataDir, `count by (job) (up == 1)`).CombinedOutput()
		if err != nil {
			return "error: " + string(out)
		}
		return string(out)
	}
	require.Eventually(t, func() bool { return strings.Contains(upJobs(), `{job="first"}`) }, 30*time.Second, 200*time.Millisecond, "stderr:\n%s", stderr.String())
	require.NotContains(t, upJobs(), `{job="second"}`)

	writeCfg(two)
	require.NoError(t, cmd.Process.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool { return strings.Contains(upJobs(), `{job="second"}`) }, 30*time.Second, 200*time.Millisecond, "stderr:\n%s\nlast: %s", stderr.String(), upJobs())
	require.Contains(t, upJobs(), `{job="first"}`)

	writeCfg(two + "remote_read:\n  - url: http://127.0.0.1:1/\n")
	require.NoError(t, cmd.Process.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "reload refused") }, 10*time.Second, 100*time.Millisecond)
	require.Contains(t, stderr.String(), "remote_read")
	time.Sleep(2 * time.Second) // a scrape and a snapshot later, both jobs still run
	got := upJobs()
	require.Contains(t, got, `{job="first"}`)
	require.Contains(t, got, `{job="second"}`)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait())
}
