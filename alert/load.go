package alert

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"

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

// LoadFile reads and validates one Prometheus rule file. Every problem is
// returned (joined); each names the file, the line and column, the group and
// the rule.
func LoadFile(path string) ([]GroupConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ParseGroups(path, b)
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
	rgs, errs := rulefmt.Parse(content, false, nameScheme, exprParser, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		lines := ruleLines(content)
		for i, err := range errs {
			// rulefmt knows no line for some problems (templates): add the
			// rule's.
			var re *rulefmt.Error
			if errors.As(err, &re) && !lineRe.MatchString(err.Error()) {
				if pos, ok := lines[ruleKey{re.Group, re.Rule}]; ok {
					errs[i] = fmt.Errorf("%s: %s: %w", name, pos, err)
					continue
				}
			}
			errs[i] = fmt.Errorf("%s: %w", name, err)
		}
		return nil, errors.Join(errs...)
	}
	return wrapGroups(name, rgs), nil
}

var lineRe = regexp.MustCompile(`^\d+:\d+: `)

type ruleKey struct {
	group string
	rule  int // from 1
}

// ruleLines maps each rule to the "line:column" where it starts.
func ruleLines(content []byte) map[ruleKey]string {
	var doc struct {
		Groups []struct {
			Name  string      `yaml:"name"`
			Rules []yaml.Node `yaml:"rules"`
		} `yaml:"groups"`
	}
	out := map[ruleKey]string{}
	if yaml.Unmarshal(content, &doc) != nil {
		return out
	}
	for _, g := range doc.Groups {
		for i, r := range g.Rules {
			out[ruleKey{g.Name, i + 1}] = fmt.Sprintf("%d:%d", r.Line, r.Column)
		}
	}
	return out
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
