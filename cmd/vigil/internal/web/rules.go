package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilterm/vigil/alert"
)

// RuleSource is what the server reads of the rules; *alert.Manager is
// one.
type RuleSource interface {
	Alerts() []alert.Alert
	Rules() []alert.RuleStatus
}

// apiAlert is an alert as /api/v1/alerts and /api/v1/rules show it.
type apiAlert struct {
	Labels      labels.Labels `json:"labels"`
	Annotations labels.Labels `json:"annotations"`
	State       string        `json:"state"`
	ActiveAt    *time.Time    `json:"activeAt,omitempty"`
	Value       string        `json:"value"`
}

// activeAlerts are the pending and firing alerts, by group and rule name:
// a resolved alert, which vigil keeps for a while, is no longer active to
// Prometheus' API.
func activeAlerts(as []alert.Alert) map[[2]string][]apiAlert {
	out := map[[2]string][]apiAlert{}
	for _, a := range as {
		if a.State != alert.StatePending && a.State != alert.StateFiring {
			continue
		}
		k := [2]string{a.Group, a.Rule}
		out[k] = append(out[k], apiAlertOf(a))
	}
	return out
}

func apiAlertOf(a alert.Alert) apiAlert {
	at := a.ActiveAt
	return apiAlert{
		Labels:      a.Labels,
		Annotations: a.Annotations,
		State:       string(a.State),
		ActiveAt:    &at,
		Value:       strconv.FormatFloat(a.Value, 'e', -1, 64),
	}
}

// alerts serves /api/v1/alerts.
func (a *api) alerts(*http.Request) result {
	out := []apiAlert{}
	for _, al := range a.src.Rules.Alerts() {
		if al.State == alert.StatePending || al.State == alert.StateFiring {
			out = append(out, apiAlertOf(al))
		}
	}
	return result{data: marshaled{struct {
		Alerts []apiAlert `json:"alerts"`
	}{out}}}
}

type ruleGroup struct {
	Name           string    `json:"name"`
	File           string    `json:"file"`
	Rules          []any     `json:"rules"`
	Interval       float64   `json:"interval"`
	Limit          int       `json:"limit"`
	EvaluationTime float64   `json:"evaluationTime"`
	LastEvaluation time.Time `json:"lastEvaluation"`
}

type alertingRule struct {
	State          string        `json:"state"`
	Name           string        `json:"name"`
	Query          string        `json:"query"`
	Duration       float64       `json:"duration"`
	KeepFiringFor  float64       `json:"keepFiringFor"`
	Labels         labels.Labels `json:"labels"`
	Annotations    labels.Labels `json:"annotations"`
	Alerts         []apiAlert    `json:"alerts"`
	Health         string        `json:"health"`
	LastError      string        `json:"lastError,omitempty"`
	EvaluationTime float64       `json:"evaluationTime"`
	LastEvaluation time.Time     `json:"lastEvaluation"`
	Type           string        `json:"type"`
}

type recordingRule struct {
	Name           string        `json:"name"`
	Query          string        `json:"query"`
	Labels         labels.Labels `json:"labels"`
	Health         string        `json:"health"`
	LastError      string        `json:"lastError,omitempty"`
	EvaluationTime float64       `json:"evaluationTime"`
	LastEvaluation time.Time     `json:"lastEvaluation"`
	Type           string        `json:"type"`
}

// ruleFilter is what /api/v1/rules is asked for.
type ruleFilter struct {
	names, groups, files map[string]bool
	matchers             [][]*labels.Matcher
	alerting, recording  bool
	excludeAlerts        bool
	groupLimit           int
	nextToken            string
}

func set(vs []string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

func ruleFilterOf(r *http.Request) (ruleFilter, *result) {
	fail := func(res result) (ruleFilter, *result) { return ruleFilter{}, &res }
	if err := r.ParseForm(); err != nil {
		return fail(result{err: badData(fmt.Errorf("error parsing form values: %w", err))})
	}
	f := ruleFilter{names: set(r.Form["rule_name[]"]), groups: set(r.Form["rule_group[]"]), files: set(r.Form["file[]"])}
	var err error
	if f.matchers, err = matchersParam(r.Form["match[]"]); err != nil {
		return fail(result{err: badData(err)})
	}
	q := r.URL.Query()
	switch typ := strings.ToLower(q.Get("type")); typ {
	case "":
		f.alerting, f.recording = true, true
	case "alert":
		f.alerting = true
	case "record":
		f.recording = true
	default:
		return fail(invalidParam(fmt.Errorf("not supported value %q", typ), "type"))
	}
	if v := strings.ToLower(q.Get("exclude_alerts")); v != "" {
		if f.excludeAlerts, err = strconv.ParseBool(v); err != nil {
			return fail(invalidParam(fmt.Errorf("error converting exclude_alerts: %w", err), "exclude_alerts"))
		}
	}
	limit, token := q.Get("group_limit"), q.Get("group_next_token")
	if token != "" && limit == "" {
		return fail(invalidParam(errors.New("group_limit needs to be present in order to paginate over the groups"), "group_next_token"))
	}
	if limit != "" {
		n, err := strconv.ParseInt(limit, 10, 32)
		if err != nil {
			return fail(invalidParam(fmt.Errorf("group_limit needs to be a valid number: %w", err), "group_limit"))
		}
		if n <= 0 {
			return fail(invalidParam(errors.New("group_limit needs to be greater than 0"), "group_limit"))
		}
		f.groupLimit, f.nextToken = int(n), token
	}
	return f, nil
}

func (f ruleFilter) matches(rs alert.RuleStatus) bool {
	if len(f.names) > 0 && !f.names[rs.Name] {
		return false
	}
	if rs.Recording && !f.recording || !rs.Recording && !f.alerting {
		return false
	}
	if len(f.matchers) == 0 {
		return true
	}
	for _, ms := range f.matchers {
		ok := true
		for _, m := range ms {
			if !m.Matches(rs.Labels.Get(m.Name)) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// groupToken is the group_next_token of a group, as Prometheus makes it.
func groupToken(file, group string) string {
	h := sha256.Sum256([]byte(file + ";" + group))
	return hex.EncodeToString(h[:])
}

// rules serves /api/v1/rules with Prometheus' filters: type, rule_name[],
// rule_group[], file[], match[] (on the rules' labels), exclude_alerts,
// group_limit and group_next_token. A group's evaluationTime is the sum
// of its rules' last evaluation times, its lastEvaluation the latest of
// theirs. vigil's alerts name their group and rule but not the file, so
// two groups of one name in two files, or two alerting rules of one name
// in a group, each list the alerts of both.
func (a *api) rules(r *http.Request) result {
	f, res := ruleFilterOf(r)
	if res != nil {
		return *res
	}
	var active map[[2]string][]apiAlert
	if !f.excludeAlerts {
		active = activeAlerts(a.src.Rules.Alerts())
	}
	var (
		groups    []ruleGroup
		nextToken string
		found     = f.nextToken == ""
		statuses  = a.src.Rules.Rules()
	)
	for i := 0; i < len(statuses); {
		// A group is the run of rules of one file and group name.
		j := i
		for j < len(statuses) && statuses[j].File == statuses[i].File && statuses[j].Group == statuses[i].Group {
			j++
		}
		grp := statuses[i:j]
		i = j
		file, name := grp[0].File, grp[0].Group
		if !found {
			if groupToken(file, name) != f.nextToken {
				continue
			}
			found = true
		}
		if len(f.groups) > 0 && !f.groups[name] || len(f.files) > 0 && !f.files[file] {
			continue
		}
		g := ruleGroup{Name: name, File: file, Rules: []any{}, Interval: grp[0].Interval.Seconds()}
		for _, rs := range grp {
			g.EvaluationTime += rs.LastDuration.Seconds()
			if rs.LastEval.After(g.LastEvaluation) {
				g.LastEvaluation = rs.LastEval
			}
			if !f.matches(rs) {
				continue
			}
			g.Rules = append(g.Rules, ruleOf(rs, active, f.excludeAlerts))
		}
		if len(g.Rules) == 0 {
			continue
		}
		if f.groupLimit > 0 && len(groups) == f.groupLimit {
			nextToken = groupToken(file, name)
			break
		}
		groups = append(groups, g)
	}
	if !found {
		return invalidParam(fmt.Errorf("invalid group_next_token '%v'. were rule groups changed?", f.nextToken), "group_next_token")
	}
	if groups == nil {
		groups = []ruleGroup{}
	}
	return result{data: marshaled{struct {
		Groups    []ruleGroup `json:"groups"`
		NextToken string      `json:"groupNextToken,omitempty"`
	}{groups, nextToken}}}
}

func ruleOf(rs alert.RuleStatus, active map[[2]string][]apiAlert, excludeAlerts bool) any {
	if rs.Recording {
		return recordingRule{
			Name: rs.Name, Query: rs.Expr, Labels: rs.Labels,
			Health: string(rs.Health), LastError: rs.LastError,
			EvaluationTime: rs.LastDuration.Seconds(), LastEvaluation: rs.LastEval,
			Type: "recording",
		}
	}
	var alerts []apiAlert
	if !excludeAlerts {
		alerts = active[[2]string{rs.Group, rs.Name}]
		if alerts == nil {
			alerts = []apiAlert{}
		}
	}
	return alertingRule{
		State: string(rs.State), Name: rs.Name, Query: rs.Expr,
		Duration: rs.For.Seconds(), KeepFiringFor: rs.KeepFiringFor.Seconds(),
		Labels: rs.Labels, Annotations: rs.Annotations, Alerts: alerts,
		Health: string(rs.Health), LastError: rs.LastError,
		EvaluationTime: rs.LastDuration.Seconds(), LastEvaluation: rs.LastEval,
		Type: "alerting",
	}
}
