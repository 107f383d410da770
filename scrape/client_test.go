package scrape_test

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape"
)

// loadJob writes a config with one job (the given YAML under the job, the
// target address filled in) and files beside it, and returns the loop.
func loadJob(t *testing.T, db *testDB, addr, job string, files map[string]string) *scrape.TestLoop {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
	}
	p := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(p, []byte(fmt.Sprintf("scrape_configs:\n  - job_name: test\n    static_configs: [{targets: [%q]}]\n%s", addr, job)), 0o600))
	cfg, err := scrape.LoadConfig(p)
	require.NoError(t, err)
	l, err := scrape.NewTestLoop(cfg.ScrapeConfigs[0], db)
	require.NoError(t, err)
	return l
}

// requireNoSecret checks that a secret shows nowhere on the target.
func requireNoSecret(t *testing.T, h scrape.TargetHealth, secret string) {
	t.Helper()
	for _, s := range []string{h.LastError, h.LastWarning, h.URL, h.Labels.String(), h.Job, h.Instance} {
		require.NotContains(t, s, secret)
	}
}

func TestBasicAuthWithPasswordFile(t *testing.T) {
	var deny atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if deny.Load() || !ok || u != "vigil" || p != "s3cr3t-pw" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "authed 1\n")
	}))
	defer srv.Close()
	db := newTestDB(t)
	addr := srv.Listener.Addr().String()
	l := loadJob(t, db, addr, "    basic_auth:\n      username: vigil\n      password_file: pw.txt\n", map[string]string{"pw.txt": "s3cr3t-pw\n"})
	h := l.Scrape(t0)
	require.Equal(t, scrape.HealthUp, h.Health, h.LastError)
	deny.Store(true)
	h = l.Scrape(t0.Add(1e9))
	require.Equal(t, "server returned HTTP status 401 Unauthorized", h.LastError)
	requireNoSecret(t, h, "s3cr3t-pw")
}

func TestBearerTokenFile(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t0k3n" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		fmt.Fprint(w, "authed 1\n")
	}))
	defer srv.Close()
	db := newTestDB(t)
	l := loadJob(t, db, srv.Listener.Addr().String(), "    authorization:\n      credentials_file: token\n", map[string]string{"token": "t0k3n"})
	h := l.Scrape(t0)
	require.Equal(t, scrape.HealthUp, h.Health, h.LastError)
	requireNoSecret(t, h, "t0k3n")
}

func TestTLSWithCAFile(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "secure 1\n")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	defer srv.Close()
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	addr := srv.Listener.Addr().String()

	db := newTestDB(t)
	l := loadJob(t, db, addr, "    scheme: https\n    tls_config:\n      ca_file: ca.pem\n", map[string]string{"ca.pem": ca})
	h := l.Scrape(t0)
	require.Equal(t, scrape.HealthUp, h.Health, h.LastError)
	require.Equal(t, "https://"+addr+"/metrics", h.URL)

	// Without the CA the scrape fails and says why.
	l = loadJob(t, db, addr, "    scheme: https\n", nil)
	h = l.Scrape(t0.Add(1e9))
	require.Equal(t, scrape.HealthDown, h.Health)
	require.Contains(t, h.LastError, "certificate")
}

func TestProxyURL(t *testing.T) {
	var via atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		via.Store(r.URL.String()) // a proxy gets the absolute URL
		fmt.Fprint(w, "proxied 1\n")
	}))
	defer proxy.Close()
	db := newTestDB(t)
	l := loadJob(t, db, "exporter.invalid:9100", "    proxy_url: "+proxy.URL+"\n", nil)
	h := l.Scrape(t0)
	require.Equal(t, scrape.HealthUp, h.Health, h.LastError)
	require.Equal(t, "http://exporter.invalid:9100/metrics", via.Load())
}

func TestProtobuf(t *testing.T) {
	var accept atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accept.Store(r.Header.Get("Accept"))
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(strings.NewReader("# TYPE pb counter\npb_total{a=\"1\"} 7\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		format := expfmt.NewFormat(expfmt.TypeProtoDelim)
		var buf bytes.Buffer
		enc := expfmt.NewEncoder(&buf, format)
		for _, f := range fams {
			if err := enc.Encode(f); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
		}
		w.Header().Set("Content-Type", string(format))
		w.Write(buf.Bytes())
	}))
	defer srv.Close()
	db := newTestDB(t)
	addr := srv.Listener.Addr().String()
	l := loadJob(t, db, addr, "    scrape_protocols: [PrometheusProto, PrometheusText0.0.4]\n", nil)
	h := l.Scrape(t0)
	require.Equal(t, scrape.HealthUp, h.Health, h.LastError)
	require.True(t, strings.HasPrefix(accept.Load().(string), "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,"), accept.Load())
	s, ok := db.last(labels.FromStrings("__name__", "pb_total", "a", "1", "job", "test", "instance", addr))
	require.True(t, ok, db.names())
	require.Equal(t, 7.0, s.V)
	s, ok = db.last(labels.FromStrings("__name__", "h_bucket", "le", "+Inf", "job", "test", "instance", addr))
	require.True(t, ok, "classic histograms come through protobuf: %v", db.names())
	require.Equal(t, 2.0, s.V)
}
