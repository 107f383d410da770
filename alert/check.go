package alert

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// CheckRules validates rule files the way `promtool check rules` does and
// writes its report to w: per file "Checking FILE", then "  SUCCESS: N rules
// found" or "  FAILED:" and every problem with its line, group and rule.
// Duplicate rules (same name and labels in one file) are warned about, not
// failed. It returns false when any file failed; the caller exits 1 then.
func CheckRules(w io.Writer, paths ...string) bool {
	ok := true
	for i, p := range paths {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "Checking %s\n", p)
		gs, err := LoadFile(p)
		if err != nil {
			ok = false
			fmt.Fprintln(w, "  FAILED:")
			for _, e := range flatten(err) {
				fmt.Fprintln(w, e.Error())
			}
			continue
		}
		if d := duplicateRules(gs); len(d) > 0 {
			fmt.Fprintf(w, "  WARNING: %d duplicate rule(s) found.\n", len(d))
			for _, name := range d {
				fmt.Fprintf(w, "    %s\n", name)
			}
		}
		fmt.Fprintf(w, "  SUCCESS: %d rules found\n", RuleCount(gs))
	}
	return ok
}

// flatten undoes errors.Join, one level deep.
func flatten(err error) []error {
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		return j.Unwrap()
	}
	return []error{err}
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
