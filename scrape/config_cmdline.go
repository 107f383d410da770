package scrape

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"
)

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
				errs = append(errs, fmt.Errorf("target %q: want host:port or an http(s) URL", RedactTarget(t)))
				continue
			}
			if u.User != nil {
				errs = append(errs, fmt.Errorf("target %q: credentials in a URL are not accepted; use a config file with basic_auth", RedactTarget(t)))
				continue
			}
			scheme, host, query = u.Scheme, u.Host, u.RawQuery
			if u.Path != "" && u.Path != "/" {
				path = u.Path
			}
		}
		if err := checkAddress(host); err != nil {
			errs = append(errs, fmt.Errorf("target %q: %v", RedactTarget(t), err))
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
