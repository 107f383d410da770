package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/cmd/vigil/internal/web"
	"github.com/vigilterm/vigil/store"
)

// fuzzPaths are the endpoints FuzzRequest sends its parameters to.
var fuzzPaths = []string{
	"/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels",
	"/api/v1/label/job/values", "/api/v1/label/U__a_2e_b/values", "/api/v1/metadata",
	"/api/v1/targets", "/api/v1/rules", "/api/v1/alerts", "/federate",
}

// FuzzRequest sends what a client may send (any query string, by GET or
// as a POST form) to every endpoint: no panic, and every answer is what
// its client can read, valid JSON with Prometheus' status for /api/v1,
// the text format for /federate.
func FuzzRequest(f *testing.F) {
	db := store.New(store.DefaultOptions())
	f.Cleanup(func() { _ = db.Close() })
	now := time.Now().Truncate(time.Second)
	fillStore(f, db, now)
	o := web.DefaultOptions()
	o.ListenAddress = "127.0.0.1:0"
	o.QueryTimeout, o.MaxSamples, o.MaxResponseBytes = time.Second, 100_000, 1<<20
	srv, err := web.New(o, web.Sources{Queryable: db, EngineOptions: alert.EngineOptions(nil, time.Minute), Now: func() time.Time { return now }}, nil)
	require.NoError(f, err)
	f.Cleanup(func() { _ = srv.Close() })
	h := srv.Handler()

	for _, seed := range []struct {
		path  uint8
		query string
		post  bool
	}{
		{0, "query=demo_metric&time=" + unixSeconds(now), false},
		{0, "query=rate(demo_metric[1m])&timeout=1&limit=1&lookback_delta=1m", true},
		{1, "query=sum(demo_metric)&start=0&end=600&step=15", false},
		{1, "query=hostile&start=1e9&end=1e9&step=0.001", true},
		{2, "match[]=hostile&match[]={job=~\"d.*\"}&limit=1&start=-1", false},
		{3, "match[]={__name__=\"noinst\"}", true},
		{4, "limit=2&end=9999999999999", false},
		{5, "match[]=x", false},
		{6, "metric=x&limit=a", false},
		{7, "state=dropped&scrapePool=x", false},
		{8, "type=alert&group_limit=1&group_next_token=x", false},
		{10, "match[]={job=\"demo\"}", false},
		{10, "match[]={__name__=~\".+\"}&match[]=gone", false},
	} {
		f.Add(seed.path, seed.query, seed.post)
	}
	f.Fuzz(func(t *testing.T, pathIndex uint8, query string, post bool) {
		path := fuzzPaths[int(pathIndex)%len(fuzzPaths)]
		req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{}, Host: "vigil", Body: http.NoBody}
		if post {
			req.Method, req.URL.RawQuery = http.MethodPost, ""
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Body = io.NopCloser(strings.NewReader(query))
		}
		req = req.WithContext(context.Background())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := rec.Body.Bytes()
		if path == "/federate" {
			if rec.Code != http.StatusOK {
				return
			}
			p := textparse.NewPromParser(body, labels.NewSymbolTable(), false)
			for {
				if _, err := p.Next(); err != nil {
					require.Equal(t, "EOF", err.Error(), "%s", body)
					return
				}
			}
		}
		if rec.Code == http.StatusMethodNotAllowed {
			return // a path the POST may not take
		}
		require.True(t, json.Valid(body), "%d %s", rec.Code, body)
		var resp struct{ Status, ErrorType string }
		require.NoError(t, json.Unmarshal(body, &resp))
		switch rec.Code {
		case http.StatusOK:
			require.Equal(t, "success", resp.Status)
		case http.StatusBadRequest:
			require.Equal(t, "bad_data", resp.ErrorType, "%s", body)
		case http.StatusUnprocessableEntity:
			require.Equal(t, "execution", resp.ErrorType, "%s", body)
		case http.StatusServiceUnavailable:
			require.Equal(t, "timeout", resp.ErrorType, "%s", body)
		default:
			t.Fatalf("status %d: %s", rec.Code, body)
		}
	})
}
