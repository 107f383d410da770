package scrape

import (
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"
	yaml "go.yaml.in/yaml/v3"
)

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

// loadScrapeConfigs decodes and checks the scrape_configs list (n, nil
// when absent). Relative file names in it are made relative to the config
// file.
func (l *loader) loadScrapeConfigs(cfg *Config, n *yaml.Node) {
	if n == nil || n.Kind != yaml.SequenceNode {
		if n != nil && n.Tag != "!!null" {
			l.errorf(n, "scrape_configs must be a list")
		}
		return
	}
	jobs := map[string]int{}
	for _, item := range n.Content {
		sc := DefaultScrapeConfig
		sc.HTTPClientConfig.FollowRedirects = true
		if !l.decode(item, &sc) {
			continue
		}
		sc.HTTPClientConfig.SetDirectory(l.dir)
		for i := range sc.FileSDConfigs {
			for j, f := range sc.FileSDConfigs[i].Files {
				if !filepath.IsAbs(f) {
					sc.FileSDConfigs[i].Files[j] = filepath.Join(l.dir, f)
				}
			}
		}
		if line, dup := jobs[sc.JobName]; dup && sc.JobName != "" {
			l.errorf(keyNode(item, "job_name"), "job_name %q is already used on line %d", sc.JobName, line)
		}
		jobs[sc.JobName] = item.Line
		l.problems(item, sc.finish(&cfg.Global), 0)
		cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, &sc)
	}
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
				ps = append(ps, problem{[]any{"static_configs", i, "targets", j}, fmt.Sprintf("job %q: target %q: %v", sc.JobName, RedactTarget(t), err)})
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
