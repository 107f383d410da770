package remote

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		if fleetBin != "" {
			_ = os.RemoveAll(filepath.Dir(fleetBin))
		}
		os.Exit(code)
	}))
}
