// Package pipeline is the running vigil: scrape → store ← rules → sinks,
// and what the console reads of it. cmd/vigil parses the flags, makes the
// logger and the PromQL engine, handles signals and picks the mode; this
// package does the rest, so that tests can run it whole.
//
// It owns:
//
//   - loading (Load): the config (a prometheus.yml, bare targets, both, or
//     neither: the built-in local host, with a flag the operator typed
//     winning over the file), the rules (the config's rule_files, -r, -a,
//     or the built-in node rules) and the Alertmanagers (the config's and
//     --alertmanager's);
//   - the store (Open): on the data directory, locked and restored from
//     its last snapshot, or in memory without one; and remote write
//     (store/remotewrite), whose spool is in the data directory (in
//     memory without one) and which the store hands every sample it
//     accepts;
//   - the parts and their order (Start, Reload, Stop): event sinks,
//     the remote_write remotes, the rules with the local silences kept
//     in the data directory, the scrapes with vigil's own metrics (Self,
//     vigil_remote_write_* among them) as a target, and last the HTTP
//     API (package web) when it has a listen address;
//   - the logger's place (NewLogger): stderr in --headless, vigil.log in
//     the data directory under the console;
//   - what vigil says of the failures it runs through (Failures): a
//     snapshot that cannot be written, rules that fail, events that are
//     not delivered, an Alertmanager that does not take alerts, the store
//     at --max-series, a remote_write receiver that falls behind or
//     drops samples, each said once
//     when it starts and once when it ends, whatever the retries: in the
//     log (so on stderr in --headless), in the console's header and in
//     vigil_failing{component};
//   - what the console reads (ConsoleOptions, Warnings), through adapters
//     that report what scrape and alert know in the console's own types
//     (package tui's contract), so that tui imports neither.
//
// It promises:
//
//   - Load refuses everything that cannot run, with what and where,
//     before anything is opened or written;
//   - a second vigil on a data directory is refused by Open with a
//     *store.LockedError, which names the holder;
//   - Load refuses an API listen address other machines can reach
//     without a web config, and a web config that does not load;
//   - Stop stops in dependency order (no more API requests, no more
//     scrapes, no more evaluations, the sinks drain, remote write sends
//     what it can for a moment and leaves the rest in its spool, then
//     the store's final snapshot) and ends every goroutine the pipeline
//     started; it is safe to call more than once, and after a failed
//     Start;
//   - Reload applies the config file again, or refuses it and keeps the
//     running one, with the reason in the console's header until a reload
//     goes through; remotes are added, changed and removed, each keeping
//     its queue by name;
//   - the adapters lose nothing the console shows: every field of
//     tui.Target, tui.Alert, tui.Rule, tui.AlertEvent and tui.Metadata is
//     copied from the field of the same name, and every health and state
//     keeps its Prometheus name.
package pipeline
