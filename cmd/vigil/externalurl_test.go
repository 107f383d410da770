package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape/peertest"
)

// TestExternalURLAndRefusedAlert runs vigil against Debian's Alertmanager
// 0.25 with --web.external-url: the alert it takes carries $externalURL in
// its annotation and an absolute generatorURL; the alert with a label name
// it refuses (bad-label, valid in Prometheus 3) is named in vigil's log
// with the reason.
func TestExternalURLAndRefusedAlert(t *testing.T) {
	am := peertest.Alertmanager(t, peertest.DefaultAlertmanagerConfig)
	rules := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(rules, []byte(`groups:
  - name: g
    rules:
      - alert: Good
        expr: vector(1)
        annotations:
          link: "{{ $externalURL }}/alerts"
      - alert: Bad
        expr: vector(1)
        labels:
          bad-label: x
`), 0o600))
	cmd := exec.Command(vigilBin, "--headless", "--events", "none", "--data-dir", "", "--eval-interval", "1s",
		"--alertmanager", am.URL, "--web.external-url", "https://vigil.example/team/", "-r", rules)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()

	var got []struct {
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		GeneratorURL string            `json:"generatorURL"`
	}
	require.Eventually(t, func() bool {
		resp, err := http.Get(am.URL + "/api/v2/alerts")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		got = nil
		return json.NewDecoder(resp.Body).Decode(&got) == nil && len(got) > 0
	}, 30*time.Second, 200*time.Millisecond, "stderr:\n%s", stderr.String())
	require.Len(t, got, 1)
	require.Equal(t, "Good", got[0].Labels["alertname"])
	require.Equal(t, "https://vigil.example/team/alerts", got[0].Annotations["link"])
	require.Equal(t, "https://vigil.example/team/graph?g0.expr=vector%281%29&g0.tab=1", got[0].GeneratorURL)
	require.Eventually(t, func() bool {
		return strings.Contains(stderr.String(), `msg="alertmanager refused an alert"`)
	}, 10*time.Second, 100*time.Millisecond, "stderr:\n%s", stderr.String())
	log := stderr.String()
	require.Contains(t, log, "alert=Bad")
	require.Contains(t, log, `label name \"bad-label\" is not [a-zA-Z_][a-zA-Z0-9_]*`)
}

// TestBadExternalURL: a URL that is not absolute is a usage error.
func TestBadExternalURL(t *testing.T) {
	out, err := exec.Command(vigilBin, "--headless", "--data-dir", "", "--web.external-url", "vigil.example:9090").CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	require.Equal(t, exitUsage, exit.ExitCode())
	require.Contains(t, string(out), "--web.external-url")
	require.Contains(t, string(out), "absolute http(s) URL")
}
