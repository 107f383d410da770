package remotewrite

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape/peertest"
	"github.com/vigilterm/vigil/store"
)

// The real receivers: what each one is, and what it must show.
//
// Each test writes ten minutes of samples (ending now, so that every
// receiver takes them) through a Writer, closes it (which sends what is
// queued), and then asks the receiver, through its query API, for
// count_over_time and sum_over_time of every series, and compares them
// with what was written.

// peerCommits is ten minutes of 5s scrapes of series series ending now,
// with values of many digits, whole numbers and staleness markers.
func peerCommits(series int, now time.Time) [][]store.CommittedSample {
	const steps = 120
	end := now.Truncate(time.Second).UnixMilli()
	var out [][]store.CommittedSample
	lsets := make([]labels.Labels, series)
	for i := range lsets {
		lsets[i] = labels.FromStrings("__name__", fmt.Sprintf("rw_test_%d", i%5), "instance", fmt.Sprintf("host%d:9100", i/5), "job", "node")
	}
	for c := range steps {
		t := end - int64(steps-1-c)*5000
		var batch []store.CommittedSample
		for i, l := range lsets {
			v := float64(c*i) * 1.0000001
			switch {
			case i%4 == 0:
				v = 7
			case i%4 == 1:
				v = float64(c) * 1e9
			case c == steps/2 && i%3 == 0:
				v = math.Float64frombits(value.StaleNaN)
			}
			batch = append(batch, store.CommittedSample{Ref: storage.SeriesRef(i + 1), Labels: l, T: t, V: v})
		}
		out = append(out, batch)
	}
	return out
}

// expected is count_over_time and sum_over_time of each series, by its
// labels with ext added, staleness markers left out as PromQL does.
type agg struct {
	count float64
	sum   float64
}

func expected(cs [][]store.CommittedSample, ext labels.Labels) map[string]agg {
	out := map[string]agg{}
	for _, c := range cs {
		for _, s := range c {
			b := labels.NewBuilder(s.Labels)
			ext.Range(func(l labels.Label) { b.Set(l.Name, l.Value) })
			k := b.Labels().String()
			a := out[k]
			if !value.IsStaleNaN(s.V) {
				a.count++
				a.sum += s.V
			}
			out[k] = a
		}
	}
	return out
}

// queryVector runs an instant query and returns each series' value, by
// its labels.
func queryVector(t *testing.T, base, q string, at time.Time) map[string]float64 {
	t.Helper()
	u := base + "/api/v1/query?" + url.Values{"query": {q}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}.Encode()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Equal(t, "success", body.Status, "%s: %s", q, body.Error)
	out := map[string]float64{}
	keysMu.Lock()
	defer keysMu.Unlock()
	for _, r := range body.Data.Result {
		v, err := strconv.ParseFloat(r.Value[1].(string), 64)
		require.NoError(t, err)
		out[labels.FromMap(r.Metric).String()] = v
		keys[labels.FromMap(r.Metric).String()] = labels.FromMap(r.Metric)
	}
	return out
}

// compareWithPeer polls the receiver until its count_over_time and
// sum_over_time of every series of want (metric names rw_test_0 to 4)
// match (sums within a relative tolerance tol), failing with the
// differences after a while.
func compareWithPeer(t *testing.T, p *peertest.Peer, window string, at time.Time, want map[string]agg, tol float64) {
	t.Helper()
	// VictoriaMetrics makes what it took searchable within seconds, or
	// at once when asked; Prometheus ignores the path.
	if resp, err := http.Get(p.URL + "/internal/force_flush"); err == nil {
		resp.Body.Close()
	}
	var diffs []string
	for try := 0; try < 100; try++ {
		counts, sums := map[string]float64{}, map[string]float64{}
		for i := range 5 {
			name := fmt.Sprintf("rw_test_%d", i)
			// count_over_time drops the name: put it back.
			for k, v := range queryVector(t, p.URL, "count_over_time("+name+"["+window+"])", at) {
				counts[withName(k, name)] = v
			}
			for k, v := range queryVector(t, p.URL, "sum_over_time("+name+"["+window+"])", at) {
				sums[withName(k, name)] = v
			}
		}
		diffs = diffs[:0]
		for k, w := range want {
			c, ok := counts[k]
			if !ok {
				diffs = append(diffs, k+": missing")
				continue
			}
			if c != w.count {
				diffs = append(diffs, fmt.Sprintf("%s: count %v, want %v", k, c, w.count))
			}
			if s := sums[k]; math.Abs(s-w.sum) > tol*math.Max(math.Abs(w.sum), 1) {
				diffs = append(diffs, fmt.Sprintf("%s: sum %v, want %v", k, s, w.sum))
			}
		}
		if len(counts) != len(want) {
			diffs = append(diffs, fmt.Sprintf("%d series, want %d", len(counts), len(want)))
		}
		if len(diffs) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(diffs) > 10 {
		diffs = append(diffs[:10], fmt.Sprintf("… and %d more", len(diffs)-10))
	}
	t.Fatalf("the receiver does not hold what was written:\n%v\n%s", diffs, p.Log())
}

// withName adds the metric name to a series key of labels.String form.
func withName(key, name string) string {
	l, err := parseLabels(key)
	if err != nil {
		return key
	}
	b := labels.NewBuilder(l)
	b.Set(labels.MetricName, name)
	return b.Labels().String()
}

// writeTo writes cs to a remote at url with protocol proto, closes the
// writer (which sends what is queued) and returns its last status.
func writeTo(t *testing.T, url string, proto Protocol, ext labels.Labels, cs [][]store.CommittedSample) RemoteStatus {
	t.Helper()
	w, err := New(Options{Dir: t.TempDir(), Logger: quiet, FlushDeadline: 30 * time.Second})
	require.NoError(t, err)
	c := DefaultConfig
	c.URL, c.Protocol = url, proto
	c.Queue.BatchSendDeadline = 100 * time.Millisecond
	require.NoError(t, w.ApplyConfig([]Config{c}, ext))
	for _, b := range cs {
		w.Append(b)
	}
	require.NoError(t, w.Close())
	st := w.Status().Remotes[0]
	require.EqualValues(t, total(cs), st.Sent, "last error: %s", st.LastError)
	require.Zero(t, st.Pending)
	require.Zero(t, st.DroppedTotal(), "last error: %s", st.LastError)
	return st
}

// TestPeerVictoriaMetrics: VictoriaMetrics single-node takes 1.0 at
// /api/v1/write; it keeps about 14 significant digits, so sums compare
// with a relative tolerance.
func TestPeerVictoriaMetrics(t *testing.T) {
	vm := peertest.VictoriaMetrics(t)
	now := time.Now()
	ext := labels.FromStrings("site", "bastion")
	cs := peerCommits(60, now)
	writeTo(t, vm.URL+"/api/v1/write", V1, ext, cs)
	compareWithPeer(t, vm, "11m", now.Add(time.Second), expected(cs, ext), 1e-12)
}

// TestPeerVictoriaMetricsFallBack: VictoriaMetrics 1.79 answers 2.0 with
// 204 and none of 2.0's headers: vigil falls back to 1.0 and resends.
func TestPeerVictoriaMetricsFallBack(t *testing.T) {
	vm := peertest.VictoriaMetrics(t)
	now := time.Now()
	cs := peerCommits(20, now)
	st := writeTo(t, vm.URL+"/api/v1/write", V2, labels.EmptyLabels(), cs)
	require.True(t, st.FellBack)
	compareWithPeer(t, vm, "11m", now.Add(time.Second), expected(cs, labels.EmptyLabels()), 1e-12)
}

// TestPeerPrometheus: Debian's Prometheus 2.42 with its remote-write
// receiver takes 1.0; asked for 2.0, it answers 204 and stores nothing,
// and vigil falls back to 1.0 and resends.
func TestPeerPrometheus(t *testing.T) {
	for _, proto := range []Protocol{V1, V2} {
		t.Run(proto.Version(), func(t *testing.T) {
			p := peertest.Prometheus(t, "global:\n  scrape_interval: 1h\n", nil, "--web.enable-remote-write-receiver")
			now := time.Now()
			ext := labels.FromStrings("site", "bastion")
			cs := peerCommits(60, now)
			st := writeTo(t, p.URL+"/api/v1/write", proto, ext, cs)
			require.Equal(t, proto == V2, st.FellBack)
			require.Equal(t, V1, st.Protocol)
			compareWithPeer(t, p, "11m", now.Add(time.Second), expected(cs, ext), 1e-12)
		})
	}
}

// TestPeerPrometheus3: Remote-Write 2.0 against the Prometheus 3 of the
// pinned module, which answers with the written-samples headers; with
// only 1.0 accepted it answers 2.0 with 415, and vigil falls back.
func TestPeerPrometheus3(t *testing.T) {
	for _, tc := range []struct {
		name     string
		accept   []string
		fellBack bool
	}{
		{"2.0", []string{string(V1), string(V2)}, false},
		{"415", []string{string(V1)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"--web.enable-remote-write-receiver"}
			for _, m := range tc.accept {
				args = append(args, "--web.remote-write-receiver.accepted-protobuf-messages="+m)
			}
			p := peertest.Prometheus3(t, "global:\n  scrape_interval: 1h\n", args...)
			now := time.Now()
			ext := labels.FromStrings("site", "bastion")
			cs := peerCommits(60, now)
			st := writeTo(t, p.URL+"/api/v1/write", V2, ext, cs)
			require.Equal(t, tc.fellBack, st.FellBack)
			compareWithPeer(t, p, "11m", now.Add(time.Second), expected(cs, ext), 1e-12)
			if !tc.fellBack {
				// 2.0 carried each family's type; none was known here.
				md := queryMetadata(t, p.URL)
				require.NotContains(t, md, "rw_test_1")
			}
		})
	}
}

func queryMetadata(t *testing.T, base string) map[string]any {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/metadata")
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct{ Data map[string]any }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return body.Data
}

// keys maps the keys queryVector returns back to their labels.
var (
	keysMu sync.Mutex
	keys   = map[string]labels.Labels{}
)

func parseLabels(key string) (labels.Labels, error) {
	keysMu.Lock()
	defer keysMu.Unlock()
	l, ok := keys[key]
	if !ok {
		return labels.EmptyLabels(), fmt.Errorf("unknown key %q", key)
	}
	return l, nil
}
