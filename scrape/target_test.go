package scrape_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape"
)

// TestTargetAddresses: what a scrape could only fail on later is refused
// at start, on the command line and in static_configs, with what is
// wrong; credentials are refused with their password
// masked, never taken into a label.
func TestTargetAddresses(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"db1:9100", ""},
		{"db1", ""},
		{"[::1]:9100", ""},
		{"[::1]", ""},
		{"127.0.0.1:65535", ""},
		{"::1", `an IPv6 address needs brackets, with the port after them: [::1]:9100`},
		{"fe80::1:9100", `an IPv6 address needs brackets`},
		{"127.0.0.1:99999", `port 99999 is out of range: a port is 1 to 65535`},
		{"127.0.0.1:0", `port 0 is out of range`},
		{":0", `no host before the port`},
		{":9100", `no host before the port`},
		{"db1:", `no port after the colon`},
		{"db1:http", `port "http" is not a number`},
		{"db1:+80", `port "+80" is not a number`},
		{"[::1", `is not closed`},
		{"[::1]x", `want [address]:port`},
		{"[db1]:9100", `"db1" in brackets is not an IPv6 address`},
		{"db%zz:9100", `not host:port`},
		{"user:s3cretpw@127.0.0.1:9100", `target "user:xxxxx@127.0.0.1:9100": credentials in a target are not accepted`},
		{"s3cretpw@127.0.0.1:9100", `target "xxxxx@127.0.0.1:9100": credentials`},
		{"http://user:s3cretpw@127.0.0.1:9100/metrics", `target "http://user:xxxxx@127.0.0.1:9100/metrics": credentials in a URL are not accepted`},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			_, err := scrape.NewStaticConfig([]string{tc.addr}, time.Second)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), "s3cretpw")
		})
	}

	// The same in a config file, at the target's line.
	dir := t.TempDir()
	p := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(p, []byte(`scrape_configs:
  - job_name: node
    static_configs:
      - targets:
          - good:9100
          - ::1
          - user:s3cretpw@db1:9100
          - db2:99999
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["am:s3cretpw@am1:9093"]
`), 0o600))
	var got []string
	for _, e := range scrape.CheckConfig(p) {
		got = append(got, e.Error())
	}
	require.Equal(t, []string{
		p + `:6: job "node": target "::1": an IPv6 address needs brackets, with the port after them: [::1]:9100`,
		p + `:7: job "node": target "user:xxxxx@db1:9100": credentials in a target are not accepted, and would end up in its instance label; set basic_auth or authorization in the config instead`,
		p + `:8: job "node": target "db2:99999": port 99999 is out of range: a port is 1 to 65535`,
		p + `:12: alertmanager target "am:xxxxx@am1:9093": credentials in a target are not accepted, and would end up in its instance label; set basic_auth or authorization in the config instead`,
	}, got)
}

func TestRedactTarget(t *testing.T) {
	for in, want := range map[string]string{
		"db1:9100":                             "db1:9100",
		"user:pw@db1:9100":                     "user:xxxxx@db1:9100",
		"token@db1:9100":                       "xxxxx@db1:9100",
		"https://user:pw@db1:9100/m?x=a@b":     "https://user:xxxxx@db1:9100/m?x=a@b",
		"https://db1:9100/m?x=a@b":             "https://db1:9100/m?x=a@b",
		"user:p@ss@db1":                        "user:xxxxx@db1",
		"http://u:pw@[::1]:9093/alertmanager/": "http://u:xxxxx@[::1]:9093/alertmanager/",
	} {
		require.Equal(t, want, scrape.RedactTarget(in), in)
	}
}
