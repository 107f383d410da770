package tui

import (
	"sort"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// promqlWords are the PromQL functions (without experimental ones) and
// aggregation operators, which complete with a "(".
var promqlWords = func() []string {
	var ws []string
	for name, f := range parser.Functions {
		if !f.Experimental {
			ws = append(ws, name)
		}
	}
	ws = append(ws, "sum", "avg", "count", "min", "max", "group", "stddev", "stdvar",
		"topk", "bottomk", "count_values", "quantile")
	sort.Strings(ws)
	return ws
}()

func isIdentRune(r rune) bool {
	return r == '_' || r == ':' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}

// completion is the result of completing the word before the cursor.
type completion struct {
	value      string   // the new input
	cursor     int      // the new cursor position, in runes
	candidates []string // what the word could still become, when ambiguous
}

// complete completes the identifier that ends at cursor (a rune index)
// in value from metric names and PromQL words. A unique candidate is
// inserted whole (a function with its "("); several insert their common
// prefix and are listed.
func complete(value string, cursor int, metrics []string) (completion, bool) {
	rs := []rune(value)
	cursor = min(max(cursor, 0), len(rs))
	start := cursor
	for start > 0 && isIdentRune(rs[start-1]) {
		start--
	}
	word := string(rs[start:cursor])
	if word == "" {
		return completion{}, false
	}
	// Inside braces the word is a label name, which we do not know here.
	if strings.Count(string(rs[:start]), "{") > strings.Count(string(rs[:start]), "}") {
		return completion{}, false
	}
	var cands []string
	funcs := map[string]bool{}
	for _, w := range promqlWords {
		if strings.HasPrefix(w, word) {
			cands = append(cands, w)
			funcs[w] = true
		}
	}
	for _, m := range metrics {
		if strings.HasPrefix(m, word) {
			cands = append(cands, m)
		}
	}
	if len(cands) == 0 {
		return completion{}, false
	}
	insert := cands[0]
	if len(cands) > 1 {
		insert = commonPrefix(cands)
	} else if funcs[insert] && (cursor >= len(rs) || rs[cursor] != '(') {
		insert += "("
	}
	out := string(rs[:start]) + insert + string(rs[cursor:])
	c := completion{value: out, cursor: start + len([]rune(insert))}
	if len(cands) > 1 {
		c.candidates = cands
	}
	return c, true
}

func commonPrefix(ss []string) string {
	p := ss[0]
	for _, s := range ss[1:] {
		for !strings.HasPrefix(s, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}
