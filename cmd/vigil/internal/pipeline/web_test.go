package pipeline

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/cmd/vigil/internal/web"
)

// TestWebAPI: with a listen address, the pipeline serves the API on its
// store, scrapes and rules, with vigil's own metrics on /metrics; Stop
// ends the server first.
func TestWebAPI(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "# TYPE node_load1 gauge\nnode_load1 0.5\n")
	}))
	defer target.Close()
	o := testOptions("", strings.TrimPrefix(target.URL, "http://"))
	o.Web = web.DefaultOptions()
	o.Web.ListenAddress = "127.0.0.1:0"
	o.Version = "1.2.3"
	p, err := open(t, o)
	require.NoError(t, err)
	require.NoError(t, p.Start())
	stopped := false
	defer func() {
		if !stopped {
			_ = p.Stop()
		}
	}()
	base := "http://" + p.WebAddr()

	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	require.Eventually(t, func() bool {
		_, body := get("/api/v1/query?query=node_load1")
		return strings.Contains(body, `"value":[`) && strings.Contains(body, `"0.5"]`)
	}, 20*time.Second, 20*time.Millisecond, "the scraped sample is queried through the API")

	code, body := get("/api/v1/targets")
	require.Equal(t, http.StatusOK, code)
	var targets struct {
		Data struct {
			ActiveTargets []struct{ ScrapePool string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &targets))
	var pools []string
	for _, tg := range targets.Data.ActiveTargets {
		pools = append(pools, tg.ScrapePool)
	}
	require.ElementsMatch(t, []string{"node", "vigil"}, pools)

	code, body = get("/api/v1/rules")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"type":"alerting"`, "the built-in rules")

	code, body = get("/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "vigil_store_series ")

	_, body = get("/api/v1/status/buildinfo")
	require.Contains(t, body, `"version":"1.2.3"`)
	_, body = get("/api/v1/status/runtimeinfo")
	require.Contains(t, body, `"reloadConfigSuccess":true`)
	require.Contains(t, body, `"storageRetention":"1h"`)

	require.NoError(t, p.Stop())
	stopped = true
	_, err = http.Get(base + "/-/healthy")
	require.Error(t, err, "the server is stopped")
}

// TestWebRefused: an address other machines reach, without a web config,
// is refused by Load, before anything starts.
func TestWebRefused(t *testing.T) {
	o := testOptions(t.TempDir()+"/data", "127.0.0.1:1")
	o.Web = web.DefaultOptions()
	o.Web.ListenAddress = ":9090"
	_, err := Load(o)
	require.ErrorContains(t, err, `--web.listen-address ":9090" would serve vigil's API beyond this machine`)
	require.NoDirExists(t, o.DataDir)
}
