package tui

import (
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/prometheus/prometheus/model/labels"
)

// The panes of the Alerts view, switched with ←/→.
const (
	paneAlerts = iota
	paneRules
	paneEvents
	numPanes
)

var paneNames = [numPanes]string{"Alerts", "Rules", "Events"}

// alertsView is view 3: alerts (firing, pending, resolved), rule health
// and the log of alert events.
type alertsView struct {
	c      *common
	pane   int
	tables [numPanes]table
	filter filter
	detail bool
	shown  []Alert // rows of the alerts table, in order
	rules  []Rule  // rows of the rules table, in order
	// shared are the labels every row of the alerts and of the events
	// table has, printed; "" when none.
	shared [numPanes]string
	// built is what the rows were built from: they are built again when
	// the data, the clock or the filter changed, not at every key.
	built alertsBuilt

	// What the detail shows (alertchart.go): the alert or rule enter
	// opened, whether it is gone since, and its chart.
	openAlert Alert
	openRule  Rule
	openGone  bool
	chart     alertChart
}

type alertsBuilt struct {
	gen    int
	now    time.Time
	filter string
	events int
}

func newAlertsView(c *common) *alertsView {
	v := &alertsView{c: c, filter: newFilter()}
	v.tables[paneAlerts].cols = []column{
		{title: "STATE", width: 8},
		{title: "ALERT", min: 12},
		{title: "LABELS", min: 12},
		{title: "VALUE", width: 9, right: true},
		{title: "SINCE", width: 6, right: true},
	}
	v.tables[paneRules].cols = []column{
		{title: "HEALTH", width: 7},
		{title: "RULE", width: 22},
		{title: "GROUP", width: 12},
		{title: "ACTIVE", width: 6, right: true},
		{title: "EVAL", width: 6, right: true},
		{title: "ERROR", min: 10},
	}
	v.tables[paneEvents].cols = []column{
		{title: "TIME", width: 8},
		{title: "STATE", width: 8},
		{title: "ALERT", width: 18},
		{title: "LABELS", min: 12},
		{title: "VALUE", width: 9, right: true},
	}
	return v
}

func (v *alertsView) title() string   { return "Alerts" }
func (v *alertsView) capturing() bool { return v.filter.editing }

// Alerts, rules and events are polled or sent to the root model: nothing
// to fetch but the detail's chart, only the rows to rebuild.
func (v *alertsView) refresh() tea.Cmd {
	v.rebuild()
	if v.detail {
		return v.refreshChart()
	}
	return nil
}

func (v *alertsView) ShortHelp() []key.Binding {
	k := &v.c.keys
	if v.detail {
		ks := []key.Binding{k.QueryExpr, k.CursorLeft, k.Back}
		if v.pane == paneRules {
			ks = append(ks, withHelp(k.Down, "↑/↓", "series"), k.Toggle)
		} else {
			ks = append(ks, withHelp(k.Silence, "S", "silence"))
		}
		return append(ks, k.PanBack, k.ZeroAxis)
	}
	return []key.Binding{k.Up, k.Down, withHelp(k.Right, "←/→", "pane"), k.Enter, k.Filter, withHelp(k.Silence, "S", "silence"), k.Expand}
}

func (v *alertsView) FullHelp() [][]key.Binding {
	k := &v.c.keys
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{withHelp(k.Left, "←/h", "previous pane"), withHelp(k.Right, "→/l", "next pane"), k.Enter, k.Back, k.Filter},
		{k.Silence, withHelp(k.Expand, "w", "the selected row whole")},
		{withHelp(k.QueryExpr, "e", "detail: the expression in Query"), withHelp(k.CursorLeft, "←/→", "detail: chart cursor"),
			withHelp(k.Down, "↑/↓", "rule detail: pick a series"), k.Toggle},
	}
}

// withHelp returns b with other help text.
func withHelp(b key.Binding, keys, desc string) key.Binding {
	b.SetHelp(keys, desc)
	return b
}

func (v *alertsView) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case *alertChartData:
		v.chart.arrived(msg)
		return nil
	case rangeChangedMsg:
		v.chart.forget()
		return nil
	case viewClick:
		return v.click(msg)
	}
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	k := &v.c.keys
	v.rebuild()
	if key.Matches(km, k.Silence) && v.pane == paneAlerts && !v.filter.editing {
		if v.detail {
			if a, _, _, _ := v.opened(); !v.openGone {
				return v.c.silence(a)
			}
			return nil
		}
		if i := v.tables[paneAlerts].cursor; i < len(v.shown) {
			return v.c.silence(v.shown[i])
		}
		return nil
	}
	if v.detail {
		return v.detailKey(km)
	}
	if handled, changed := v.filter.update(km, k); handled {
		if changed {
			for i := range v.tables {
				v.tables[i].cursor = 0
			}
		}
		return nil
	}
	switch {
	case key.Matches(km, k.Expand):
		for i := range v.tables {
			v.tables[i].expand = !v.tables[v.pane].expand
		}
	case key.Matches(km, k.Left):
		v.pane = (v.pane + numPanes - 1) % numPanes
	case key.Matches(km, k.Right):
		v.pane = (v.pane + 1) % numPanes
	case key.Matches(km, k.Enter):
		if v.pane == paneAlerts || v.pane == paneRules {
			if v.open() {
				v.detail = true
				v.chart.forget()
				v.chart.show, v.chart.selected = map[string]seriesShow{}, 0
				return v.refreshChart()
			}
		}
	default:
		v.tables[v.pane].move(km, k)
	}
	return nil
}

func stateRank(s AlertState) int {
	switch s {
	case StateFiring:
		return 0
	case StatePending:
		return 1
	}
	return 2
}

func (v *alertsView) stateStyle(s AlertState) *lipgloss.Style {
	st := &v.c.styles
	switch s {
	case StateFiring:
		return &st.Firing
	case StatePending:
		return &st.Pending
	case StateResolved:
		return &st.Resolved
	}
	return &st.Unknown
}

// since is when an alert entered its current state.
func since(a Alert) time.Time {
	switch {
	case a.State == StateResolved && !a.ResolvedAt.IsZero():
		return a.ResolvedAt
	case a.State == StateFiring && !a.FiredAt.IsZero():
		return a.FiredAt
	}
	return a.ActiveAt
}

// otherLabels prints the labels but alertname and those in shared (with the
// same value), sanitised.
func otherLabels(ls labels.Labels, shared map[string]string, max int) string {
	b := labels.NewBuilder(ls)
	b.Del(labels.AlertName)
	for name, value := range shared {
		if ls.Get(name) == value {
			b.Del(name)
		}
	}
	s := labelsString(b.Labels(), false, max)
	return strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
}

// sharedLabels returns, for each alert name that n label sets (at gives
// them) hold more than one distinct set of, the labels all those sets
// have with the same value. The alert tables leave them out, as an
// Alertmanager group shows its common labels once: at 80 columns the
// labels that tell a rule's alerts apart (say instance) were cut off
// behind the ones they share. The detail view shows every label.
func sharedLabels(n int, at func(i int) (name string, ls labels.Labels)) map[string]map[string]string {
	shared := map[string]map[string]string{}
	sets := map[string]map[uint64]bool{}
	for i := range n {
		name, ls := at(i)
		h := ls.Hash()
		if sets[name][h] {
			continue
		}
		if sets[name] == nil {
			sets[name] = map[uint64]bool{}
			shared[name] = ls.Map()
		}
		sets[name][h] = true
		for k, v := range shared[name] {
			if ls.Get(k) != v {
				delete(shared[name], k)
			}
		}
	}
	for name, hs := range sets {
		if len(hs) < 2 {
			delete(shared, name)
		}
	}
	return shared
}

// splitAlerts splits the label sets of n alerts (or events; at gives
// each one's alert name and labels), alertname aside: what every row
// shares is shown once above the table, and a row leads with what tells
// it apart, instance first. perRule are, by alert name, the labels all
// of that name's sets share when it has more than one: left out of its
// rows too, as an Alertmanager group shows its common labels once.
func (v *alertsView) splitAlerts(n int, at func(i int) (string, labels.Labels)) (labelSplit, map[string]map[string]string) {
	sets := make([]labels.Labels, n)
	for i := range n {
		_, ls := at(i)
		sets[i] = labels.NewBuilder(ls).Del(labels.AlertName).Labels()
	}
	split := splitLabels(sets)
	if n == 1 {
		// One row shares nothing with another: it shows all its labels.
		split = splitLabels([]labels.Labels{sets[0], labels.EmptyLabels()})
	}
	return split, sharedLabels(n, at)
}

// printShared prints the labels every one of n rows shares; "" with
// fewer than two rows, where nothing is shared but the one row's labels.
func printShared(s labelSplit, n int) string {
	if n < 2 || s.shared.IsEmpty() {
		return ""
	}
	return strings.TrimSuffix(strings.TrimPrefix(labelsString(s.shared, false, maxLineLen), "{"), "}")
}

// rowLabels prints the labels of one row that tell it apart: those that
// differ between the rows, in the split's order, less those its alert
// name's rows all share.
func rowLabels(s labelSplit, ruleShared map[string]string, ls labels.Labels) string {
	b := labels.NewBuilder(ls)
	for name, value := range ruleShared {
		if ls.Get(name) == value {
			b.Del(name)
		}
	}
	out := s.distinct(b.Labels(), 0)
	if out == "{}" {
		return ""
	}
	return out
}

func (v *alertsView) rebuild() {
	c := v.c
	b := alertsBuilt{gen: c.polls, now: c.now, filter: v.filter.value(), events: len(c.events)}
	if b == v.built {
		return
	}
	v.built = b
	as := append([]Alert(nil), c.alerts...)
	sort.SliceStable(as, func(i, j int) bool {
		if ri, rj := stateRank(as[i].State), stateRank(as[j].State); ri != rj {
			return ri < rj
		}
		if as[i].Rule != as[j].Rule {
			return as[i].Rule < as[j].Rule
		}
		return labels.Compare(as[i].Labels, as[j].Labels) < 0
	})
	v.shown = v.shown[:0]
	var rows []row
	alertName := func(a Alert) string {
		if a.Rule != "" {
			return a.Rule
		}
		return a.Labels.Get(labels.AlertName)
	}
	var kept []Alert
	for _, a := range as {
		name := Sanitize(alertName(a), maxLabelLen)
		// The filter sees every label, shown or not.
		if v.filter.value() != "" && !v.filter.matches(string(a.State), name, otherLabels(a.Labels, nil, maxLineLen)) {
			continue
		}
		kept = append(kept, a)
	}
	split, perRule := v.splitAlerts(len(kept), func(i int) (string, labels.Labels) { return alertName(kept[i]), kept[i].Labels })
	v.shared[paneAlerts] = printShared(split, len(kept))
	for _, a := range kept {
		name := Sanitize(alertName(a), maxLabelLen)
		v.shown = append(v.shown, a)
		state, style := string(a.State), v.stateStyle(a.State)
		if !c.silencedUntil(a).IsZero() {
			state, style = "silenced", &c.styles.Dim
		}
		rows = append(rows, row{
			key:    string(a.Labels.Bytes(nil)),
			cells:  []string{state, name, rowLabels(split, perRule[alertName(a)], a.Labels), formatShort(a.Value), formatAge(c.now, since(a))},
			styles: []*lipgloss.Style{style, &c.styles.Title},
		})
	}
	v.tables[paneAlerts].setRows(rows)

	rows = nil
	v.rules = v.rules[:0]
	for _, r := range c.rules {
		name, group := Sanitize(r.Name, maxLabelLen), Sanitize(r.Group, maxLabelLen)
		errText := Sanitize(r.LastError, maxErrorLen)
		if !v.filter.matches(string(r.Health), name, group, errText) {
			continue
		}
		hs := &c.styles.Unknown
		switch r.Health {
		case RuleOK:
			hs = &c.styles.Up
		case RuleErr:
			hs = &c.styles.Down
		}
		eval := "-"
		if !r.LastEval.IsZero() {
			eval = formatDuration(r.LastDuration)
		}
		v.rules = append(v.rules, r)
		active := itoa(r.Firing + r.Pending)
		if r.Recording {
			active = "rec"
		}
		rows = append(rows, row{
			key:    r.Group + "\x00" + r.Name,
			cells:  []string{Sanitize(string(r.Health), 10), name, group, active, eval, errText},
			styles: []*lipgloss.Style{hs, nil, nil, nil, nil, &c.styles.Error},
		})
	}
	v.tables[paneRules].setRows(rows)

	rows = nil
	var evs []int // the events shown, newest first
	for i := len(c.events) - 1; i >= 0; i-- {
		e := c.events[i]
		silenced := ""
		if !e.SilencedUntil.IsZero() {
			silenced = "(silenced) "
		}
		if v.filter.value() != "" && !v.filter.matches(string(e.State), Sanitize(e.Labels.Get(labels.AlertName), maxLabelLen), silenced+otherLabels(e.Labels, nil, maxLineLen)) {
			continue
		}
		evs = append(evs, i)
	}
	split, perRule = v.splitAlerts(len(evs), func(i int) (string, labels.Labels) {
		e := c.events[evs[i]]
		return e.Labels.Get(labels.AlertName), e.Labels
	})
	v.shared[paneEvents] = printShared(split, len(evs))
	for _, i := range evs {
		e := c.events[i]
		name := Sanitize(e.Labels.Get(labels.AlertName), maxLabelLen)
		silenced := ""
		if !e.SilencedUntil.IsZero() {
			silenced = "(silenced) "
		}
		rows = append(rows, row{
			key:    itoa(i),
			cells:  []string{e.Time.In(c.opts.Location).Format("15:04:05"), string(e.State), name, silenced + rowLabels(split, perRule[e.Labels.Get(labels.AlertName)], e.Labels), formatShort(e.Value)},
			styles: []*lipgloss.Style{&c.styles.Dim, v.stateStyle(e.State)},
		})
	}
	v.tables[paneEvents].setRows(rows)
}

func (v *alertsView) view(width, height int) string {
	c, st := v.c, &v.c.styles
	v.rebuild()
	if v.detail {
		a, r, isAlert, _ := v.opened()
		if isAlert {
			return v.detailView(a, width, height)
		}
		return v.ruleView(r, width, height)
	}
	firing, pending := c.countAlerts()
	var tabs []string
	for i, n := range paneNames {
		label := n
		switch i {
		case paneAlerts:
			label += " " + itoa(len(c.alerts))
		case paneRules:
			label += " " + itoa(len(c.rules))
		case paneEvents:
			label += " " + itoa(len(c.events))
		}
		if i == v.pane {
			tabs = append(tabs, st.TabActive.Render(" "+label+" "))
		} else {
			tabs = append(tabs, st.TabInactive.Render(" "+label+" "))
		}
	}
	title := strings.Join(tabs, " ") + "  " + st.Firing.Render(itoa(firing)+" firing") + " " + st.Pending.Render(itoa(pending)+" pending")
	if f := v.filter.view(st, width/3); f != "" {
		title += "  " + f
	}
	if c.silenceErr != "" && v.pane == paneAlerts {
		if room := width - lipgloss.Width(title) - 2; room > 0 {
			title += "  " + st.Error.Render(fit(c.silenceErr, room))
		}
	}
	var empty string
	switch v.pane {
	case paneAlerts:
		empty = "no alerts: all quiet"
		switch {
		case c.opts.Alerts == nil:
			empty = "no alert source"
		case c.alertsErr != nil:
			empty = "alerts: " + Sanitize(c.alertsErr.Error(), maxErrorLen)
		}
	case paneRules:
		empty = "no rules"
		switch {
		case c.opts.Rules == nil:
			empty = "rule health is not available"
		case c.rulesErr != nil:
			empty = "rules: " + Sanitize(c.rulesErr.Error(), maxErrorLen)
		}
	case paneEvents:
		empty = "no alert events since the console started"
	}
	if v.filter.value() != "" {
		empty = "nothing matches the filter"
	}
	if sh := v.shared[v.pane]; sh != "" {
		title += "\n" + st.Dim.Render(fit("every row: "+sh, width))
		height--
	}
	return title + "\n" + v.tables[v.pane].view(st, width, height-1, empty)
}

// detailView shows one alert: its state and times, its rule's expression
// (wrapped, whole), its labels, the chart, and its annotations below as
// room allows.
func (v *alertsView) detailView(a Alert, width, height int) string {
	c, st := v.c, &v.c.styles
	r, haveRule := v.ruleOf(a)
	kind, _ := exprKind(r.Expr)
	const keyW = 11 // "description"
	kv := func(k, val string) []string {
		var out []string
		for i, l := range wrapWords(val, max(width-keyW-1, 10)) {
			key := ""
			if i == 0 {
				key = k
			}
			out = append(out, st.Dim.Render(padRight(key, keyW))+" "+l)
		}
		return out
	}
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.In(c.opts.Location).Format("15:04:05") + " (" + formatAge(c.now, t) + " ago)"
	}
	name := a.Rule
	if name == "" {
		name = a.Labels.Get(labels.AlertName)
	}
	head := v.stateStyle(a.State).Render(string(a.State)) + " " + st.Title.Render(Sanitize(name, maxLabelLen)) +
		st.Dim.Render("  value ") + kind.format(a.Value)
	if a.Group != "" {
		head += st.Dim.Render("  group " + Sanitize(a.Group, maxLabelLen))
	}
	if v.openGone {
		head += st.Warning.Render("  no longer active: as last seen")
	}
	lines := []string{fit(head, width)}
	times := st.Dim.Render("active ") + at(a.ActiveAt)
	if !a.FiredAt.IsZero() {
		times += st.Dim.Render("  fired ") + at(a.FiredAt)
	}
	if !a.ResolvedAt.IsZero() {
		times += st.Dim.Render("  resolved ") + at(a.ResolvedAt)
	}
	lines = append(lines, fit(times, width))
	if until := c.silencedUntil(a); !until.IsZero() {
		lines = append(lines, kv("silenced", "here, until "+until.In(c.opts.Location).Format("15:04:05")+
			" (in "+formatAge(until, c.now)+"; S for longer or off)")...)
	}
	if haveRule {
		expr := Sanitize(r.Expr, maxLineLen)
		if r.For > 0 {
			expr += "  for " + formatRange(r.For) // plain: wrap cuts text, not styles
		}
		lines = append(lines, kv("expr", expr)...)
	}
	b := labels.NewBuilder(a.Labels)
	b.Del(labels.AlertName)
	lines = append(lines, kv("labels", strings.Trim(labelsString(b.Labels(), false, maxLineLen), "{}"))...)
	var notes []string
	a.Annotations.Range(func(l labels.Label) {
		notes = append(notes, kv(Sanitize(l.Name, keyW), Sanitize(l.Value, maxLineLen))...)
	})
	// The chart gets what is left but for a line of annotations, and at
	// least 8 lines when there is room for them.
	room := height - len(lines) - min(len(notes), max(height-len(lines)-8, 0)/2+1)
	if !haveRule {
		r = Rule{}
	}
	chart := v.chartView(r, width, max(room, 0))
	v.chart.top += len(lines)
	lines = append(lines, chart...)
	return strings.Join(append(lines, notes...), "\n")
}

// ruleView shows one rule: its expression, timing, health and error, and
// the chart of its expression's series.
func (v *alertsView) ruleView(r Rule, width, height int) string {
	c, st := v.c, &v.c.styles
	kv := func(k, val string) string {
		return st.Dim.Render(padRight(k, 10)) + " " + fit(val, max(width-11, 1))
	}
	kind := "alert"
	if r.Recording {
		kind = "record"
	}
	hs := &st.Unknown
	switch r.Health {
	case RuleOK:
		hs = &st.Up
	case RuleErr:
		hs = &st.Down
	}
	head := st.Dim.Render(kind+" ") + st.Title.Render(Sanitize(r.Name, maxLabelLen)) + st.Dim.Render("  group "+Sanitize(r.Group, maxLabelLen))
	if v.openGone {
		head += st.Warning.Render("  no longer listed: as last seen")
	}
	if r.File != "" {
		head += st.Dim.Render("  " + Sanitize(r.File, maxLineLen))
	}
	lines := []string{fit(head, width)}
	state := hs.Render(Sanitize(string(r.Health), 10)) + "  " + string(r.State) + "  " + itoa(r.Firing) + " firing, " + itoa(r.Pending) + " pending"
	if r.LastEval.IsZero() {
		state += st.Dim.Render("  not evaluated yet")
	} else {
		every := ""
		if r.Interval > 0 {
			every = ", every " + formatRange(r.Interval)
		}
		state += st.Dim.Render("  evaluated " + formatAge(c.now, r.LastEval) + " ago in " + formatDuration(r.LastDuration) + every)
	}
	if r.For > 0 {
		state += st.Dim.Render("  for ") + formatRange(r.For)
	}
	if r.KeepFiringFor > 0 {
		state += st.Dim.Render("  keep firing for ") + formatRange(r.KeepFiringFor)
	}
	lines = append(lines, fit(state, width))
	for i, l := range wrap(Sanitize(r.Expr, maxLineLen), max(width-11, 10)) {
		k := ""
		if i == 0 {
			k = "expr"
		}
		lines = append(lines, st.Dim.Render(padRight(k, 10))+" "+l)
	}
	if r.LastError != "" {
		for _, l := range wrap(Sanitize(r.LastError, maxErrorLen), width) {
			lines = append(lines, st.Error.Render(l))
		}
	}
	if r.Labels.Len() > 0 {
		lines = append(lines, kv("labels", labelsString(r.Labels, false, maxLineLen)))
	}
	chart := v.chartView(r, width, height-len(lines))
	v.chart.top += len(lines)
	return strings.Join(append(lines, chart...), "\n")
}
