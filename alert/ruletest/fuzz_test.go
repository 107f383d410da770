package ruletest

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"go.yaml.in/yaml/v2"
)

// bigRepeat finds repetitions in the expanding notation ("1x100000"),
// which expand to that many samples in memory, as in promtool.
var bigRepeat = regexp.MustCompile(`x(\d+)`)

// FuzzTestFile: no test file makes ruletest panic. The fuzzer's files run
// against this package's rules.yml; files that would run for long or
// expand to many samples (as they would in promtool) are skipped.
func FuzzTestFile(f *testing.F) {
	for _, name := range []string{"pass.yml", "fail.yml", "order.yml", "unknown-field.yml", "bad-rule-file.yml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	rules, err := os.ReadFile(filepath.Join("testdata", "rules.yml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4096 {
			t.Skip("large")
		}
		for _, m := range bigRepeat.FindAllSubmatch(b, -1) {
			if n, err := strconv.Atoi(string(m[1])); err != nil || n > 1000 {
				t.Skip("expands to many samples")
			}
		}
		var file unitTestFile
		if yaml.UnmarshalStrict(b, &file) == nil {
			iv := time.Duration(file.EvaluationInterval)
			if iv == 0 {
				iv = time.Minute
			}
			for i := range file.Tests {
				if n := file.Tests[i].maxEvalTime() / iv; n > 500 || n < 0 {
					t.Skip("many evaluations")
				}
			}
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "rules.yml"), rules, 0o600); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "test.yml")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, _ = Run(Options{Stdout: io.Discard, Stderr: io.Discard}, p)
	})
}
