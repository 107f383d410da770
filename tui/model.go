package tui

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// view is one of the five screens. Views keep their state behind a
// pointer, render to a string and never talk to the program: the root
// Model routes messages to them and lays them out.
type view interface {
	title() string
	// update handles a message: keys only when the view is shown, every
	// other message always (data arriving for a view not shown is kept).
	update(msg tea.Msg) tea.Cmd
	// view renders the view in width×height cells.
	view(width, height int) string
	// refresh starts reading the view's data, or returns nil when a read
	// is already under way or nothing needs reading.
	refresh() tea.Cmd
	// capturing reports whether a text input has the keys, so that q, the
	// number keys and the like are typed rather than obeyed.
	capturing() bool
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
}

// The views, in tab order.
const (
	viewOverview = iota
	viewTargets
	viewAlerts
	viewExplore
	viewQuery
	numViews
)

// Model is the console's root bubbletea model. Create it with New (or let
// Run do it).
type Model struct {
	c        *common
	views    [numViews]view
	active   int
	help     help.Model
	showHelp bool
	warnings map[string]string // Status.Source → sanitised text, from Options.Status
	polled   map[string]string // the same, from Options.Warnings
}

var _ tea.Model = Model{}

// New returns the console's model for a tea.Program the caller runs; Run
// does that for you. The model stops its own goroutines (the refresh tick,
// the readers of AlertEvents and Status, queries under way) when the
// operator quits; a caller that ends the program another way must call
// Close.
func New(opts Options) Model {
	return newModel(context.Background(), opts)
}

// Close stops the model's goroutines. It is safe to call more than once.
func (m Model) Close() { m.c.cancel() }

func newModel(ctx context.Context, opts Options) Model {
	opts.setDefaults()
	styles := DefaultStyles()
	if opts.Styles != nil {
		styles = *opts.Styles
	}
	c := &common{opts: opts, keys: *opts.KeyMap, styles: styles, renderer: lipgloss.DefaultRenderer()}
	if opts.Silences == nil {
		c.keys.Silence.SetEnabled(false)
	}
	c.ctx, c.cancel = context.WithCancel(ctx)
	c.ranges = offeredRanges(opts.Ranges, opts.Retention)
	c.rangeIdx = nearestRange(c.ranges, opts.Range)
	c.now = opts.Now()
	c.mouse = opts.Mouse
	c.jump = newJumpInput()
	m := Model{c: c, warnings: map[string]string{}, polled: map[string]string{}}
	m.views = [numViews]view{
		newOverview(c),
		newTargetsView(c),
		newAlertsView(c),
		newExplore(c),
		newQueryView(c),
	}
	m.help = help.New()
	m.help.Styles = c.styles.HelpKeys
	m.poll()
	return m
}

func nearestRange(ranges []time.Duration, d time.Duration) int {
	best := 0
	for i, r := range ranges {
		if absDur(r-d) < absDur(ranges[best]-d) {
			best = i
		}
	}
	return best
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// Init implements tea.Model.
func (m Model) Init() tea.Cmd {
	return tea.Batch(m.c.tick(), m.c.waitAlertEvent(), m.c.waitStatus(), m.views[viewQuery].(*queryView).init())
}

// poll takes fresh snapshots of targets, alerts and rules. They are cheap
// copies, so this runs on the event loop.
func (m *Model) poll() {
	c := m.c
	c.polls++
	if c.opts.Targets != nil {
		// A copy: the source's slice is not ours to reorder.
		c.targets = append([]Target(nil), c.opts.Targets.Targets()...)
		sort.SliceStable(c.targets, func(i, j int) bool {
			a, b := c.targets[i], c.targets[j]
			if a.Job != b.Job {
				return a.Job < b.Job
			}
			return a.Instance < b.Instance
		})
	}
	if c.opts.RemoteWrites != nil {
		c.remotes = c.opts.RemoteWrites.RemoteWrites()
	}
	if c.opts.Alerts != nil {
		c.alerts = c.opts.Alerts.Alerts()
	}
	if c.opts.Rules != nil {
		c.rules = c.opts.Rules.Rules()
	}
	c.targetsErr, c.alertsErr, c.rulesErr = reporting(c.opts.Targets), reporting(c.opts.Alerts), reporting(c.opts.Rules)
	if c.opts.Warnings != nil {
		clear(m.polled)
		for _, s := range c.opts.Warnings() {
			if s.Text != "" {
				m.polled[Sanitize(s.Source, 40)] = Sanitize(s.Text, maxErrorLen)
			}
		}
	}
}

// Update implements tea.Model.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	c := m.c
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		c.width, c.height = msg.Width, msg.Height
		m.help.Width = msg.Width
		return m, m.views[m.active].refresh()

	case tickMsg:
		if c.paused {
			// The screen holds still: no new clock, no new data.
			return m, c.tick()
		}
		c.now = c.opts.Now()
		m.poll()
		return m, tea.Batch(c.tick(), m.views[m.active].refresh())

	case alertEventMsg:
		if c.paused {
			// The screen holds still, header included.
			c.heldEvents = append(c.heldEvents, AlertEvent(msg))
			return m, c.waitAlertEvent()
		}
		c.addEvent(AlertEvent(msg))
		m.poll()
		return m, c.waitAlertEvent()

	case statusMsg:
		if c.paused {
			c.heldStatus = append(c.heldStatus, Status(msg))
			return m, c.waitStatus()
		}
		m.setStatus(Status(msg))
		return m, c.waitStatus()

	case openQueryMsg:
		m.active = viewQuery
		return m, m.views[viewQuery].(*queryView).open(msg.expr)

	case tea.MouseMsg:
		return m.handleMouse(msg)

	case channelDoneMsg:
		return m, nil

	case silencedMsg:
		c.silenceErr = ""
		if msg.err != nil {
			c.silenceErr = Sanitize(msg.err.Error(), maxErrorLen)
		}
		m.poll() // the alert source reports the silence
		return m, nil

	case tea.KeyMsg:
		if msg.Alt && msg.Type == tea.KeyRunes && !msg.Paste {
			// No binding uses alt: this is esc and a key that arrived
			// together, which a terminal cannot tell from alt+key.
			next, cmd1 := m.handleKey(tea.KeyMsg{Type: tea.KeyEsc})
			msg.Alt = false
			next, cmd2 := next.(Model).Update(msg)
			return next, tea.Batch(cmd1, cmd2)
		}
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
			// Over a slow link keys arrive in bunches, and bubbletea hands
			// a bunch of runes over as one key: "/load" must still be /
			// then l, o, a, d.
			var cmds []tea.Cmd
			var next tea.Model = m
			for _, r := range msg.Runes {
				var cmd tea.Cmd
				next, cmd = next.(Model).handleKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
				cmds = append(cmds, cmd)
			}
			return next, tea.Batch(cmds...)
		}
		return m.handleKey(msg)
	}

	var cmds []tea.Cmd
	for _, v := range m.views {
		cmds = append(cmds, v.update(msg))
	}
	return m, tea.Batch(cmds...)
}

// addEvent logs an alert event, keeping the newest maxEvents.
func (c *common) addEvent(e AlertEvent) {
	c.polls++
	c.events = append(c.events, e)
	if len(c.events) > maxEvents {
		c.events = append(c.events[:0:0], c.events[len(c.events)-maxEvents:]...)
	}
}

// setStatus shows or clears a warning sent on Options.Status.
func (m Model) setStatus(s Status) {
	src := Sanitize(s.Source, 40)
	if s.Text == "" {
		delete(m.warnings, src)
	} else {
		m.warnings[src] = Sanitize(s.Text, maxErrorLen)
	}
}

func (m Model) handleKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	c, k := m.c, &m.c.keys
	active := m.views[m.active]
	c.note = ""
	if key.Matches(msg, k.ForceQuit) {
		c.cancel()
		return m, tea.Quit
	}
	if c.jump.Focused() {
		return m.handleJumpKey(msg)
	}
	if m.showHelp {
		switch {
		case key.Matches(msg, k.Quit):
			c.cancel()
			return m, tea.Quit
		case key.Matches(msg, k.Help), key.Matches(msg, k.Back):
			m.showHelp = false
		}
		return m, nil
	}
	if active.capturing() {
		return m, active.update(msg)
	}
	if next, cmd, ok := m.handleTimeKey(msg); ok {
		return next, cmd
	}
	switch {
	case key.Matches(msg, k.Quit):
		c.cancel()
		return m, tea.Quit
	case key.Matches(msg, k.Help):
		m.showHelp = true
		return m, nil
	case key.Matches(msg, k.NextView):
		return m.switchTo((m.active + 1) % numViews)
	case key.Matches(msg, k.PrevView):
		return m.switchTo((m.active + numViews - 1) % numViews)
	case key.Matches(msg, k.Overview):
		return m.switchTo(viewOverview)
	case key.Matches(msg, k.Targets):
		return m.switchTo(viewTargets)
	case key.Matches(msg, k.Alerts):
		return m.switchTo(viewAlerts)
	case key.Matches(msg, k.Explore):
		return m.switchTo(viewExplore)
	case key.Matches(msg, k.Query):
		return m.switchTo(viewQuery)
	case key.Matches(msg, k.RangeUp):
		if c.rangeIdx < len(c.ranges)-1 {
			c.rangeIdx++
			return m, m.rangeChanged()
		}
		if c.opts.Retention > 0 && c.rng() < c.opts.Ranges[len(c.opts.Ranges)-1] {
			c.note = c.retentionNote()
		}
		return m, nil
	case key.Matches(msg, k.Pause):
		if !c.paused {
			c.paused = true
			return m, nil
		}
		return m, m.goLive()
	case key.Matches(msg, k.RangeDown):
		if c.rangeIdx > 0 {
			c.rangeIdx--
			return m, m.rangeChanged()
		}
		return m, nil
	}
	return m, active.update(msg)
}

// rangeChanged tells every view the range changed, then re-reads the
// visible one.
func (m Model) rangeChanged() tea.Cmd {
	for _, v := range m.views {
		v.update(rangeChangedMsg{})
	}
	return m.views[m.active].refresh()
}

// rangeChangedMsg tells views that data read for the old range is stale.
type rangeChangedMsg struct{}

func (m Model) switchTo(i int) (tea.Model, tea.Cmd) {
	m.active = i
	return m, m.views[i].refresh()
}

// View implements tea.Model.
func (m Model) View() string {
	c := m.c
	w, h := c.width, c.height
	if w <= 0 || h <= 0 {
		return ""
	}
	if w < 20 || h < 3 {
		return fitBlock("vigil: window too small", w, h)
	}
	var top []string
	top = append(top, m.headerView(w))
	defer func() { c.contentTop = len(top) }()
	if h >= 8 {
		top = append(top, m.tabsView(w))
	}
	if warn := m.warningsView(w); warn != "" && h >= 10 {
		top = append(top, warn)
	}
	footer := ""
	if h >= 6 {
		footer = m.footerView(w)
	}
	ch := h - len(top)
	if footer != "" {
		ch--
	}
	var content string
	if m.showHelp {
		content = m.helpView(w, ch)
	} else {
		content = m.views[m.active].view(w, ch)
	}
	parts := append(top, fitBlock(content, w, ch))
	if footer != "" {
		parts = append(parts, footer)
	}
	return strings.Join(parts, "\n")
}

// fitBlock cuts or pads s to exactly h lines of at most w cells, so a view
// can never push the header off the screen.
func fitBlock(s string, w, h int) string {
	if h <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "")
		}
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

func (m Model) headerView(w int) string {
	c, st := m.c, &m.c.styles
	up, total := 0, len(c.targets)
	for _, t := range c.targets {
		if t.Health == TargetUp {
			up++
		}
	}
	firing, pending := c.countAlerts()

	sep := st.HeaderDim.Render(" │ ")
	tgt := "targets " + strconv.Itoa(up) + "/" + strconv.Itoa(total) + " up"
	switch {
	case total == 0 && c.targetsErr != nil:
		tgt = st.HeaderDim.Render("targets " + notKnown(c.targetsErr))
	case total == 0:
		tgt = st.HeaderDim.Render(tgt)
	case up < total:
		tgt = st.HeaderBad.Render(tgt)
	default:
		tgt = st.HeaderOK.Render(tgt)
	}
	fs := strconv.Itoa(firing) + " firing"
	if firing > 0 {
		fs = st.HeaderBad.Render(fs)
	} else {
		fs = st.HeaderDim.Render(fs)
	}
	ps := strconv.Itoa(pending) + " pending"
	if pending > 0 {
		ps = st.HeaderWarn.Render(ps)
	} else {
		ps = st.HeaderDim.Render(ps)
	}
	als := "alerts " + fs + " " + ps
	if len(c.alerts) == 0 && c.alertsErr != nil {
		als = st.HeaderDim.Render("alerts " + notKnown(c.alertsErr))
	}
	segs := []string{
		st.Brand.Render("vigil"),
		tgt,
		als,
		st.HeaderDim.Render("range ") + c.rangeText() + scrapeEvery(c.targets),
		st.HeaderDim.Render(c.now.In(c.opts.Location).Format("15:04:05")),
	}
	switch {
	case !c.live():
		// Moved through time: what range is on screen says it all.
		segs[3] = st.HeaderWarn.Render("paused "+c.rangeText()) + scrapeEvery(c.targets)
	case c.paused:
		segs = append(segs[:3], append([]string{st.HeaderWarn.Render("paused")}, segs[3:]...)...)
	}
	if n := len(m.allWarnings()); n > 0 {
		segs = append(segs[:3], append([]string{st.HeaderWarn.Render("⚠ " + strconv.Itoa(n))}, segs[3:]...)...)
	}
	// Drop the least useful segments (clock, range) until it fits.
	for len(segs) > 3 && ansi.StringWidth(strings.Join(segs, sep)) > w {
		segs = segs[:len(segs)-1]
	}
	line := strings.Join(segs, sep)
	if ansi.StringWidth(line) > w {
		// Narrow: the counts must stay, the words go.
		up := strconv.Itoa(up) + "/" + strconv.Itoa(total) + "↑"
		f := strconv.Itoa(firing) + "F"
		p := strconv.Itoa(pending) + "P"
		if total > 0 && strings.HasPrefix(up, strconv.Itoa(total)+"/") {
			up = st.HeaderOK.Render(up)
		} else if total > 0 {
			up = st.HeaderBad.Render(up)
		}
		if firing > 0 {
			f = st.HeaderBad.Render(f)
		}
		if pending > 0 {
			p = st.HeaderWarn.Render(p)
		}
		if total == 0 && c.targetsErr != nil {
			up = "?↑"
		}
		if len(c.alerts) == 0 && c.alertsErr != nil {
			f, p = "?F", "?P"
		}
		line = up + " " + f + " " + p
		if full := st.Brand.Render("vigil") + " " + line; ansi.StringWidth(full) <= w {
			line = full
		}
	}
	return st.Header.Render(ansi.Truncate(line, w, "…"))
}

// notKnown says in a word or two why a count is not known: its source's
// Reporting error.
func notKnown(err error) string {
	if errors.Is(err, ErrNotReported) {
		return "not reported"
	}
	return "not known"
}

// scrapeEvery is the scrape interval for the header, " @5s", or the
// shortest and longest when targets differ, " @5s-1m"; "" with no targets.
func scrapeEvery(ts []Target) string {
	var lo, hi time.Duration
	for _, t := range ts {
		if d := t.ScrapeInterval; d > 0 {
			if lo == 0 || d < lo {
				lo = d
			}
			hi = max(hi, d)
		}
	}
	switch {
	case lo == 0:
		return ""
	case lo == hi:
		return " @" + formatRange(lo)
	}
	return " @" + formatRange(lo) + "-" + formatRange(hi)
}

func (m Model) tabsView(w int) string {
	st := &m.c.styles
	var parts []string
	for i, v := range m.views {
		label := " " + strconv.Itoa(i+1) + " " + v.title() + " "
		if i == m.active {
			parts = append(parts, st.TabActive.Render(label))
		} else {
			parts = append(parts, st.TabInactive.Render(label))
		}
	}
	s := strings.Join(parts, " ")
	if ansi.StringWidth(s) > w {
		// Narrow: numbers only, the active one named.
		parts = parts[:0]
		for i, v := range m.views {
			if i == m.active {
				parts = append(parts, st.TabActive.Render(" "+strconv.Itoa(i+1)+" "+v.title()+" "))
			} else {
				parts = append(parts, st.TabInactive.Render(strconv.Itoa(i+1)))
			}
		}
		s = strings.Join(parts, " ")
	}
	return st.TabBar.Render(s)
}

// allWarnings returns the warnings to show, sorted by source.
func (m Model) allWarnings() []string {
	all := map[string]string{}
	for s, t := range m.polled {
		all[s] = t
	}
	for s, t := range m.warnings {
		all[s] = t
	}
	srcs := make([]string, 0, len(all))
	for s := range all {
		srcs = append(srcs, s)
	}
	sort.Strings(srcs)
	out := make([]string, len(srcs))
	for i, s := range srcs {
		out[i] = all[s]
	}
	return out
}

func (m Model) warningsView(w int) string {
	parts := m.allWarnings()
	if len(parts) == 0 {
		return ""
	}
	return m.c.styles.Warning.Render(fit("⚠ "+strings.Join(parts, " · "), w))
}

// footerView is the one-line help: the view's keys, then ? and q. When
// it is too wide the view's last keys go first, so ? always shows.
func (m Model) footerView(w int) string {
	k, c := &m.c.keys, m.c
	if c.jump.Focused() {
		return m.jumpView(w)
	}
	if c.note != "" {
		return c.styles.Warning.Render(fit(c.note, w))
	}
	m.help.Width = 0 // bubbles/help overflows when even "…" does not fit
	items := m.views[m.active].ShortHelp()
	always := []key.Binding{k.Help, k.Quit}
	if m.views[m.active].capturing() {
		always = []key.Binding{k.ForceQuit} // ? and q are typed
	}
	for n := len(items); n >= 0; n-- {
		b := append(append([]key.Binding(nil), items[:n]...), always...)
		if s := m.help.ShortHelpView(b); ansi.StringWidth(s) <= w {
			return s
		}
	}
	return ansi.Truncate(m.help.ShortHelpView(always), w, "")
}

func (m Model) helpView(w, h int) string {
	k, st := &m.c.keys, &m.c.styles
	m.help.Width = w
	m.help.FullSeparator = "   "
	views := []key.Binding{k.Overview, k.Targets, k.Alerts, k.Explore, k.Query}
	general := []key.Binding{k.NextView, k.PrevView, k.RangeUp, k.RangeDown, k.Pause}
	moving := []key.Binding{k.PanBack, k.PanAhead, k.Live, k.GoTo, k.ZeroAxis, k.Mouse}
	quit := []key.Binding{k.Help, k.Quit, k.ForceQuit}
	title := st.Title.Render(m.views[m.active].title()) + st.Dim.Render("   ? or esc closes the help")
	return lipgloss.JoinVertical(lipgloss.Left,
		title,
		m.fullHelp(m.views[m.active].FullHelp(), w),
		"",
		st.Title.Render("Everywhere"),
		m.fullHelp([][]key.Binding{views, general, moving, quit}, w),
	)
}

// fullHelp lays groups of keys out side by side, in as many rows of
// groups as the width needs: bubbles/help cuts the groups that do not fit
// ("…"), and a key cut from ? is a key nobody finds.
func (m Model) fullHelp(groups [][]key.Binding, w int) string {
	m.help.Width = 0
	var rows []string
	for len(groups) > 0 {
		n := len(groups)
		for n > 1 && lipgloss.Width(m.help.FullHelpView(groups[:n])) > w {
			n--
		}
		rows = append(rows, m.help.FullHelpView(groups[:n]))
		groups = groups[n:]
	}
	return strings.Join(rows, "\n")
}
