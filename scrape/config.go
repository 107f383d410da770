package scrape

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
)

// Config is the part of a prometheus.yml that vigil understands. It is read
// once (LoadConfig) and shared: the alert package takes RuleFiles,
// Alerting and Global.EvaluationInterval from it, the Manager the rest.
type Config struct {
	Global        GlobalConfig    `yaml:"global"`
	RuleFiles     []string        `yaml:"rule_files"`
	ScrapeConfigs []*ScrapeConfig `yaml:"scrape_configs"`
	Alerting      AlertingConfig  `yaml:"alerting"`

	// Internal targets are scraped like the others but their body comes
	// from a Go function (the local host, vigil itself). They are not part
	// of the file.
	Internal []InternalTarget `yaml:"-"`

	// Path is the file the config was loaded from, "" when built in code.
	Path string `yaml:"-"`
	// RuleFilePatterns are the rule_files entries as written; RuleFiles
	// holds what they expanded to (relative to the config file, sorted,
	// without duplicates).
	RuleFilePatterns []string `yaml:"-"`
}

// GlobalConfig holds the defaults for every scrape config and the rule
// evaluation interval.
type GlobalConfig struct {
	ScrapeInterval     model.Duration    `yaml:"scrape_interval"`
	ScrapeTimeout      model.Duration    `yaml:"scrape_timeout"`
	EvaluationInterval model.Duration    `yaml:"evaluation_interval"`
	ExternalLabelsMap  map[string]string `yaml:"external_labels"`
	ScrapeProtocols    []string          `yaml:"scrape_protocols"`

	SampleLimit           uint     `yaml:"sample_limit"`
	LabelLimit            uint     `yaml:"label_limit"`
	LabelNameLengthLimit  uint     `yaml:"label_name_length_limit"`
	LabelValueLengthLimit uint     `yaml:"label_value_length_limit"`
	BodySizeLimit         ByteSize `yaml:"body_size_limit"`

	// ExternalLabels is ExternalLabelsMap as labels, for the alert package
	// (Prometheus adds them to alerts it sends, not to stored samples).
	ExternalLabels labels.Labels `yaml:"-"`
}

// DefaultGlobalConfig holds vigil's defaults for what a config file leaves
// out. They differ from Prometheus' (1m): vigil is a console, and 5s is
// what the --scrape-interval and --eval-interval flags default to.
var DefaultGlobalConfig = GlobalConfig{
	ScrapeInterval:     model.Duration(5 * time.Second),
	ScrapeTimeout:      model.Duration(10 * time.Second),
	EvaluationInterval: model.Duration(5 * time.Second),
}

// Scrape protocols, as Prometheus names them in scrape_protocols.
const (
	ProtoPrometheusProto      = "PrometheusProto"
	ProtoOpenMetricsText0_0_1 = "OpenMetricsText0.0.1"
	ProtoOpenMetricsText1_0_0 = "OpenMetricsText1.0.0"
	ProtoPrometheusText0_0_4  = "PrometheusText0.0.4"
	ProtoPrometheusText1_0_0  = "PrometheusText1.0.0"
)

// protocolHeaders maps each scrape protocol to its media type for the
// Accept header and the parser.
var protocolHeaders = map[string]string{
	ProtoPrometheusProto:      "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
	ProtoOpenMetricsText1_0_0: "application/openmetrics-text;version=1.0.0",
	ProtoOpenMetricsText0_0_1: "application/openmetrics-text;version=0.0.1",
	ProtoPrometheusText1_0_0:  "text/plain;version=1.0.0",
	ProtoPrometheusText0_0_4:  "text/plain;version=0.0.4",
}

// DefaultScrapeProtocols is what Prometheus asks for when protobuf is not
// enabled. Put PrometheusProto first in scrape_protocols to get protobuf.
var DefaultScrapeProtocols = []string{
	ProtoOpenMetricsText1_0_0,
	ProtoOpenMetricsText0_0_1,
	ProtoPrometheusText1_0_0,
	ProtoPrometheusText0_0_4,
}

// ScrapeConfig is one scrape_configs entry.
type ScrapeConfig struct {
	JobName                  string         `yaml:"job_name"`
	HonorLabels              bool           `yaml:"honor_labels"`
	HonorTimestamps          bool           `yaml:"honor_timestamps"`
	TrackTimestampsStaleness bool           `yaml:"track_timestamps_staleness"`
	Params                   url.Values     `yaml:"params"`
	ScrapeInterval           model.Duration `yaml:"scrape_interval"`
	ScrapeTimeout            model.Duration `yaml:"scrape_timeout"`
	ScrapeProtocols          []string       `yaml:"scrape_protocols"`
	FallbackScrapeProtocol   string         `yaml:"fallback_scrape_protocol"`
	MetricsPath              string         `yaml:"metrics_path"`
	Scheme                   string         `yaml:"scheme"`
	EnableCompression        bool           `yaml:"enable_compression"`

	SampleLimit           uint     `yaml:"sample_limit"`
	LabelLimit            uint     `yaml:"label_limit"`
	LabelNameLengthLimit  uint     `yaml:"label_name_length_limit"`
	LabelValueLengthLimit uint     `yaml:"label_value_length_limit"`
	BodySizeLimit         ByteSize `yaml:"body_size_limit"`

	StaticConfigs        []StaticConfig    `yaml:"static_configs"`
	FileSDConfigs        []FileSDConfig    `yaml:"file_sd_configs"`
	RelabelConfigs       []*relabel.Config `yaml:"relabel_configs"`
	MetricRelabelConfigs []*relabel.Config `yaml:"metric_relabel_configs"`

	HTTPClientConfig config.HTTPClientConfig `yaml:",inline"`
}

// DefaultScrapeConfig holds Prometheus' defaults for a scrape config;
// interval, timeout and limits come from the global section.
var DefaultScrapeConfig = ScrapeConfig{
	HonorTimestamps:   true,
	MetricsPath:       "/metrics",
	Scheme:            "http",
	EnableCompression: true,
	HTTPClientConfig:  config.DefaultHTTPClientConfig,
}

// StaticConfig is a static_configs entry (and the shape of a file_sd group).
type StaticConfig struct {
	Targets []string          `yaml:"targets" json:"targets"`
	Labels  map[string]string `yaml:"labels" json:"labels"`
}

// FileSDConfig is a file_sd_configs entry: JSON or YAML files of target
// groups, read again when they change and every RefreshInterval.
type FileSDConfig struct {
	Files           []string       `yaml:"files"`
	RefreshInterval model.Duration `yaml:"refresh_interval"`
}

// DefaultFileSDConfig holds Prometheus' default refresh interval.
var DefaultFileSDConfig = FileSDConfig{RefreshInterval: model.Duration(5 * time.Minute)}

// AlertingConfig is the alerting section.
type AlertingConfig struct {
	Alertmanagers []*AlertmanagerConfig `yaml:"alertmanagers"`
}

// AlertmanagerConfig is one alerting.alertmanagers entry. After loading,
// URLs holds the base URL of each Alertmanager (scheme://host:port/prefix);
// the alert package posts to URL + "/api/v2/alerts" with a client made from
// HTTPClientConfig and the Timeout.
type AlertmanagerConfig struct {
	Scheme         string                  `yaml:"scheme"`
	PathPrefix     string                  `yaml:"path_prefix"`
	Timeout        model.Duration          `yaml:"timeout"`
	APIVersion     string                  `yaml:"api_version"`
	StaticConfigs  []StaticConfig          `yaml:"static_configs"`
	RelabelConfigs []*relabel.Config       `yaml:"relabel_configs"`
	HTTPClient     config.HTTPClientConfig `yaml:",inline"`

	URLs []*url.URL `yaml:"-"`
}

// DefaultAlertmanagerConfig holds Prometheus' defaults.
var DefaultAlertmanagerConfig = AlertmanagerConfig{
	Scheme:     "http",
	Timeout:    model.Duration(10 * time.Second),
	APIVersion: "v2",
	HTTPClient: config.DefaultHTTPClientConfig,
}

// Alertmanager is one Alertmanager in the plain form the alert package
// needs.
type Alertmanager struct {
	URL        string // base URL, e.g. http://am:9093 or https://am/prefix
	HTTPClient config.HTTPClientConfig
	Timeout    time.Duration
}

// Alertmanagers returns every configured Alertmanager, one per target.
func (c *Config) Alertmanagers() []Alertmanager {
	var out []Alertmanager
	for _, am := range c.Alerting.Alertmanagers {
		for _, u := range am.URLs {
			out = append(out, Alertmanager{URL: u.String(), HTTPClient: am.HTTPClient, Timeout: time.Duration(am.Timeout)})
		}
	}
	return out
}

// ByteSize is a size in bytes written like Prometheus' body_size_limit:
// a number with an optional unit, B, KB/KiB, MB/MiB, GB/GiB, TB/TiB (all
// powers of 1024, as in Prometheus).
type ByteSize int64

// UnmarshalYAML parses a size.
func (b *ByteSize) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	n, err := ParseByteSize(s)
	if err != nil {
		return err
	}
	*b = n
	return nil
}

// ParseByteSize parses "10MB", "512KiB", "1024" and the like.
func ParseByteSize(s string) (ByteSize, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("invalid size %q: want a number and a unit such as 10MB", s)
	}
	var n int64
	for _, c := range s[:i] {
		n = n*10 + int64(c-'0')
		if n > 1<<50 {
			return 0, fmt.Errorf("invalid size %q: too large", s)
		}
	}
	mult := map[string]int64{"": 1, "B": 1, "KB": 1 << 10, "KIB": 1 << 10, "MB": 1 << 20, "MIB": 1 << 20,
		"GB": 1 << 30, "GIB": 1 << 30, "TB": 1 << 40, "TIB": 1 << 40}[strings.ToUpper(s[i:])]
	if mult == 0 {
		return 0, fmt.Errorf("invalid size %q: unknown unit %q (use B, KB, MB, GB or TB)", s, s[i:])
	}
	return ByteSize(n * mult), nil
}

// LoadConfig reads a prometheus.yml with DefaultGlobalConfig for what it
// leaves out. The error lists every problem, each as file:line: message.
func LoadConfig(path string) (*Config, error) {
	return LoadConfigWith(path, DefaultGlobalConfig)
}

// LoadConfigWith is LoadConfig with other defaults (for instance those of
// the --scrape-interval and --eval-interval flags). Zero fields of def fall
// back to DefaultGlobalConfig.
func LoadConfigWith(path string, def GlobalConfig) (*Config, error) {
	cfg, errs := loadConfig(path, def)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

// CheckConfig validates a prometheus.yml as `promtool check config` does
// and returns every problem found, each a *ConfigError with its place.
func CheckConfig(path string) []error {
	_, errs := loadConfig(path, DefaultGlobalConfig)
	return errs
}

// ConfigError is a problem at one place in a config file.
type ConfigError struct {
	File string
	Line int // 0 when the problem has no single place
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// NewStaticConfig builds the config for bare command-line targets: each a
// host:port or a URL (http or https, with a path), all under job "node"
// with the given interval (the timeout is the interval, at most 10s).
func NewStaticConfig(targets []string, interval time.Duration) (*Config, error) {
	if interval <= 0 {
		interval = time.Duration(DefaultGlobalConfig.ScrapeInterval)
	}
	cfg := &Config{Global: globalDefaults(GlobalConfig{ScrapeInterval: model.Duration(interval), EvaluationInterval: model.Duration(interval)})}
	type key struct{ scheme, path, query string }
	jobs := map[key]*ScrapeConfig{}
	var order []key
	var errs []error
	for _, t := range targets {
		scheme, host, path, query := "http", t, "/metrics", ""
		if strings.Contains(t, "://") {
			u, err := url.Parse(t)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				errs = append(errs, fmt.Errorf("target %q: want host:port or an http(s) URL", t))
				continue
			}
			if u.User != nil {
				errs = append(errs, fmt.Errorf("target %q: credentials in a URL are not accepted; use a config file with basic_auth", u.Redacted()))
				continue
			}
			scheme, host, query = u.Scheme, u.Host, u.RawQuery
			if u.Path != "" && u.Path != "/" {
				path = u.Path
			}
		}
		if err := checkAddress(host); err != nil {
			errs = append(errs, fmt.Errorf("target %q: %v", t, err))
			continue
		}
		k := key{scheme, path, query}
		sc := jobs[k]
		if sc == nil {
			c := DefaultScrapeConfig
			sc = &c
			sc.Scheme, sc.MetricsPath = scheme, path
			if query != "" {
				sc.Params, _ = url.ParseQuery(query)
			}
			sc.StaticConfigs = []StaticConfig{{}}
			jobs[k] = sc
			order = append(order, k)
		}
		sc.StaticConfigs[0].Targets = append(sc.StaticConfigs[0].Targets, host)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// Targets with different schemes or paths need separate scrape
	// configs; they all keep job "node" through a relabel rule.
	for i, k := range order {
		sc := jobs[k]
		sc.JobName = "node"
		if i > 0 {
			sc.JobName = fmt.Sprintf("node-%d", i+1)
			sc.RelabelConfigs = []*relabel.Config{{
				Action: relabel.Replace, Regex: relabel.MustNewRegexp("(.*)"), Separator: ";",
				TargetLabel: "job", Replacement: "node", NameValidationScheme: model.UTF8Validation,
			}}
		}
		cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, sc)
	}
	if errs := cfg.finish(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

// NewLocalConfig is the zero-setup config: the built-in local-host target
// (job "node", instance the hostname) at the given interval.
func NewLocalConfig(interval time.Duration) *Config {
	cfg, _ := NewStaticConfig(nil, interval)
	cfg.Internal = []InternalTarget{LocalTarget()}
	return cfg
}

func globalDefaults(g GlobalConfig) GlobalConfig {
	def := DefaultGlobalConfig
	if g.ScrapeInterval == 0 {
		g.ScrapeInterval = def.ScrapeInterval
	}
	if g.EvaluationInterval == 0 {
		g.EvaluationInterval = def.EvaluationInterval
	}
	if g.ScrapeTimeout == 0 {
		g.ScrapeTimeout = def.ScrapeTimeout
		if g.ScrapeTimeout > g.ScrapeInterval {
			g.ScrapeTimeout = g.ScrapeInterval
		}
	}
	return g
}

// finish applies defaults and checks what a config built in code needs;
// it returns errors without places.
func (c *Config) finish() []error {
	var errs []error
	for _, sc := range c.ScrapeConfigs {
		for _, msg := range sc.finish(&c.Global) {
			errs = append(errs, errors.New(msg.msg))
		}
	}
	return errs
}

// problem is a validation message with the YAML path it belongs to.
type problem struct {
	path []any // keys (string) and indexes (int) from the document root
	msg  string
}

func (sc *ScrapeConfig) finish(g *GlobalConfig) []problem {
	var ps []problem
	add := func(key string, format string, args ...any) {
		var path []any
		if key != "" {
			path = []any{key}
		}
		ps = append(ps, problem{path, fmt.Sprintf("job %q: ", sc.JobName) + fmt.Sprintf(format, args...)})
	}
	if sc.JobName == "" {
		ps = append(ps, problem{nil, "job_name is empty"})
	}
	if sc.ScrapeInterval == 0 {
		sc.ScrapeInterval = g.ScrapeInterval
	}
	if sc.ScrapeTimeout == 0 {
		sc.ScrapeTimeout = g.ScrapeTimeout
		if sc.ScrapeTimeout > sc.ScrapeInterval {
			sc.ScrapeTimeout = sc.ScrapeInterval
		}
	}
	if sc.ScrapeInterval <= 0 {
		add("scrape_interval", "scrape_interval must be positive")
	}
	if sc.ScrapeTimeout <= 0 {
		add("scrape_timeout", "scrape_timeout must be positive")
	}
	if sc.ScrapeTimeout > sc.ScrapeInterval {
		add("scrape_timeout", "scrape_timeout %s is greater than scrape_interval %s", sc.ScrapeTimeout, sc.ScrapeInterval)
	}
	if len(sc.ScrapeProtocols) == 0 {
		sc.ScrapeProtocols = g.ScrapeProtocols
	}
	if len(sc.ScrapeProtocols) == 0 {
		sc.ScrapeProtocols = DefaultScrapeProtocols
	}
	for _, p := range sc.ScrapeProtocols {
		if protocolHeaders[p] == "" {
			add("scrape_protocols", "unknown scrape protocol %q (known: %s)", p, knownProtocols())
		}
	}
	if sc.FallbackScrapeProtocol != "" && protocolHeaders[sc.FallbackScrapeProtocol] == "" {
		add("fallback_scrape_protocol", "unknown scrape protocol %q (known: %s)", sc.FallbackScrapeProtocol, knownProtocols())
	}
	if sc.SampleLimit == 0 {
		sc.SampleLimit = g.SampleLimit
	}
	if sc.LabelLimit == 0 {
		sc.LabelLimit = g.LabelLimit
	}
	if sc.LabelNameLengthLimit == 0 {
		sc.LabelNameLengthLimit = g.LabelNameLengthLimit
	}
	if sc.LabelValueLengthLimit == 0 {
		sc.LabelValueLengthLimit = g.LabelValueLengthLimit
	}
	if sc.BodySizeLimit == 0 {
		sc.BodySizeLimit = g.BodySizeLimit
	}
	if sc.BodySizeLimit < 0 {
		add("body_size_limit", "body_size_limit must not be negative")
	}
	if sc.Scheme != "http" && sc.Scheme != "https" {
		add("scheme", "scheme %q is not supported (use http or https)", sc.Scheme)
	}
	if !strings.HasPrefix(sc.MetricsPath, "/") {
		add("metrics_path", "metrics_path %q must start with /", sc.MetricsPath)
	}
	if err := sc.HTTPClientConfig.Validate(); err != nil {
		add("", "%v", err)
	}
	for i, st := range sc.StaticConfigs {
		for j, t := range st.Targets {
			if err := checkAddress(t); err != nil {
				ps = append(ps, problem{[]any{"static_configs", i, "targets", j}, fmt.Sprintf("job %q: target %q: %v", sc.JobName, t, err)})
			}
		}
		for name := range st.Labels {
			if !model.UTF8Validation.IsValidLabelName(name) {
				ps = append(ps, problem{[]any{"static_configs", i, "labels"}, fmt.Sprintf("job %q: invalid label name %q", sc.JobName, name)})
			}
		}
	}
	for i := range sc.FileSDConfigs {
		fc := &sc.FileSDConfigs[i]
		if fc.RefreshInterval == 0 {
			fc.RefreshInterval = DefaultFileSDConfig.RefreshInterval
		}
		if len(fc.Files) == 0 {
			ps = append(ps, problem{[]any{"file_sd_configs", i}, fmt.Sprintf("job %q: file_sd_configs needs at least one file", sc.JobName)})
		}
		for j, f := range fc.Files {
			ext := filepath.Ext(f)
			if ext != ".json" && ext != ".yml" && ext != ".yaml" {
				ps = append(ps, problem{[]any{"file_sd_configs", i, "files", j}, fmt.Sprintf("job %q: file_sd file %q must end in .json, .yml or .yaml", sc.JobName, f)})
			}
			if _, err := filepath.Match(filepath.Base(f), ""); err != nil {
				ps = append(ps, problem{[]any{"file_sd_configs", i, "files", j}, fmt.Sprintf("job %q: file_sd pattern %q: %v", sc.JobName, f, err)})
			}
		}
	}
	for _, rc := range []struct {
		key string
		cs  []*relabel.Config
	}{{"relabel_configs", sc.RelabelConfigs}, {"metric_relabel_configs", sc.MetricRelabelConfigs}} {
		for i, c := range rc.cs {
			if c == nil {
				ps = append(ps, problem{[]any{rc.key, i}, fmt.Sprintf("job %q: empty %s entry", sc.JobName, rc.key)})
				continue
			}
			if err := c.Validate(model.UTF8Validation); err != nil {
				ps = append(ps, problem{[]any{rc.key, i}, fmt.Sprintf("job %q: %s: %v", sc.JobName, rc.key, err)})
			}
		}
	}
	return ps
}

func knownProtocols() string {
	var ks []string
	for k := range protocolHeaders {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// checkAddress accepts host:port and bare hosts, as Prometheus'
// __address__ does; a scheme or a path is a mistake worth naming.
func checkAddress(a string) error {
	switch {
	case a == "":
		return errors.New("empty target")
	case strings.Contains(a, "://"):
		return errors.New("a target is host:port, without a scheme (set scheme: https in the scrape config)")
	case strings.Contains(a, "/"):
		return errors.New("a target is host:port, without a path (set metrics_path in the scrape config)")
	case strings.ContainsAny(a, " \t\r\n"):
		return errors.New("a target must not contain spaces")
	}
	if _, _, err := net.SplitHostPort(a); err != nil && strings.Count(a, ":") == 1 {
		return fmt.Errorf("not host:port: %v", err)
	}
	return nil
}

// finishAlerting applies defaults to the Alertmanager configs and computes
// their URLs.
func (am *AlertmanagerConfig) finish() []problem {
	var ps []problem
	if am.APIVersion != "v2" {
		ps = append(ps, problem{[]any{"api_version"}, fmt.Sprintf("alertmanager api_version %q is not supported (only v2)", am.APIVersion)})
	}
	if am.Scheme != "http" && am.Scheme != "https" {
		ps = append(ps, problem{[]any{"scheme"}, fmt.Sprintf("alertmanager scheme %q is not supported (use http or https)", am.Scheme)})
	}
	if err := am.HTTPClient.Validate(); err != nil {
		ps = append(ps, problem{nil, fmt.Sprintf("alertmanager: %v", err)})
	}
	for i, c := range am.RelabelConfigs {
		if c == nil {
			continue
		}
		if err := c.Validate(model.UTF8Validation); err != nil {
			ps = append(ps, problem{[]any{"relabel_configs", i}, fmt.Sprintf("alertmanager relabel_configs: %v", err)})
		}
	}
	am.URLs = nil
	for i, st := range am.StaticConfigs {
		for j, t := range st.Targets {
			if err := checkAddress(t); err != nil {
				ps = append(ps, problem{[]any{"static_configs", i, "targets", j}, fmt.Sprintf("alertmanager target %q: %v", t, err)})
				continue
			}
			b := labels.NewBuilder(labels.EmptyLabels())
			for k, v := range st.Labels {
				b.Set(k, v)
			}
			b.Set(model.AddressLabel, t)
			b.Set(model.SchemeLabel, am.Scheme)
			b.Set("__alertmanager_path__", strings.TrimRight(am.PathPrefix, "/")+"/")
			if !relabel.ProcessBuilder(b, nonNil(am.RelabelConfigs)...) {
				continue
			}
			u := &url.URL{Scheme: b.Get(model.SchemeLabel), Host: b.Get(model.AddressLabel), Path: strings.TrimRight(b.Get("__alertmanager_path__"), "/")}
			am.URLs = append(am.URLs, u)
		}
	}
	return ps
}

func nonNil(cs []*relabel.Config) []*relabel.Config {
	if !slices.Contains(cs, nil) {
		return cs
	}
	out := make([]*relabel.Config, 0, len(cs))
	for _, c := range cs {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

// expandRuleFiles expands the rule_files globs relative to dir.
func expandRuleFiles(dir string, patterns []string) ([]string, []problem) {
	var files []string
	var ps []problem
	for i, p := range patterns {
		full := p
		if !filepath.IsAbs(full) {
			full = filepath.Join(dir, p)
		}
		matches, err := filepath.Glob(full)
		if err != nil {
			ps = append(ps, problem{[]any{"rule_files", i}, fmt.Sprintf("rule_files pattern %q: %v", p, err)})
			continue
		}
		if len(matches) == 0 && !strings.ContainsAny(p, "*?[") {
			if _, err := os.Stat(full); err != nil {
				ps = append(ps, problem{[]any{"rule_files", i}, fmt.Sprintf("rule file %q: %v", p, errors.Unwrap(err))})
			}
		}
		files = append(files, matches...)
	}
	sort.Strings(files)
	return slices.Compact(files), ps
}
