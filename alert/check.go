package alert

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"
)

// CheckRules validates rule files the way `promtool check rules` does:
// per file, "Checking FILE" on stdout, then either "  FAILED:" and every
// problem, once, with its line and column, group and rule on stderr, or
// "  SUCCESS: N rules found" on stdout; an empty line after each file.
// Warnings go to stderr and do not fail a file: duplicate rules (same name
// and labels), and label or annotation names of alerting rules outside
// the classic [a-zA-Z_][a-zA-Z0-9_]*, which Prometheus 3 and vigil accept
// but an Alertmanager before 0.27 refuses. It returns false when any file
// failed; the caller exits 1 then.
func CheckRules(stdout, stderr io.Writer, o LoadOptions, paths ...string) bool {
	ok := true
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			err = fmt.Errorf("%s: %w", p, err)
		}
		ok = checkRules(stdout, stderr, o, p, p, b, err) && ok
	}
	return ok
}

// CheckRulesFrom checks one rule file read from r, as promtool check rules
// does with no file: "Checking standard input", its errors named after
// "standard input".
func CheckRulesFrom(stdout, stderr io.Writer, o LoadOptions, r io.Reader) bool {
	const name = "standard input"
	b, err := io.ReadAll(r)
	if err != nil {
		err = fmt.Errorf("%s: %w", name, err)
	}
	return checkRules(stdout, stderr, o, name, name, b, err)
}

// checkRules reports on one file, shown as shown, named in errors as name.
func checkRules(stdout, stderr io.Writer, o LoadOptions, shown, name string, b []byte, err error) bool {
	fmt.Fprintf(stdout, "Checking %s\n", shown)
	var gs []GroupConfig
	if err == nil {
		gs, err = o.ParseGroups(name, b)
	}
	if err != nil {
		fmt.Fprintln(stderr, "  FAILED:")
		for _, e := range flatten(err) {
			fmt.Fprintln(stderr, e.Error())
		}
		fmt.Fprintln(stdout)
		return false
	}
	if d := duplicateRules(gs); len(d) > 0 {
		fmt.Fprintf(stderr, "  WARNING: %d duplicate rule(s) found.\n", len(d))
		for _, n := range d {
			fmt.Fprintf(stderr, "    %s\n", n)
		}
	}
	if names := nonClassicNames(name, gs, readNodes(b)); len(names) > 0 {
		fmt.Fprintf(stderr, "  WARNING: %d label or annotation name(s) that Alertmanager before 0.27 refuses (400 invalid label set): it takes [a-zA-Z_][a-zA-Z0-9_]* only.\n", len(names))
		for _, n := range names {
			fmt.Fprintln(stderr, n)
		}
	}
	fmt.Fprintf(stdout, "  SUCCESS: %d rules found\n", RuleCount(gs))
	fmt.Fprintln(stdout)
	return true
}

// flatten undoes errors.Join, one level deep.
func flatten(err error) []error {
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		return j.Unwrap()
	}
	return []error{err}
}

// nonClassicNames lists the label and annotation names of alerting rules
// (and the labels of groups with alerting rules) that are valid UTF-8
// names but not classic ones, each with its place.
func nonClassicNames(file string, gs []GroupConfig, nodes fileNodes) []string {
	var out []string
	classic := func(n string) bool { return model.LegacyValidation.IsValidLabelName(n) }
	at := func(keys map[string]*yaml.Node, name string) string {
		if k, ok := keys[name]; ok {
			return pos(k) + ": "
		}
		return ""
	}
	for gi, g := range gs {
		var gn groupNodes
		if gi < len(nodes.groups) {
			gn = nodes.groups[gi]
		}
		alerting := slices.ContainsFunc(g.Rules, func(r rulefmt.Rule) bool { return r.Alert != "" })
		if alerting {
			for _, k := range sortedKeys(g.Labels) {
				if !classic(k) {
					out = append(out, fmt.Sprintf("%s: %sgroup %q: label name %q", file, at(gn.labelKeys, k), g.Name, k))
				}
			}
		}
		for ri, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			var rn ruleNodes
			if ri < len(gn.rules) {
				rn = gn.rules[ri]
			}
			for _, set := range []struct {
				what string
				m    map[string]string
				keys map[string]*yaml.Node
			}{{"label", r.Labels, rn.labelKeys}, {"annotation", r.Annotations, rn.annotationKeys}} {
				for _, k := range sortedKeys(set.m) {
					if !classic(k) {
						out = append(out, fmt.Sprintf("%s: %sgroup %q, rule %d, %q: %s name %q", file, at(set.keys, k), g.Name, ri+1, r.Alert, set.what, k))
					}
				}
			}
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// duplicateRules lists rules with the same name and labels, as promtool
// warns about them.
func duplicateRules(gs []GroupConfig) []string {
	count := map[string]int{}
	for _, g := range gs {
		for _, r := range g.Rules {
			name := r.Alert
			if name == "" {
				name = r.Record
			}
			keys := make([]string, 0, len(r.Labels))
			for k, v := range r.Labels {
				keys = append(keys, k+"="+v)
			}
			sort.Strings(keys)
			count[name+"{"+strings.Join(keys, ",")+"}"]++
		}
	}
	var out []string
	for k, n := range count {
		if n > 1 {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
