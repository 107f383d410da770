package scrape

import "time"

// InternalTarget is a target whose body comes from a Go function instead
// of an HTTP request. It is scraped by the same loop as any exporter, so it
// gets the same synthetic series (up, scrape_duration_seconds, …), the
// same staleness handling and the same health on the Targets view.
type InternalTarget struct {
	Job      string            // the job label; required
	Instance string            // the instance label; "" means the hostname
	Labels   map[string]string // more target labels
	URL      string            // shown as the target's URL; "" means "internal:<job>"
	Interval time.Duration     // 0: the config's global scrape_interval
	Timeout  time.Duration     // 0: the global scrape_timeout, at most Interval
	Collect  CollectFunc       // writes the body; required
	// Reserved writes the target's series through the store's reserve
	// (store.Appender.AppendReserved), which --max-series never refuses:
	// for vigil's own metrics, a set it bounds, which must say what a full
	// store hides. Never for a target whose series come from outside.
	Reserved bool
}
