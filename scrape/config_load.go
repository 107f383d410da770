package scrape

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
	yaml "go.yaml.in/yaml/v3"
)

// The YAML is read into a node tree first, so that every problem — an
// unknown key, a bad value, a failed check — is reported at its line, and
// all of them at once rather than the first one. Each section has a step
// of its own beside its types (loadGlobal, loadRuleFiles,
// loadScrapeConfigs, loadAlerting); this file is the machinery they share.

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// loader collects the problems of one config file.
type loader struct {
	file string
	dir  string // the file's directory: relative paths in it start here
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
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, []error{fmt.Errorf("read config: %w", err)}
	}
	cfg := &Config{Path: path}
	root, err := parseYAML(path, b)
	if err != nil {
		return nil, []error{err}
	}
	if root == nil { // empty file: all defaults
		cfg.Global = globalDefaults(def)
		return cfg, nil
	}
	l := &loader{file: path, dir: filepath.Dir(path)}
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
	l.loadGlobal(cfg, nodes["global"], def)
	l.loadRuleFiles(cfg, nodes["rule_files"])
	l.loadScrapeConfigs(cfg, nodes["scrape_configs"])
	l.loadAlerting(cfg, nodes["alerting"])
	l.loadRemoteWrite(cfg, nodes["remote_write"])
	if len(l.errs) > 0 {
		sort.SliceStable(l.errs, func(i, j int) bool {
			return l.errs[i].(*ConfigError).Line < l.errs[j].(*ConfigError).Line
		})
		return nil, l.errs
	}
	return cfg, nil
}

// parseYAML parses a config file's bytes into its root node, nil for an
// empty file. A syntax error is a *ConfigError at its line, as promtool
// reports it: yaml.v3 puts many syntax errors a line before the one
// promtool names (it counts the line of the parser's mark from 0), so the
// error is the one of yaml.v2, promtool's parser, whenever that fails too.
func parseYAML(path string, b []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		var v2 any
		if err2 := yamlv2.Unmarshal(b, &v2); err2 != nil {
			err = err2
		}
		msg := err.Error()
		line := 0
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			fmt.Sscan(m[1], &line)
			msg = msg[len(m[0]):]
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
		return nil, &ConfigError{File: path, Line: line, Msg: "invalid YAML: " + msg}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// problem is a validation message with the YAML path it belongs to.
type problem struct {
	path []any // keys (string) and indexes (int) from the document root
	msg  string
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
