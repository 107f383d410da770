package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/store"
)

// TestFirstScrapeLog: the "restored and scraping" line is logged once, for
// the first committed scrape of a target; vigil's own metrics, a
// transaction with nothing in it and a store failure do not count.
func TestFirstScrapeLog(t *testing.T) {
	db := store.New(store.DefaultOptions())
	defer db.Close()
	var log bytes.Buffer
	f := &firstScrape{Appendable: db, logger: slog.New(slog.NewTextHandler(&log, nil)), begin: time.Now()}
	scrape := func(job string, ts int64, up float64) error {
		app := f.Appender()
		for _, name := range []string{"node_load1", "up"} {
			v := 0.5
			if name == "up" {
				v = up
			}
			if _, err := app.Append(0, labels.FromStrings("__name__", name, "instance", "db1:9100", "job", job), ts, v); err != nil {
				return err
			}
		}
		return app.Commit()
	}
	lines := func() int { return strings.Count(log.String(), "restored and scraping") }

	require.NoError(t, scrape(selfJob, 1000, 1))
	require.NoError(t, f.Appender().Commit())
	require.Zero(t, lines(), "vigil's own metrics or an empty commit are no scrape of a target:\n%s", log.String())

	require.NoError(t, scrape("node", 1000, 0))
	require.Equal(t, 1, lines())
	require.Contains(t, log.String(), "job=node instance=db1:9100 up=0 since_start=")

	require.NoError(t, scrape("node", 2000, 1))
	require.Equal(t, 1, lines(), "once only")
	_, isWrapped := f.Appender().(*firstScrapeAppender)
	require.False(t, isWrapped, "after the first scrape the store's appender is handed out as is")
}

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
