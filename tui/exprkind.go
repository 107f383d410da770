package tui

import (
	"math"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// exprKind is what the values of a PromQL expression are, as far as its
// text tells: a percentage when it multiplies by 100 at the top (or its
// one metric is a _percent); a ratio when it divides two things of one
// unit; else the kind of its one metric when every function on the way
// keeps the unit (rate and its like make a counter per second,
// histogram_quantile a _bucket's unit); else a plain number. axis is the
// chart's unit: unitPercent, unitRatio or unitPlain.
func exprKind(expr string) (kind metricKind, axis string) {
	plain := metricKind{format: formatAxis}
	e, err := parseExpr(expr)
	if err != nil {
		return plain, unitPlain
	}
	e, _, _, _ = splitComparison(e)
	if isTimes100(e) {
		return metricKind{unit: "percent", format: formatPercent}, unitPercent
	}
	if b, ok := unparen(e).(*parser.BinaryExpr); ok && b.Op == parser.DIV {
		l, r := unitOf(b.LHS), unitOf(b.RHS)
		if l.ok && r.ok && l.unit == r.unit && !l.rate && !r.rate {
			return plain, unitRatio
		}
	}
	u := unitOf(e)
	if !u.ok || u.name == "" {
		return plain, unitPlain
	}
	if strings.HasSuffix(u.name, "_percent") {
		return metricKind{unit: "percent", format: formatPercent}, unitPercent
	}
	k := kindAs(u.name, u.rate)
	if k.unit == "ratio" {
		return k, unitRatio
	}
	return k, unitPlain
}

// exprUnit is the unit of an expression's values: the metric name it
// comes from and whether it is per second; ok is false when the
// expression mixes metrics or goes through a function that changes the
// unit.
type exprUnit struct {
	name string
	unit string // of kindAs(name): bytes, seconds, ratio or ""
	rate bool
	ok   bool
}

func unitOf(e parser.Expr) exprUnit {
	switch e := e.(type) {
	case *parser.ParenExpr:
		return unitOf(e.Expr)
	case *parser.VectorSelector:
		if e.Name == "" {
			return exprUnit{}
		}
		return exprUnit{name: e.Name, unit: kindAs(e.Name, false).unit, ok: true}
	case *parser.MatrixSelector:
		return unitOf(e.VectorSelector)
	case *parser.SubqueryExpr:
		return unitOf(e.Expr)
	case *parser.StepInvariantExpr:
		return unitOf(e.Expr)
	case *parser.AggregateExpr:
		switch e.Op {
		case parser.SUM, parser.AVG, parser.MIN, parser.MAX, parser.TOPK, parser.BOTTOMK, parser.QUANTILE, parser.STDDEV:
			return unitOf(e.Expr)
		}
	case *parser.Call:
		switch e.Func.Name {
		case "rate", "irate", "deriv":
			u := unitOf(e.Args[0])
			if !u.ok || u.rate {
				return exprUnit{}
			}
			u.rate = true
			u.unit = kindAs(u.name, true).unit
			return u
		case "increase", "delta", "idelta", "avg_over_time", "min_over_time", "max_over_time", "last_over_time",
			"quantile_over_time", "sum_over_time", "abs", "ceil", "floor", "round", "clamp", "clamp_min", "clamp_max",
			"sort", "sort_desc", "label_replace", "label_join", "predict_linear":
			for _, a := range e.Args {
				if ae, ok := a.(parser.Expr); ok && ae.Type() != parser.ValueTypeScalar && ae.Type() != parser.ValueTypeString {
					return unitOf(ae)
				}
			}
		case "histogram_quantile":
			u := unitOf(e.Args[1])
			if !u.ok {
				return exprUnit{}
			}
			base := strings.TrimSuffix(u.name, "_bucket")
			return exprUnit{name: base, unit: kindAs(base, false).unit, ok: true}
		}
	case *parser.BinaryExpr:
		// A number's scale aside, a sum or difference keeps the unit.
		l, r := unitOf(e.LHS), unitOf(e.RHS)
		_, rnum := unparen(e.RHS).(*parser.NumberLiteral)
		switch {
		case e.Op.IsComparisonOperator() && rnum:
			return l
		case (e.Op == parser.ADD || e.Op == parser.SUB) && l.ok && r.ok && l.name == r.name && l.rate == r.rate:
			return l
		}
	}
	return exprUnit{}
}

func unparen(e parser.Expr) parser.Expr {
	for {
		switch p := e.(type) {
		case *parser.ParenExpr:
			e = p.Expr
		case *parser.StepInvariantExpr:
			e = p.Expr
		default:
			return e
		}
	}
}

// isTimes100 reports whether e is 100 * x or x * 100.
func isTimes100(e parser.Expr) bool {
	b, ok := unparen(e).(*parser.BinaryExpr)
	if !ok || b.Op != parser.MUL {
		return false
	}
	for _, side := range []parser.Expr{b.LHS, b.RHS} {
		if n, ok := unparen(side).(*parser.NumberLiteral); ok && n.Val == 100 {
			return true
		}
	}
	return false
}

// splitComparison takes an alerting rule's expression apart: the value it
// compares, and the number it compares with, "X > 90" giving X, 90 and
// ">". Paren, and/unless (whose left side holds the value) and a number
// on the left ("90 < X") are seen through. Without such a comparison it
// returns e, NaN and "".
func splitComparison(e parser.Expr) (value parser.Expr, threshold float64, op string, ok bool) {
	switch x := e.(type) {
	case *parser.ParenExpr:
		return splitComparison(x.Expr)
	case *parser.StepInvariantExpr:
		return splitComparison(x.Expr)
	case *parser.BinaryExpr:
		if x.Op == parser.LAND || x.Op == parser.LUNLESS {
			return splitComparison(x.LHS)
		}
		if !x.Op.IsComparisonOperator() {
			break
		}
		if n, isNum := unparen(x.RHS).(*parser.NumberLiteral); isNum {
			return x.LHS, n.Val, x.Op.String(), true
		}
		if n, isNum := unparen(x.LHS).(*parser.NumberLiteral); isNum {
			flip := map[parser.ItemType]string{parser.GTR: "<", parser.LSS: ">", parser.GTE: "<=", parser.LTE: ">=", parser.EQLC: "==", parser.NEQ: "!="}
			return x.RHS, n.Val, flip[x.Op], true
		}
	}
	return e, math.NaN(), "", false
}

// alertChartExpr is what an alerting rule's chart draws: the value its
// expression compares (the whole expression when it compares nothing),
// the threshold (NaN for none) and its operator.
func alertChartExpr(expr string) (value string, threshold float64, op string) {
	e, err := parseExpr(expr)
	if err != nil {
		return expr, math.NaN(), ""
	}
	v, thr, op, ok := splitComparison(e)
	if !ok {
		return expr, math.NaN(), ""
	}
	return v.String(), thr, op
}

// promqlParser parses expressions for what the console reads of them
// (units, thresholds, selectors); the engine parses them again to run.
var promqlParser = parser.NewParser(parser.Options{})

func parseExpr(s string) (parser.Expr, error) { return promqlParser.ParseExpr(s) }
