package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape/peertest"
	"github.com/vigilterm/vigil/store"
)

// The remote-write tests run vigil as an operator would, against cmd/fleet,
// sending to real receivers on loopback, and then hold what the receivers
// have against what vigil's store has: every sample in the store must be
// in the receiver.
//
// TestRemoteWriteOutage and TestRemoteWriteSpoolBound take minutes: they
// run when VIGIL_LONG is set (.ci/run has a step for them).

// longTests says whether the tests that take minutes run.
func longTests(t *testing.T) {
	if os.Getenv("VIGIL_LONG") == "" {
		t.Skip("takes minutes: set VIGIL_LONG=1 to run it")
	}
}

// startFleetSD builds and starts cmd/fleet with n targets of about series
// series each, and returns its file_sd file.
func startFleetSD(t testing.TB, n, series int) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "fleet")
	if out, err := exec.Command("go", "build", "-o", bin, "../fleet").CombinedOutput(); err != nil {
		t.Fatalf("build fleet: %v\n%s", err, out)
	}
	sd := filepath.Join(dir, "fleet.json")
	listen := freeRange(t, n) // the fleet counts up from it
	cmd := exec.Command(bin, "-targets", strconv.Itoa(n), "-series", strconv.Itoa(series),
		"-listen", listen, "-sd-file", sd, "-body", "../../testdata/fleet/node_exporter.prom.txt")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "fleet: ready") {
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			t.Fatalf("the fleet did not start:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return sd
}

// freeRange returns a loopback address whose port and the n-1 above it
// were all free a moment ago.
func freeRange(t testing.TB, n int) string {
	t.Helper()
	for try := 0; try < 100; try++ {
		base := 20000 + rand.IntN(40000)
		ok := true
		for p := base; p < base+n && ok; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return fmt.Sprintf("127.0.0.1:%d", base)
		}
	}
	t.Fatalf("no %d free ports in a row", n)
	return ""
}

// vigilProc is a vigil started by a test.
type vigilProc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	debug  string // its --debug-listen address
}

func startVigil(t testing.TB, args ...string) *vigilProc {
	t.Helper()
	debug := peertest.FreePort(t)
	cmd := exec.Command(vigilBin, append([]string{"--headless", "--events", "none", "--debug-listen", debug}, args...)...)
	v := &vigilProc{cmd: cmd, stderr: &syncBuffer{}, debug: debug}
	cmd.Stdout, cmd.Stderr = v.stderr, v.stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return v
}

// stop ends vigil with SIGTERM, as an operator's service manager would.
func (v *vigilProc) stop(t testing.TB) {
	t.Helper()
	require.NoError(t, v.cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- v.cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "stderr:\n%s", v.stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("vigil did not stop; stderr:\n%s", v.stderr.String())
	}
}

// waitFor waits until cond holds, failing with what and vigil's log after
// timeout.
func (v *vigilProc) waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; vigil's log:\n%s", what, timeout, v.stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// metrics reads vigil's own metrics from its debug listener: each sample
// by its series as written ("name{labels}").
func (v *vigilProc) metrics(t testing.TB) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + v.debug + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		f, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = f
		}
	}
	return out
}

// ownMetric sums the samples of name whose series holds every label=value of
// match (written `label="value"`).
func ownMetric(ms map[string]float64, name string, match ...string) float64 {
	var sum float64
	for k, v := range ms {
		if k != name && !strings.HasPrefix(k, name+"{") {
			continue
		}
		ok := true
		for _, m := range match {
			ok = ok && strings.Contains(k, m)
		}
		if ok {
			sum += v
		}
	}
	return sum
}

// series is what a store or a receiver holds of one series: its samples
// (staleness markers left out, as count_over_time leaves them out).
type series struct {
	ts []int64
	vs []float64
}

// storeSeries reads every sample of the last snapshot in dataDir, by
// series, with the external labels ext added (as remote write adds them).
func storeSeries(t *testing.T, dataDir string, ext labels.Labels) (map[string]*series, []string, int64, int64) {
	t.Helper()
	db, err := store.OpenSnapshot(dataDir, store.Options{Retention: -1})
	require.NoError(t, err)
	defer db.Close()
	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	require.NoError(t, err)
	defer q.Close()
	out := map[string]*series{}
	names := map[string]bool{}
	mint, maxt := int64(math.MaxInt64), int64(math.MinInt64)
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, ".+"))
	for ss.Next() {
		l := ss.At().Labels()
		b := labels.NewBuilder(l)
		ext.Range(func(e labels.Label) {
			if !l.Has(e.Name) {
				b.Set(e.Name, e.Value)
			}
		})
		s := &series{}
		it := ss.At().Iterator(nil)
		for it.Next() == chunkenc.ValFloat {
			ts, v := it.At()
			mint, maxt = min(mint, ts), max(maxt, ts)
			if !value.IsStaleNaN(v) {
				s.ts, s.vs = append(s.ts, ts), append(s.vs, v)
			}
		}
		require.NoError(t, it.Err())
		out[b.Labels().String()] = s
		names[l.Get(labels.MetricName)] = true
	}
	require.NoError(t, ss.Err())
	var ns []string
	for n := range names {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return out, ns, mint, maxt
}

// aggregates are count_over_time and sum_over_time of one series.
type aggregates struct{ count, sum float64 }

// between is what a series holds in (from, to].
func (s *series) between(from, to int64) aggregates {
	var a aggregates
	for i, ts := range s.ts {
		if ts > from && ts <= to {
			a.count++
			a.sum += s.vs[i]
		}
	}
	return a
}

// receiverAggregates asks a receiver's query API for count_over_time and
// sum_over_time of every series of the metrics names over (from, to],
// one name at a time (the functions drop the name, which is put back).
func receiverAggregates(t *testing.T, base string, names []string, from, to int64) map[string]aggregates {
	t.Helper()
	out := map[string]aggregates{}
	window := strconv.FormatInt(to-from, 10) + "ms"
	at := strconv.FormatFloat(float64(to)/1000, 'f', 3, 64)
	for _, name := range names {
		sel := fmt.Sprintf("{__name__=%q}[%s]", name, window)
		for fn, set := range map[string]func(*aggregates, float64){
			"count_over_time": func(a *aggregates, v float64) { a.count = v },
			"sum_over_time":   func(a *aggregates, v float64) { a.sum = v },
		} {
			for l, v := range instantQuery(t, base, fn+"("+sel+")", at) {
				b := labels.NewBuilder(l)
				b.Set(labels.MetricName, name)
				k := b.Labels().String()
				a := out[k]
				set(&a, v)
				out[k] = a
			}
		}
	}
	return out
}

func instantQuery(t *testing.T, base, q, at string) map[labels.Labels]float64 {
	t.Helper()
	resp, err := http.PostForm(base+"/api/v1/query", url.Values{"query": {q}, "time": {at}})
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		Status, Error string
		Data          struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Equal(t, "success", body.Status, "%s: %s", q, body.Error)
	out := map[labels.Labels]float64{}
	for _, r := range body.Data.Result {
		v, err := strconv.ParseFloat(r.Value[1].(string), 64)
		require.NoError(t, err)
		out[labels.FromMap(r.Metric)] = v
	}
	return out
}

// sameSum compares sums that were added up in another order (and, by
// VictoriaMetrics, kept to about 14 significant digits).
func sameSum(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-11*math.Max(math.Abs(a), math.Abs(b))
}

// requireInReceiver checks that the receiver holds every sample the store
// holds in (from, to], series by series, by count_over_time and
// sum_over_time, polling while the receiver makes what it took
// searchable.
func requireInReceiver(t *testing.T, name, base string, want map[string]*series, names []string, from, to int64) {
	t.Helper()
	var diffs []string
	for try := 0; try < 50; try++ {
		if resp, err := http.Get(base + "/internal/force_flush"); err == nil { // VictoriaMetrics
			resp.Body.Close()
		}
		got := receiverAggregates(t, base, names, from, to)
		diffs = diffs[:0]
		for k, s := range want {
			w := s.between(from, to)
			if w.count == 0 {
				continue
			}
			g, ok := got[k]
			switch {
			case !ok:
				diffs = append(diffs, k+": missing")
			case g.count != w.count:
				diffs = append(diffs, fmt.Sprintf("%s: count_over_time %v, store %v", k, g.count, w.count))
			case !sameSum(g.sum, w.sum):
				diffs = append(diffs, fmt.Sprintf("%s: sum_over_time %v, store %v", k, g.sum, w.sum))
			}
		}
		if len(diffs) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	sort.Strings(diffs)
	n := len(diffs)
	if n > 10 {
		diffs = diffs[:10]
	}
	t.Fatalf("%s: %d series differ from vigil's store, e.g.:\n%s", name, n, strings.Join(diffs, "\n"))
}

// TestRemoteWriteFleet runs vigil on cmd/fleet with three remotes at once:
// VictoriaMetrics (1.0), Debian's Prometheus 2.42 asked for 2.0 (which it
// does not take: vigil falls back to 1.0) and Prometheus 3 (2.0). After a
// clean stop, every sample of every series in vigil's store (scraped,
// its own, a recording rule's, ALERTS and ALERTS_FOR_STATE) is in each
// receiver, with the external labels.
func TestRemoteWriteFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("runs vigil for half a minute")
	}
	vm := peertest.VictoriaMetrics(t)
	p2 := peertest.Prometheus(t, "global:\n  scrape_interval: 1h\n", nil, "--web.enable-remote-write-receiver")
	p3 := peertest.Prometheus3(t, "global:\n  scrape_interval: 1h\n", "--web.enable-remote-write-receiver",
		"--web.remote-write-receiver.accepted-protobuf-messages=prometheus.WriteRequest",
		"--web.remote-write-receiver.accepted-protobuf-messages=io.prometheus.write.v2.Request")
	sd := startFleetSD(t, 4, 300)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfg, []byte(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
  external_labels:
    site: e2e
scrape_configs:
  - job_name: fleet
    file_sd_configs: [{files: [`+sd+`]}]
remote_write:
  - name: victoria
    url: `+vm.URL+`/api/v1/write
    queue_config: {batch_send_deadline: 500ms}
  - name: prometheus-2
    url: `+p2.URL+`/api/v1/write
    protobuf_message: io.prometheus.write.v2.Request
    queue_config: {batch_send_deadline: 500ms}
  - name: prometheus-3
    url: `+p3.URL+`/api/v1/write
    protobuf_message: io.prometheus.write.v2.Request
    queue_config: {batch_send_deadline: 500ms, max_samples_per_send: 500}
`), 0o600))
	rules := filepath.Join(dir, "rules.yml")
	require.NoError(t, os.WriteFile(rules, []byte(`groups:
  - name: e2e
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: Up
        expr: up == 1
`), 0o600))
	data := filepath.Join(dir, "data")
	v := startVigil(t, "-c", cfg, "-r", rules, "--data-dir", data)
	v.waitFor(t, "samples sent to every remote", time.Minute, func() bool {
		ms := v.metrics(t)
		return ownMetric(ms, "vigil_remote_write_samples_sent_total", `remote="victoria"`) > 0 &&
			ownMetric(ms, "vigil_remote_write_samples_sent_total", `remote="prometheus-2"`) > 0 &&
			ownMetric(ms, "vigil_remote_write_samples_sent_total", `remote="prometheus-3"`) > 0 &&
			ownMetric(ms, "vigil_targets", `health="up"`) == 5
	})
	time.Sleep(8 * time.Second)
	ms := v.metrics(t)
	require.Equal(t, 1.0, ownMetric(ms, "vigil_remote_write_protocol_info", `remote="prometheus-2"`, `version="1.0"`, `fell_back="true"`), "2.42 does not take 2.0")
	require.Equal(t, 1.0, ownMetric(ms, "vigil_remote_write_protocol_info", `remote="prometheus-3"`, `version="2.0"`, `fell_back="false"`))
	v.stop(t)
	require.Contains(t, v.stderr.String(), "does not speak Remote-Write 2.0")

	want, names, mint, maxt := storeSeries(t, data, labels.FromStrings("site", "e2e"))
	for _, n := range []string{"node_cpu_seconds_total", "up", "vigil_store_series", "job:up:sum", "ALERTS", "ALERTS_FOR_STATE"} {
		require.Contains(t, names, n)
	}
	for _, r := range []struct{ name, url string }{{"victoria", vm.URL}, {"prometheus-2", p2.URL}, {"prometheus-3", p3.URL}} {
		t.Run(r.name, func(t *testing.T) {
			requireInReceiver(t, r.name, r.url, want, names, mint-1, maxt)
		})
	}
}

// samplesOf reads what VictoriaMetrics holds of every series, raw.
func samplesOf(t *testing.T, base string) map[string]map[int64]float64 {
	t.Helper()
	resp, err := http.PostForm(base+"/api/v1/export", url.Values{"match[]": {`{__name__=~".+"}`}})
	require.NoError(t, err)
	defer resp.Body.Close()
	out := map[string]map[int64]float64{}
	dec := json.NewDecoder(resp.Body)
	for dec.More() {
		var line struct {
			Metric     map[string]string
			Values     []any
			Timestamps []int64
		}
		require.NoError(t, dec.Decode(&line))
		k := labels.FromMap(line.Metric).String()
		m := out[k]
		if m == nil {
			m = map[int64]float64{}
			out[k] = m
		}
		for i, ts := range line.Timestamps {
			switch v := line.Values[i].(type) {
			case float64:
				m[ts] = v
			default: // NaN and the infinities come as strings
				m[ts], _ = strconv.ParseFloat(fmt.Sprint(v), 64)
			}
		}
	}
	return out
}

var stoppedRE = regexp.MustCompile(`remote write: stopped"? remote=victoria sent=(\d+) pending=(\d+) spooled_since_start=(\d+)`)

var pendingRE = regexp.MustCompile(`samples from before the restart wait in the spool and are sent first"? remote=victoria samples=(\d+)`)

// TestRemoteWriteOutage: the receiver is down for a while; in the middle
// of it vigil is killed (SIGKILL) and started again; when the receiver is
// back, every sample vigil's store holds is in it, and so are the samples
// the kill took from the store but not from the spool. The counters say
// what waited and what was sent.
func TestRemoteWriteOutage(t *testing.T) {
	longTests(t)
	vm := peertest.VictoriaMetrics(t)
	sd := startFleetSD(t, 4, 500)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfg, []byte(`global:
  scrape_interval: 1s
  external_labels: {site: outage}
scrape_configs:
  - job_name: fleet
    file_sd_configs: [{files: [`+sd+`]}]
remote_write:
  - name: victoria
    url: `+vm.URL+`/api/v1/write
    queue_config: {batch_send_deadline: 500ms, max_backoff: 2s}
`), 0o600))
	data := filepath.Join(dir, "data")
	args := []string{"-c", cfg, "--data-dir", data, "--snapshot-interval", "15s", "-a", "Up: up == 1"}
	a := startVigil(t, args...)
	a.waitFor(t, "samples sent", time.Minute, func() bool {
		return ownMetric(a.metrics(t), "vigil_remote_write_samples_sent_total") > 0
	})
	time.Sleep(10 * time.Second)

	const outage = 90 * time.Second
	vm.Stop(t)
	down := time.Now()
	time.Sleep(outage / 2)
	ms := a.metrics(t)
	require.Positive(t, ownMetric(ms, "vigil_remote_write_samples_retried_total"), "sends fail while the receiver is down")
	require.Positive(t, ownMetric(ms, "vigil_remote_write_samples_pending"))
	require.NoError(t, a.cmd.Process.Kill()) // SIGKILL: no final snapshot, no flush
	_ = a.cmd.Wait()
	t.Logf("receiver down at %d, vigil killed at %d", down.UnixMilli(), time.Now().UnixMilli())

	b := startVigil(t, args...)
	b.waitFor(t, "the restart says what waits", 30*time.Second, func() bool { return pendingRE.MatchString(b.stderr.String()) })
	waited, _ := strconv.Atoi(pendingRE.FindStringSubmatch(b.stderr.String())[1])
	require.Positive(t, waited)
	time.Sleep(outage - time.Since(down))
	vm.Restart(t)
	t.Logf("receiver back at %d", time.Now().UnixMilli())
	b.waitFor(t, "caught up after the outage", 3*time.Minute, func() bool {
		ms := b.metrics(t)
		return ownMetric(ms, "vigil_remote_write_samples_sent_total") > float64(waited) &&
			ownMetric(ms, "vigil_remote_write_samples_pending") < 20_000 && // caught up, bar what a few scrapes add
			ownMetric(ms, "vigil_remote_write_lag_seconds") < 5
	})
	ms = b.metrics(t)
	require.Zero(t, ownMetric(ms, "vigil_remote_write_samples_failed_total"))
	for _, reason := range []string{"spool_full", "damaged", "spool_write_failed"} {
		require.Zero(t, ownMetric(ms, "vigil_remote_write_samples_dropped_total", `reason="`+reason+`"`), reason)
	}
	b.stop(t)
	require.Contains(t, b.stderr.String(), "the receiver takes samples again")
	// What B sent and left is what waited from before the kill and what
	// it spooled itself: nothing lost, nothing counted twice.
	m := stoppedRE.FindStringSubmatch(b.stderr.String())
	require.NotNil(t, m, "the stop says what was sent; log:\n%s", b.stderr.String())
	sent, _ := strconv.Atoi(m[1])
	left, _ := strconv.Atoi(m[2])
	spooled, _ := strconv.Atoi(m[3])
	require.Equal(t, waited+spooled, sent+left, "sent %d + left %d against waited %d + spooled %d", sent, left, waited, spooled)
	t.Logf("%d samples waited across the kill, %d spooled since, %d sent, %d left in the spool", waited, spooled, sent, left)

	// Every sample in the store is in the receiver, raw. VictoriaMetrics
	// may take a moment to show the last it took: ask again a while.
	want, names, mint, maxt := storeSeries(t, data, labels.FromStrings("site", "outage"))
	var got map[string]map[int64]float64
	var missing []string
	var inStore int
	for try := 0; try < 50; try++ {
		if resp, err := http.Get(vm.URL + "/internal/force_flush"); err == nil {
			resp.Body.Close()
		}
		got = samplesOf(t, vm.URL)
		missing, inStore = missing[:0], 0
		for k, s := range want {
			g := got[k]
			for i, ts := range s.ts {
				inStore++
				if v, ok := g[ts]; !ok || !(v == s.vs[i] || math.IsNaN(v) && math.IsNaN(s.vs[i]) || sameSum(v, s.vs[i])) {
					missing = append(missing, fmt.Sprintf("%s @%d", k, ts))
				}
			}
		}
		if len(missing) == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(missing) > 0 {
		// What each side holds around the first sample missing.
		k, at, _ := strings.Cut(missing[0], " @")
		ts, _ := strconv.ParseInt(at, 10, 64)
		var near []string
		for i, x := range want[k].ts {
			if x >= ts-3000 && x <= ts+3000 {
				v, ok := got[k][x]
				near = append(near, fmt.Sprintf("%d store %v receiver %v %v", x, want[k].vs[i], v, ok))
			}
		}
		t.Logf("around %s:\n%s\nB's log:\n%s\nreceiver's log:\n%s", missing[0], strings.Join(near, "\n"), b.stderr.String(), vm.Log())
	}
	if len(missing) > 10 {
		missing = append(missing[:10], fmt.Sprintf("… %d in all", len(missing)))
	}
	require.Empty(t, missing, "of %d samples in the store", inStore)
	// The kill took from the store what its last snapshot had not: the
	// receiver has those too, from the spool. So it holds more.
	var inReceiver int
	for k := range want {
		for ts := range got[k] {
			if ts >= mint && ts <= maxt {
				inReceiver++
			}
		}
	}
	require.Greater(t, inReceiver, inStore, "the spool kept what the SIGKILL took from the store")
	// And by count_over_time and sum_over_time since the restart, where
	// the store is whole.
	requireInReceiver(t, "victoria", vm.URL, want, names, down.UnixMilli()+int64(outage/2/time.Millisecond)+5000, maxt)
}

// rss is a process's resident set, in bytes.
func rss(t testing.TB, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestRemoteWriteSpoolBound: a receiver that never answers; the spool
// reaches its bound (--remote-write-spool), the oldest samples are
// dropped and counted, the spool stays within the bound and vigil's
// memory stays flat.
func TestRemoteWriteSpoolBound(t *testing.T) {
	longTests(t)
	sd := startFleetSD(t, 5, 1000)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	nowhere := peertest.FreePort(t) // nothing listens: every send fails
	require.NoError(t, os.WriteFile(cfg, []byte(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: fleet
    file_sd_configs: [{files: [`+sd+`]}]
remote_write:
  - url: http://`+nowhere+`/api/v1/write
    queue_config: {max_backoff: 1s}
`), 0o600))
	const bound = 2 << 20
	data := filepath.Join(dir, "data")
	v := startVigil(t, "-c", cfg, "--data-dir", data, "--retention", "1m", "--remote-write-spool", "2MiB")
	spoolFull := func() float64 {
		return ownMetric(v.metrics(t), "vigil_remote_write_samples_dropped_total", `reason="spool_full"`)
	}
	v.waitFor(t, "the spool full", 3*time.Minute, func() bool { return spoolFull() > 0 })
	// The store's ring fills within its minute of retention too: from
	// then on, what vigil holds stays the same size.
	time.Sleep(30 * time.Second)
	before := rss(t, v.cmd.Process.Pid)
	dropped := spoolFull()
	time.Sleep(60 * time.Second)
	after := rss(t, v.cmd.Process.Pid)
	ms := v.metrics(t)
	require.Greater(t, spoolFull(), dropped, "the oldest go on being dropped")
	require.LessOrEqual(t, ownMetric(ms, "vigil_remote_write_spool_bytes"), float64(bound))
	require.Zero(t, ownMetric(ms, "vigil_remote_write_samples_sent_total"))
	var onDisk int64
	segs, _ := filepath.Glob(filepath.Join(data, "remote-write", "*.seg"))
	for _, s := range segs {
		fi, err := os.Stat(s)
		require.NoError(t, err)
		onDisk += fi.Size()
	}
	require.LessOrEqual(t, onDisk, int64(bound))
	t.Logf("RSS %d MiB → %d MiB over a minute with the spool full; %v samples dropped", before>>20, after>>20, spoolFull())
	require.Less(t, float64(after), 1.2*float64(before), "memory stays flat while the spool drops its oldest")
	v.stop(t)
}

var (
	rwBenchTargets = flag.Int("rw.targets", 100, "BenchmarkRemoteWriteRSS: fleet targets (about 1,000 series each)")
	rwBenchWarmup  = flag.Duration("rw.warmup", 2*time.Minute, "BenchmarkRemoteWriteRSS: time before the window")
	rwBenchWindow  = flag.Duration("rw.window", 3*time.Minute, "BenchmarkRemoteWriteRSS: the measurement window")
)

// cpuOf is a process's user and system CPU time, from /proc/PID/stat.
func cpuOf(t testing.TB, pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(t, err)
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// BenchmarkRemoteWriteRSS runs two vigils side by side on one fleet (100
// targets of about 1,000 series, every 5 s), one with a remote_write to a
// VictoriaMetrics and one without, and reports each one's RSS (the median
// over the window, sampled every 10 s), the ratio, and the CPU the one
// with the remote spent beyond the other's a sample sent. Run it alone:
//
//	go test ./cmd/vigil -run '^$' -bench RemoteWriteRSS -benchtime 1x -timeout 30m
func BenchmarkRemoteWriteRSS(b *testing.B) {
	vm := peertest.VictoriaMetrics(b)
	sd := startFleetSD(b, *rwBenchTargets, 1000)
	for range b.N {
		dir := b.TempDir()
		cfg := func(remote bool) string {
			body := "global:\n  scrape_interval: 5s\n  evaluation_interval: 5s\nscrape_configs:\n  - job_name: fleet\n    file_sd_configs: [{files: [" + sd + "]}]\n"
			if remote {
				body += "remote_write:\n  - url: " + vm.URL + "/api/v1/write\n"
			}
			name := filepath.Join(dir, fmt.Sprintf("remote-%v.yml", remote))
			require.NoError(b, os.WriteFile(name, []byte(body), 0o600))
			return name
		}
		with := startVigil(b, "-c", cfg(true), "--data-dir", filepath.Join(dir, "with"))
		without := startVigil(b, "-c", cfg(false), "--data-dir", filepath.Join(dir, "without"))
		time.Sleep(*rwBenchWarmup)
		for _, v := range []*vigilProc{with, without} {
			if up := ownMetric(v.metrics(b), "vigil_targets", `health="up"`); up != float64(*rwBenchTargets+1) {
				b.Fatalf("%v of %d targets up after the warm-up; log:\n%s", up, *rwBenchTargets+1, v.stderr.String())
			}
		}
		sent0 := ownMetric(with.metrics(b), "vigil_remote_write_samples_sent_total")
		cpuWith0, cpuWithout0 := cpuOf(b, with.cmd.Process.Pid), cpuOf(b, without.cmd.Process.Pid)
		var rssWith, rssWithout []int64
		for end := time.Now().Add(*rwBenchWindow); time.Now().Before(end); time.Sleep(10 * time.Second) {
			rssWith = append(rssWith, rss(b, with.cmd.Process.Pid))
			rssWithout = append(rssWithout, rss(b, without.cmd.Process.Pid))
		}
		ms := with.metrics(b)
		sent := ownMetric(ms, "vigil_remote_write_samples_sent_total") - sent0
		extraCPU := (cpuOf(b, with.cmd.Process.Pid) - cpuWith0) - (cpuOf(b, without.cmd.Process.Pid) - cpuWithout0)
		require.Zero(b, ownMetric(ms, "vigil_remote_write_samples_failed_total"))
		require.Positive(b, sent)
		with.stop(b)
		without.stop(b)
		median := func(xs []int64) float64 {
			sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
			return float64(xs[len(xs)/2])
		}
		mw, mo := median(rssWith), median(rssWithout)
		b.ReportMetric(mw/(1<<20), "rss-MiB-with-remote")
		b.ReportMetric(mo/(1<<20), "rss-MiB-without")
		b.ReportMetric(mw/mo, "rss-ratio")
		b.ReportMetric(float64(extraCPU.Nanoseconds())/sent, "extra-cpu-ns/sample-sent")
		b.ReportMetric(sent/rwBenchWindow.Seconds(), "samples-sent/s")
		b.ReportMetric(ownMetric(ms, "vigil_remote_write_spool_bytes")/(1<<20), "spool-MiB")
	}
}
