package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/vigilterm/vigil/alert/ruletest"
)

const testUsage = `usage:
  vigil test rules [--run REGEXP]... [--debug] [--ignore-unknown-fields] [--junit FILE] TEST-FILE...

Runs rule unit-test files in promtool's format on vigil's rule evaluation,
with promtool test rules' output and exit codes (0, or 1 when a test failed).

Flags:
`

// testCmd implements `vigil test rules`; the work is ruletest's.
func testCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "rules" {
		fmt.Fprint(stderr, testUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return exitOK
		}
		return exitUsage
	}
	fs := pflag.NewFlagSet("vigil test rules", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(stderr)
	o := ruletest.Options{Stdout: stdout, Stderr: stderr}
	fs.StringArrayVar(&o.Run, "run", nil, "only the tests whose name matches this regular expression; repeatable")
	fs.BoolVar(&o.Debug, "debug", false, "say when each test starts and ends, and dump its series after it")
	fs.BoolVar(&o.IgnoreUnknownFields, "ignore-unknown-fields", false, "accept fields of rule files that Prometheus does not know")
	junit := fs.String("junit", "", "also write the results to this file as JUnit XML")
	diff := fs.Bool("diff", false, "not supported: promtool's experimental coloured diff")
	fs.Usage = func() {
		fmt.Fprint(stderr, testUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *diff {
		fmt.Fprintln(stderr, "vigil test rules: --diff is not supported; the failures say what was expected and what came")
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	if *junit != "" {
		f, err := os.OpenFile(*junit, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "vigil test rules: --junit: %v\n", err)
			return exitUsage
		}
		defer f.Close()
		o.JUnit = f
	}
	code, err := ruletest.Run(o, fs.Args()...)
	if err != nil {
		fmt.Fprintf(stderr, "vigil test rules: %v\n", err)
	}
	return code
}
