package scrape

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	yaml "go.yaml.in/yaml/v3"
)

// Config is the part of a prometheus.yml that vigil understands. It is read
// once (LoadConfig) and shared: RuleFiles, Alerting and
// Global.EvaluationInterval are for the alert package (the binary hands
// them on), the rest for the Manager.
type Config struct {
	Global        GlobalConfig    `yaml:"global"`
	RuleFiles     []string        `yaml:"rule_files"`
	ScrapeConfigs []*ScrapeConfig `yaml:"scrape_configs"`
	Alerting      AlertingConfig  `yaml:"alerting"`
	// RemoteWriteConfigs are the remote_write entries; RemoteWrites
	// hands them on as plain values.
	RemoteWriteConfigs []*RemoteWriteConfig `yaml:"remote_write"`

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

// loadGlobal decodes the global section (n, nil when absent) into
// cfg.Global, with def for what it leaves out, and checks it.
func (l *loader) loadGlobal(cfg *Config, n *yaml.Node, def GlobalConfig) {
	if n != nil {
		l.decode(n, &cfg.Global)
	}
	g := cfg.Global
	if g.ScrapeInterval == 0 {
		g.ScrapeInterval = def.ScrapeInterval
	}
	if g.EvaluationInterval == 0 {
		g.EvaluationInterval = def.EvaluationInterval
	}
	timeoutSet := g.ScrapeTimeout != 0
	if !timeoutSet {
		g.ScrapeTimeout = def.ScrapeTimeout
	}
	g = globalDefaults(g)
	if !timeoutSet && g.ScrapeTimeout > g.ScrapeInterval {
		g.ScrapeTimeout = g.ScrapeInterval
	}
	cfg.Global = g
	if g.ScrapeTimeout > g.ScrapeInterval {
		l.errorf(keyNode(n, "scrape_timeout"), "global scrape_timeout %s is greater than scrape_interval %s", g.ScrapeTimeout, g.ScrapeInterval)
	}
	if g.ScrapeInterval <= 0 || g.EvaluationInterval <= 0 {
		l.errorf(n, "global scrape_interval and evaluation_interval must be positive")
	}
	sb := labels.NewScratchBuilder(len(g.ExternalLabelsMap))
	for k, v := range g.ExternalLabelsMap {
		if !isValidLabelName(k) {
			l.errorf(keyNode(n, "external_labels"), "invalid external label name %q", k)
		}
		if v != "" {
			sb.Add(k, v)
		}
	}
	sb.Sort()
	cfg.Global.ExternalLabels = sb.Labels()
}

func isValidLabelName(n string) bool {
	return model.UTF8Validation.IsValidLabelName(n)
}
