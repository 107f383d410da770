package alert

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// GroupConfig is one rule group as loaded, before evaluation: the rulefmt
// group and where it came from.
type GroupConfig struct {
	// File is the rule file the group came from; for groups that did not come
	// from a file it is a name in angle brackets ("<--alert>", "<default>").
	File string
	rulefmt.RuleGroup
}

// Sources of groups that are not files.
const (
	FileFlag    = "<--alert>"
	FileDefault = "<default>"
)

// RuleCount returns how many rules the groups hold.
func RuleCount(groups []GroupConfig) int {
	n := 0
	for _, g := range groups {
		n += len(g.Rules)
	}
	return n
}

// exprParser is the PromQL parser the package validates and evaluates with.
var exprParser = parser.NewParser(parser.Options{})

// nameScheme is how metric and label names are validated: Prometheus 3's
// default, which accepts every legacy name.
const nameScheme = model.UTF8Validation

// LoadOptions change how rule files are read.
type LoadOptions struct {
	// IgnoreUnknownFields accepts fields rulefmt does not know, as
	// promtool's --ignore-unknown-fields (for rule files extended with
	// metadata of other tools); by default they are errors, as in
	// Prometheus.
	IgnoreUnknownFields bool
}

// LoadFile reads and validates one Prometheus rule file. Every problem is
// returned (joined), once; each names the file, the line and column, the
// group and the rule.
func LoadFile(path string) ([]GroupConfig, error) { return LoadOptions{}.LoadFile(path) }

// LoadFile is the package's LoadFile with these options.
func (o LoadOptions) LoadFile(path string) ([]GroupConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return o.ParseGroups(path, b)
}

// LoadFiles loads the rule files in order (paths are already expanded from
// globs). Every problem in every file is reported, joined. As in Prometheus,
// a group is identified by its file and name, so two files may use the same
// group name.
func LoadFiles(paths ...string) ([]GroupConfig, error) {
	var (
		out  []GroupConfig
		errs []error
	)
	for _, p := range paths {
		gs, err := LoadFile(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, gs...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// ParseGroups validates rule-file content; name stands for the file in
// errors.
func ParseGroups(name string, content []byte) ([]GroupConfig, error) {
	return LoadOptions{}.ParseGroups(name, content)
}

// ParseGroups is the package's ParseGroups with these options.
//
// rulefmt reports some problems without a place (a template, a label name,
// a duration that does not parse), some at 0:0 (a group's empty or
// repeated name), and a YAML type error twice (it decodes the file twice):
// each is given its line and column from the file's YAML nodes, and each
// is reported once.
func (o LoadOptions) ParseGroups(name string, content []byte) ([]GroupConfig, error) {
	rgs, errs := rulefmt.Parse(content, o.IgnoreUnknownFields, nameScheme, exprParser, slog.New(slog.DiscardHandler))
	if len(errs) == 0 {
		return wrapGroups(name, rgs), nil
	}
	nodes := readNodes(content)
	groupErrs := nodes.groupLevelPositions()
	seen := map[string]bool{}
	var out []error
	for _, err := range errs {
		err = nodes.place(err, &groupErrs)
		if seen[err.Error()] {
			continue
		}
		seen[err.Error()] = true
		out = append(out, fmt.Errorf("%s: %w", name, err))
	}
	return nil, errors.Join(out...)
}

var (
	lineRe      = regexp.MustCompile(`^\d+:\d+: `)
	ruleFieldRe = regexp.MustCompile(`^(label|annotation) "((?:[^"\\]|\\.)*)": `)
	invalidRe   = regexp.MustCompile(`^invalid (label|annotation) name: (.*)$`)
	groupValRe  = regexp.MustCompile(`^invalid label value: (.*)$`)
)

// groupLevelPositions lists, in rulefmt's order, where the groups are
// whose name rulefmt refuses (empty, or repeated in the file).
func (f fileNodes) groupLevelPositions() []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range f.groups {
		if g.name == "" {
			out = append(out, pos(g.node))
		}
		if seen[g.name] {
			out = append(out, pos(g.node))
		}
		seen[g.name] = true
	}
	return out
}

// place returns err with its line and column where rulefmt gave none.
func (f fileNodes) place(err error, groupErrs *[]string) error {
	msg := err.Error()
	var re *rulefmt.Error
	if errors.As(err, &re) {
		if lineRe.MatchString(msg) || re.Rule < 1 {
			return err
		}
		r, ok := f.rule(re.Group, re.Rule)
		if !ok {
			return err
		}
		inner := re.Err.Error()
		where := r.node
		if m := ruleFieldRe.FindStringSubmatch(inner); m != nil {
			where = pick(where, r.keys(m[1])[unquote(m[2])])
		} else if m := invalidRe.FindStringSubmatch(inner); m != nil {
			where = pick(where, r.keys(m[1])[m[2]])
		}
		return fmt.Errorf("%s: %w", pos(where), err)
	}
	if rest, ok := strings.CutPrefix(msg, "0:0: "); ok && len(*groupErrs) > 0 {
		p := (*groupErrs)[0]
		*groupErrs = (*groupErrs)[1:]
		return fmt.Errorf("%s: %s", p, rest)
	}
	if m := invalidRe.FindStringSubmatch(msg); m != nil && m[1] == "label" {
		for _, g := range f.groups {
			if k, ok := g.labelKeys[m[2]]; ok {
				return fmt.Errorf("%s: group %q: %w", pos(k), g.name, err)
			}
		}
	}
	if m := groupValRe.FindStringSubmatch(msg); m != nil {
		for _, g := range f.groups {
			var found *yaml.Node
			pairs(g.values["labels"], func(k, v *yaml.Node) {
				if found == nil && v.Value == m[1] {
					found = v
				}
			})
			if found != nil {
				return fmt.Errorf("%s: group %q: %w", pos(found), g.name, err)
			}
		}
	}
	if lineRe.MatchString(msg) || strings.Contains(msg, "line ") {
		return err // YAML's own errors say their line
	}
	return f.placeDuration(err)
}

// placeDuration finds the duration field whose value fails to parse with
// err's message: rulefmt's YAML decoding returns model.ParseDuration's
// error as it is.
func (f fileNodes) placeDuration(err error) error {
	msg := err.Error()
	bad := func(v *yaml.Node) bool {
		if v == nil || v.Kind != yaml.ScalarNode {
			return false
		}
		_, perr := model.ParseDuration(v.Value)
		return perr != nil && perr.Error() == msg
	}
	for _, g := range f.groups {
		for _, field := range []string{"interval", "query_offset"} {
			if v := g.values[field]; bad(v) {
				return fmt.Errorf("%s: group %q: %s: %w", pos(v), g.name, field, err)
			}
		}
		for i, r := range g.rules {
			for _, field := range []string{"for", "keep_firing_for"} {
				if v := r.values[field]; bad(v) {
					return fmt.Errorf("%s: group %q, rule %d, %q: %s: %w", pos(v), g.name, i+1, r.name, field, err)
				}
			}
		}
	}
	return err
}

func (f fileNodes) rule(group string, i int) (ruleNodes, bool) {
	for _, g := range f.groups {
		if g.name == group && i <= len(g.rules) {
			return g.rules[i-1], true
		}
	}
	return ruleNodes{}, false
}

func (r ruleNodes) keys(what string) map[string]*yaml.Node {
	if what == "annotation" {
		return r.annotationKeys
	}
	return r.labelKeys
}

func pick(def, n *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return def
}

// unquote undoes %q of a label name in rulefmt's messages.
func unquote(s string) string {
	if u, err := strconv.Unquote(`"` + s + `"`); err == nil {
		return u
	}
	return s
}

func wrapGroups(file string, rgs *rulefmt.RuleGroups) []GroupConfig {
	if rgs == nil {
		return nil
	}
	out := make([]GroupConfig, 0, len(rgs.Groups))
	for _, g := range rgs.Groups {
		out = append(out, GroupConfig{File: file, RuleGroup: g})
	}
	return out
}

// LoadRules assembles what vigil evaluates: the rule files (the config's
// rule_files, expanded, then every -r), then the --alert rules; when there
// is neither, the built-in node rules. Every problem is reported, joined.
func LoadRules(files []string, alertFlags []string) ([]GroupConfig, error) {
	if len(files) == 0 && len(alertFlags) == 0 {
		return DefaultGroups(), nil
	}
	gs, ferr := LoadFiles(files...)
	flags, aerr := AlertFlagGroups(alertFlags)
	if err := errors.Join(ferr, aerr); err != nil {
		return nil, err
	}
	return append(gs, flags...), nil
}
