package web_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/cmd/vigil/internal/web"
	"github.com/vigilterm/vigil/scrape/peertest"
	"github.com/vigilterm/vigil/store"
)

// recorder keeps the body of every /federate answer, in order: what vigil
// held at each of the federating Prometheus' scrapes.
type recorder struct {
	h      http.Handler
	mu     sync.Mutex
	bodies [][]byte
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cw := httptest.NewRecorder()
	rec.h.ServeHTTP(cw, r)
	body := cw.Body.Bytes()
	if r.URL.Path == "/federate" && cw.Code == http.StatusOK {
		rec.mu.Lock()
		rec.bodies = append(rec.bodies, bytes.Clone(body))
		rec.mu.Unlock()
	}
	for k, v := range cw.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(cw.Code)
	_, _ = w.Write(body)
}

func (rec *recorder) scrapes() [][]byte {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.bodies)
}

// TestFederationByPrometheus: a real Prometheus federates from vigil's
// /federate with honor_labels: true while vigil's store keeps changing.
// For every matched series, what Prometheus stores is the latest sample
// vigil held at each of its federation scrapes, compared series by series:
// the same timestamps and values, the labels as vigil has them (a
// target's hostile values included) plus the external labels, no
// instance of Prometheus' own where vigil's series has none, and nothing
// after a series went stale.
func TestFederationByPrometheus(t *testing.T) {
	db := store.New(store.DefaultOptions())
	t.Cleanup(func() { _ = db.Close() })
	o := web.DefaultOptions()
	o.ListenAddress = "127.0.0.1:0" // the server is not started: the recorder serves its handler
	srv, err := web.New(o, web.Sources{
		Queryable:      db,
		EngineOptions:  alert.EngineOptions(nil, time.Second),
		ExternalLabels: labels.FromStrings("site", "bastion-1"),
	}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	rec := &recorder{h: srv.Handler()}
	vigil := httptest.NewServer(rec)
	t.Cleanup(vigil.Close)

	series := []labels.Labels{
		labels.FromStrings("__name__", "fed_a", "instance", "a:9100", "job", "node"),
		labels.FromStrings("__name__", "fed_a", "instance", "b:9100", "job", "node"),
		labels.FromStrings("__name__", "fed_slow", "instance", "a:9100", "job", "node"), // changes every fourth tick
		labels.FromStrings("__name__", "fed_noinstance", "job", "batch"),
		labels.FromStrings("__name__", "fed_hostile", "instance", "h", "job", "node", "v", "a\"b\\c\nd\x1b[0mé{}=,"),
		labels.FromStrings("__name__", "fed_gone", "instance", "g", "job", "node"),   // goes stale after the third scrape
		labels.FromStrings("__name__", "other", "instance", "a:9100", "job", "node"), // not matched
	}
	// The store changes under the federation: new samples every 150ms.
	ctx, cancel := context.WithCancel(context.Background())
	writing := make(chan struct{})
	go func() {
		defer close(writing)
		tick := time.NewTicker(150 * time.Millisecond)
		defer tick.Stop()
		goneStale := false
		for n := 0; ; n++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			app := db.Appender()
			ts := time.Now().UnixMilli()
			for i, ls := range series {
				v := float64(n*10 + i)
				switch {
				case ls.Get("__name__") == "fed_slow" && n%4 != 0:
					continue
				case ls.Get("__name__") == "fed_gone" && goneStale:
					continue
				case ls.Get("__name__") == "fed_gone" && len(rec.scrapes()) >= 3:
					v = math.Float64frombits(value.StaleNaN)
					goneStale = true
				}
				if _, err := app.Append(0, ls, ts, v); err != nil {
					panic(err)
				}
			}
			if err := app.Commit(); err != nil {
				panic(err)
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-writing })

	prom := peertest.Prometheus(t, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: federate
    honor_labels: true
    metrics_path: /federate
    params:
      'match[]': ['{__name__=~"fed_.*"}']
    static_configs:
      - targets: ['%s']
`, vigil.Listener.Addr().String()), nil)

	require.Eventually(t, func() bool { return len(rec.scrapes()) >= 6 }, 60*time.Second, 50*time.Millisecond, "federation scrapes")
	cancel()
	<-writing
	// Two more scrapes after the last change: every earlier one is stored.
	after := len(rec.scrapes())
	require.Eventually(t, func() bool { return len(rec.scrapes()) >= after+2 }, 30*time.Second, 50*time.Millisecond)

	// What vigil answered, series by series: the distinct samples of all
	// the answers, with the labels Prometheus is to store.
	want := map[string][]sample{}
	for _, body := range rec.scrapes() {
		for key, s := range parseText(t, body) {
			if !slices.Contains(want[key], s) {
				want[key] = append(want[key], s)
			}
		}
	}
	for _, ss := range want {
		slices.SortFunc(ss, func(a, b sample) int { return int(a.t - b.t) })
	}
	require.Len(t, want, 6, "every matched series that was not stale")
	require.Contains(t, want, labels.FromStrings("__name__", "fed_noinstance", "job", "batch", "site", "bastion-1").String())

	c, err := api.NewClient(api.Config{Address: prom.URL})
	require.NoError(t, err)
	v, _, _, err := v1.NewAPI(c).Query(context.Background(), `{__name__=~"fed_.*"}[10m]`, time.Now())
	require.NoError(t, err)
	got := map[string][]sample{}
	for _, ss := range v.(model.Matrix) {
		b := labels.NewBuilder(labels.EmptyLabels())
		for k, v := range ss.Metric {
			b.Set(string(k), string(v))
		}
		var samples []sample
		for _, p := range ss.Values {
			samples = append(samples, sample{int64(p.Timestamp), float64(p.Value)})
		}
		got[b.Labels().String()] = samples
	}
	require.Equal(t, len(want), len(got), "series: Prometheus stores %v", keys(got))
	for key, ws := range want {
		require.Equal(t, ws, got[key], "series %s", key)
	}
}

func keys(m map[string][]sample) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
