package prom3_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert/internal/prom3"
)

// TestVersionIsPinned: the programs the tests compare with are of the
// version go.mod pins.
func TestVersionIsPinned(t *testing.T) {
	b, err := os.ReadFile("../../../go.mod")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^\s*github\.com/prometheus/prometheus (v\S+)$`).FindSubmatch(b)
	require.NotNil(t, m)
	require.Equal(t, string(m[1]), prom3.Version)
}
