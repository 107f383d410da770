package alert

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// AlertFlagForm is the form of an --alert value, quoted in every error.
const AlertFlagForm = `'NAME: EXPR [for DUR]' (e.g. 'HighLoad: node_load1 > 4 for 2m'; NAME is optional)`

// ErrAlertFlag is wrapped by every error from ParseAlertFlag.
var ErrAlertFlag = errors.New("bad --alert")

var (
	// nameRe is a name: the part before the first ": " when it looks like
	// a name (no selector, call or string before the colon).
	namePartRe = regexp.MustCompile(`^\s*([^\s{}()\[\]"'` + "`" + `:]+)\s*:(?:\s+|$)`)
	identRe    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	forRe      = regexp.MustCompile(`(?i)\s+for\s+(\S+)\s*$`)
)

// ParseAlertFlag parses one --alert value, 'NAME: EXPR [for DUR]', into an
// alerting rule. Without a NAME one is derived from the expression
// (node_load1 > 4 → NodeLoad1High). The rule gets a severity=warning label
// and summary and description annotations that show the expression and
// the value.
func ParseAlertFlag(s string) (rulefmt.Rule, error) {
	bad := func(format string, args ...any) (rulefmt.Rule, error) {
		return rulefmt.Rule{}, fmt.Errorf("%w %q: %s; the form is %s", ErrAlertFlag, s, fmt.Sprintf(format, args...), AlertFlagForm)
	}
	rest := strings.TrimSpace(s)
	if rest == "" {
		return bad("empty")
	}
	var name string
	if m := namePartRe.FindStringSubmatch(rest); m != nil {
		name = m[1]
		if !identRe.MatchString(name) {
			return bad("name %q: use letters, digits and underscores, not starting with a digit", name)
		}
		rest = strings.TrimSpace(rest[len(m[0]):])
	}
	var hold model.Duration
	if m := forRe.FindStringSubmatchIndex(rest); m != nil {
		d, err := model.ParseDuration(rest[m[2]:m[3]])
		if err != nil {
			return bad("duration after \"for\": %v", err)
		}
		hold = d
		rest = strings.TrimSpace(rest[:m[0]])
	}
	if rest == "" {
		return bad("no expression")
	}
	expr, err := exprParser.ParseExpr(rest)
	if err != nil {
		return bad("expression: %v", err)
	}
	switch expr.Type() {
	case parser.ValueTypeVector, parser.ValueTypeScalar:
	case parser.ValueTypeMatrix:
		return bad("expression is a range vector; an alert needs an instant vector such as 'rate(x[5m]) > 1'")
	default:
		return bad("expression is a %s; an alert needs an instant vector such as 'node_load1 > 4'", expr.Type())
	}
	if name == "" {
		name = deriveName(expr)
	}
	return rulefmt.Rule{
		Alert:  name,
		Expr:   rest,
		For:    hold,
		Labels: map[string]string{"severity": "warning"},
		Annotations: map[string]string{
			"summary":     name + `{{ with $labels.instance }} on {{ . }}{{ end }}: {{ $value | humanize }}`,
			"description": `{{ ` + strconv.Quote(rest) + ` }} is {{ $value | humanize }}{{ with $labels.instance }} on {{ . }}{{ end }}` + forText(time.Duration(hold)) + `.`,
		},
	}, nil
}

func forText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return " for " + model.Duration(d).String()
}

// AlertFlagGroups turns the --alert values into one group (nil when there
// are none). Every bad value is reported; derived names that collide get a
// numeric suffix.
func AlertFlagGroups(values []string) ([]GroupConfig, error) {
	if len(values) == 0 {
		return nil, nil
	}
	var (
		rules []rulefmt.Rule
		errs  []error
		seen  = map[string]int{}
	)
	for _, v := range values {
		r, err := ParseAlertFlag(v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		seen[r.Alert]++
		if n := seen[r.Alert]; n > 1 {
			r.Alert += strconv.Itoa(n)
		}
		rules = append(rules, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return []GroupConfig{{File: FileFlag, RuleGroup: rulefmt.RuleGroup{Name: "alert-flags", Rules: rules}}}, nil
}

// deriveName names an alert after the first metric in its expression and
// the direction of its top-level comparison.
func deriveName(expr parser.Expr) string {
	var metric string
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && metric == "" {
			metric = vs.Name
			if metric == "" {
				for _, m := range vs.LabelMatchers {
					if m.Name == model.MetricNameLabel {
						metric = m.Value
					}
				}
			}
		}
		return nil
	})
	var b strings.Builder
	for _, part := range strings.FieldsFunc(metric, func(r rune) bool { return !isAlnum(r) }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	name := b.String()
	if name == "" || !identRe.MatchString(name) {
		name = "Alert" + name
	}
	if be, ok := unwrapParens(expr).(*parser.BinaryExpr); ok {
		switch be.Op {
		case parser.GTR, parser.GTE:
			name += "High"
		case parser.LSS, parser.LTE:
			name += "Low"
		}
	}
	return name
}

func unwrapParens(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
