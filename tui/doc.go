// Package tui is vigil's terminal console: a bubbletea program with five
// views and a header that always shows targets up/total, alerts
// firing/pending and warnings, then as width allows the time range with
// the scrape interval ("range 15m @5s") and the clock.
//
//	1 Overview  the hosts (instances with node_exporter's metrics), as a
//	            card each (CPU %, memory %, load/CPUs, fullest disk %,
//	            network rx/tx, with sparklines over the time range) or,
//	            v or when the cards do not fit, a line each; above them
//	            every target that is down, of any job, with its error.
//	            s cycles the order: trouble first (firing, down, pending,
//	            then the hottest), cpu, memory, disk, load, network,
//	            alerts, name. / matches instance, name, job, label values,
//	            up/down, firing/pending and alert names. Hosts are named
//	            briefly where unambiguous (briefNames). enter opens a
//	            host's page (hostpage.go): CPU in all and per core with
//	            its modes, load, memory and swap, filesystems with when
//	            they fill, disk I/O, network with errors and drops,
//	            uptime, its alerts and targets; with one host the
//	            Overview is its page. Below the hosts, the targets that
//	            are up without such data (vigil's own, other jobs)
//	2 Targets   instance, job, health, last scrape, duration, samples, the
//	            labels that differ, error; enter shows a target, s sorts
//	            (health puts down ones first), w shows the row whole
//	3 Alerts    alerts (firing, pending, resolved), rule health and the log
//	            of alert events, as panes on ←/→; enter shows an alert or
//	            a rule with the chart of what its expression compares
//	            (the alert's series, centred on when it fired, threshold
//	            dashed, pending and firing marked from ALERTS), and e
//	            opens the expression in Query (alertchart.go);
//	            S silences the selected alert for 15m, and for 1h, 4h,
//	            24h, then off on further presses (through the Silencer:
//	            alert's Manager holds the silence): shown as silenced, not
//	            counted as firing or pending, its events marked, in the
//	            log and on stdout. Alertmanager still gets it (see package
//	            alert)
//	4 Explore   metric names (/ filters fuzzily, fzf-like: "nnrb" finds
//	            node_network_receive_bytes_total, best matches first) → the
//	            series of one → a chart of one series, or c for all listed
//	            series together (the highest drawn, the rest counted).
//	            A counter is charted as a per-second rate, r shows it
//	            raw: a family declared counter by its
//	            targets' TYPE lines (Options.Metadata), a histogram's or
//	            summary's _count, _sum and _bucket, or, when no TYPE line
//	            says, a name in _total, _count or _sum; a family declared
//	            gauge is charted raw whatever its name. Units come from
//	            the name (_bytes in KiB/MiB/GiB, _seconds in ms/s, _ratio
//	            in %)
//	5 Query     a PromQL prompt that keeps the keys after enter (only esc
//	            leaves it; tab completes metric names, label names and
//	            values through the Querier and cycles; ↑/↓ and ctrl+r
//	            walk and search the history, kept in
//	            Options.HistoryFile): the instant result as a table
//	            sorted by value in the chart's units, which is also the
//	            legend of the range result's chart
//
// Charts (chart.go) are the console's own braille lines: round y ticks
// from zero (a percentage or ratio spanning its full scale) unless z
// fits them, gaps where there is no data, a cursor on ←/→ (one for every
// chart) whose time and values the legend shows, legends of the labels
// that differ (splitLabels), at most MaxChartSeries drawn, the highest
// first, and t to turn one off or draw one that is not.
//
// Time (timeline.go): [ and ] pan by half a range, @ centres the range on
// a time, 0 goes back to live; a range that does not end now is paused.
// The ranges offered stop at Options.Retention. Paused, the console holds
// alert events and warnings until it goes live, so nothing on screen
// moves, header included. Mouse input (mouse.go) is off unless
// Options.Mouse or m: clicks select tabs, rows, series and times, the
// wheel scrolls.
//
// Label columns lead with what tells their rows apart (splitLabels:
// instance first) and show what every row shares once above the table.
//
// Every figure is right or says it is not known yet: rate() over a window
// longer than the data reads low, so busy CPU is a ratio of CPU seconds
// and per-second rates are divided by the rate of the target's clock,
// which cancels the partial window (hostquery.go).
//
// Everywhere: 1-5 and tab switch views, / filters a list, enter drills in,
// esc goes back, j/k and arrows move, + and - step the time range (5m, 15m,
// 1h, 6h, 24h, up to the retention), p pauses the live update (the header
// says so; ticks leave clock and data alone until p again), [ ] @ 0 move
// through time, z fits charts, m turns the mouse on, ? shows every key,
// q or ctrl+c quits. A text prompt has every key but ctrl+c until esc.
//
// It is built for 80×24 over a slow SSH link. It redraws on keys and on a
// refresh tick (1 s), never faster (bubbletea looks for a new frame 60
// times a second, Options.FPS, so a key's frame waits at most 17 ms); a range query runs again only when its
// step-aligned grid has moved and current values are evaluated at now
// truncated to 5 s, so an idle tick changes only the clock. It uses the 16
// ANSI colours, keeps every view inside the window at any size, and treats
// keys that arrive in one read (slow links, pastes) as the keys they are.
//
// The console reads the rest of vigil through small interfaces declared
// here, in types of its own: Querier (PromQL, label values, series;
// EngineQuerier implements it over a promql.Engine and a
// storage.Queryable such as vigil's store), TargetSource (Target) and the
// optional MetadataSource (Metadata), AlertSource (Alert) and the optional
// RuleSource (Rule) and Silencer. The types are plain values shaped like
// Prometheus' /api/v1/targets, alerts, rules and metadata, so that vigil's
// own scrape and alert packages (through the adapters in
// cmd/vigil/internal/pipeline) and a remote Prometheus-compatible API are
// two adapters behind one contract: tui imports no other vigil package
// (TestImports). Alert events (AlertEvent) and status warnings arrive on
// channels (Options.AlertEvents, Options.Status) that the model reads with
// re-armed commands, or are polled (Options.Warnings). Queries run off the event
// loop with a timeout and never pile up; target, alert and rule snapshots
// are taken on it once per tick and must be cheap. Every goroutine the
// console starts ends when it quits or its context is done.
//
// A source that cannot always list what it is asked for (tui/remote, on a
// remote API that serves no targets, or has not answered yet) says why
// through the optional Reporting, and a MetadataSource with no types
// returns ErrNotReported: the views say so where the list would be ("not
// reported by the remote"), and the header shows the counts as not known,
// never as an empty list with counts of zero. A read that fails leaves
// what was read on screen, with the error above it.
//
// Everything a target controls (label names and values, metric names,
// errors, annotations) is untrusted: it passes through Sanitize, which
// shows control characters, escape sequences, bidi overrides and invalid
// UTF-8 as visible, inert escapes (\x1b, \u202e, U+FFFD) and caps the
// length, before it reaches the screen. (scrape has a Sanitize of its own
// that strips sequences instead; the console escapes them so an operator
// sees that an exporter sends them, and it measures display cells rather
// than runes for its layout.)
//
// The layout follows soft-serve's pkg/ui: keymap.go (KeyMap), styles.go
// (Styles), one file per view; views render strings and only the root
// Model talks to the program.
package tui
