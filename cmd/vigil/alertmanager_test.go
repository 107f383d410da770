package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape/peertest"
)

// TestAlertmanagerDelivery: a firing alert reaches a real Alertmanager,
// named by --alertmanager or by the config's alerting section.
func TestAlertmanagerDelivery(t *testing.T) {
	am := peertest.Alertmanager(t, peertest.DefaultAlertmanagerConfig)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf(
		"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n  external_labels:\n    site: lab\n"+
			"alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['%s']\n", am.Addr)), 0o600))

	tests := []struct {
		name  string
		args  []string
		alert string
	}{
		{"flag", []string{"--alertmanager", am.URL, "--eval-interval", "1s"}, "ByFlag"},
		{"config", []string{"-c", cfgPath}, "ByConfig"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--headless", "--events", "none", "--data-dir", ""}, tc.args...)
			args = append(args, "-a", tc.alert+": vector(1)")
			cmd := exec.Command(vigilBin, args...)
			var stderr syncBuffer
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			defer func() {
				_ = cmd.Process.Signal(syscall.SIGTERM)
				_ = cmd.Wait()
			}()

			var got []struct {
				Labels map[string]string `json:"labels"`
				Status struct {
					State string `json:"state"`
				} `json:"status"`
			}
			require.Eventually(t, func() bool {
				resp, err := http.Get(am.URL + "/api/v2/alerts?filter=alertname%3D" + tc.alert)
				if err != nil {
					return false
				}
				defer resp.Body.Close()
				got = nil
				return json.NewDecoder(resp.Body).Decode(&got) == nil && len(got) == 1
			}, 30*time.Second, 200*time.Millisecond, "stderr:\n%s", stderr.String())
			require.Equal(t, "active", got[0].Status.State)
			if tc.name == "config" {
				require.Equal(t, "lab", got[0].Labels["site"], "external labels go to Alertmanager")
			}
		})
	}
}
