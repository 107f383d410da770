package scrape

import (
	"errors"
	"fmt"
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
	yaml "go.yaml.in/yaml/v3"
)

// The parts of prometheus.yml that are the alert package's: rule_files
// and alerting. scrape reads them with the rest of the file, so that one
// load reports every problem at its line; alert takes them as plain values
// (Config.RuleFiles, Config.Alertmanagers).

// loadRuleFiles decodes the rule_files list (n, nil when absent) and
// expands its globs.
func (l *loader) loadRuleFiles(cfg *Config, n *yaml.Node) {
	if n == nil {
		return
	}
	l.decode(n, &cfg.RuleFilePatterns)
	files, ps := expandRuleFiles(l.dir, cfg.RuleFilePatterns)
	cfg.RuleFiles = files
	l.problems(n, ps, 1)
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

// loadAlerting decodes and checks the alerting section (n, nil when
// absent).
func (l *loader) loadAlerting(cfg *Config, n *yaml.Node) {
	if n == nil {
		return
	}
	ams := keyValue(n, "alertmanagers")
	if ams == nil || ams.Kind != yaml.SequenceNode {
		if ams != nil && ams.Tag != "!!null" {
			l.errorf(ams, "alertmanagers must be a list")
		}
		return
	}
	for _, item := range ams.Content {
		am := DefaultAlertmanagerConfig
		if !l.decode(item, &am) {
			continue
		}
		am.HTTPClient.SetDirectory(l.dir)
		l.problems(item, am.finish(), 0)
		cfg.Alerting.Alertmanagers = append(cfg.Alerting.Alertmanagers, &am)
	}
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
				ps = append(ps, problem{[]any{"static_configs", i, "targets", j}, fmt.Sprintf("alertmanager target %q: %v", RedactTarget(t), err)})
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
