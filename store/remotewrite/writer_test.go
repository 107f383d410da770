package remotewrite

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/store"
)

// testConfig is a remote with short deadlines and backoffs, so that tests
// do not wait.
func testConfig(url string) Config {
	c := DefaultConfig
	c.URL = url
	c.Queue.BatchSendDeadline = 20 * time.Millisecond
	c.Queue.MinBackoff = 5 * time.Millisecond
	c.Queue.MaxBackoff = 50 * time.Millisecond
	c.Timeout = 5 * time.Second
	return c
}

func newTestWriter(t *testing.T, dir string) *Writer {
	t.Helper()
	w, err := New(Options{Dir: dir, Logger: quiet, SpoolBytes: 64 << 20, FlushDeadline: 5 * time.Second})
	require.NoError(t, err)
	return w
}

// eventually waits for cond, failing after 20s with what msg says.
func eventually(t *testing.T, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", msg())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// requireReceived checks that the receiver holds every sample of cs, in
// order per series, each series with the external labels ext added.
func requireReceived(t *testing.T, f *fakeReceiver, cs [][]store.CommittedSample, ext labels.Labels) {
	t.Helper()
	got := f.got()
	want := map[string][]store.CommittedSample{}
	for _, c := range cs {
		for _, s := range c {
			b := labels.NewBuilder(s.Labels)
			ext.Range(func(l labels.Label) {
				if !s.Labels.Has(l.Name) {
					b.Set(l.Name, l.Value)
				}
			})
			key := b.Labels().String()
			want[key] = append(want[key], s)
		}
	}
	require.Len(t, got, len(want))
	for key, ws := range want {
		gs := got[key]
		require.Len(t, gs, len(ws), key)
		for i := range ws {
			require.Equal(t, ws[i].T, gs[i].Timestamp, "%s sample %d", key, i)
			require.True(t, sameBits(ws[i].V, gs[i].Value), "%s sample %d: %v != %v", key, i, ws[i].V, gs[i].Value)
		}
	}
}

func total(cs [][]store.CommittedSample) int {
	n := 0
	for _, c := range cs {
		n += len(c)
	}
	return n
}

// TestWriterSends: every sample appended reaches the receiver, in order per
// series, staleness markers bit for bit, with the external labels; in 1.0
// and 2.0, with the spool on disk and in memory. 2.0 carries the families'
// types.
func TestWriterSends(t *testing.T) {
	for _, proto := range []Protocol{V1, V2} {
		for _, disk := range []bool{true, false} {
			t.Run(proto.Version()+map[bool]string{true: "/disk", false: "/memory"}[disk], func(t *testing.T) {
				f := newFakeReceiver(t)
				dir := ""
				if disk {
					dir = filepath.Join(t.TempDir(), SpoolDirName)
				}
				w, err := New(Options{Dir: dir, Logger: quiet, FlushDeadline: 5 * time.Second,
					Types: func() map[string]model.MetricType {
						return map[string]model.MetricType{"m_1": model.MetricTypeCounter, "m_2": model.MetricTypeGauge}
					}})
				require.NoError(t, err)
				c := testConfig(f.URL)
				c.Protocol = proto
				c.Queue.MaxSamplesPerSend = 97 // several requests a commit
				ext := labels.FromStrings("site", "bastion", "job", "ignored: the series' own wins")
				require.NoError(t, w.ApplyConfig([]Config{c}, ext))
				cs := commits(40, 30)
				for _, c := range cs {
					w.Append(c)
				}
				eventually(t, func() bool { return f.count() == total(cs) }, func() string { return "samples received" })
				require.NoError(t, w.Close())
				requireReceived(t, f, cs, ext)
				st := w.Status()
				require.Len(t, st.Remotes, 1)
				r := st.Remotes[0]
				require.EqualValues(t, total(cs), r.Sent)
				require.Zero(t, r.Pending)
				require.Zero(t, r.DroppedTotal())
				require.Equal(t, proto, r.Protocol)
				require.Equal(t, dir == "", st.InMemory)
				require.EqualValues(t, total(cs), st.Spooled)
				if proto == V2 {
					require.Equal(t, writev2.Metadata_METRIC_TYPE_COUNTER, f.types["m_1"])
					require.Equal(t, writev2.Metadata_METRIC_TYPE_GAUGE, f.types["m_2"])
					require.Equal(t, writev2.Metadata_METRIC_TYPE_UNSPECIFIED, f.types["m_3"])
				} else {
					require.NotEmpty(t, f.metadata, "1.0 sends the types in requests of their own")
				}
			})
		}
	}
}

// TestWriterRetries: 5xx and 429 are tried again with backoff (429 after
// its Retry-After) until the receiver takes the samples; nothing is lost
// and the counters say what was retried.
func TestWriterRetries(t *testing.T) {
	f := newFakeReceiver(t)
	var retryAfterWaited time.Duration
	var refusedAt time.Time
	f.answer = func(n int, r *http.Request) (int, http.Header) {
		switch {
		case n <= 2:
			return http.StatusServiceUnavailable, nil
		case n == 3:
			refusedAt = time.Now()
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}
		case n == 4:
			retryAfterWaited = time.Since(refusedAt)
		}
		return 0, nil
	}
	w := newTestWriter(t, "")
	require.NoError(t, w.ApplyConfig([]Config{testConfig(f.URL)}, labels.EmptyLabels()))
	cs := commits(5, 10)
	for _, c := range cs {
		w.Append(c)
	}
	eventually(t, func() bool { return w.Status().Remotes[0].Sent == uint64(total(cs)) }, func() string { return "samples sent" })
	st := w.Status().Remotes[0]
	require.NoError(t, w.Close())
	requireReceived(t, f, cs, labels.EmptyLabels())
	require.GreaterOrEqual(t, retryAfterWaited, time.Second, "Retry-After is honoured")
	require.Positive(t, st.Retried)
	require.EqualValues(t, total(cs), st.Sent)
	require.Zero(t, st.DroppedTotal())
	require.Contains(t, st.LastError, "429")
}

// TestWriterDropsRefused: a 4xx other than 429 drops the request's
// samples, counted, with the receiver's message (cleaned of control
// characters) as the last error; what comes after goes on.
func TestWriterDropsRefused(t *testing.T) {
	f := newFakeReceiver(t)
	f.answer = func(n int, r *http.Request) (int, http.Header) {
		if n == 1 {
			return http.StatusBadRequest, nil
		}
		return 0, nil
	}
	w := newTestWriter(t, "")
	require.NoError(t, w.ApplyConfig([]Config{testConfig(f.URL)}, labels.EmptyLabels()))
	cs := commits(1, 10)
	w.Append(cs[0])
	eventually(t, func() bool { return w.Status().Remotes[0].Failed == 10 }, func() string { return "samples refused" })
	more := commits(2, 10)[1:]
	w.Append(more[0])
	eventually(t, func() bool { return f.count() == 10 }, func() string { return "samples received" })
	st := w.Status().Remotes[0]
	require.NoError(t, w.Close())
	requireReceived(t, f, more, labels.EmptyLabels())
	require.EqualValues(t, 10, st.DroppedTotal())
	require.Contains(t, st.LastError, "HTTP 400 Bad Request: refused[31m by the fake receiver")
	require.NotContains(t, st.LastError, "\x1b")
}

// TestWriterFallsBack: a receiver that does not take 2.0 (415, or 2xx
// without the written-samples headers, as Prometheus 2.42 answers) gets
// the same samples again as 1.0, and every later request.
func TestWriterFallsBack(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(f *fakeReceiver)
	}{
		{"415", func(f *fakeReceiver) {
			f.answer = func(n int, r *http.Request) (int, http.Header) {
				if r.Header.Get("Content-Type") == contentTypeV2 {
					return http.StatusUnsupportedMediaType, nil
				}
				return 0, nil
			}
		}},
		{"2xx without headers", func(f *fakeReceiver) { f.v1Only = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeReceiver(t)
			tc.set(f)
			w := newTestWriter(t, "")
			c := testConfig(f.URL)
			c.Protocol = V2
			require.NoError(t, w.ApplyConfig([]Config{c}, labels.EmptyLabels()))
			cs := commits(6, 20)
			for _, c := range cs {
				w.Append(c)
			}
			eventually(t, func() bool { return f.count() == total(cs) }, func() string { return "samples received" })
			st := w.Status().Remotes[0]
			require.NoError(t, w.Close())
			requireReceived(t, f, cs, labels.EmptyLabels())
			require.True(t, st.FellBack)
			require.Equal(t, V1, st.Protocol)
			require.Equal(t, contentTypeV2, f.protos[0])
			require.Equal(t, contentTypeV1, f.protos[len(f.protos)-1])
		})
	}
}

// TestWriterRelabel: write_relabel_configs see the external labels and
// drop what they drop, counted; the rest goes relabelled.
func TestWriterRelabel(t *testing.T) {
	f := newFakeReceiver(t)
	w := newTestWriter(t, "")
	c := testConfig(f.URL)
	c.WriteRelabel = []*relabel.Config{
		{SourceLabels: model.LabelNames{"__name__"}, Regex: relabel.MustNewRegexp("m_1"), Action: relabel.Drop, Separator: ";"},
		{SourceLabels: model.LabelNames{"site"}, Regex: relabel.MustNewRegexp("(.*)"), TargetLabel: "dc", Replacement: "dc-$1", Action: relabel.Replace, Separator: ";"},
	}
	require.NoError(t, w.ApplyConfig([]Config{c}, labels.FromStrings("site", "a")))
	cs := commits(3, 14)
	for _, c := range cs {
		w.Append(c)
	}
	eventually(t, func() bool { return f.count() == 3*12 }, func() string { return "samples received" })
	st := w.Status().Remotes[0]
	require.NoError(t, w.Close())
	require.EqualValues(t, 3*2, st.Dropped[dropRelabel])
	require.Zero(t, st.DroppedTotal(), "relabelling is not a loss")
	for key := range f.got() {
		require.Contains(t, key, `dc="dc-a"`)
		require.NotContains(t, key, `__name__="m_1"`)
	}
}

// TestWriterRestart: samples the receiver could not take wait in the spool
// across a restart and are sent first, in order, when it answers again.
func TestWriterRestart(t *testing.T) {
	f := newFakeReceiver(t)
	down := true
	f.answer = func(int, *http.Request) (int, http.Header) {
		if down {
			return http.StatusBadGateway, nil
		}
		return 0, nil
	}
	dir := filepath.Join(t.TempDir(), SpoolDirName)
	w := newTestWriter(t, dir)
	require.NoError(t, w.ApplyConfig([]Config{testConfig(f.URL)}, labels.EmptyLabels()))
	cs := commits(20, 15)
	for _, c := range cs {
		w.Append(c)
	}
	eventually(t, func() bool { return w.Status().Remotes[0].Retried > 0 }, func() string { return "a retry" })
	require.NoError(t, w.Close())
	require.Zero(t, f.count())

	f.mu.Lock()
	down = false
	f.mu.Unlock()
	w = newTestWriter(t, dir)
	require.NoError(t, w.ApplyConfig([]Config{testConfig(f.URL)}, labels.EmptyLabels()))
	require.EqualValues(t, total(cs), w.Status().Remotes[0].Pending+int64(w.Status().Remotes[0].Sent))
	more := commits(22, 15)[20:]
	for _, c := range more {
		w.Append(c)
	}
	all := append(cs, more...)
	eventually(t, func() bool { return f.count() == total(all) }, func() string { return "samples received" })
	require.NoError(t, w.Close())
	requireReceived(t, f, all, labels.EmptyLabels())
	// Every segment was sent: none is left but the last.
	segs, _ := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	require.Len(t, segs, 1)
}

// TestWriterReload: a reload that changes a remote keeps its queue, one
// that removes a remote forgets its queue, one that adds one sends it what
// comes from then on.
func TestWriterReload(t *testing.T) {
	fa, fb := newFakeReceiver(t), newFakeReceiver(t)
	dir := filepath.Join(t.TempDir(), SpoolDirName)
	w := newTestWriter(t, dir)
	a := testConfig(fa.URL)
	a.Name = "a"
	require.NoError(t, w.ApplyConfig([]Config{a}, labels.EmptyLabels()))
	cs := commits(30, 10)
	for i, c := range cs {
		w.Append(c)
		if i == 10 {
			a.Headers = map[string]string{"X-Tenant": "t1"}
			require.NoError(t, w.ApplyConfig([]Config{a}, labels.EmptyLabels()))
		}
		if i == 20 {
			b := testConfig(fb.URL)
			require.NoError(t, w.ApplyConfig([]Config{a, b}, labels.EmptyLabels()))
		}
	}
	eventually(t, func() bool { return fa.count() == total(cs) && fb.count() == total(cs[21:]) },
		func() string { return "samples received" })
	requireReceived(t, fa, cs, labels.EmptyLabels())
	requireReceived(t, fb, cs[21:], labels.EmptyLabels())
	require.FileExists(t, filepath.Join(dir, cursorName(a.Name)))

	require.NoError(t, w.ApplyConfig([]Config{testConfig(fb.URL)}, labels.EmptyLabels()))
	_, err := os.Stat(filepath.Join(dir, cursorName(a.Name)))
	require.True(t, os.IsNotExist(err), "a removed remote's cursor goes")
	require.NoError(t, w.Close())

	// Two remotes of one name are refused, and the running ones stay.
	w = newTestWriter(t, dir)
	defer w.Close()
	require.NoError(t, w.ApplyConfig([]Config{testConfig(fb.URL)}, labels.EmptyLabels()))
	err = w.ApplyConfig([]Config{testConfig(fb.URL), testConfig(fb.URL)}, labels.EmptyLabels())
	require.ErrorContains(t, err, "two remotes named")
	require.Len(t, w.Status().Remotes, 1)
}

// TestCleanMessage: what a receiver says reaches the log and the console
// as one printable line.
func TestCleanMessage(t *testing.T) {
	require.Equal(t, "bad  sample [31m", cleanMessage("bad\n sample \x1b[31m\x00"))
	require.Equal(t, "", cleanMessage("\x07\u0085"))
	require.False(t, strings.ContainsRune(cleanMessage("a\u009bb"), '\u009b'))
}

// TestRetryAfter: seconds or an HTTP date, capped.
func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	require.Equal(t, 3*time.Second, retryAfter("3", now))
	require.Equal(t, 10*time.Second, retryAfter(now.Add(10*time.Second).Format(http.TimeFormat), now))
	require.Equal(t, defaultRetryAfterCeil, retryAfter("999999", now))
	require.Zero(t, retryAfter("soon", now))
	require.Zero(t, retryAfter("-5", now))
}

// TestWriterShards: with a backlog and a receiver that takes each request
// slowly, the queue sends more requests at once (up to max_shards), each
// series still in order; once caught up it goes back to min_shards.
func TestWriterShards(t *testing.T) {
	f := newFakeReceiver(t)
	f.answer = func(int, *http.Request) (int, http.Header) {
		time.Sleep(20 * time.Millisecond) // a slow receiver (the fake answers one request at a time)
		return 0, nil
	}
	w := newTestWriter(t, filepath.Join(t.TempDir(), SpoolDirName))
	c := testConfig(f.URL)
	c.Queue.MaxSamplesPerSend = 100
	c.Queue.MaxShards = 8
	require.NoError(t, w.ApplyConfig([]Config{c}, labels.EmptyLabels()))
	cs := commits(60, 50)
	for _, c := range cs {
		w.Append(c)
	}
	most := 0
	eventually(t, func() bool {
		most = max(most, w.Status().Remotes[0].Shards)
		return f.count() == total(cs)
	}, func() string { return "samples received" })
	requireReceived(t, f, cs, labels.EmptyLabels())
	require.Greater(t, most, 1, "a backlog sends on more shards")
	require.LessOrEqual(t, most, 8)
	// Once caught up, each chunk halves the shards. The samples that
	// follow are a millisecond apart in sample time, so that however
	// slow the machine, the remote is never a deadline behind.
	next := commits(61, 50)[60]
	eventually(t, func() bool {
		for i := range next {
			next[i].T++
		}
		w.Append(next)
		time.Sleep(20 * time.Millisecond)
		return w.Status().Remotes[0].Shards == 1
	}, func() string { return fmt.Sprint("back to min_shards: ", w.Status().Remotes[0]) })
	require.NoError(t, w.Close())
}

// TestWriterNoRemotes: a config without remotes leaves a spool an earlier
// run made with one segment, the one just started, whatever the number
// of starts.
func TestWriterNoRemotes(t *testing.T) {
	f := newFakeReceiver(t)
	dir := filepath.Join(t.TempDir(), SpoolDirName)
	w := newTestWriter(t, dir)
	require.NoError(t, w.ApplyConfig([]Config{testConfig(f.URL)}, labels.EmptyLabels()))
	w.Append(commits(1, 3)[0])
	require.NoError(t, w.Close())
	for range 3 {
		w = newTestWriter(t, dir)
		require.NoError(t, w.ApplyConfig(nil, labels.EmptyLabels()))
		w.Append(commits(1, 3)[0]) // no remote: not spooled
		require.Zero(t, w.Status().Spooled)
		require.NoError(t, w.Close())
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	require.Len(t, segs, 1)
	cursors, _ := filepath.Glob(filepath.Join(dir, "*"+cursorExt))
	require.Empty(t, cursors)
}
