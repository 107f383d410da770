package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Options configure the console. The zero value of every field means its
// default, as set by DefaultOptions; a nil source shows an empty view that
// says so rather than failing.
type Options struct {
	// Querier answers PromQL for Overview, Explore and Query; usually
	// NewEngineQuerier(engine, store).
	Querier Querier
	// Targets feeds the Targets view and the header's targets up/total.
	Targets TargetSource
	// Alerts feeds the Alerts view and the header's firing/pending counts.
	Alerts AlertSource
	// Rules, optional, adds rule health to the Alerts view.
	Rules RuleSource
	// Metadata, optional, tells Explore the families' declared types, so
	// that a counter is charted as a rate whatever its name; without it
	// the name decides (_total, _count, _sum).
	Metadata MetadataSource
	// Silences, optional, is what S in the Alerts view silences the
	// selected alert through; without it S is off.
	Silences Silencer
	// RemoteWrites, optional, adds the remote_write receivers and their
	// lag to the Targets view.
	RemoteWrites RemoteWriteSource

	// AlertEvents, optional, carries alert transitions for the Alerts
	// view's event log. The console never closes it; a closed channel is
	// read as "no more events".
	AlertEvents <-chan AlertEvent
	// Status, optional, carries warnings for the header (see Status).
	Status <-chan Status
	// Warnings, optional, is polled once per refresh for warnings to show
	// (for state that is easier to look at than to send: store stats,
	// the last snapshot error). It replaces the warnings it returned the
	// last time; Status warnings with the same Source win. Called on the
	// event loop: it must be cheap and must not block.
	Warnings func() []Status

	// Refresh is how often the visible view re-reads its data and the
	// screen is redrawn: 1s. Nothing redraws faster except keys.
	Refresh time.Duration
	// Ranges are the time ranges that + and - step through: 5m, 15m, 1h,
	// 6h, 24h.
	Ranges []time.Duration
	// Range is the initial time range: 15m (or the nearest of Ranges).
	Range time.Duration
	// Retention is how much history the store keeps (--retention); 0 when
	// not known. The ranges offered stop there, with the longest being
	// the retention itself, and [ pans back no further.
	Retention time.Duration
	// QueryTimeout bounds each query the console makes: 5s.
	QueryTimeout time.Duration
	// MaxChartSeries is how many series a chart draws at most: 6.
	MaxChartSeries int
	// MaxRows is how many series a table or list holds at most: 2000.
	MaxRows int
	// FPS caps the frame rate (bubbletea's renderer only writes lines that
	// changed, this caps how often it looks): 60. A key's frame waits for
	// the renderer's next look, so this bounds what every key costs the
	// operator (BenchmarkKeyToFrame); an idle console draws once a refresh
	// whatever it is.
	FPS int
	// Now is the clock: time.Now.
	Now func() time.Time
	// Location is the time zone of clocks and chart axes: time.Local.
	Location *time.Location

	// ASCII draws charts with line-drawing runes instead of braille, for
	// fonts that lack braille (--ascii).
	ASCII bool
	// Color is "auto" (the default: the terminal's profile, none when
	// NO_COLOR is set), "always" (256 colours at least) or "never"
	// (plain text): --color.
	Color string

	// HistoryFile keeps the Query view's history across restarts (in the
	// data directory, 0600); "" keeps it in memory only.
	HistoryFile string
	// Mouse turns mouse input on at the start (--mouse); m turns it on
	// and off. Off, the terminal's own selection works.
	Mouse bool

	// KeyMap defaults to DefaultKeyMap().
	KeyMap *KeyMap
	// Styles defaults to DefaultStyles(). Run draws them with a renderer
	// of its own, which picks the colours of the terminal it draws on,
	// whatever renderer they were made with.
	Styles *Styles
}

// DefaultOptions returns Options with every default filled in but Styles
// (the console makes them when it starts) and no sources.
func DefaultOptions() Options {
	var o Options
	o.setDefaults()
	return o
}

// DefaultRanges are the time ranges that + and - step through.
var DefaultRanges = []time.Duration{5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour}

func (o *Options) setDefaults() {
	if o.Refresh <= 0 {
		o.Refresh = time.Second
	}
	if len(o.Ranges) == 0 {
		o.Ranges = DefaultRanges
	}
	if o.Range <= 0 {
		o.Range = 15 * time.Minute
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = 5 * time.Second
	}
	if o.MaxChartSeries <= 0 {
		o.MaxChartSeries = 6
	}
	if o.MaxRows <= 0 {
		o.MaxRows = 2000
	}
	if o.FPS <= 0 {
		o.FPS = 60
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.KeyMap == nil {
		k := DefaultKeyMap()
		o.KeyMap = &k
	}
}

// Run shows the console on out, reading keys from in, until the operator
// quits (q, ctrl+c) or ctx is done; both return nil. in and out are usually
// os.Stdin and os.Stdout, or /dev/tty opened for both when stdout carries
// events. Colours are chosen for out, not for os.Stdout, and lipgloss'
// default renderer is left as it was.
func Run(ctx context.Context, opts Options, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	r, st := newRenderer(out, opts)
	opts.Styles = &st
	m := newModel(ctx, opts)
	m.c.renderer = r
	more := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(in)}
	if opts.Mouse {
		more = append(more, tea.WithMouseCellMotion())
	}
	p := newProgram(m, out, more...)
	_, err := p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("run console: %w", err)
	}
	return nil
}

// newRenderer returns the renderer the console draws on out with, and
// opts.Styles (or DefaultStyles) drawn by it, in the colours that
// opts.Color and NO_COLOR ask for. The renderer is the console's own:
// lipgloss' default one looks at os.Stdout, which is a pipe when events
// go there, and it is the whole process's, not the console's to set.
func newRenderer(out io.Writer, opts Options) (*lipgloss.Renderer, Styles) {
	r := lipgloss.NewRenderer(out)
	// Ask the terminal for its background now, before the program reads
	// keys from it. Asked later, by the first adaptive colour drawn (the
	// help line has some), the terminal's answer races with bubbletea's key
	// reader: the reader can take it, and then the first frame waits on
	// termenv's timeouts, byte by byte, while the answer arrives as keys.
	_ = r.HasDarkBackground()
	noColour := false
	switch opts.Color {
	case "never":
		noColour = true
	case "always":
		if r.ColorProfile() == termenv.Ascii {
			r.SetColorProfile(termenv.ANSI256)
		}
	default:
		noColour = os.Getenv("NO_COLOR") != "" // https://no-color.org
	}
	st := DefaultStyles()
	if opts.Styles != nil {
		st = *opts.Styles
	}
	if noColour {
		// No colour, but bold and reverse stay where the terminal has
		// them: without them the selected row and the active tab would
		// not show at all.
		if r.ColorProfile() != termenv.Ascii {
			r.SetColorProfile(termenv.ANSI)
		}
		st = st.WithoutColour()
	}
	return r, st.withRenderer(r)
}

// newProgram is the program Run runs for m: on the alternate screen,
// drawing on out through a cellWriter (so a frame costs the cells that
// changed, not the lines), at most FPS frames a second.
func newProgram(m Model, out io.Writer, more ...tea.ProgramOption) *tea.Program {
	return tea.NewProgram(m, append([]tea.ProgramOption{
		tea.WithOutput(newCellWriter(out)),
		tea.WithAltScreen(),
		tea.WithFPS(m.c.opts.FPS),
	}, more...)...)
}
