package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestStartupLogLines: a headless vigil restarted on its data dir says what
// it restored, then that it is restored and scraping once the target's
// first scrape is in the store.
func TestStartupLogLines(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "node_load1 0.5")
	}))
	defer target.Close()
	dir := t.TempDir()

	for run := range 2 {
		cmd := exec.Command(vigilBin, "--headless", "--events", "none", "--data-dir", dir,
			"--scrape-interval", "100ms", target.URL)
		var stderr syncBuffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "restored and scraping") },
			20*time.Second, 20*time.Millisecond, "run %d:\n%s", run, stderr.String())
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		require.NoError(t, cmd.Wait())

		out := stderr.String()
		require.Contains(t, out, "job=node instance="+strings.TrimPrefix(target.URL, "http://")+" up=1 since_start=")
		if run == 0 {
			require.NotContains(t, out, "snapshot restored", "nothing to restore on the first run")
			continue
		}
		// The first run's final snapshot: its series and the synthetic ones.
		require.Regexp(t, `msg="snapshot restored" series=[1-9][0-9]* samples=[1-9][0-9]* written=\S+ took=\S+`, out)
		require.Less(t, strings.Index(out, "snapshot restored"), strings.Index(out, "restored and scraping"))
	}
}
