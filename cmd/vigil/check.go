package main

import (
	"fmt"
	"io"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/scrape"
)

const checkUsage = `usage:
  vigil check config FILE      validate a prometheus.yml (and the rule files it names)
  vigil check rules FILE...    validate Prometheus rule files
`

// checkCmd validates files as promtool check does: exit 0, or 1 with every
// error and its place.
func checkCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 {
		fmt.Fprint(stderr, checkUsage)
		return exitUsage
	}
	switch args[0] {
	case "config":
		ok := true
		for _, path := range args[1:] {
			fmt.Fprintf(stdout, "Checking %s\n", path)
			cfg, err := scrape.LoadConfig(path)
			if err != nil {
				// The error joins every problem, each with its place.
				ok = false
				fmt.Fprintln(stdout, "  FAILED:")
				errs := []error{err}
				if joined, isJoined := err.(interface{ Unwrap() []error }); isJoined {
					errs = joined.Unwrap()
				}
				for _, err := range errs {
					fmt.Fprintf(stdout, "  %v\n", err)
				}
				continue
			}
			fmt.Fprintf(stdout, "  SUCCESS: %d rule files found\n", len(cfg.RuleFiles))
			if len(cfg.RuleFiles) > 0 {
				fmt.Fprintln(stdout)
				if !alert.CheckRules(stdout, cfg.RuleFiles...) {
					ok = false
				}
			}
		}
		if !ok {
			return exitFailed
		}
		return exitOK
	case "rules":
		if !alert.CheckRules(stdout, args[1:]...) {
			return exitFailed
		}
		return exitOK
	default:
		fmt.Fprintf(stderr, "vigil check: unknown %q\n%s", args[0], checkUsage)
		return exitUsage
	}
}
