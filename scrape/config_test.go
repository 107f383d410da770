package scrape_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape"
)

func loadString(t *testing.T, s string) *scrape.Config {
	t.Helper()
	p := filepath.Join(t.TempDir(), "prometheus.yml")
	require.NoError(t, os.WriteFile(p, []byte(s), 0o600))
	cfg, err := scrape.LoadConfig(p)
	require.NoError(t, err)
	return cfg
}

func TestLoadGettingStarted(t *testing.T) {
	cfg, err := scrape.LoadConfig("../testdata/scrape/getting-started.yml")
	require.NoError(t, err)
	require.Equal(t, model.Duration(15*time.Second), cfg.Global.ScrapeInterval)
	require.Equal(t, model.Duration(10*time.Second), cfg.Global.ScrapeTimeout)
	require.Equal(t, model.Duration(15*time.Second), cfg.Global.EvaluationInterval)
	require.Empty(t, cfg.RuleFiles)
	require.Empty(t, cfg.Alertmanagers())
	require.Len(t, cfg.ScrapeConfigs, 1)
	sc := cfg.ScrapeConfigs[0]
	require.Equal(t, "prometheus", sc.JobName)
	require.Equal(t, []string{"localhost:9090"}, sc.StaticConfigs[0].Targets)
	require.Equal(t, "/metrics", sc.MetricsPath)
	require.Equal(t, "http", sc.Scheme)
	require.Equal(t, model.Duration(15*time.Second), sc.ScrapeInterval)
	require.Equal(t, model.Duration(10*time.Second), sc.ScrapeTimeout)
	require.True(t, sc.HonorTimestamps)
}

func TestLoadFull(t *testing.T) {
	cfg, err := scrape.LoadConfig("../testdata/scrape/full.yml")
	require.NoError(t, err)
	require.Equal(t, `{site="lab"}`, cfg.Global.ExternalLabels.String())
	require.Equal(t, model.Duration(30*time.Second), cfg.Global.EvaluationInterval)
	require.Equal(t, []string{"../testdata/scrape/rules/a.yml", "../testdata/scrape/rules/b.yml"}, cfg.RuleFiles)

	ams := cfg.Alertmanagers()
	require.Len(t, ams, 2)
	require.Equal(t, "https://am1:9093/am", ams[0].URL)
	require.Equal(t, 3*time.Second, ams[0].Timeout)
	require.Equal(t, "vigil", ams[0].HTTPClient.BasicAuth.Username)

	node := cfg.ScrapeConfigs[0]
	require.Equal(t, model.Duration(5*time.Second), node.ScrapeInterval)
	require.Equal(t, model.Duration(5*time.Second), node.ScrapeTimeout, "the global 5s timeout fits the 5s interval")
	require.True(t, node.HonorLabels)
	require.Equal(t, uint(5000), node.SampleLimit)
	require.Equal(t, scrape.ByteSize(10<<20), node.BodySizeLimit)
	require.Equal(t, []string{"cpu"}, node.Params["collect[]"])
	require.Equal(t, "../testdata/scrape/sd/*.json", node.FileSDConfigs[0].Files[0])
	require.Len(t, node.MetricRelabelConfigs, 1)

	sec := cfg.ScrapeConfigs[1]
	require.Equal(t, "https", sec.Scheme)
	require.Equal(t, "../testdata/scrape/token.txt", sec.HTTPClientConfig.Authorization.CredentialsFile)
	require.Equal(t, "http://proxy:3128", sec.HTTPClientConfig.ProxyURL.String())
	require.Equal(t, model.Duration(5*time.Second), sec.ScrapeTimeout)
}

func TestCheckConfigReportsEveryError(t *testing.T) {
	errs := scrape.CheckConfig("../testdata/scrape/bad.yml")
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	f := "../testdata/scrape/bad.yml"
	require.Equal(t, []string{
		f + `:3: global scrape_timeout 20s is greater than scrape_interval 10s`,
		f + `:4: unknown key "bogus_key" in global (supported: body_size_limit, evaluation_interval, external_labels, label_limit, label_name_length_limit, label_value_length_limit, sample_limit, scrape_interval, scrape_protocols, scrape_timeout)`,
		f + `:8: job "a": scrape_timeout 6s is greater than scrape_interval 5s`,
		f + `:10: job "a": target "http://x:9100": a target is host:port, without a scheme (set scheme: https in the scrape config)`,
		f + `:11: job_name "a" is already used on line 6`,
		f + `:12: kubernetes_sd_configs is not supported by vigil: service discovery is static_configs and file_sd_configs only`,
		f + `:15: scrape_interval: not a valid duration string: "banana"`,
		f + `:17: action: unknown relabel action "nonsense"`,
		f + `:19: remote_write: url "ftp://x": want http(s)://host[:port]/path, such as http://victoria:8428/api/v1/write`,
		f + `:20: remote_read is not supported by vigil: vigil reads only its own store (supported in the top level: alerting, global, remote_write, rule_files, scrape_configs)`,
	}, got)
	_, err := scrape.LoadConfig(f)
	require.Error(t, err)
	require.Equal(t, strings.Join(got, "\n"), err.Error())
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"yaml syntax", "global:\n  scrape_interval: [\n", `:2: invalid YAML: did not find expected node content`},
		{"not a mapping", "- a\n", `:1: the config must be a mapping`},
		{"timeout over interval", "scrape_configs:\n  - job_name: x\n    scrape_interval: 1s\n    scrape_timeout: 2s\n", `:4: job "x": scrape_timeout 2s is greater than scrape_interval 1s`},
		{"unknown scrape key", "scrape_configs:\n  - job_name: x\n    scrape_intervall: 1s\n", `:3: unknown key "scrape_intervall" in scrape_configs`},
		{"remote_read", "remote_read:\n  - url: http://x\n", `:1: remote_read is not supported by vigil`},
		{"empty job name", "scrape_configs:\n  - static_configs: []\n", `:2: job_name is empty`},
		{"bad scheme", "scrape_configs:\n  - job_name: x\n    scheme: ftp\n", `:3: job "x": scheme "ftp" is not supported (use http or https)`},
		{"bad tls key", "scrape_configs:\n  - job_name: x\n    tls_config:\n      insecure: true\n", `:4: unknown key "insecure" in tls_config`},
		{"two auths", "scrape_configs:\n  - job_name: x\n    bearer_token: abc\n    basic_auth:\n      username: u\n      password: s3cr3t\n", `:2: job "x": at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured`},
		{"bad size", "global:\n  body_size_limit: 10 apples\n", `:2: body_size_limit: invalid size "10 apples"`},
		{"bad protocol", "global:\n  scrape_protocols: [Carrier]\nscrape_configs:\n  - job_name: x\n", `unknown scrape protocol "Carrier"`},
		{"missing rule file", "rule_files: [nope.yml]\n", `:1: rule file "nope.yml": no such file or directory`},
		{"bad external label", "global:\n  external_labels:\n    \"\": x\n", `:2: invalid external label name ""`},
		{"alertmanager v1", "alerting:\n  alertmanagers:\n    - api_version: v1\n", `:3: alertmanager api_version "v1" is not supported (only v2)`},
		{"file_sd ext", "scrape_configs:\n  - job_name: x\n    file_sd_configs:\n      - files: [a.txt]\n", `:4: job "x": file_sd file`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "prometheus.yml")
			require.NoError(t, os.WriteFile(p, []byte(tc.yaml), 0o600))
			_, err := scrape.LoadConfig(p)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.True(t, strings.HasPrefix(err.Error(), p+":"), err.Error())
			require.NotContains(t, err.Error(), "s3cr3t")
		})
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	p := filepath.Join(t.TempDir(), "prometheus.yml")
	require.NoError(t, os.WriteFile(p, []byte("scrape_configs:\n  - job_name: x\n    basic_auth:\n      username: u\n      password: [hunter2]\n    authorization:\n      credentials: hunter3\n"), 0o600))
	errs := scrape.CheckConfig(p)
	require.NotEmpty(t, errs)
	for _, e := range errs {
		require.NotContains(t, e.Error(), "hunter")
	}
}

func TestNewStaticConfig(t *testing.T) {
	cfg, err := scrape.NewStaticConfig([]string{"db1:9100", "https://web.example:8443/custom/metrics?x=1", "db2:9100"}, 2*time.Second)
	require.NoError(t, err)
	require.Len(t, cfg.ScrapeConfigs, 2)
	a, b := cfg.ScrapeConfigs[0], cfg.ScrapeConfigs[1]
	require.Equal(t, "node", a.JobName)
	require.Equal(t, []string{"db1:9100", "db2:9100"}, a.StaticConfigs[0].Targets)
	require.Equal(t, model.Duration(2*time.Second), a.ScrapeInterval)
	require.Equal(t, model.Duration(2*time.Second), a.ScrapeTimeout)
	require.Equal(t, "https", b.Scheme)
	require.Equal(t, "/custom/metrics", b.MetricsPath)
	require.Equal(t, []string{"1"}, b.Params["x"])

	for _, bad := range []string{"ftp://x:1", "http://user:pw@x:1/", "host/path", ""} {
		_, err := scrape.NewStaticConfig([]string{bad}, time.Second)
		require.Error(t, err, bad)
		require.NotContains(t, err.Error(), "pw@")
	}

	local := scrape.NewLocalConfig(0)
	require.Len(t, local.Internal, 1)
	host, _ := os.Hostname()
	require.Equal(t, "node", local.Internal[0].Job)
	require.Equal(t, host, local.Internal[0].Instance)
	require.Equal(t, model.Duration(5*time.Second), local.Global.ScrapeInterval)
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	cfg := loadString(t, `
scrape_configs:
  - &common
    job_name: a
    scrape_interval: 2s
    honor_labels: true
    static_configs: [{targets: ["a:1"]}]
  - <<: *common
    job_name: b
`)
	require.Len(t, cfg.ScrapeConfigs, 2)
	for _, sc := range cfg.ScrapeConfigs {
		require.Equal(t, model.Duration(2*time.Second), sc.ScrapeInterval, sc.JobName)
		require.True(t, sc.HonorLabels)
	}
}
