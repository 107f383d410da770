package pipeline

import (
	"fmt"
	"net/url"
	"time"

	"github.com/prometheus/common/model"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/scrape"
)

// loadConfig reads the config: a prometheus.yml, bare targets, both, or
// neither (the built-in local host).
func loadConfig(o *Options) (*scrape.Config, error) {
	def := scrape.GlobalConfig{
		ScrapeInterval:     model.Duration(o.ScrapeInterval),
		EvaluationInterval: model.Duration(o.EvalInterval),
	}
	if o.ConfigFile == "" {
		if len(o.Targets) == 0 {
			cfg := scrape.NewLocalConfig(o.ScrapeInterval)
			cfg.Global.EvaluationInterval = model.Duration(o.EvalInterval)
			return cfg, nil
		}
		cfg, err := scrape.NewStaticConfig(o.Targets, o.ScrapeInterval)
		if err != nil {
			return nil, err
		}
		cfg.Global.EvaluationInterval = model.Duration(o.EvalInterval)
		return cfg, nil
	}
	cfg, err := scrape.LoadConfigWith(o.ConfigFile, def)
	if err != nil {
		return nil, err
	}
	// A flag the operator typed wins over the file.
	if o.EvalIntervalSet {
		cfg.Global.EvaluationInterval = model.Duration(o.EvalInterval)
	}
	if len(o.Targets) > 0 {
		bare, err := scrape.NewStaticConfig(o.Targets, time.Duration(cfg.Global.ScrapeInterval))
		if err != nil {
			return nil, err
		}
		for _, sc := range bare.ScrapeConfigs {
			for _, have := range cfg.ScrapeConfigs {
				if have.JobName == sc.JobName {
					return nil, fmt.Errorf("%s already has a job %q: put the targets %v in its static_configs instead of on the command line", o.ConfigFile, sc.JobName, o.Targets)
				}
			}
			cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, sc)
		}
	}
	return cfg, nil
}

// alertmanagers merges the config's alerting.alertmanagers with the
// --alertmanager URLs.
func alertmanagers(cfg *scrape.Config, urls []string) ([]alert.AlertmanagerConfig, error) {
	var out []alert.AlertmanagerConfig
	for _, am := range cfg.Alertmanagers() {
		out = append(out, alert.AlertmanagerConfig{URLs: []string{am.URL}, HTTPClientConfig: am.HTTPClient, Timeout: am.Timeout})
	}
	for _, u := range urls {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return nil, fmt.Errorf("--alertmanager %q: want a URL such as http://localhost:9093", scrape.RedactTarget(u))
		}
		out = append(out, alert.AlertmanagerConfig{URLs: []string{u}})
	}
	return out, nil
}
