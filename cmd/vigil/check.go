package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/scrape"
)

const checkUsage = `usage:
  vigil check config [--ignore-unknown-fields] FILE...   validate a prometheus.yml (and the rule files it names)
  vigil check rules [--ignore-unknown-fields] [FILE...]  validate Prometheus rule files (standard input without FILE)

As promtool check: "Checking FILE", then SUCCESS on stdout, or FAILED and every
problem with its place on stderr; exit 1 when a file failed.
`

// checkCmd validates files as promtool check does: exit 0, or 1 with every
// error and its place.
func checkCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, checkUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	what := args[0]
	if what != "config" && what != "rules" {
		fmt.Fprintf(stderr, "vigil check: unknown %q\n%s", what, checkUsage)
		return exitUsage
	}
	fs := pflag.NewFlagSet("vigil check "+what, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var o alert.LoadOptions
	fs.BoolVar(&o.IgnoreUnknownFields, "ignore-unknown-fields", false, "accept fields of rule groups and rules that Prometheus does not know (metadata of other tools)")
	fs.Usage = func() {
		fmt.Fprint(stderr, checkUsage+"\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 && what == "config" {
		fs.Usage()
		return exitUsage
	}
	ok := true
	switch what {
	case "config":
		for _, path := range fs.Args() {
			fmt.Fprintf(stdout, "Checking %s\n", path)
			cfg, err := scrape.LoadConfig(path)
			if err != nil {
				// The error joins every problem, each with its place.
				ok = false
				fmt.Fprintln(stderr, "  FAILED:")
				errs := []error{err}
				if joined, isJoined := err.(interface{ Unwrap() []error }); isJoined {
					errs = joined.Unwrap()
				}
				for _, err := range errs {
					fmt.Fprintf(stderr, "  %v\n", err)
				}
				fmt.Fprintln(stdout)
				continue
			}
			fmt.Fprintf(stdout, "  SUCCESS: %d rule files found\n", len(cfg.RuleFiles))
			fmt.Fprintln(stdout)
			if !alert.CheckRules(stdout, stderr, o, cfg.RuleFiles...) {
				ok = false
			}
		}
	case "rules":
		if fs.NArg() == 0 {
			ok = alert.CheckRulesFrom(stdout, stderr, o, stdin)
		} else {
			ok = alert.CheckRules(stdout, stderr, o, fs.Args()...)
		}
	}
	if !ok {
		return exitFailed
	}
	return exitOK
}
