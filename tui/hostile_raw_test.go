package tui

import (
	"context"
	"regexp"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/stretchr/testify/require"
)

// recorder keeps every byte the program writes.
type recorder struct {
	mu   sync.Mutex
	b    []byte
	last time.Time
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.b = append(r.b, p...)
	r.last = time.Now()
	return len(p), nil
}

func (r *recorder) settle(quiet time.Duration) {
	for {
		time.Sleep(quiet / 4)
		r.mu.Lock()
		last := r.last
		r.mu.Unlock()
		if time.Since(last) >= quiet {
			return
		}
	}
}

// rawRun runs the console as Run does (a real program, the cellWriter,
// 256 colours) through a walk of keys and sizes, and returns every byte
// it wrote.
func rawRun(t *testing.T, opts Options) []byte {
	t.Helper()
	lipgloss.SetColorProfile(termenv.ANSI256)
	defer lipgloss.SetColorProfile(termenv.Ascii)
	out := &recorder{}
	m := newModel(context.Background(), opts)
	m.c.noTick = true
	defer m.Close()
	p := newProgram(m, out, tea.WithInput(nil), tea.WithoutSignalHandler())
	done := make(chan error, 1)
	go func() { _, err := p.Run(); done <- err }()
	p.Send(tea.WindowSizeMsg{Width: 120, Height: 40})
	p.Send(tickMsg(testNow))
	for _, k := range []string{"enter", "esc", "j", "enter", "esc", "2", "enter", "esc", "j", "j", "3", "enter", "esc", "l", "enter", "esc", "l",
		"4", "enter", "enter", "esc", "esc", "G", "enter", "enter", "5", "{job=~\"x.*\"}", "enter", "esc", "1"} {
		out.settle(30 * time.Millisecond)
		var msg tea.KeyMsg
		switch k {
		case "enter":
			msg = tea.KeyMsg{Type: tea.KeyEnter}
		case "esc":
			msg = tea.KeyMsg{Type: tea.KeyEsc}
		default:
			msg = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
		}
		p.Send(msg)
		if k == "3" {
			p.Send(tea.WindowSizeMsg{Width: 40, Height: 12})
		}
		if k == "5" {
			p.Send(tea.WindowSizeMsg{Width: 200, Height: 50})
		}
	}
	out.settle(50 * time.Millisecond)
	p.Quit()
	require.NoError(t, <-done)
	out.mu.Lock()
	defer out.mu.Unlock()
	return append([]byte(nil), out.b...)
}

// sequences counts the escape sequences in b other than SGR and cursor
// positions (modes, erasures), and fails on anything else a terminal would act on: a C0 or
// C1 control but CR and LF, an escape that is not a CSI, a CSI that is
// not one a renderer writes (SGR, CUP, EL, ED, private modes).
func sequences(t *testing.T, b []byte) map[string]int {
	t.Helper()
	require.True(t, utf8.Valid(b), "invalid UTF-8 on the terminal")
	csi := regexp.MustCompile(`^\x1b\[[0-9;?]*[mHKJhl]`)
	counts := map[string]int{}
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == 0x1b:
			seq := csi.Find(b[i:])
			require.NotNil(t, seq, "a sequence a renderer does not write: %q", b[i:min(i+12, len(b))])
			if f := seq[len(seq)-1]; f != 'm' && f != 'H' {
				counts[string(seq)]++
			}
			i += len(seq)
			continue
		case r == '\r' || r == '\n':
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			require.Fail(t, "a control character on the terminal", "%U at %d: %q", r, i, b[max(i-20, 0):min(i+20, len(b))])
		}
		i += size
	}
	return counts
}

// TestHostileRawBytes: with targets whose label values, errors and
// annotations hold ESC, CSI, OSC, C1 and bidi controls, the bytes the
// console writes to the terminal (not only its View) hold no sequence but
// the renderer's own, and no more mode changes or screen erasures than
// over harmless data.
func TestHostileRawBytes(t *testing.T) {
	want := sequences(t, rawRun(t, testOptions(t)))
	raw := rawRun(t, hostileOptions(t))
	got := sequences(t, raw)
	for seq, n := range got {
		if seq == "\x1b[K" {
			continue // as many as rows end short: that depends on the data
		}
		require.LessOrEqual(t, n, want[seq], "%q written %d times over hostile data, %d over harmless data", seq, n, want[seq])
	}
	require.Contains(t, string(raw), `\x1b[31mA`, "the hostile text is shown, escaped")
	require.NotContains(t, string(raw), "\x1b[31mA")
}
