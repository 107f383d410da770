package tui

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImports: the console reads the rest of vigil only through its own
// contract (source.go, types.go), so that a remote API can stand where
// vigil's own packages do: tui imports no vigil package outside tui/, not
// even through a third package.
func TestImports(t *testing.T) {
	const module = "github.com/vigilterm/vigil/"
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, module+"tui", "go list answered for another package")
	for _, dep := range deps {
		if strings.HasPrefix(dep, module) && dep != module+"tui" && !strings.HasPrefix(dep, module+"tui/") {
			t.Errorf("tui depends on %s", dep)
		}
	}
}
