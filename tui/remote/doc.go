// Package remote is the console's source on a remote Prometheus-compatible
// HTTP API (Prometheus, Thanos Query, Mimir, VictoriaMetrics): one more
// adapter behind package tui's contract, beside the one over vigil's own
// store, scrapes and rules. `vigil --source URL` runs the console on it,
// and nothing else: no scraping, no store, no rules.
//
// What it reads, through client_golang's api/prometheus/v1:
//
//	tui.Querier         /api/v1/query, query_range, labels, label/NAME/values, series
//	tui.MetadataSource  /api/v1/metadata
//	tui.RuleSource      /api/v1/rules (the alerts of alerting rules too)
//	tui.AlertSource     the alerts of /api/v1/rules; /api/v1/alerts when
//	                    the remote serves no rules
//	tui.TargetSource    /api/v1/targets?state=active, read here rather than
//	                    through client_golang, whose ActiveTarget lacks the
//	                    scrape interval and timeout and which would fetch
//	                    the dropped targets too (megabytes on a Kubernetes
//	                    Prometheus); the samples and series of each target
//	                    come from scrape_samples_scraped and
//	                    scrape_samples_post_metric_relabeling
//
// It promises:
//
//   - the console's event loop never waits on the remote: Targets, Alerts
//     and Rules answer from a cache that a poller refreshes every
//     Options.Poll, each request bounded by Options.Timeout, one request
//     of a kind in flight at a time (the poller waits for the answer, or
//     the timeout, before it asks again);
//   - what the remote does not serve (404) or answers with nothing is
//     reported as tui.ErrNotReported (Reporting, Metadata), never as an
//     empty list: Mimir serves no targets, VictoriaMetrics no metadata,
//     and no rules or alerts unless started with -vmalert.proxyURL;
//   - when the remote cannot be reached (a refused or reset connection,
//     no answer within the timeout, a proxy's 502, 503 or 504), Warnings
//     says so, and since when, until it answers again; what was read
//     before stays on screen;
//   - answers are bounded: a body larger than Options.MaxBytes fails the
//     call (before it is decoded), and a result of more than
//     Options.MaxSeries series (or label values) is cut, which Warnings
//     says for a minute; so a query over a million series of a large
//     Mimir costs at most MaxBytes and what they decode to;
//   - secrets (passwords, tokens, secret headers of the client config)
//     never reach an error, a warning or a log: every text that leaves
//     the package has them replaced;
//   - everything from the remote is untrusted: label sets are made valid
//     (sorted, no empty values, no duplicate series), points sorted by
//     time, durations and counts checked; the console sanitises what it
//     shows.
//
// Silences are the console's own: Silence keeps them in memory, for as
// long as the console runs, and Alerts reports them (tui.Alert's
// SilencedUntil); nothing is sent to the remote or an Alertmanager. The
// Alerts view's event log comes from the alerts the poller sees change
// between two reads (Events): pending, firing and resolved at the time it
// saw them, not at the remote's evaluation; a resolved alert stays listed
// for 15 minutes, as vigil's own do.
package remote
