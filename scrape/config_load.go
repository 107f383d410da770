package scrape

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	yaml "go.yaml.in/yaml/v3"
)

// The YAML is read into a node tree first, so that every problem — an
// unknown key, a bad value, a failed check — is reported at its line, and
// all of them at once rather than the first one.

// unsupported names the Prometheus features vigil refuses, with what to do.
var unsupported = map[string]string{
	"remote_write":                       "vigil keeps samples in its own store and does not forward them",
	"remote_read":                        "vigil reads only its own store",
	"storage":                            "use the --retention and --max-series flags",
	"tracing":                            "vigil does not export traces",
	"otlp":                               "vigil does not receive OTLP",
	"runtime":                            "vigil does not tune the Go runtime from its config",
	"scrape_config_files":                "put the scrape configs in this file",
	"alert_relabel_configs":              "relabel alerts in Alertmanager",
	"target_limit":                       "vigil scrapes every target of a job",
	"keep_dropped_targets":               "vigil does not keep dropped targets",
	"native_histogram_bucket_limit":      "vigil stores float samples only",
	"native_histogram_min_bucket_factor": "vigil stores float samples only",
	"scrape_classic_histograms":          "vigil stores float samples only; classic histograms are always kept",
	"always_scrape_classic_histograms":   "vigil stores float samples only; classic histograms are always kept",
	"convert_classic_histograms_to_nhcb": "vigil stores float samples only",
	"query_log_file":                     "vigil has no query log",
	"scrape_failure_log_file":            "scrape errors are shown on the Targets view",
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

type loader struct {
	file string
	errs []error
}

func (l *loader) errorf(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	l.errs = append(l.errs, &ConfigError{File: l.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func loadConfig(path string, def GlobalConfig) (*Config, []error) {
	l := &loader{file: path}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, []error{fmt.Errorf("read config: %w", err)}
	}
	cfg := &Config{Path: path}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		msg := err.Error()
		line := 0
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			fmt.Sscan(m[1], &line)
			msg = msg[len(m[0]):]
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
		return nil, []error{&ConfigError{File: path, Line: line, Msg: "invalid YAML: " + msg}}
	}
	if len(doc.Content) == 0 { // empty file: all defaults
		cfg.Global = globalDefaults(def)
		return cfg, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		l.errorf(root, "the config must be a mapping with global, scrape_configs, rule_files and alerting")
		return nil, l.errs
	}
	// Unknown keys are reported, and the rest is still decoded (the
	// decoder skips them) so that one run shows every problem.
	l.checkKeys(root, reflect.TypeOf(Config{}), "the top level")

	nodes := map[string]*yaml.Node{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		nodes[root.Content[i].Value] = root.Content[i+1]
	}
	if n := nodes["global"]; n != nil {
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
		l.errorf(keyNode(nodes["global"], "scrape_timeout"), "global scrape_timeout %s is greater than scrape_interval %s", g.ScrapeTimeout, g.ScrapeInterval)
	}
	if g.ScrapeInterval <= 0 || g.EvaluationInterval <= 0 {
		l.errorf(nodes["global"], "global scrape_interval and evaluation_interval must be positive")
	}
	sb := labels.NewScratchBuilder(len(g.ExternalLabelsMap))
	for k, v := range g.ExternalLabelsMap {
		if !isValidLabelName(k) {
			l.errorf(keyNode(nodes["global"], "external_labels"), "invalid external label name %q", k)
		}
		if v != "" {
			sb.Add(k, v)
		}
	}
	sb.Sort()
	cfg.Global.ExternalLabels = sb.Labels()

	if n := nodes["rule_files"]; n != nil {
		l.decode(n, &cfg.RuleFilePatterns)
		files, ps := expandRuleFiles(filepath.Dir(path), cfg.RuleFilePatterns)
		cfg.RuleFiles = files
		l.problems(n, ps, 1)
	}

	if n := nodes["scrape_configs"]; n != nil && n.Kind == yaml.SequenceNode {
		jobs := map[string]int{}
		for _, item := range n.Content {
			sc := DefaultScrapeConfig
			sc.HTTPClientConfig.FollowRedirects = true
			if !l.decode(item, &sc) {
				continue
			}
			sc.HTTPClientConfig.SetDirectory(filepath.Dir(path))
			for i := range sc.FileSDConfigs {
				for j, f := range sc.FileSDConfigs[i].Files {
					if !filepath.IsAbs(f) {
						sc.FileSDConfigs[i].Files[j] = filepath.Join(filepath.Dir(path), f)
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
	} else if n != nil && n.Tag != "!!null" {
		l.errorf(n, "scrape_configs must be a list")
	}

	if n := nodes["alerting"]; n != nil {
		if ams := keyValue(n, "alertmanagers"); ams != nil && ams.Kind == yaml.SequenceNode {
			for _, item := range ams.Content {
				am := DefaultAlertmanagerConfig
				if !l.decode(item, &am) {
					continue
				}
				am.HTTPClient.SetDirectory(filepath.Dir(path))
				l.problems(item, am.finish(), 0)
				cfg.Alerting.Alertmanagers = append(cfg.Alerting.Alertmanagers, &am)
			}
		} else if ams != nil && ams.Tag != "!!null" {
			l.errorf(ams, "alertmanagers must be a list")
		}
	}
	if len(l.errs) > 0 {
		sort.SliceStable(l.errs, func(i, j int) bool {
			return l.errs[i].(*ConfigError).Line < l.errs[j].(*ConfigError).Line
		})
		return nil, l.errs
	}
	return cfg, nil
}

// problems reports validation problems, each at the node its path leads
// to from n (skip drops leading path elements that n already stands for).
func (l *loader) problems(n *yaml.Node, ps []problem, skip int) {
	for _, p := range ps {
		path := p.path
		if len(path) >= skip {
			path = path[skip:]
		}
		l.errorf(find(n, path), "%s", p.msg)
	}
}

// find follows keys and indexes down from n as far as they exist.
func find(n *yaml.Node, path []any) *yaml.Node {
	for _, p := range path {
		switch p := p.(type) {
		case string:
			k := keyNode(n, p)
			if k == nil {
				return n
			}
			v := keyValue(n, p)
			if v.Kind == yaml.ScalarNode {
				return k
			}
			n = v
		case int:
			if n.Kind != yaml.SequenceNode || p >= len(n.Content) {
				return n
			}
			n = n.Content[p]
		}
	}
	return n
}

func keyNode(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return n
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return nil
}

func keyValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// decode decodes n into out; when that fails, it finds the keys that fail
// and reports each at its own line.
func (l *loader) decode(n *yaml.Node, out any) bool {
	err := n.Decode(out)
	if err == nil {
		return true
	}
	before := len(l.errs)
	l.localize(n, reflect.TypeOf(out).Elem())
	if len(l.errs) == before {
		l.errorf(n, "%s", cleanYAMLError(err))
	}
	return false
}

// localize decodes each key of a mapping on its own to find the ones that
// fail, descending into nested mappings and lists.
func (l *loader) localize(n *yaml.Node, t reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for _, item := range n.Content {
			v := reflect.New(t.Elem())
			if err := item.Decode(v.Interface()); err != nil {
				before := len(l.errs)
				l.localize(item, t.Elem())
				if len(l.errs) == before {
					l.errorf(item, "%s", cleanYAMLError(err))
				}
			}
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				continue
			}
			one := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{k, v}}
			val := reflect.New(t)
			if err := one.Decode(val.Interface()); err != nil {
				before := len(l.errs)
				if v.Kind != yaml.ScalarNode {
					l.localize(v, ft)
				}
				if len(l.errs) == before {
					l.errorf(k, "%s: %s", k.Value, cleanYAMLError(err))
				}
			}
		}
	}
}

func cleanYAMLError(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var msgs []string
		for _, e := range te.Errors {
			if m := lineRE.FindStringSubmatch(e); m != nil {
				e = e[len(m[0]):]
			}
			msgs = append(msgs, e)
		}
		return strings.Join(msgs, "; ")
	}
	msg := err.Error()
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		msg = msg[len(m[0]):]
	}
	return strings.TrimPrefix(msg, "yaml: ")
}

// checkKeys reports unknown and unsupported keys in n, a node for type t,
// and in everything below it.
func (l *loader) checkKeys(n *yaml.Node, t reflect.Type, where string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.SequenceNode:
		if t.Kind() == reflect.Slice {
			for _, item := range n.Content {
				l.checkKeys(item, t.Elem(), where)
			}
		}
	case yaml.MappingNode:
		if t.Kind() != reflect.Struct {
			return
		}
		fields := yamlFields(t)
		if len(fields) == 0 {
			return // a type with its own YAML form (labels and the like)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" { // <<: *anchor merges a mapping of the same kind
				l.checkKeys(v, reflect.SliceOf(t), where)
				l.checkKeys(v, t, where)
				continue
			}
			ft, ok := fields[k.Value]
			if ok {
				l.checkKeys(v, ft, k.Value)
				continue
			}
			switch why, known := unsupported[k.Value]; {
			case known:
				l.errorf(k, "%s is not supported by vigil: %s (supported in %s: %s)", k.Value, why, where, supported(fields))
			case strings.HasSuffix(k.Value, "_sd_configs"):
				l.errorf(k, "%s is not supported by vigil: service discovery is static_configs and file_sd_configs only", k.Value)
			default:
				l.errorf(k, "unknown key %q in %s (supported: %s)", k.Value, where, supported(fields))
			}
		}
	}
}

func supported(fields map[string]reflect.Type) string {
	var ks []string
	for k := range fields {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	if len(ks) > 12 {
		return strings.Join(ks[:12], ", ") + ", …"
	}
	return strings.Join(ks, ", ")
}

// yamlFields maps the YAML keys of struct t (with inlined structs) to their
// types. A struct without yaml tags gets an empty map: it decodes itself.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("yaml")
		if !ok {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if slices.Contains(strings.Split(opts, ","), "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					fields[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields
}

func isValidLabelName(n string) bool {
	return model.UTF8Validation.IsValidLabelName(n)
}
