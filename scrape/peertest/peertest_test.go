package peertest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vigilterm/vigil/scrape/peertest"
)

func TestPeersStart(t *testing.T) {
	ne := peertest.NodeExporter(t)
	resp, err := http.Get(ne.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "node_load1") {
		t.Fatalf("node_exporter body has no node_load1:\n%.500s", body)
	}
	am := peertest.Alertmanager(t, peertest.DefaultAlertmanagerConfig)
	if resp, err := http.Get(am.URL + "/api/v2/status"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("alertmanager status: %v %v", resp, err)
	}
	pr := peertest.Prometheus(t, "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['"+ne.Addr+"']\n", nil)
	if resp, err := http.Get(pr.URL + "/api/v1/targets"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("prometheus targets: %v %v", resp, err)
	}
}
