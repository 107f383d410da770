package scrape_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/relabel"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape"
)

// TestRemoteWriteConfig: every key of remote_write is read, with
// Prometheus' defaults for what an entry leaves out (retry_on_http_429
// aside: vigil's is true), relative paths relative to the file.
func TestRemoteWriteConfig(t *testing.T) {
	cfg, err := scrape.LoadConfig("../testdata/scrape/remote-write.yml")
	require.NoError(t, err)
	rws := cfg.RemoteWrites()
	require.Len(t, rws, 3)

	vm := rws[0]
	require.Equal(t, "", vm.Name)
	require.Equal(t, "http://victoria:8428/api/v1/write", vm.URL)
	require.Equal(t, 30*time.Second, vm.Timeout)
	require.Equal(t, scrape.ProtobufMessageV1, vm.ProtobufMessage)
	require.Equal(t, 1, vm.MinShards)
	require.Equal(t, 50, vm.MaxShards)
	require.Equal(t, 2000, vm.MaxSamplesPerSend)
	require.Equal(t, 10000, vm.Capacity)
	require.Equal(t, 5*time.Second, vm.BatchSendDeadline)
	require.Equal(t, 30*time.Millisecond, vm.MinBackoff)
	require.Equal(t, 5*time.Second, vm.MaxBackoff)
	require.True(t, vm.RetryOnRateLimit)
	require.Zero(t, vm.SampleAgeLimit)
	require.True(t, vm.SendMetadata)
	require.Equal(t, time.Minute, vm.MetadataInterval)
	require.Equal(t, 2000, vm.MetadataPerSend)
	require.True(t, vm.HTTPClient.FollowRedirects)

	m := rws[1]
	require.Equal(t, "mimir", m.Name)
	require.Equal(t, 10*time.Second, m.Timeout)
	require.Equal(t, map[string]string{"X-Scope-OrgID": "team-a"}, m.Headers)
	require.Equal(t, "vigil", m.HTTPClient.BasicAuth.Username)
	require.Equal(t, filepath.Join("../testdata/scrape", "secrets/mimir-password"), m.HTTPClient.BasicAuth.PasswordFile)
	require.Equal(t, filepath.Join("../testdata/scrape", "ca.pem"), m.HTTPClient.TLSConfig.CAFile)
	require.Equal(t, "http://proxy:3128", m.HTTPClient.ProxyURL.String())
	require.Len(t, m.WriteRelabel, 1)
	require.Equal(t, relabel.Drop, m.WriteRelabel[0].Action)
	require.Equal(t, scrape.ProtobufMessageV2, m.ProtobufMessage)
	require.Equal(t, 2500, m.Capacity)
	require.Equal(t, 2, m.MinShards)
	require.Equal(t, 8, m.MaxShards)
	require.Equal(t, 500, m.MaxSamplesPerSend)
	require.Equal(t, 2*time.Second, m.BatchSendDeadline)
	require.Equal(t, 100*time.Millisecond, m.MinBackoff)
	require.Equal(t, 10*time.Second, m.MaxBackoff)
	require.False(t, m.RetryOnRateLimit)
	require.Equal(t, time.Hour, m.SampleAgeLimit)
	require.False(t, m.SendMetadata)
	require.Equal(t, 2*time.Minute, m.MetadataInterval)
	require.Equal(t, 100, m.MetadataPerSend)

	th := rws[2]
	require.Equal(t, "vigil", th.HTTPClient.OAuth2.ClientID)
	require.Equal(t, "s3cret", string(th.HTTPClient.OAuth2.ClientSecret))
	require.Equal(t, "bastion-1", cfg.Global.ExternalLabels.Get("site"))
}

// TestRemoteWriteConfigErrors: each problem at its line, all at once.
func TestRemoteWriteConfigErrors(t *testing.T) {
	body := `remote_write:
  - url: victoria:8428/api/v1/write
  - url: http://a/write
    protobuf_message: io.prometheus.write.v3.Request
    headers:
      Authorization: Bearer x
      Content-Type: text/plain
    queue_config:
      min_shards: 4
      max_shards: 2
      max_backoff: 1ms
    sigv4:
      region: eu-west-1
  - url: http://a/write
  - url: http://c/write
    write_relabel_configs:
      - action: nonsense
  - name: x
    remote_timeout: banana
  - basic_auth: {username: a}
    authorization: {credentials: b}
    url: http://b/
`
	path := filepath.Join(t.TempDir(), "prometheus.yml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	errs := scrape.CheckConfig(path)
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	require.Equal(t, []string{
		path + `:2: remote_write: url "victoria:8428/api/v1/write": want http(s)://host[:port]/path, such as http://victoria:8428/api/v1/write`,
		path + `:4: remote_write: protobuf_message "io.prometheus.write.v3.Request": want prometheus.WriteRequest (Remote-Write 1.0) or io.prometheus.write.v2.Request (2.0)`,
		path + `:6: remote_write: the Authorization header is set through basic_auth, authorization or oauth2, not headers`,
		path + `:6: remote_write: header Content-Type is set by vigil and cannot be changed`,
		path + `:9: remote_write: queue_config min_shards 4 is greater than max_shards 2`,
		path + `:11: remote_write: queue_config max_backoff 1ms is less than min_backoff 30ms`,
		path + `:12: sigv4 is not supported by vigil: vigil has no cloud SDKs: use basic_auth, authorization or oauth2 (supported in remote_write: authorization, basic_auth, bearer_token, bearer_token_file, enable_http2, follow_redirects, headers, http_headers, metadata_config, name, no_proxy, oauth2, …)`,
		path + `:14: remote_write "http://a/write" is already configured on line 3: give each remote a name of its own`,
		path + `:17: action: unknown relabel action "nonsense"`,
		path + `:19: remote_timeout: not a valid duration string: "banana"`,
		path + `:20: remote_write: at most one of basic_auth, oauth2 & authorization must be configured`,
	}, got)
}
