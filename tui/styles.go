package tui

import "github.com/charmbracelet/lipgloss"

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

	Input lipgloss.Style
	Help  lipgloss.Style
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
	s.CardSelected = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(cyan)
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

	s.Input = lipgloss.NewStyle()
	s.Help = lipgloss.NewStyle()
	return s
}
