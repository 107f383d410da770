package web_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/vigilterm/vigil/cmd/vigil/internal/web"
	"github.com/vigilterm/vigil/scrape/peertest"
	"github.com/vigilterm/vigil/store"
)

// selfSigned writes a certificate for 127.0.0.1 and its key into dir and
// returns the pool that trusts it.
func selfSigned(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "vigil test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// webConfig writes a web config file with TLS (paths relative to it, as
// in Prometheus) and one user, alice, whose password is "s3cret".
func webConfig(t *testing.T, dir string, tlsOn bool) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	require.NoError(t, err)
	body := "basic_auth_users:\n  alice: " + string(hash) + "\n"
	if tlsOn {
		body = "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n" + body
	}
	path := filepath.Join(dir, "web.yml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

// TestWebConfig: with a web config, an address other machines reach is
// served, over TLS, to the user whose password matches its bcrypt hash;
// wrong or missing credentials get 401, plain HTTP is refused.
func TestWebConfig(t *testing.T) {
	dir := t.TempDir()
	pool := selfSigned(t, dir)
	cfg := webConfig(t, dir, true)
	if promtool := peertest.Need(t, "prometheus", "promtool"); promtool != "" {
		out, err := exec.Command(promtool, "check", "web-config", cfg).CombinedOutput()
		require.NoError(t, err, "promtool reads the same file: %s", out)
	}

	db := store.New(store.DefaultOptions())
	t.Cleanup(func() { _ = db.Close() })
	o := web.DefaultOptions()
	o.ListenAddress, o.ConfigFile = "0.0.0.0:0", cfg
	srv := startServer(t, o, web.Sources{Queryable: db, Version: "9.9.9"})
	_, port, err := net.SplitHostPort(srv.Addr())
	require.NoError(t, err)
	base := "https://127.0.0.1:" + port

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	t.Cleanup(client.CloseIdleConnections)
	get := func(user, pass string) *http.Response {
		req, err := http.NewRequest(http.MethodGet, base+"/api/v1/status/buildinfo", nil)
		require.NoError(t, err)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	resp := get("alice", "s3cret")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotNil(t, resp.TLS)
	for _, c := range []struct{ user, pass string }{{"alice", "wrong"}, {"bob", "s3cret"}, {"", ""}} {
		resp := get(c.user, c.pass)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%q", c.user)
		require.Equal(t, "Basic", resp.Header.Get("WWW-Authenticate"))
	}

	// Prometheus' client, with the credentials and the CA, reads it.
	c, err := api.NewClient(api.Config{Address: base, RoundTripper: basicAuth{client.Transport, "alice", "s3cret"}})
	require.NoError(t, err)
	bi, err := v1.NewAPI(c).Buildinfo(context.Background())
	require.NoError(t, err)
	require.Equal(t, "9.9.9", bi.Version)

	plain, err := http.Get("http://127.0.0.1:" + port + "/-/healthy")
	require.NoError(t, err)
	plain.Body.Close()
	require.Equal(t, http.StatusBadRequest, plain.StatusCode, "plain HTTP to the TLS port")
}

// TestBasicAuthOnly: a web config without TLS gives basic auth over plain
// HTTP, on loopback.
func TestBasicAuthOnly(t *testing.T) {
	cfg := webConfig(t, t.TempDir(), false)
	db := store.New(store.DefaultOptions())
	t.Cleanup(func() { _ = db.Close() })
	o := web.DefaultOptions()
	o.ListenAddress, o.ConfigFile = "127.0.0.1:0", cfg
	srv := startServer(t, o, web.Sources{Queryable: db})
	req, err := http.NewRequest(http.MethodGet, "http://"+srv.Addr()+"/-/healthy", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	req.SetBasicAuth("alice", "s3cret")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestBadWebConfig: a web config that does not load is refused before
// anything listens, naming the file.
func TestBadWebConfig(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, body, want string }{
		{"a password that is no bcrypt hash", "basic_auth_users:\n  alice: plaintext\n", "hashedSecret too short"},
		{"a certificate that is not there", "tls_server_config:\n  cert_file: none.pem\n  key_file: none.key\n", "none.pem"},
		{"an unknown key", "basic_auth_user:\n  alice: x\n", "field basic_auth_user not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yml")
			require.NoError(t, os.WriteFile(path, []byte(tc.body), 0o600))
			o := web.DefaultOptions()
			o.ListenAddress, o.ConfigFile = ":0", path
			err := o.Check()
			require.ErrorContains(t, err, "--web.config.file "+path+": ")
			require.ErrorContains(t, err, tc.want)
		})
	}
	o := web.DefaultOptions()
	o.ListenAddress, o.ConfigFile = "127.0.0.1:0", filepath.Join(dir, "missing.yml")
	require.ErrorContains(t, o.Check(), "missing.yml")
}

type basicAuth struct {
	rt         http.RoundTripper
	user, pass string
}

func (b basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(b.user, b.pass)
	return b.rt.RoundTrip(r)
}
