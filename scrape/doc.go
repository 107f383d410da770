// Package scrape pulls metrics from Prometheus exporters into the store,
// the way Prometheus does, so that a user's prometheus.yml and exporters
// just work.
//
// It owns the part of prometheus.yml vigil understands (LoadConfig,
// CheckConfig), turning it into targets, one scrape loop per target
// (Manager), the HTTP client built by prometheus/common/config, parsing with
// Prometheus' model/textparse, the synthetic series, staleness and limits,
// and the built-in local-host target (LocalTarget).
//
// # Config
//
// LoadConfig reads the file once. Every problem is reported with
// file:line, all of them in one go, like `promtool check config`: unknown
// keys, Prometheus features vigil does not have (remote_read,
// kubernetes_sd_configs, …: named, with what is supported), bad values and
// failed checks (a timeout longer than the interval, two jobs of one name,
// a scheme in a target, …). Relative paths (rule_files globs, file_sd
// files, password_file, ca_file, …) are relative to the config file.
//
// Reading prometheus.yml stays in this package rather than in one of its
// own that scrape and alert would share: most of the file (global,
// scrape_configs with their HTTP clients, relabeling and limits) is
// scrape's, and the rest (rule_files, alerting and remote_write) leaves
// the *Config as plain values (RuleFiles, Alertmanagers(), RemoteWrites(),
// Global.EvaluationInterval and Global.ExternalLabels) that the binary
// hands to alert and to store/remotewrite, which do not import scrape.
// One reader of the whole file is what reports every problem at its line
// in one go, and the repository's top level stays as it is.
//
// The files: config.go (Config, the global section, the entry points),
// config_scrape.go, config_alert.go (rule_files and alerting),
// config_remotewrite.go, config_cmdline.go (configs for command-line
// targets), protocols.go, bytesize.go, and the reading itself:
// config_load.go (YAML with its lines) and config_keys.go (unknown and
// unsupported keys).
//
// Choices where vigil differs from Prometheus, because it is a console:
//   - What a config leaves out defaults to DefaultGlobalConfig: a 5s scrape
//     and evaluation interval (the --scrape-interval and --eval-interval
//     defaults), not Prometheus' 1m. LoadConfigWith takes other defaults.
//   - A body without a Content-Type is read as the text format (as
//     Prometheus 2 did), unless fallback_scrape_protocol says otherwise.
//   - Every body is size-limited: Options.BodySizeLimit (64 MiB) applies
//     when the config sets no body_size_limit.
//   - Only float samples are stored: native histograms are ignored; classic
//     histograms and summaries come through as their series.
//
// # Scrape loops
//
// Each target gets a goroutine owned by the Manager. The first scrape
// happens at the start of one of ScrapeSlots slots of the interval, picked
// by a hash of the target (so targets spread over the slots, each keeps
// its phase, and the targets of a slot are scraped in one batch, one
// wake-up of an otherwise idle process), then on a ticker. A scrape is
// stamped with its slot's planned time when it starts within 1% of the
// interval after it (onTime: a slot's targets run one after another), or
// with the last stamp plus the interval when it is within
// Options.TimestampTolerance (2ms) of that (snap, as Prometheus does):
// regular timestamps keep the store's
// compression near its best (see BenchmarkCompression). Each scrape is
// one store transaction: the samples, stale markers for series that
// vanished, and the synthetic series up,
// scrape_duration_seconds, scrape_samples_scraped,
// scrape_samples_post_metric_relabeling and scrape_series_added.
//
// The request is Prometheus': its Accept header (protobuf first when
// scrape_protocols asks for it), gzip, Options.UserAgent and
// X-Prometheus-Scrape-Timeout-Seconds. A text-format body is read the way
// textparse.PromParser reads it, with its errors and labels, but a line
// whose series the loop already knows (a target writes the same lines every
// time) is read without the lexer, which makes the whole scrape cheaper
// than textparse's parsing alone (BenchmarkScrapeLoopAppend against
// BenchmarkParseOnly; FuzzTextParser checks that both parsers agree).
// Samples get the target labels (job, instance and the rest after
// relabel_configs), with honor_labels and the exported_ renaming,
// honor_timestamps, then metric_relabel_configs.
//
// The loop also keeps the type each family's TYPE line declares, for
// Manager.Metadata (Prometheus' /api/v1/metadata, types only): it
// compares each TYPE entry with the one at the same place in the last good
// body and copies and republishes only when they differ, so an unchanged
// body costs a string comparison per family. At most MaxFamilyTypes
// families of at most MaxFamilyNameLen bytes are kept per target, and
// names that are not clean UTF-8 text are not (see metadata.go).
//
// # Failures
//
// Everything from a target is untrusted. A scrape that times out, is
// refused, gets a status other than 200, a body over the limit, a body that
// does not parse, a series with invalid UTF-8, or breaks sample_limit,
// label_limit, label_name_length_limit or label_value_length_limit fails as
// a whole, as in Prometheus: nothing of it is stored, up is 0, every series
// of the target gets a stale marker, the target shows a short error, and
// the next scrape is on time. A sample the store refuses (out of order,
// duplicate, too many series) or a series twice in one body is dropped and
// counted in TargetHealth.LastWarning; the scrape goes on. A series the
// store refuses because it holds --max-series is counted in
// TargetHealth.SeriesRefused (and logged when that starts and ends) and
// not kept in the loop's cache, so a target that offers more series than
// vigil takes costs no memory for the refused ones. The synthetic series
// are written with store.Appender.AppendReserved, which the series limit
// never refuses: a target's up is stored whatever the cap. Errors and
// warnings are passed through Sanitize; label values are stored as sent and
// must be sanitised by whoever shows them. Secrets from the config never
// appear in errors, health or logs.
//
// # Reloads and shutdown
//
// ApplyConfig makes the running targets those of a new config. A target in
// both keeps its loop (or hands its series cache to the new loop when its
// job's settings changed), so a reload loses nothing. A target that is gone
// gets stale markers for all its series stamped at its first missed slot
// and written a tenth of an interval after the second, in case it comes
// back, as in Prometheus. A config that cannot be applied changes nothing.
// Close stops every loop and waits for them; it writes no stale markers.
//
// # Internal targets
//
// An InternalTarget is scraped by the same loop, but its body comes from a
// CollectFunc writing the text format (TextWriter helps). LocalTarget is one:
// job "node", instance the hostname, node_exporter's names and labels for
// CPU, memory, load, filesystems, network, disks, boot time, time, uname and
// running processes, read from /proc and /sys with prometheus/procfs.
// vigil's own metrics (job "vigil") are another, registered through
// Options.Internal.
package scrape
