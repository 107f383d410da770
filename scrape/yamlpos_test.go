package scrape_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/scrape/peertest"
)

// yamlSyntaxCases are config files whose YAML does not parse, and the
// line promtool check config reports for each (Debian's promtool 2 and
// promtool 3 agree on them).
var yamlSyntaxCases = []struct {
	name, yaml string
	line       int
}{
	{"unclosed flow sequence", "global:\n  scrape_interval: 5s\nc: [1, 2\n", 3},
	{"unclosed sequence in a list", "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: [\"a:1\"\n  - job_name: b\n", 4},
	{"bad indentation", "global:\n  scrape_interval: 5s\n   bad: 1\n", 3},
	{"tab", "global:\n\tscrape_interval: 5s\n", 2},
	{"unterminated string", "a: \"unterminated\nb: 1\n", 3},
	{"unclosed flow mapping", "a: {x: 1\nb: 1\n\n\n", 1},
	{"sequence then mapping", "- a\nb: 1\n", 1},
	{"empty flow sequence value", "global:\n  scrape_interval: [\n", 2},
}

// TestYAMLSyntaxPositions: a YAML syntax error is reported at the line
// promtool names.
func TestYAMLSyntaxPositions(t *testing.T) {
	for _, tc := range yamlSyntaxCases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "prometheus.yml")
			require.NoError(t, os.WriteFile(p, []byte(tc.yaml), 0o600))
			errs := scrape.CheckConfig(p)
			require.Len(t, errs, 1)
			require.Regexp(t, "^"+regexp.QuoteMeta(p)+":"+strconv.Itoa(tc.line)+": invalid YAML: ", errs[0].Error())
		})
	}
}

// TestYAMLSyntaxPositionsAsPromtool runs promtool on the same files:
// Debian's (2.42) and Prometheus 3's of the pinned version, which .ci/run
// builds in $VIGIL_PROM3_DIR, else /opt/prom3.
func TestYAMLSyntaxPositionsAsPromtool(t *testing.T) {
	t.Run("debian", func(t *testing.T) { yamlPositionsAs(t, peertest.Need(t, "prometheus", "promtool")) })
	t.Run("prom3", func(t *testing.T) {
		dir := os.Getenv("VIGIL_PROM3_DIR")
		if dir == "" {
			dir = "/opt/prom3"
		}
		p := filepath.Join(dir, "promtool")
		if _, err := os.Stat(p); err != nil {
			msg := fmt.Sprintf("Prometheus 3 promtool not at %s: build it with GOBIN=%s go install github.com/prometheus/prometheus/cmd/promtool@v0.316.0", p, dir)
			if os.Getenv("CI") != "" {
				t.Fatalf("%s; CI is set, so this is a failure", msg)
			}
			t.Skip(msg)
		}
		yamlPositionsAs(t, p)
	})
}

func yamlPositionsAs(t *testing.T, promtool string) {
	lineRE := regexp.MustCompile(`yaml: line (\d+):`)
	for _, tc := range yamlSyntaxCases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "prometheus.yml")
			require.NoError(t, os.WriteFile(p, []byte(tc.yaml), 0o600))
			out, _ := exec.Command(promtool, "check", "config", p).CombinedOutput()
			m := lineRE.FindSubmatch(out)
			require.NotNil(t, m, "promtool says no line:\n%s", out)
			require.Equal(t, strconv.Itoa(tc.line), string(m[1]), "%s", out)
		})
	}
}
