package tui

import (
	"reflect"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"
)

// Styles holds every style of the console. DefaultStyles uses the 16 ANSI
// colours only: they follow the operator's terminal theme (light or dark)
// and cost the fewest bytes per colour change on a slow link.
type Styles struct {
	App lipgloss.Style

	Header      lipgloss.Style
	Brand       lipgloss.Style
	HeaderOK    lipgloss.Style
	HeaderBad   lipgloss.Style
	HeaderWarn  lipgloss.Style
	HeaderDim   lipgloss.Style
	Warning     lipgloss.Style
	TabActive   lipgloss.Style
	TabInactive lipgloss.Style
	TabBar      lipgloss.Style

	Title      lipgloss.Style // a view's own title line
	Dim        lipgloss.Style
	Error      lipgloss.Style
	Empty      lipgloss.Style // "no targets yet" and the like
	FilterText lipgloss.Style

	TableHeader   lipgloss.Style
	TableCell     lipgloss.Style
	TableSelected lipgloss.Style

	Up      lipgloss.Style
	Down    lipgloss.Style
	Unknown lipgloss.Style

	Firing   lipgloss.Style
	Pending  lipgloss.Style
	Resolved lipgloss.Style

	Card         lipgloss.Style
	CardSelected lipgloss.Style
	CardTitle    lipgloss.Style
	CardLabel    lipgloss.Style
	CardValue    lipgloss.Style
	Spark        lipgloss.Style
	SparkHot     lipgloss.Style

	ChartAxis   lipgloss.Style
	ChartLabel  lipgloss.Style
	ChartSeries []lipgloss.Style // one per series, cycled
	// ChartThreshold is an alert's threshold, ChartCursor the cursor's
	// line where no series is, ChartCursorData the cells of series under
	// it and its time.
	ChartThreshold  lipgloss.Style
	ChartCursor     lipgloss.Style
	ChartCursorData lipgloss.Style

	Input       lipgloss.Style // the query and filter inputs: prompt, text and cursor (drawn reversed)
	Placeholder lipgloss.Style // of the query and filter inputs
	Help        lipgloss.Style
	HelpKeys    help.Styles // the help line and the ? page
}

// DefaultStyles returns the console's styles.
func DefaultStyles() Styles {
	var (
		red     = lipgloss.Color("1")
		green   = lipgloss.Color("2")
		yellow  = lipgloss.Color("3")
		blue    = lipgloss.Color("4")
		magenta = lipgloss.Color("5")
		cyan    = lipgloss.Color("6")
		gray    = lipgloss.Color("8")
	)
	s := Styles{}
	s.App = lipgloss.NewStyle()

	s.Header = lipgloss.NewStyle()
	s.Brand = lipgloss.NewStyle().Bold(true).Foreground(cyan)
	s.HeaderOK = lipgloss.NewStyle().Foreground(green)
	s.HeaderBad = lipgloss.NewStyle().Bold(true).Foreground(red)
	s.HeaderWarn = lipgloss.NewStyle().Foreground(yellow)
	s.HeaderDim = lipgloss.NewStyle().Foreground(gray)
	s.Warning = lipgloss.NewStyle().Foreground(yellow)
	s.TabActive = lipgloss.NewStyle().Bold(true).Reverse(true)
	s.TabInactive = lipgloss.NewStyle().Foreground(gray)
	s.TabBar = lipgloss.NewStyle()

	s.Title = lipgloss.NewStyle().Bold(true)
	s.Dim = lipgloss.NewStyle().Foreground(gray)
	s.Error = lipgloss.NewStyle().Foreground(red)
	s.Empty = lipgloss.NewStyle().Foreground(gray).Italic(true)
	s.FilterText = lipgloss.NewStyle().Foreground(yellow)

	s.TableHeader = lipgloss.NewStyle().Bold(true).Foreground(blue)
	s.TableCell = lipgloss.NewStyle()
	s.TableSelected = lipgloss.NewStyle().Reverse(true)

	s.Up = lipgloss.NewStyle().Foreground(green)
	s.Down = lipgloss.NewStyle().Bold(true).Foreground(red)
	s.Unknown = lipgloss.NewStyle().Foreground(gray)

	s.Firing = lipgloss.NewStyle().Bold(true).Foreground(red)
	s.Pending = lipgloss.NewStyle().Foreground(yellow)
	s.Resolved = lipgloss.NewStyle().Foreground(green)

	s.Card = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(gray)
	// The selected card's frame is heavier, not only another colour, so
	// it shows without colour too.
	s.CardSelected = lipgloss.NewStyle().Border(lipgloss.ThickBorder()).BorderForeground(cyan)
	s.CardTitle = lipgloss.NewStyle().Bold(true)
	s.CardLabel = lipgloss.NewStyle().Foreground(gray)
	s.CardValue = lipgloss.NewStyle().Bold(true)
	s.Spark = lipgloss.NewStyle().Foreground(green)
	s.SparkHot = lipgloss.NewStyle().Foreground(red)

	s.ChartAxis = lipgloss.NewStyle().Foreground(gray)
	s.ChartLabel = lipgloss.NewStyle().Foreground(gray)
	s.ChartSeries = []lipgloss.Style{
		lipgloss.NewStyle().Foreground(green),
		lipgloss.NewStyle().Foreground(cyan),
		lipgloss.NewStyle().Foreground(yellow),
		lipgloss.NewStyle().Foreground(magenta),
		lipgloss.NewStyle().Foreground(blue),
		lipgloss.NewStyle().Foreground(red),
	}

	s.ChartThreshold = lipgloss.NewStyle().Foreground(red)
	s.ChartCursor = lipgloss.NewStyle().Foreground(gray)
	s.ChartCursorData = lipgloss.NewStyle().Reverse(true)

	s.Input = lipgloss.NewStyle()
	s.Placeholder = textinput.New().PlaceholderStyle
	s.Help = lipgloss.NewStyle()
	s.HelpKeys = help.New().Styles
	return s
}

// WithoutColour returns the styles with every foreground, background and
// border colour taken out, and bold, italic, underline and reverse kept:
// what --color never and NO_COLOR draw with.
func (s Styles) WithoutColour() Styles {
	return s.each(func(st lipgloss.Style) lipgloss.Style {
		return st.UnsetForeground().UnsetBackground().UnsetBorderForeground().UnsetBorderBackground()
	})
}

// withRenderer returns the styles drawn by r: a style draws with the
// renderer it was made with, lipgloss' default one unless told.
func (s Styles) withRenderer(r *lipgloss.Renderer) Styles {
	return s.each(func(st lipgloss.Style) lipgloss.Style { return st.Renderer(r) })
}

// each returns the styles with f applied to every one of them.
func (s Styles) each(f func(lipgloss.Style) lipgloss.Style) Styles {
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for i := range v.NumField() {
			switch fv := v.Field(i); fv.Interface().(type) {
			case lipgloss.Style:
				fv.Set(reflect.ValueOf(f(fv.Interface().(lipgloss.Style))))
			case []lipgloss.Style:
				ss := append([]lipgloss.Style(nil), fv.Interface().([]lipgloss.Style)...)
				for j := range ss {
					ss[j] = f(ss[j])
				}
				fv.Set(reflect.ValueOf(ss))
			case help.Styles:
				walk(fv)
			}
		}
	}
	walk(reflect.ValueOf(&s).Elem())
	return s
}

// styleInput gives a text input the console's styles. bubbles makes its
// own with lipgloss' default renderer, and its cursor is drawn in
// reverse video, which a renderer shows only on a terminal it knows.
func (s *Styles) styleInput(ti *textinput.Model) {
	ti.PromptStyle = s.Input
	ti.TextStyle = s.Input
	ti.Cursor.Style = s.Input
	ti.PlaceholderStyle = s.Placeholder
}
