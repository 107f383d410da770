package tui

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/tui/internal/fakenode"
)

// vt is a small terminal for the tests: it keeps what each cell shows
// (grapheme, the SGR sequences in effect since the last reset, erased or
// drawn) and understands what bubbletea and cellWriter write: cursor
// position, erase right/below/all, SGR, CR, LF (raw mode: no CR), text.
// Other sequences (modes) are ignored.
type vt struct {
	mu       sync.Mutex
	w, h     int
	cells    [][]vtCell
	row, col int
	pen      string
	n        int       // bytes written
	last     time.Time // of the last write
}

type vtCell struct {
	g      string
	pen    string
	erased bool
}

func newVT(w, h int) *vt {
	t := &vt{}
	t.resize(w, h)
	return t
}

func (t *vt) resize(w, h int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.w, t.h = w, h
	t.cells = make([][]vtCell, h)
	for i := range t.cells {
		t.cells[i] = make([]vtCell, w)
		for j := range t.cells[i] {
			t.cells[i][j] = vtCell{g: " ", erased: true}
		}
	}
	t.row, t.col = 0, 0
}

func (t *vt) erase(row, from int) {
	for j := from; j < t.w; j++ {
		t.cells[row][j] = vtCell{g: " ", pen: t.pen, erased: true}
	}
}

func (t *vt) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n += len(p)
	t.last = time.Now()
	s := string(p)
	for len(s) > 0 {
		switch c := s[0]; {
		case c == ansi.ESC && len(s) > 1 && s[1] == '[':
			j := 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			if j == len(s) {
				return 0, fmt.Errorf("cut sequence %q", s)
			}
			params, final := s[2:j], s[j]
			switch {
			case final == 'm' && (params == "" || params == "0"):
				t.pen = ""
			case final == 'm':
				t.pen += s[:j+1]
			case final == 'H':
				r, c, _ := strings.Cut(params, ";")
				t.row, t.col = max(atoi1(r), 1)-1, max(atoi1(c), 1)-1
			case final == 'K' && params == "":
				t.erase(t.row, min(t.col, t.w))
			case final == 'J' && params == "":
				t.erase(t.row, min(t.col, t.w))
				for r := t.row + 1; r < t.h; r++ {
					t.erase(r, 0)
				}
			case final == 'J' && params == "2":
				for r := range t.h {
					t.erase(r, 0)
				}
			}
			s = s[j+1:]
		case c == '\r':
			t.col = 0
			s = s[1:]
		case c == '\n':
			t.row = min(t.row+1, t.h-1)
			s = s[1:]
		case c < 0x20:
			return 0, fmt.Errorf("control byte %#x", c)
		default:
			g, w := ansi.FirstGraphemeCluster(s, ansi.GraphemeWidth)
			if t.row < t.h && t.col+w <= t.w {
				t.cells[t.row][t.col] = vtCell{g: g, pen: t.pen}
				for k := 1; k < w; k++ {
					t.cells[t.row][t.col+k] = vtCell{pen: t.pen}
				}
			}
			t.col += w
			s = s[len(g):]
		}
	}
	return len(p), nil
}

func atoi1(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// screen shows every cell with its pen, a line per row, for comparing
// two terminals.
func (t *vt) screen() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	rows := make([]string, len(t.cells))
	for i, row := range t.cells {
		var b strings.Builder
		for _, c := range row {
			fmt.Fprintf(&b, "%q%q%v ", c.g, c.pen, c.erased)
		}
		rows[i] = b.String()
	}
	return rows
}

// settle waits until nothing has been written for quiet.
func (t *vt) settle(quiet time.Duration) {
	for {
		time.Sleep(quiet / 4)
		t.mu.Lock()
		last := t.last
		t.mu.Unlock()
		if time.Since(last) >= quiet {
			return
		}
	}
}

// tee gives what the program writes to the raw terminal as it is, and to
// the other through a cellWriter.
type tee struct {
	mu      sync.Mutex
	raw, cw interface{ Write([]byte) (int, error) }
}

func (t *tee) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, err := t.raw.Write(p); err != nil {
		return 0, err
	}
	return t.cw.Write(p)
}

// runBoth runs m in a real program whose frames reach two terminals, one
// directly and one through a cellWriter, calls step for every step, and
// after each requires that both terminals show the same cells.
func runBoth(t *testing.T, m tea.Model, w, h, steps int, step func(p *tea.Program, i int) (w, h int)) (raw, through int) {
	t.Helper()
	a, b := newVT(w, h), newVT(w, h)
	out := &tee{raw: a, cw: newCellWriter(b)}
	p := tea.NewProgram(m, tea.WithInput(nil), tea.WithOutput(out),
		tea.WithAltScreen(), tea.WithoutSignalHandler(), tea.WithFPS(120))
	done := make(chan error, 1)
	go func() { _, err := p.Run(); done <- err }()
	p.Send(tea.WindowSizeMsg{Width: w, Height: h})
	for i := range steps {
		nw, nh := step(p, i)
		if nw != w || nh != h {
			w, h = nw, nh
			a.resize(w, h)
			b.resize(w, h)
			p.Send(tea.WindowSizeMsg{Width: w, Height: h})
		}
		a.settle(40 * time.Millisecond)
		out.mu.Lock() // no frame between the two looks
		sa, sb := a.screen(), b.screen()
		out.mu.Unlock()
		for r := range sa {
			require.Equal(t, sa[r], sb[r], "step %d: row %d differs", i, r)
		}
	}
	p.Quit()
	require.NoError(t, <-done)
	return a.n, b.n
}

// randomModel shows a random screen for every randomFrame message:
// styled segments, wide and combining characters, lines of random length
// and a random number of lines, most of it like the frame before, and
// most changed lines changed in one segment.
type randomModel struct {
	lines [][]string // styled segments
	w, h  int
}

type randomFrame struct{ r *rand.Rand }

func (m *randomModel) Init() tea.Cmd { return nil }

func (m *randomModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
	case randomFrame:
		r := msg.r
		styles := []lipgloss.Style{
			lipgloss.NewStyle(),
			lipgloss.NewStyle().Bold(true),
			lipgloss.NewStyle().Foreground(lipgloss.Color("1")),
			lipgloss.NewStyle().Foreground(lipgloss.Color("214")).Background(lipgloss.Color("236")),
			lipgloss.NewStyle().Underline(true).Foreground(lipgloss.Color("#00ff00")),
		}
		words := []string{"a", "cpu", "  ", "12.5%", "▁▂▃", "│", "●", "x", "-", "b", "y", "z", "1", "2", "世界", "e\u0301"}
		segment := func() string {
			w := words[:len(words)-2] // the last words are wide or combining: few segments have them
			if r.IntN(8) == 0 {
				w = words
			}
			return styles[r.IntN(len(styles))].Render(w[r.IntN(len(w))])
		}
		n := max(m.h-r.IntN(3), 1)
		for len(m.lines) < n {
			m.lines = append(m.lines, nil)
		}
		m.lines = m.lines[:n]
		for i, l := range m.lines {
			switch {
			case len(l) > 0 && r.IntN(3) > 0:
				// most lines stay
			case len(l) > 0 && r.IntN(3) > 0:
				l[r.IntN(len(l))] = segment()
			default:
				l = l[:0]
				for k := r.IntN(12); k > 0; k-- {
					l = append(l, segment())
				}
				m.lines[i] = l
			}
		}
	}
	return m, nil
}

func (m *randomModel) View() string {
	lines := make([]string, len(m.lines))
	for i, l := range m.lines {
		lines[i] = ansi.Truncate(strings.Join(l, ""), m.w, "")
	}
	return strings.Join(lines, "\n")
}

// TestCellWriterRandomFrames: for random frames drawn by bubbletea's own
// renderer, a terminal fed through a cellWriter shows the same cells, pens
// and erasures as one fed directly, across resizes and changing line
// counts.
func TestCellWriterRandomFrames(t *testing.T) {
	lipgloss.SetColorProfile(termenv.TrueColor)
	defer lipgloss.SetColorProfile(termenv.Ascii)
	r := rand.New(rand.NewPCG(5, 1))
	sizes := [][2]int{{40, 12}, {80, 24}, {1, 1}, {7, 3}, {60, 16}}
	w, h := 40, 12
	raw, through := runBoth(t, &randomModel{}, w, h, 120, func(p *tea.Program, i int) (int, int) {
		if i%25 == 24 {
			s := sizes[r.IntN(len(sizes))]
			w, h = s[0], s[1]
		}
		p.Send(randomFrame{r})
		return w, h
	})
	t.Logf("bytes: %d direct, %d through the cellWriter", raw, through)
}

// TestCellWriterOverview: the Overview of 20 hosts in 256 colours, its
// data moving every 5 s, keys moving the selection and switching views,
// looks the same through the cellWriter, for fewer bytes.
func TestCellWriterOverview(t *testing.T) {
	lipgloss.SetColorProfile(termenv.ANSI256)
	defer lipgloss.SetColorProfile(termenv.Ascii)
	opts, hosts, st := fleetOptions(t, 20)
	var mu sync.Mutex
	now := testNow
	opts.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	origin := testNow.Add(-time.Hour)
	m := newModel(context.Background(), opts)
	m.c.noTick = true
	defer m.Close()
	keys := map[int]string{3: "l", 7: "j", 9: "2", 11: "1", 13: "+", 17: "?", 18: "?", 21: "3", 23: "1"}
	w, h := 160, 48
	raw, through := runBoth(t, m, w, h, 30, func(p *tea.Program, i int) (int, int) {
		mu.Lock()
		now = now.Add(time.Second)
		ts := now
		mu.Unlock()
		if i%5 == 4 {
			require.NoError(t, fakenode.Scrape(st.Appender(context.Background()), hosts, origin, ts, 5*time.Second))
		}
		if k, ok := keys[i]; ok {
			p.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
		}
		if i == 15 {
			w, h = 80, 24
		}
		p.Send(tickMsg(ts))
		return w, h
	})
	t.Logf("bytes: %d direct, %d through the cellWriter", raw, through)
	require.Less(t, through, raw)
}
