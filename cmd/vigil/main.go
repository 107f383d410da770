// Command vigil is a monitoring console for one operator in one terminal:
// it scrapes Prometheus exporters, keeps their history in an embedded store,
// evaluates alerting rules and shows it all in a TUI. See README.md.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "vigil: under construction")
	os.Exit(2)
}
