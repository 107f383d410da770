package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/cmd/vigil/internal/web"
)

// TestJSONShapes: the bodies are Prometheus', byte for byte, and what
// came from a target is JSON-escaped as encoding/json escapes it (HTML
// characters and control bytes as \u00XX, U+2028 escaped) and otherwise
// left as it was.
func TestJSONShapes(t *testing.T) {
	f := newFixture(t, web.Options{})
	ts := unixSeconds(f.now)
	hostileJSON := `"\u001b[31m\u003cb\u003e\u0026\"\\\n\u2028é` + "\x7f" + `"`
	for _, tc := range []struct {
		name, path, want string
	}{
		{"vector", "/api/v1/query?query=hostile&time=" + ts,
			`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"hostile","instance":"h","job":"demo","v":` + hostileJSON + `},"value":[` + ts + `,"1"]}]}}`},
		{"matrix", "/api/v1/query_range?query=noinst&start=" + unixSeconds(f.now.Add(-15*time.Second)) + "&end=" + ts + "&step=15",
			`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"noinst","job":"demo"},"values":[[` + unixSeconds(f.now.Add(-15*time.Second)) + `,"1"],[` + ts + `,"1"]]}]}}`},
		{"scalar", "/api/v1/query?query=1e-7&time=1.5",
			`{"status":"success","data":{"resultType":"scalar","result":[1.5,"0.0000001"]}}`},
		{"string", "/api/v1/query?query=%22a%3Cb%22&time=1.5",
			`{"status":"success","data":{"resultType":"string","result":[1.5,"a\u003cb"]}}`},
		{"special values", "/api/v1/query?query=vector(1/0)%20or%20label_replace(vector(-1/0),%22s%22,%22n%22,%22%22,%22%22)%20or%20label_replace(vector(0/0),%22s%22,%22z%22,%22%22,%22%22)%20or%20label_replace(vector(1e-7),%22s%22,%22t%22,%22%22,%22%22)&time=1.001",
			`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.001,"+Inf"]},{"metric":{"s":"n"},"value":[1.001,"-Inf"]},{"metric":{"s":"z"},"value":[1.001,"NaN"]},{"metric":{"s":"t"},"value":[1.001,"1e-07"]}]}}`},
		{"series", "/api/v1/series?match[]=hostile",
			`{"status":"success","data":[{"__name__":"hostile","instance":"h","job":"demo","v":` + hostileJSON + `}]}`},
		{"label values", "/api/v1/label/v/values",
			`{"status":"success","data":[` + hostileJSON + `]}`},
		{"labels", "/api/v1/labels?match[]=noinst",
			`{"status":"success","data":["__name__","job"]}`},
		{"a limit cuts", "/api/v1/labels?limit=1",
			`{"status":"success","data":["__name__"],"warnings":["results truncated due to limit"]}`},
		{"bad data", "/api/v1/query?query=up&time=yesterday",
			`{"status":"error","errorType":"bad_data","error":"invalid parameter \"time\": invalid time value for 'time': cannot parse \"yesterday\" to a valid timestamp"}`},
		{"read-only", "/api/v1/admin/tsdb/delete_series",
			`{"status":"error","errorType":"not_found","error":"vigil does not serve /api/v1/admin/tsdb/delete_series: its API is read-only, with the endpoints docs/api.md lists"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.get(t, tc.path)
			require.Equal(t, tc.want, string(body))
			require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			require.True(t, json.Valid(body))
		})
	}

	// What came from a target reads back as it was sent.
	_, body := f.get(t, "/api/v1/series?match[]=hostile")
	var got struct{ Data []map[string]string }
	require.NoError(t, json.Unmarshal(body, &got))
	require.Equal(t, hostileValue, got.Data[0]["v"])
}

// TestMethods: GET and POST where Prometheus takes both, with the same
// answer; 405 for a known path with another method; nothing writes.
func TestMethods(t *testing.T) {
	f := newFixture(t, web.Options{})
	form := url.Values{"query": {"demo_metric"}, "time": {unixSeconds(f.now)}}
	_, get := f.get(t, "/api/v1/query?"+form.Encode())
	resp, post := do(t, http.MethodPost, f.url+"/api/v1/query", strings.NewReader(form.Encode()))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, string(get), string(post))

	for _, tc := range []struct {
		method, path string
		code         int
		allow        string
	}{
		{http.MethodPost, "/api/v1/targets", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodDelete, "/api/v1/series", http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{http.MethodPost, "/api/v1/label/job/values", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodPut, "/api/v1/admin/tsdb/snapshot", http.StatusNotFound, ""},
		{http.MethodPost, "/api/v1/write", http.StatusNotFound, ""},
		{http.MethodHead, "/-/healthy", http.StatusOK, ""},
		{http.MethodPost, "/federate", http.StatusMethodNotAllowed, ""},
		{http.MethodGet, "/api/v1/label/values", http.StatusNotFound, ""},
		{http.MethodGet, "/api/v1/query_exemplars", http.StatusNotFound, ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp, _ := do(t, tc.method, f.url+tc.path, nil)
			require.Equal(t, tc.code, resp.StatusCode)
			if tc.allow != "" {
				require.Equal(t, tc.allow, resp.Header.Get("Allow"))
			}
		})
	}
}

// TestPlainEndpoints: /metrics, /-/healthy and /-/ready, and the answers
// compressed for a client that takes gzip.
func TestPlainEndpoints(t *testing.T) {
	f := newFixture(t, web.Options{})
	resp, body := f.get(t, "/metrics")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/plain; version=0.0.4; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, "# TYPE vigil_test gauge\nvigil_test 1\n", string(body))

	resp, body = f.get(t, "/-/healthy")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "vigil is Healthy.\n", string(body))
	resp, body = f.get(t, "/-/ready")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "vigil is Ready.\n", string(body))

	// Go's client asks for gzip and undoes it itself: ask by hand.
	req, err := http.NewRequest(http.MethodGet, f.url+"/api/v1/query_range?query=demo_metric&start="+unixSeconds(f.now.Add(-10*time.Minute))+"&end="+unixSeconds(f.now)+"&step=15", nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Encoding", "br;q=1.0, gzip;q=0.5")
	resp, err = (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	zr, err := gzip.NewReader(resp.Body)
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	require.True(t, json.Valid(plain))
	require.Contains(t, string(plain), `"resultType":"matrix"`)

	// While the server shuts down, it is not ready.
	require.NoError(t, f.srv.Close())
	rec := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/-/ready", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
}

// TestFederate: the latest sample of every matched series in the last
// 5m, as a Prometheus scraping it reads it (its own text parser), with
// the external labels added where a series lacks them and instance=""
// where it has no instance; a series whose last sample is a staleness
// marker is left out.
func TestFederate(t *testing.T) {
	f := newFixture(t, web.Options{})
	resp, body := f.get(t, "/federate?match[]={job=\"demo\"}")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, "text/plain; version=0.0.4; charset=utf-8", resp.Header.Get("Content-Type"))

	got := parseText(t, body)
	now := f.now.UnixMilli()
	with := func(ls labels.Labels, extra ...string) string {
		b := labels.NewBuilder(ls)
		for i := 0; i < len(extra); i += 2 {
			b.Set(extra[i], extra[i+1])
		}
		return b.Labels().String()
	}
	require.Equal(t, map[string]sample{
		with(demoA, "site", "lab"):   {now, 40},
		with(demoB, "site", "lab"):   {now, 80},
		with(hostile, "site", "lab"): {now, 1},
		with(noInst, "site", "lab"):  {now, 1}, // instance="" is read as no instance
		with(sited):                  {now, 1}, // its own site stays
	}, got)
	require.Contains(t, string(body), `noinst{job="demo",site="lab",instance=""} 1 `)
	require.Equal(t, 4, strings.Count(string(body), "# TYPE "), "one family a name:\n%s", body)

	// match[] selects; a series in two selectors is there once.
	_, body = f.get(t, "/federate?match[]=demo_metric&match[]={mode=\"x\"}")
	require.Len(t, parseText(t, body), 2)
	_, body = f.get(t, "/federate")
	require.Empty(t, body)
	resp, body = f.get(t, "/federate?match[]=rate(x[1m])")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, string(body))
}

type sample struct {
	t int64
	v float64
}

// parseText reads a text-format body with Prometheus' scrape parser.
func parseText(t testing.TB, body []byte) map[string]sample {
	t.Helper()
	p := textparse.NewPromParser(body, labels.NewSymbolTable(), false)
	out := map[string]sample{}
	for {
		et, err := p.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err, "%s", body)
		if et != textparse.EntrySeries {
			continue
		}
		_, ts, v := p.Series()
		require.NotNil(t, ts, "federated samples carry their timestamps")
		var ls labels.Labels
		p.Labels(&ls)
		// An empty value is no label, as Prometheus stores it.
		b := labels.NewBuilder(ls)
		ls.Range(func(l labels.Label) {
			if l.Value == "" {
				b.Del(l.Name)
			}
		})
		key := b.Labels().String()
		_, dup := out[key]
		require.False(t, dup, "series %s twice", key)
		out[key] = sample{*ts, v}
	}
}

// TestLimits: a request over a limit gets Prometheus' error, never an
// answer that grows without bound.
func TestLimits(t *testing.T) {
	t.Run("max samples", func(t *testing.T) {
		f := newFixture(t, web.Options{MaxSamples: 10})
		resp, body := f.get(t, "/api/v1/query?query=demo_metric[10m]&time="+unixSeconds(f.now))
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
		require.Equal(t, `{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"}`, string(body))
		resp, _ = f.get(t, "/api/v1/query?query=demo_metric&time="+unixSeconds(f.now))
		require.Equal(t, http.StatusOK, resp.StatusCode, "a query within the limit runs")
	})
	t.Run("response size", func(t *testing.T) {
		f := newFixture(t, web.Options{MaxResponseBytes: 400})
		resp, body := f.get(t, "/api/v1/query_range?query=demo_metric&start="+unixSeconds(f.now.Add(-10*time.Minute))+"&end="+unixSeconds(f.now)+"&step=15")
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
		require.JSONEq(t, `{"status":"error","errorType":"execution","error":"the response would be larger than vigil's bound of 400 bytes: ask for less (a narrower selector, a shorter range, a longer step or a limit)"}`, string(body))
		resp, body = f.get(t, "/federate?match[]={job=\"demo\"}")
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
		require.Contains(t, string(body), "larger than vigil's bound of 400 bytes")
		resp, _ = f.get(t, "/api/v1/query?query=noinst&time="+unixSeconds(f.now))
		require.Equal(t, http.StatusOK, resp.StatusCode, "a small answer goes through")
	})
	t.Run("timeout", func(t *testing.T) {
		f := newFixture(t, web.Options{})
		srv := startServer(t, web.Options{
			ListenAddress: "127.0.0.1:0", QueryTimeout: 200 * time.Millisecond,
			MaxSamples: 1000, MaxConcurrency: 2, MaxResponseBytes: 1 << 20,
		}, web.Sources{Queryable: slowQueryable{f.db}})
		base := "http://" + srv.Addr()
		want := `{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}`
		for _, path := range []string{
			"/api/v1/query?query=demo_metric",              // --query.timeout
			"/api/v1/query?query=demo_metric&timeout=0.05", // the request's own
			"/api/v1/query_range?query=demo_metric&start=0&end=60&step=15&timeout=50ms",
		} {
			resp, body := do(t, http.MethodGet, base+path, nil)
			require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, path)
			require.Equal(t, want, string(body), path)
		}
		resp, body := f.get(t, "/api/v1/query?query=demo_metric&timeout=-1")
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Contains(t, string(body), "timeout must be positive")
	})
	t.Run("concurrency", func(t *testing.T) {
		f := newFixture(t, web.Options{})
		block := &blockingQueryable{Queryable: f.db, entered: make(chan struct{}), release: make(chan struct{})}
		srv := startServer(t, web.Options{
			ListenAddress: "127.0.0.1:0", QueryTimeout: 300 * time.Millisecond,
			MaxSamples: 1000, MaxConcurrency: 1, MaxResponseBytes: 1 << 20,
		}, web.Sources{Queryable: block})
		base := "http://" + srv.Addr()
		first := make(chan int)
		go func() {
			resp, err := http.Get(base + "/api/v1/series?match[]=demo_metric")
			if err != nil {
				first <- 0
				return
			}
			resp.Body.Close()
			first <- resp.StatusCode
		}()
		<-block.entered // the one slot is taken
		for _, path := range []string{"/api/v1/query?query=1", "/api/v1/labels", "/federate?match[]=up"} {
			resp, body := do(t, http.MethodGet, base+path, nil)
			require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, path)
			require.Contains(t, string(body), "query timed out in query queue", path)
		}
		resp, _ := do(t, http.MethodGet, base+"/api/v1/status/buildinfo", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "what does not read the store needs no slot")
		close(block.release)
		require.Equal(t, http.StatusOK, <-first)
		resp, _ = do(t, http.MethodGet, base+"/api/v1/query?query=1", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "the slot is free again")
	})
	t.Run("form body", func(t *testing.T) {
		f := newFixture(t, web.Options{})
		big := bytes.Repeat([]byte("a"), 11<<20)
		resp, body := do(t, http.MethodPost, f.url+"/api/v1/query", bytes.NewReader(append([]byte("query="), big...)))
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Contains(t, string(body), "bad_data", "a body past net/http's 10 MB is refused, not read")
	})
}

// TestRefused: a listen address other machines reach is refused without
// a web config, with the reason; loopback is served.
func TestRefused(t *testing.T) {
	for _, addr := range []string{":9090", "0.0.0.0:9090", "[::]:9090", "192.0.2.1:9090", "example.com:9090"} {
		o := web.DefaultOptions()
		o.ListenAddress = addr
		err := o.Check()
		require.ErrorContains(t, err, fmt.Sprintf("--web.listen-address %q would serve vigil's API beyond this machine with neither a password nor TLS", addr))
		_, err = web.New(o, web.Sources{}, nil)
		require.Error(t, err)
	}
	for _, addr := range []string{"127.0.0.1:9090", "localhost:9090", "[::1]:9090", "127.1.2.3:0", ""} {
		o := web.DefaultOptions()
		o.ListenAddress = addr
		require.NoError(t, o.Check(), addr)
	}
	o := web.DefaultOptions()
	o.ListenAddress = "9090"
	require.ErrorContains(t, o.Check(), `--web.listen-address "9090": address 9090: missing port in address: want host:port`)
	o.ListenAddress, o.MaxConcurrency = "127.0.0.1:9090", 0
	require.ErrorContains(t, o.Check(), "--query.max-concurrency 0: must be positive")
}

// TestPortTaken: a port in use is an error of Start, saying which flag.
func TestPortTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	o := web.DefaultOptions()
	o.ListenAddress = taken.Addr().String()
	srv, err := web.New(o, web.Sources{}, nil)
	require.NoError(t, err)
	err = srv.Start()
	require.ErrorContains(t, err, "--web.listen-address: listen tcp "+taken.Addr().String())
	require.NoError(t, srv.Close())
}
