package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTestRulesCommand: `vigil test rules` runs promtool's unit-test files
// with its exit codes; every form of the command takes --help.
func TestTestRulesCommand(t *testing.T) {
	const dir = "../../alert/ruletest/testdata/"
	junit := filepath.Join(t.TempDir(), "junit.xml")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"pass", []string{"test", "rules", dir + "pass.yml"}, exitOK, "Processing test file: " + dir + "pass.yml\n  SUCCESS\n\n", ""},
		{"fail", []string{"test", "rules", dir + "fail.yml"}, exitFailed, "Processing test file: " + dir + "fail.yml\n", "  FAILED:\n"},
		{"run", []string{"test", "rules", "--run", "^over", dir + "fail.yml"}, exitFailed, "", "exceeded limit of 1 with 2 alerts"},
		{"junit", []string{"test", "rules", "--junit", junit, dir + "pass.yml"}, exitOK, "SUCCESS", ""},
		{"missing file", []string{"test", "rules", dir + "nothing.yml"}, exitFailed, "", `path "` + dir + `nothing.yml" does not exist`},
		{"bad --run", []string{"test", "rules", "--run", "(", dir + "pass.yml"}, exitUsage, "", "--run: error parsing regexp"},
		{"--diff", []string{"test", "rules", "--diff", dir + "pass.yml"}, exitUsage, "", "--diff is not supported"},
		{"no file", []string{"test", "rules"}, exitUsage, "", "usage:"},
		{"no rules", []string{"test"}, exitUsage, "", "usage:"},
		{"test --help", []string{"test", "--help"}, exitOK, "", "vigil test rules"},
		{"test rules --help", []string{"test", "rules", "--help"}, exitOK, "", "--ignore-unknown-fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tc.args, &out, &errOut)
			require.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
			require.Contains(t, out.String(), tc.stdout)
			require.Contains(t, errOut.String(), tc.stderr)
		})
	}
	b, err := os.ReadFile(junit)
	require.NoError(t, err)
	require.Contains(t, string(b), `<testsuite name="`+dir+`pass.yml" tests="3" failures="0"`)
}

// TestSubcommandHelp: --help after any subcommand is help, never a file
// name.
func TestSubcommandHelp(t *testing.T) {
	for _, args := range [][]string{
		{"check", "--help"}, {"check", "rules", "--help"}, {"check", "config", "--help"},
		{"check", "rules", "-h"}, {"query", "--help"}, {"test", "rules", "--help"},
	} {
		var out, errOut bytes.Buffer
		require.Equal(t, exitOK, run(context.Background(), args, &out, &errOut), "%v", args)
		require.Contains(t, errOut.String(), "usage:", "%v", args)
		require.Empty(t, out.String(), "%v", args)
	}
}
