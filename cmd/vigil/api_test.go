package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape/peertest"
	"github.com/vigilterm/vigil/store"
)

// TestPromtoolAgainstAPI: promtool query instant and query range against a
// running vigil's HTTP API print what `vigil query` prints over the same
// data, byte for byte, but for the order of an instant vector's samples,
// which PromQL leaves undefined (without sort()) and which follows the
// store's series order, not the same in a running store and in one
// restored from its snapshot.
func TestPromtoolAgainstAPI(t *testing.T) {
	promtool := peertest.Need(t, "prometheus", "promtool")
	dataDir := t.TempDir()

	// The data: a snapshot of ten minutes ending a minute ago.
	db, err := store.Open(dataDir, store.DefaultOptions())
	require.NoError(t, err)
	end := time.Now().Truncate(time.Second).Add(-time.Minute)
	app := db.Appender()
	for i := range 3 {
		gauge := labels.FromStrings("__name__", "apitest_gauge", "instance", fmt.Sprintf("host-%d:9100", i), "job", "node", "path", `C:\ "quoted"`)
		counter := labels.FromStrings("__name__", "apitest_total", "instance", fmt.Sprintf("host-%d:9100", i), "job", "node")
		for k := range 121 {
			ts := end.Add(-time.Duration(120-k) * 5 * time.Second).UnixMilli()
			_, err := app.Append(0, gauge, ts, float64(i)*1000+float64(k)*1.5+0.1)
			require.NoError(t, err)
			_, err = app.Append(0, counter, ts, float64(k*k*(i+1)))
			require.NoError(t, err)
		}
	}
	require.NoError(t, app.Commit())
	require.NoError(t, db.Close())

	// vigil serves it, scraping a target that is down.
	addr := peertest.FreePort(t)
	cmd := exec.Command(vigilBin, "--headless", "--events", "none", "--data-dir", dataDir,
		"--web.listen-address", addr, "--scrape-interval", "1s", "127.0.0.1:1")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "vigil serves: %s", &stderr)

	exprs := []string{
		`apitest_gauge`,
		`rate(apitest_total[1m])`,
		`sum by (job) (apitest_gauge) / 7`,
		`apitest_gauge{instance="host-1:9100"} > 1000`,
		`max_over_time(deriv(apitest_gauge[1m])[2m:])`,
		`scalar(count(apitest_total))`,
		`apitest_gauge{job="none"}`,
	}
	unix := func(t time.Time) string { return fmt.Sprint(t.Unix()) }
	type query struct {
		promtool, vigil []string
		instant         bool
	}
	var queries []query
	for _, e := range exprs {
		for _, at := range []time.Time{end, end.Add(-150 * time.Second)} {
			queries = append(queries, query{
				promtool: []string{"query", "instant", "--time", unix(at), "http://" + addr, e},
				vigil:    []string{"query", "--time", unix(at), e},
				instant:  true,
			})
		}
		queries = append(queries, query{
			promtool: []string{"query", "range", "--start", unix(end.Add(-5 * time.Minute)), "--end", unix(end), "--step", "30s", "http://" + addr, e},
			vigil:    []string{"query", "--range", "--start", unix(end.Add(-5 * time.Minute)), "--end", unix(end), "--step", "30s", e},
		})
	}
	fromAPI := make([]string, len(queries))
	for i, q := range queries {
		out, err := exec.Command(promtool, q.promtool...).Output()
		require.NoError(t, err, "promtool %v", q.promtool)
		fromAPI[i] = string(out)
	}

	// vigil stops, with a final snapshot, which `vigil query` reads.
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "%s", &stderr)
	stopped = true
	for i, q := range queries {
		var out, errb bytes.Buffer
		code := run(context.Background(), append(q.vigil[:1:1], append([]string{"--data-dir", dataDir}, q.vigil[1:]...)...), &out, &errb)
		require.Equal(t, exitOK, code, "%v: %s", q.vigil, errb.String())
		want, got := fromAPI[i], out.String()
		if q.instant {
			want, got = sortedLines(want), sortedLines(got)
		}
		require.Equal(t, want, got, "promtool %v", q.promtool)
	}
	require.Contains(t, fromAPI[0], `path="C:\\ \"quoted\""`, "the data went through")
}

func sortedLines(s string) string {
	lines := strings.Split(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
