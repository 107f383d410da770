package tui

import "github.com/charmbracelet/bubbles/key"

// KeyMap holds every key binding of the console. Bindings are matched with
// key.Matches; views show them through ShortHelp and FullHelp.
type KeyMap struct {
	Quit      key.Binding
	ForceQuit key.Binding // quits even while typing
	Help      key.Binding

	// Views.
	NextView key.Binding
	PrevView key.Binding
	Overview key.Binding
	Targets  key.Binding
	Alerts   key.Binding
	Explore  key.Binding
	Query    key.Binding

	// Moving and choosing.
	Up       key.Binding
	Down     key.Binding
	Left     key.Binding
	Right    key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding
	Enter    key.Binding
	Back     key.Binding
	Filter   key.Binding
	Sort     key.Binding
	ChartAll key.Binding
	Silence  key.Binding // Alerts: silence the selected alert here, for longer each press
	Raw      key.Binding // Explore: a counter as it is, not as a rate
	Compact  key.Binding // Overview: cards or one line a host
	Expand   key.Binding // tables: the selected row whole, wrapped

	// Time range.
	RangeUp   key.Binding
	RangeDown key.Binding
	Pause     key.Binding // stops the clock: no refresh until pressed again
	PanBack   key.Binding // half a range back; a panned view is paused
	PanAhead  key.Binding
	Live      key.Binding // back to now, unpaused
	GoTo      key.Binding // a prompt for a time to centre the range on

	// Charts.
	CursorLeft  key.Binding // the chart's cursor, a column at a time
	CursorRight key.Binding
	CursorJump  key.Binding // shift+←/→: ten columns
	CursorBack  key.Binding
	ZeroAxis    key.Binding // fitted or zero-based y axis
	Toggle      key.Binding // the selected series on or off
	Mouse       key.Binding // mouse input on or off
	QueryExpr   key.Binding // Alerts: the expression in the Query view

	// Query view.
	Edit         key.Binding
	Run          key.Binding
	Complete     key.Binding
	CompletePrev key.Binding
	HistoryPrev  key.Binding // arrows only: j and k are typed
	HistoryNext  key.Binding
	HistoryFind  key.Binding // ctrl+r: search the history
}

// DefaultKeyMap returns the bindings of k9s and btop users' habits: number
// keys and tab for views, j/k and arrows, enter and esc, / to filter.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),

		NextView: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next view")),
		PrevView: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("S-tab", "prev view")),
		Overview: key.NewBinding(key.WithKeys("1"), key.WithHelp("1", "overview")),
		Targets:  key.NewBinding(key.WithKeys("2"), key.WithHelp("2", "targets")),
		Alerts:   key.NewBinding(key.WithKeys("3"), key.WithHelp("3", "alerts")),
		Explore:  key.NewBinding(key.WithKeys("4"), key.WithHelp("4", "explore")),
		Query:    key.NewBinding(key.WithKeys("5"), key.WithHelp("5", "query")),

		Up:    key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down:  key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
		Left:  key.NewBinding(key.WithKeys("h", "left"), key.WithHelp("←/h", "left")),
		Right: key.NewBinding(key.WithKeys("l", "right"), key.WithHelp("→/l", "right")),
		// Not ctrl+b: that is tmux's prefix.
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f", " "), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
		Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),
		Enter:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Sort:     key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		ChartAll: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "chart all")),
		Silence:  key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "silence 15m/1h/4h/24h/off")),
		Raw:      key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "rate/raw counter")),
		Compact:  key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "cards/table")),
		Expand:   key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "whole row")),

		RangeUp:   key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", "longer range")),
		RangeDown: key.NewBinding(key.WithKeys("-", "_"), key.WithHelp("-", "shorter range")),
		Pause:     key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause/resume")),
		PanBack:   key.NewBinding(key.WithKeys("["), key.WithHelp("[", "back half a range")),
		PanAhead:  key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "ahead half a range")),
		Live:      key.NewBinding(key.WithKeys("0"), key.WithHelp("0", "back to live")),
		GoTo:      key.NewBinding(key.WithKeys("@"), key.WithHelp("@", "go to a time")),

		CursorLeft:  key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/→", "cursor")),
		CursorRight: key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→", "cursor right")),
		CursorBack:  key.NewBinding(key.WithKeys("shift+left"), key.WithHelp("S-←", "cursor 10 left")),
		CursorJump:  key.NewBinding(key.WithKeys("shift+right"), key.WithHelp("S-←/→", "cursor by 10")),
		ZeroAxis:    key.NewBinding(key.WithKeys("z"), key.WithHelp("z", "fitted/zero axis")),
		Toggle:      key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "series on/off")),
		Mouse:       key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "mouse on/off")),
		QueryExpr:   key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "query the expression")),

		Edit:         key.NewBinding(key.WithKeys("e", "i", "/"), key.WithHelp("e", "edit query")),
		Run:          key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run")),
		Complete:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete, next")),
		CompletePrev: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("S-tab", "previous candidate")),
		HistoryPrev:  key.NewBinding(key.WithKeys("up", "ctrl+p"), key.WithHelp("↑", "older query")),
		HistoryNext:  key.NewBinding(key.WithKeys("down", "ctrl+n"), key.WithHelp("↓", "newer query")),
		HistoryFind:  key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "search history")),
	}
}
