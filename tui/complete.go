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

// promqlKeywords complete bare: the modifiers of binary operators and
// aggregations.
var promqlKeywords = []string{"and", "bool", "by", "group_left", "group_right", "ignoring", "offset", "on", "or", "unless", "without"}

func isIdentRune(r rune) bool {
	return r == '_' || r == ':' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}

// What the word before the cursor is.
const (
	compName       = iota // a metric, function or keyword
	compLabel             // a label name: in {} or in by (…) and the like
	compLabelValue        // a label's value, after = != =~ !~
)

// compContext is where the cursor stands in a PromQL expression: the
// word to complete (runes start to end of the input, the cursor at end),
// what it is, and for labels the metric of the selector (or "") and for
// values the label.
type compContext struct {
	kind       int
	start, end int
	word       string
	metric     string
	label      string
	quote      rune // the opening quote of a value, 0 when none is typed yet
	closed     bool // the value's closing quote follows the cursor
}

// contextAt reads value up to cursor (a rune index) as PromQL's lexer
// would, enough to tell what the word before the cursor is. It never
// fails: what it cannot read is a name.
func contextAt(value string, cursor int) compContext {
	rs := []rune(value)
	cursor = min(max(cursor, 0), len(rs))
	var (
		braceAt   = -1   // the unclosed {
		braceMet  string // the metric before it
		labelName string // inside {}: the label of the current matcher
		sawOp     bool   // inside {}: its operator is typed
		parens    []bool // the unclosed (s: true for a label list (by, without, on, ignoring, group_*)
		prevIdent string // the identifier just before, spaces apart
	)
	i := 0
	for i < cursor {
		r := rs[i]
		switch {
		case r == '"' || r == '\'' || r == '`':
			// A string: up to its closing quote, or the cursor.
			j := i + 1
			for j < cursor && rs[j] != r {
				if rs[j] == '\\' && r != '`' {
					j++
				}
				j++
			}
			if j >= cursor {
				// The cursor is inside this string.
				if braceAt >= 0 && sawOp {
					word := string(rs[i+1 : cursor])
					closed := cursor < len(rs) && rs[cursor] == r
					return compContext{kind: compLabelValue, start: i + 1, end: cursor, word: word,
						metric: braceMet, label: labelName, quote: r, closed: closed}
				}
				return compContext{kind: -1, start: cursor, end: cursor}
			}
			i = j + 1
			prevIdent = ""
			continue
		case r == '#':
			// A comment runs to the end of the line.
			for i < cursor && rs[i] != '\n' {
				i++
			}
			continue
		case isIdentRune(r):
			j := i
			for j < cursor && isIdentRune(rs[j]) {
				j++
			}
			prevIdent = string(rs[i:j])
			if braceAt >= 0 && !sawOp {
				labelName = prevIdent
			}
			i = j
			continue
		case r == '{':
			braceAt, braceMet, labelName, sawOp = i, prevIdent, "", false
			if isFunctionWord(braceMet) || isLabelListWord(braceMet) {
				braceMet = ""
			}
		case r == '}':
			braceAt, braceMet, labelName, sawOp = -1, "", "", false
		case r == ',' && braceAt >= 0:
			labelName, sawOp = "", false
		case (r == '=' || r == '!' || r == '~') && braceAt >= 0:
			sawOp = true
		case r == '(':
			parens = append(parens, isLabelListWord(prevIdent))
		case r == ')':
			if len(parens) > 0 {
				parens = parens[:len(parens)-1]
			}
		}
		if r != ' ' && r != '\t' && r != '\n' {
			prevIdent = ""
		}
		i++
	}
	start := cursor
	for start > 0 && isIdentRune(rs[start-1]) {
		start--
	}
	word := string(rs[start:cursor])
	switch {
	case braceAt >= 0 && sawOp:
		// After name= but before the quote: a value, quoted on insert.
		return compContext{kind: compLabelValue, start: start, end: cursor, word: word, metric: braceMet, label: labelName}
	case braceAt >= 0:
		return compContext{kind: compLabel, start: start, end: cursor, word: word, metric: braceMet}
	case len(parens) > 0 && parens[len(parens)-1]:
		return compContext{kind: compLabel, start: start, end: cursor, word: word}
	}
	return compContext{kind: compName, start: start, end: cursor, word: word}
}

// isLabelListWord reports whether a ( after word opens a list of label
// names.
func isLabelListWord(word string) bool {
	switch word {
	case "by", "without", "on", "ignoring", "group_left", "group_right":
		return true
	}
	return false
}

// candidates are the words that complete word: those it begins, else
// those that hold it, each list sorted.
func candidates(word string, words ...[]string) []string {
	var prefix, inner []string
	seen := map[string]bool{}
	for _, ws := range words {
		for _, w := range ws {
			if seen[w] {
				continue
			}
			switch {
			case strings.HasPrefix(w, word):
				prefix = append(prefix, w)
				seen[w] = true
			case word != "" && strings.Contains(w, word):
				inner = append(inner, w)
				seen[w] = true
			}
		}
	}
	if len(prefix) > 0 {
		sort.Strings(prefix)
		return prefix
	}
	sort.Strings(inner)
	return inner
}

// insertText is what goes into the input for candidate cand in context
// cc: a function with its "(", a label value quoted (with the quote the
// operator opened, closed when it is not yet).
func insertText(cc compContext, cand string, value []rune) string {
	switch cc.kind {
	case compName:
		if isFunctionWord(cand) && (cc.end >= len(value) || value[cc.end] != '(') {
			return cand + "("
		}
	case compLabelValue:
		q := cc.quote
		if q == 0 {
			return `"` + escapeQuoted(cand, '"') + `"`
		}
		if q == '`' {
			cand = strings.ReplaceAll(cand, "`", "")
		} else {
			cand = escapeQuoted(cand, q)
		}
		if !cc.closed {
			return cand + string(q)
		}
	}
	return cand
}

// escapeQuoted escapes a label value for a PromQL string in quote q.
func escapeQuoted(s string, q rune) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, string(q), `\`+string(q))
	return strings.ReplaceAll(s, "\n", `\n`)
}

func isFunctionWord(w string) bool {
	i := sort.SearchStrings(promqlWords, w)
	return i < len(promqlWords) && promqlWords[i] == w
}

// replaceWord returns value with runes start to end replaced by text, and
// the cursor after it.
func replaceWord(value []rune, start, end int, text string) (string, int) {
	out := string(value[:start]) + text + string(value[end:])
	return out, start + len([]rune(text))
}

func commonPrefix(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	p := ss[0]
	for _, s := range ss[1:] {
		for !strings.HasPrefix(s, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}

// safeWord keeps only completion candidates that can be typed as they
// are: what a target sent ends up in the prompt only as plain text.
func safeWords(ws []string, ident bool) []string {
	out := ws[:0:0]
	for _, w := range ws {
		if w == "" || strings.ContainsFunc(w, func(r rune) bool { return r < 0x20 || r == 0x7f || (ident && !isIdentRune(r)) }) {
			continue
		}
		if Sanitize(w, maxLabelLen) != w {
			continue
		}
		out = append(out, w)
	}
	return out
}
