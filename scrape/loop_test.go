package scrape_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/store"
)

// body serves whatever the test puts in it, as text 0.0.4.
type body struct {
	v atomic.Value
}

func (b *body) set(s string) { b.v.Store(s) }

func (b *body) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	s, _ := b.v.Load().(string)
	fmt.Fprint(w, s)
}

// newTestLoop builds a loop for one target served by h, with the scrape
// config changed by mod.
func newTestLoop(t *testing.T, h http.Handler, db *testDB, mod func(*scrape.ScrapeConfig)) (*scrape.TestLoop, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return newTestLoopAt(t, srv.Listener.Addr().String(), db, mod), srv.Listener.Addr().String()
}

func newTestLoopAt(t *testing.T, addr string, db *testDB, mod func(*scrape.ScrapeConfig)) *scrape.TestLoop {
	t.Helper()
	cfg, err := scrape.NewStaticConfig([]string{addr}, time.Second)
	require.NoError(t, err)
	sc := cfg.ScrapeConfigs[0]
	sc.JobName = "test"
	if mod != nil {
		mod(sc)
	}
	l, err := scrape.NewTestLoop(sc, db)
	require.NoError(t, err)
	return l
}

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func tl(addr string, kv ...string) labels.Labels {
	return labels.FromStrings(append([]string{"job", "test", "instance", addr}, kv...)...)
}

func TestScrapeAppendsSamplesAndSyntheticSeries(t *testing.T) {
	db := newTestDB(t)
	b := &body{}
	b.set("# TYPE a counter\na_total 1\nb{x=\"1\"} 2\nb{x=\"2\"} 3\n")
	l, addr := newTestLoop(t, b, db, nil)

	h := l.Scrape(t0)
	require.Equal(t, scrape.HealthUp, h.Health, h.LastError)
	require.Equal(t, 3, h.LastSamples)
	require.Equal(t, 3, h.Series)
	require.Equal(t, "test", h.Job)
	require.Equal(t, addr, h.Instance)

	ms := t0.UnixMilli()
	require.Equal(t, []sample{{ms, 1}}, db.samples(tl(addr, "__name__", "a_total")))
	require.Equal(t, []sample{{ms, 3}}, db.samples(tl(addr, "__name__", "b", "x", "2")))
	for name, v := range map[string]float64{"up": 1, "scrape_samples_scraped": 3, "scrape_samples_post_metric_relabeling": 3, "scrape_series_added": 3} {
		require.Equal(t, []sample{{ms, v}}, db.samples(tl(addr, "__name__", name)), name)
	}
	d, ok := db.last(tl(addr, "__name__", "scrape_duration_seconds"))
	require.True(t, ok)
	require.Greater(t, d.V, 0.0)

	// The second scrape adds no series; a vanished series goes stale.
	b.set("a_total 2\nb{x=\"1\"} 2\n")
	h = l.Scrape(t0.Add(time.Second))
	require.Equal(t, 2, h.Series)
	ms2 := t0.Add(time.Second).UnixMilli()
	s, _ := db.last(tl(addr, "__name__", "b", "x", "2"))
	require.Equal(t, ms2, s.T)
	require.True(t, isStale(s.V))
	s, _ = db.last(tl(addr, "__name__", "scrape_series_added"))
	require.Equal(t, sample{ms2, 0}, s)
	s, _ = db.last(tl(addr, "__name__", "a_total"))
	require.Equal(t, sample{ms2, 2}, s)

	// It comes back: a new sample after the marker, counted as a new series
	// only by the store, not by the loop's cache.
	b.set("a_total 3\nb{x=\"1\"} 2\nb{x=\"2\"} 4\n")
	l.Scrape(t0.Add(2 * time.Second))
	s, _ = db.last(tl(addr, "__name__", "b", "x", "2"))
	require.Equal(t, sample{t0.Add(2 * time.Second).UnixMilli(), 4}, s)
}

func TestScrapeRequest(t *testing.T) {
	var got http.Header
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		fmt.Fprint(zw, "zipped 1\n")
		zw.Close()
	})
	db := newTestDB(t)
	l, addr := newTestLoop(t, h, db, func(sc *scrape.ScrapeConfig) { sc.ScrapeTimeout = 750e6 })
	hl := l.Scrape(t0)
	require.Equal(t, scrape.HealthUp, hl.Health, hl.LastError)
	require.Equal(t, "gzip", got.Get("Accept-Encoding"))
	require.Equal(t, "0.75", got.Get("X-Prometheus-Scrape-Timeout-Seconds"))
	require.True(t, strings.HasPrefix(got.Get("User-Agent"), "vigil/"))
	require.Equal(t, "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2", got.Get("Accept"))
	_, ok := db.last(tl(addr, "__name__", "zipped"))
	require.True(t, ok)
}

func TestScrapeFormats(t *testing.T) {
	for _, tc := range []struct {
		name, ct, body string
	}{
		{"text 0.0.4", "text/plain; version=0.0.4", "m{a=\"1\"} 5\n"},
		{"openmetrics", "application/openmetrics-text; version=1.0.0; charset=utf-8", "# TYPE m gauge\nm{a=\"1\"} 5\n# EOF\n"},
		{"no content type", "", "m{a=\"1\"} 5\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Content-Type"] = nil
				if tc.ct != "" {
					w.Header().Set("Content-Type", tc.ct)
				}
				fmt.Fprint(w, tc.body)
			})
			db := newTestDB(t)
			l, addr := newTestLoop(t, h, db, nil)
			hl := l.Scrape(t0)
			require.Equal(t, scrape.HealthUp, hl.Health, hl.LastError)
			require.Equal(t, []sample{{t0.UnixMilli(), 5}}, db.samples(tl(addr, "__name__", "m", "a", "1")))
		})
	}
}

func TestHonorLabelsAndTimestamps(t *testing.T) {
	b := &body{}
	b.set("m{job=\"inner\",instance=\"i\",exported_job=\"x\"} 1 1000\n")
	t.Run("honor_labels false renames", func(t *testing.T) {
		db := newTestDB(t)
		l, addr := newTestLoop(t, b, db, nil)
		require.Equal(t, scrape.HealthUp, l.Scrape(t0).Health)
		// As in Prometheus: the sample's own exported_job is kept, so its
		// job becomes exported_exported_job.
		want := tl(addr, "__name__", "m", "exported_job", "x", "exported_instance", "i", "exported_exported_job", "inner")
		require.Equal(t, []sample{{1000, 1}}, db.samples(want), db.names())
	})
	t.Run("honor_labels true keeps", func(t *testing.T) {
		db := newTestDB(t)
		l, _ := newTestLoop(t, b, db, func(sc *scrape.ScrapeConfig) { sc.HonorLabels = true; sc.HonorTimestamps = false })
		require.Equal(t, scrape.HealthUp, l.Scrape(t0).Health)
		want := labels.FromStrings("__name__", "m", "job", "inner", "instance", "i", "exported_job", "x")
		require.Equal(t, []sample{{t0.UnixMilli(), 1}}, db.samples(want), db.names())
	})
}

func TestMetricRelabeling(t *testing.T) {
	b := &body{}
	b.set("keep 1\ngo_drop 2\n")
	db := newTestDB(t)
	cfgText := `
scrape_configs:
  - job_name: test
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: "go_.*"
        action: drop
`
	sc := loadString(t, cfgText).ScrapeConfigs[0]
	l, addr := newTestLoop(t, b, db, func(s *scrape.ScrapeConfig) { s.MetricRelabelConfigs = sc.MetricRelabelConfigs })
	require.Equal(t, scrape.HealthUp, l.Scrape(t0).Health)
	_, ok := db.last(tl(addr, "__name__", "go_drop"))
	require.False(t, ok)
	s, _ := db.last(tl(addr, "__name__", "scrape_samples_post_metric_relabeling"))
	require.Equal(t, 1.0, s.V)
	s, _ = db.last(tl(addr, "__name__", "scrape_samples_scraped"))
	require.Equal(t, 2.0, s.V)
}

// TestScrapeFailures covers every way a scrape fails: each fails only that
// scrape, with up=0, stale markers for the series of the last good scrape,
// and a short, sanitised error on the target.
func TestScrapeFailures(t *testing.T) {
	const good = "g{a=\"1\"} 1\n"
	for _, tc := range []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
		mod     func(*scrape.ScrapeConfig)
		refused bool // the server address is closed
		err     string
	}{
		{
			name: "timeout",
			handler: func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			},
			mod: func(sc *scrape.ScrapeConfig) { sc.ScrapeTimeout = 200e6 },
			err: "timeout: no complete response within 200ms (scrape_timeout)",
		},
		{
			name:    "connection refused",
			refused: true,
			err:     "connection refused",
		},
		{
			name: "HTTP 500",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "boom", http.StatusInternalServerError)
			},
			err: "server returned HTTP status 500 Internal Server Error",
		},
		{
			name: "body over the limit",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.(http.Flusher).Flush() // chunked: no Content-Length
				fmt.Fprint(w, strings.Repeat("m 1\n", 1000))
			},
			mod: func(sc *scrape.ScrapeConfig) { sc.BodySizeLimit = 1024 },
			err: "body size limit exceeded: the body is larger than 1024 bytes (body_size_limit)",
		},
		{
			name: "body declared over the limit",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "4000")
				fmt.Fprint(w, strings.Repeat("m 1\n", 1000))
			},
			mod: func(sc *scrape.ScrapeConfig) { sc.BodySizeLimit = 1024 },
			err: "body size limit exceeded: the body is 4000 bytes, over 1024 (body_size_limit)",
		},
		{
			name: "gzip body over the limit uncompressed",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				zw := gzip.NewWriter(w)
				fmt.Fprint(zw, strings.Repeat("m 1\n", 10000))
				zw.Close()
			},
			mod: func(sc *scrape.ScrapeConfig) { sc.BodySizeLimit = 4096 },
			err: "body size limit exceeded: the body is larger than 4096 bytes (body_size_limit)",
		},
		{
			name: "garbage body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain; version=0.0.4")
				w.Write([]byte("<html><body>garbage{{{ not metrics</body></html>\n"))
			},
			err: "parse body:",
		},
		{
			name: "sample_limit exceeded",
			handler: func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, "a 1\nb 2\nc 3\n")
			},
			mod: func(sc *scrape.ScrapeConfig) { sc.SampleLimit = 2 },
			err: "sample_limit exceeded: more than 2 samples after metric relabeling",
		},
		{
			name: "label_limit exceeded",
			handler: func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, "a{x=\"1\",y=\"2\"} 1\n")
			},
			mod: func(sc *scrape.ScrapeConfig) { sc.LabelLimit = 4 },
			err: "label_limit exceeded (metric: a, number of labels: 5, limit: 4)",
		},
		{
			name: "label_value_length_limit exceeded",
			handler: func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, "a{x=\"1234567890123456789012345\"} 1\n")
			},
			mod: func(sc *scrape.ScrapeConfig) { sc.LabelValueLengthLimit = 20 },
			err: `label_value_length_limit exceeded (metric: a, label name: x, value: "1234567890123456789012345", length: 25, limit: 20)`,
		},
		{
			name: "label_name_length_limit exceeded",
			handler: func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, "a{a_very_long_label_name=\"1\"} 1\n")
			},
			mod: func(sc *scrape.ScrapeConfig) { sc.LabelNameLengthLimit = 10 },
			err: "label_name_length_limit exceeded (metric: a, label name: a_very_long_label_name, length: 22, limit: 10)",
		},
		{
			name: "invalid UTF-8 in a label value",
			handler: func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, "a{x=\"\xff\xfe\x1b[31m\"} 1\n")
			},
			err: "parse body: invalid UTF-8 label value",
		},
		{
			name: "redirect loop",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, r.URL.Path, http.StatusFound)
			},
			err: "stopped after 10 redirects",
		},
		{
			name: "hangs after the headers",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain; version=0.0.4")
				w.WriteHeader(http.StatusOK)
				fmt.Fprint(w, "m 1\nhal")
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			},
			mod: func(sc *scrape.ScrapeConfig) { sc.ScrapeTimeout = 200e6 },
			err: "timeout: no complete response within 200ms (scrape_timeout)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var failing atomic.Bool
			var addr string
			var lp *scrape.TestLoop
			db := newTestDB(t)
			if tc.refused {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				addr = ln.Addr().String()
				srv := &http.Server{Handler: &body{}}
				b := &body{}
				b.set(good)
				srv.Handler = b
				go srv.Serve(ln)
				lp = newTestLoopAt(t, addr, db, tc.mod)
				h := lp.Scrape(t0)
				require.Equal(t, scrape.HealthUp, h.Health, h.LastError)
				srv.Close()
			} else {
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if failing.Load() {
						tc.handler(w, r)
						return
					}
					fmt.Fprint(w, good)
				})
				lp, addr = newTestLoop(t, h, db, tc.mod)
				hl := lp.Scrape(t0)
				require.Equal(t, scrape.HealthUp, hl.Health, hl.LastError)
				failing.Store(true)
			}

			t1 := t0.Add(time.Second)
			h := lp.Scrape(t1)
			require.Equal(t, scrape.HealthDown, h.Health)
			require.Contains(t, h.LastError, tc.err)
			require.Equal(t, scrape.Sanitize(h.LastError, 0), h.LastError, "the error is sanitised")
			require.Equal(t, t1, h.LastScrape)

			up, _ := db.last(tl(addr, "__name__", "up"))
			require.Equal(t, sample{t1.UnixMilli(), 0}, up)
			g, _ := db.last(tl(addr, "__name__", "g", "a", "1"))
			require.Equal(t, t1.UnixMilli(), g.T)
			require.True(t, isStale(g.V), "the series of the last good scrape are stale")
			for _, n := range db.names() {
				require.NotContains(t, n, "\xff", "nothing of the failed body is stored")
				require.NotContains(t, n, `"c"`)
			}
		})
	}
}

func TestDuplicateSeriesInOneBody(t *testing.T) {
	b := &body{}
	b.set("d{a=\"1\"} 1\nd{a=\"1\"} 2\nd {a=\"2\"} 3\nd{a=\"2\"} 4\n")
	db := newTestDB(t)
	l, addr := newTestLoop(t, b, db, nil)
	h := l.Scrape(t0)
	require.Equal(t, scrape.HealthUp, h.Health)
	require.Equal(t, `2 samples dropped (2 duplicate series in one body), e.g. {__name__="d", a="1", instance="`+addr+`", job="test"}`, h.LastWarning)
	require.Equal(t, []sample{{t0.UnixMilli(), 1}}, db.samples(tl(addr, "__name__", "d", "a", "1")))
	s, _ := db.last(tl(addr, "__name__", "scrape_samples_post_metric_relabeling"))
	require.Equal(t, 2.0, s.V)
}

func TestEscapeSequencesAreStoredButNotShown(t *testing.T) {
	b := &body{}
	b.set("e{v=\"\x1b]0;pwned\x07\x1b[2J\"} 1\n")
	db := newTestDB(t)
	l, addr := newTestLoop(t, b, db, func(sc *scrape.ScrapeConfig) {
		sc.StaticConfigs[0].Labels = map[string]string{"owner": "\x1b[31mred"}
	})
	h := l.Scrape(t0)
	require.Equal(t, scrape.HealthUp, h.Health, h.LastError)
	// The value is data and is kept as sent (valid UTF-8); whoever shows
	// it sanitises it.
	_, ok := db.last(tl(addr, "__name__", "e", "owner", "\x1b[31mred", "v", "\x1b]0;pwned\x07\x1b[2J"))
	require.True(t, ok, db.names())
	require.Equal(t, "red", scrape.Sanitize(h.Labels.Get("owner"), 0))
}

func TestInternalTarget(t *testing.T) {
	db := newTestDB(t)
	n := 0.0
	l := scrape.NewTestFuncLoop(scrape.InternalTarget{
		Job: "vigil", Instance: "self",
		Collect: func(_ context.Context, w io.Writer) error {
			n++
			tw := scrape.NewTextWriter(w)
			tw.Header("vigil_things", "gauge", "Things.")
			tw.Sample("vigil_things", n, "kind", "a \"quoted\"\nvalue")
			return tw.Err()
		},
	}, db)
	h := l.Scrape(t0)
	require.Equal(t, scrape.HealthUp, h.Health, h.LastError)
	require.Equal(t, "internal:vigil", h.URL)
	s, ok := db.last(labels.FromStrings("__name__", "vigil_things", "job", "vigil", "instance", "self", "kind", "a \"quoted\"\nvalue"))
	require.True(t, ok, db.names())
	require.Equal(t, 1.0, s.V)
	up, _ := db.last(labels.FromStrings("__name__", "up", "job", "vigil", "instance", "self"))
	require.Equal(t, 1.0, up.V)
}

func TestOffsetsSpreadTargets(t *testing.T) {
	db := newTestDB(t)
	seen := map[time.Duration]bool{}
	now := time.Now()
	for i := 0; i < 20; i++ {
		l := newTestLoopAt(t, fmt.Sprintf("host%d:9100", i), db, nil)
		off := l.Offset(now)
		require.GreaterOrEqual(t, off, time.Duration(0))
		require.LessOrEqual(t, off, time.Second)
		// the slot is fixed: the same target lands at the same phase
		require.Equal(t, (now.Add(off).UnixNano())%int64(time.Second), (now.Add(time.Second/3).Add(l.Offset(now.Add(time.Second/3))).UnixNano())%int64(time.Second))
		phase := now.Add(off).UnixNano() % int64(time.Second)
		require.Zero(t, phase%int64(time.Second/scrape.ScrapeSlots), "a target starts at a slot, not at %v", time.Duration(phase))
		seen[time.Duration(phase)] = true
	}
	require.Greater(t, len(seen), 4, "20 targets spread over more than 4 slots")
	require.LessOrEqual(t, len(seen), scrape.ScrapeSlots, "20 targets batched in the interval's slots")
}

// TestSeriesRefusedPastMaxSeries: past the store's series limit, a
// target's new series are refused, counted and named in its health, and
// its loop keeps nothing of them; its up and other synthetic series are
// stored whatever the limit, so a second target's up says when it goes
// down.
func TestSeriesRefusedPastMaxSeries(t *testing.T) {
	db := &testDB{DB: store.New(store.Options{Retention: -1, MaxSeries: 8}), t: t}
	t.Cleanup(func() { _ = db.Close() })
	b := &body{}
	var sb strings.Builder
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&sb, "s{i=\"%d\"} 1\n", i)
	}
	b.set(sb.String())
	l, addr := newTestLoop(t, b, db, nil)
	for i := range 3 {
		h := l.Scrape(t0.Add(time.Duration(i) * time.Second))
		require.Equal(t, scrape.HealthUp, h.Health, h.LastError)
		require.Equal(t, 2, h.SeriesRefused)
		require.Equal(t, 10, h.Series)
		require.True(t, strings.HasPrefix(h.LastWarning, "2 series refused: the store is full (--max-series), e.g. {__name__=\"s\""), h.LastWarning)
		require.Equal(t, 8, l.CachedSeries(), "the refused series are not cached")
	}
	require.Equal(t, []sample{{t0.UnixMilli(), 1}, {t0.UnixMilli() + 1000, 1}, {t0.UnixMilli() + 2000, 1}}, db.samples(tl(addr, "__name__", "up")))
	st := db.Stats()
	require.EqualValues(t, 8+5, st.Series)
	require.EqualValues(t, 5, st.ReservedSeries)

	// A second target: none of its series fit, its up does, and says when
	// it goes down.
	b2 := &body{}
	b2.set("other 1\n")
	l2, addr2 := newTestLoop(t, b2, db, nil)
	h := l2.Scrape(t0)
	require.Equal(t, scrape.HealthUp, h.Health)
	require.Equal(t, 1, h.SeriesRefused)
	require.Zero(t, l2.CachedSeries())
	b2.set("other{ 1\n") // does not parse
	h = l2.Scrape(t0.Add(time.Second))
	require.Equal(t, scrape.HealthDown, h.Health)
	require.Equal(t, []sample{{t0.UnixMilli(), 1}, {t0.UnixMilli() + 1000, 0}}, db.samples(tl(addr2, "__name__", "up")))
	require.Len(t, db.samples(tl(addr2, "__name__", "scrape_duration_seconds")), 2)
	require.EqualValues(t, 10, db.Stats().ReservedSeries)
}

// TestReservedInternalTarget: vigil's own metrics (a Reserved internal
// target) are stored past --max-series; another internal target's are
// not.
func TestReservedInternalTarget(t *testing.T) {
	db := &testDB{DB: store.New(store.Options{Retention: -1, MaxSeries: 1}), t: t}
	t.Cleanup(func() { _ = db.Close() })
	collect := func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, "a 1\nb 2\n")
		return err
	}
	h := scrape.NewTestFuncLoop(scrape.InternalTarget{Job: "vigil", Instance: "vigil", Collect: collect, Reserved: true}, db).Scrape(t0)
	require.Zero(t, h.SeriesRefused)
	h = scrape.NewTestFuncLoop(scrape.InternalTarget{Job: "other", Instance: "x", Collect: collect}, db).Scrape(t0)
	require.Equal(t, 1, h.SeriesRefused, "one of its two fits: the reserved ones took no room")
	require.Len(t, db.samples(labels.FromStrings("__name__", "b", "instance", "vigil", "job", "vigil")), 1)
}

func TestInternalTargetPanics(t *testing.T) {
	db := newTestDB(t)
	l := scrape.NewTestFuncLoop(scrape.InternalTarget{Job: "bug", Instance: "x", Collect: func(context.Context, io.Writer) error {
		var m map[string]int
		m["boom"]++
		return nil
	}}, db)
	h := l.Scrape(t0)
	require.Equal(t, scrape.HealthDown, h.Health)
	require.Equal(t, "collector panicked: assignment to entry in nil map", h.LastError)
}

// TestExplicitTimestampStaleness: series with their own timestamps get no
// stale markers unless track_timestamps_staleness is set, as in Prometheus.
func TestExplicitTimestampStaleness(t *testing.T) {
	for _, track := range []bool{false, true} {
		t.Run(fmt.Sprintf("track=%v", track), func(t *testing.T) {
			b := &body{}
			b.set("withts 1 1795000000000\nplain 1\n")
			db := newTestDB(t)
			l, addr := newTestLoop(t, b, db, func(sc *scrape.ScrapeConfig) { sc.TrackTimestampsStaleness = track })
			require.Equal(t, scrape.HealthUp, l.Scrape(t0).Health)
			b.set("")
			l.Scrape(t0.Add(time.Second))
			s, _ := db.last(tl(addr, "__name__", "plain"))
			require.True(t, isStale(s.V))
			s, _ = db.last(tl(addr, "__name__", "withts"))
			require.Equal(t, track, isStale(s.V))
		})
	}
}

// TestSameSeriesWrittenTwoWays: label order and spacing do not make
// another series: a body with both forms has a duplicate, and a body that
// switches form continues the series without a stale marker.
func TestSameSeriesWrittenTwoWays(t *testing.T) {
	b := &body{}
	db := newTestDB(t)
	l, addr := newTestLoop(t, b, db, nil)
	b.set("d{a=\"1\",b=\"2\"} 1\nd{ b=\"2\", a=\"1\" } 2\n")
	h := l.Scrape(t0)
	require.Contains(t, h.LastWarning, "1 duplicate series in one body")
	b.set("d{b=\"2\",a=\"1\"} 3\n")
	h = l.Scrape(t0.Add(time.Second))
	require.Empty(t, h.LastWarning)
	require.Equal(t, []sample{{t0.UnixMilli(), 1}, {t0.Add(time.Second).UnixMilli(), 3}}, db.samples(tl(addr, "__name__", "d", "a", "1", "b", "2")))
}

// TestHealthChangesAreLogged: going down and coming back are logged once
// each, with the sanitised error and never a secret.
func TestHealthChangesAreLogged(t *testing.T) {
	var logs bytes.Buffer
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, "x", http.StatusBadGateway)
			return
		}
		fmt.Fprint(w, "m 1\n")
	}))
	defer srv.Close()
	db := newTestDB(t)
	cfg, err := scrape.NewStaticConfig([]string{srv.Listener.Addr().String()}, time.Second)
	require.NoError(t, err)
	cfg.ScrapeConfigs[0].HTTPClientConfig.BasicAuth = &config.BasicAuth{Username: "u", Password: "pa55word"}
	l, err := scrape.NewTestLoopLogged(cfg.ScrapeConfigs[0], db, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	l.Scrape(t0)
	fail.Store(true)
	l.Scrape(t0.Add(1 * time.Second))
	l.Scrape(t0.Add(2 * time.Second))
	fail.Store(false)
	l.Scrape(t0.Add(3 * time.Second))
	out := logs.String()
	require.Equal(t, 1, strings.Count(out, `msg="target down"`), out)
	require.Contains(t, out, `err="server returned HTTP status 502 Bad Gateway"`)
	require.Equal(t, 1, strings.Count(out, `msg="target up again"`), out)
	require.NotContains(t, out, "pa55word")
}
