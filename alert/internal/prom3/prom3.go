// Package prom3 finds the Prometheus 3 programs built from the
// prometheus/prometheus module vigil pins, for tests that compare vigil
// with them: Debian's Prometheus and promtool (2.42) differ from it in
// PromQL semantics (range windows closed on the left) and lack newer
// fields of rule unit tests.
//
// They live in one directory: $VIGIL_PROM3_DIR, else /opt/prom3. .ci/run
// builds them there once. A test that needs one that is missing is
// skipped with a message that says how to build it; when the CI
// environment variable is set it fails instead.
package prom3

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Version is the pinned module's version, that of go.mod.
const Version = "v0.316.0"

// Dir is the directory that holds the programs.
func Dir() string {
	if d := os.Getenv("VIGIL_PROM3_DIR"); d != "" {
		return d
	}
	return "/opt/prom3"
}

// Need returns the path of the named program ("prometheus" or "promtool"),
// skipping the test (failing it under CI) when it is not there.
func Need(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(Dir(), name)
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return p
	}
	msg := fmt.Sprintf("Prometheus 3 %s not found at %s: build it with GOBIN=%s go install github.com/prometheus/prometheus/cmd/%s@%s (or set VIGIL_PROM3_DIR)",
		name, p, Dir(), name, Version)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s; CI is set, so this is a failure", msg)
	}
	t.Skip(msg)
	return ""
}
