package tui

import (
	"bytes"
	"io"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// cellWriter sits between bubbletea's renderer and the terminal and turns
// the renderer's repaint of each changed line into writes of the cells that
// changed.
//
// bubbletea v1 repaints a line whole when anything on it changes: at 200
// columns, a card grid whose figures move every scrape rewrites 20 lines of
// 600 bytes to change a few digits on each, and an idle Overview of 20
// hosts costs about 170 KiB a minute on the link. Through a cellWriter it
// is the changed digits, each behind a cursor move.
//
// It understands exactly one kind of write: a frame of bubbletea's
// standard renderer on the alternate screen (cursor home, per line either
// "\n" for unchanged or its text, erase-right and "\r\n", then a cursor
// position), whose text holds only printable graphemes and SGR sequences.
// It keeps the cells each row shows and writes, for every repainted row,
// the runs of cells that differ, each with its own cursor position and
// pen, then leaves cursor and pen where the frame would have. Everything
// else passes through unchanged: any other write (modes, clear screen)
// passes and forgets what the screen holds; a frame it cannot read, a
// frame that erases below (the line count shrank), and the renderer's
// full repaints (after a resize, clear or start: the first line begins
// with "\r") pass whole and become what the screen holds. A row with a
// grapheme that is not one rune of one cell (wide, combining, emoji) is
// written whole from its first column, as the renderer would, so a
// terminal that measures it differently cannot shift the cells after it.
type cellWriter struct {
	mu   sync.Mutex
	out  io.Writer
	rows []screenRow // what the screen shows, as far as known
	pen  string      // the pen the stream leaves: SGR sequences since the last reset
	buf  []byte      // output being built
	next []screenRow // the frame being read
}

// screenRow is one row of the screen.
type screenRow struct {
	known   bool    // the screen shows what is below; false: unknown
	written bool    // in next: the frame writes this row
	simple  bool    // every grapheme is one rune in one cell
	raw     []byte  // the row's bytes in the frame, erase-right included
	startP  string  // the pen when the row starts
	cells   []scell // when simple
	erased  bool    // erase-right follows the cells: the rest is blank
	eraseP  string  // the pen the rest is erased with
}

// scell is one screen column: a one-cell grapheme and the pen it was drawn with.
type scell struct {
	g   string
	pen string
}

// newCellWriter wraps out. When out is a terminal file (bubbletea looks
// for term.File to read the window size), so is the result.
func newCellWriter(out io.Writer) io.Writer {
	w := &cellWriter{out: out}
	if f, ok := out.(terminalFile); ok {
		return &cellFile{cellWriter: w, f: f}
	}
	return w
}

// terminalFile is charmbracelet/x/term's File.
type terminalFile interface {
	io.ReadWriteCloser
	Fd() uintptr
}

// cellFile is a cellWriter over a terminal file.
type cellFile struct {
	*cellWriter
	f terminalFile
}

func (c *cellFile) Read(p []byte) (int, error) { return c.f.Read(p) }
func (c *cellFile) Close() error               { return c.f.Close() }
func (c *cellFile) Fd() uintptr                { return c.f.Fd() }

func (w *cellWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := p
	switch n, full, ok := w.read(p); {
	case !ok:
		w.rows = nil
	case full:
		w.rows = w.adopt(w.rows[:0], n)
	default:
		out = w.diff(n)
		w.rows = w.adopt(w.rows, n)
	}
	if _, err := w.out.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// read parses a frame into w.next and returns its line count and whether
// it repaints the whole screen. ok is false when p is not a frame it can
// read; w.pen is then unchanged.
func (w *cellWriter) read(p []byte) (n int, full, ok bool) {
	body, ok := bytes.CutPrefix(p, []byte(ansi.CursorHomePosition))
	if !ok {
		return 0, false, false
	}
	// The frame ends with the cursor at the start of its last line:
	// CSI n ; H, or CSI H for one line.
	n = 1
	if b, ok := bytes.CutSuffix(body, []byte(";H")); ok {
		i := bytes.LastIndex(b, []byte("\x1b["))
		if i < 0 {
			return 0, false, false
		}
		v, err := strconv.Atoi(string(b[i+2:]))
		if err != nil || v < 1 {
			return 0, false, false
		}
		n, body = v, b[:i]
	} else if body, ok = bytes.CutSuffix(body, []byte(ansi.CursorHomePosition)); !ok {
		return 0, false, false
	}
	if bytes.HasSuffix(body, []byte(ansi.EraseScreenBelow)) {
		return 0, false, false
	}
	w.next = w.next[:0]
	pen := w.pen
	for i := 0; i < n; i++ {
		r := screenRow{startP: pen}
		last := i == n-1
		switch {
		case !last && len(body) > 0 && body[0] == '\n':
			body = body[1:]
		case last && len(body) == 0:
		default:
			var line []byte
			if last {
				line, body = body, nil
			} else if j := bytes.Index(body, []byte("\r\n")); j >= 0 {
				line, body = body[:j], body[j+2:]
			} else {
				return 0, false, false
			}
			if i == 0 {
				line, full = bytes.CutPrefix(line, []byte("\r"))
			}
			if pen, ok = r.parse(line, pen); !ok {
				return 0, false, false
			}
		}
		w.next = append(w.next, r)
	}
	if len(body) > 0 {
		return 0, false, false
	}
	w.pen = pen
	return n, full, true
}

// parse reads one line of a frame, drawn starting with pen, and returns
// the pen it leaves.
func (r *screenRow) parse(line []byte, pen string) (string, bool) {
	r.written, r.known, r.simple, r.raw = true, true, true, line
	for len(line) > 0 {
		b := line[0]
		switch {
		case b == ansi.ESC:
			if len(line) < 3 || line[1] != '[' {
				return "", false
			}
			j := 2
			for j < len(line) && (line[j] >= '0' && line[j] <= '9' || line[j] == ';' || line[j] == ':') {
				j++
			}
			if j == len(line) {
				return "", false
			}
			switch seq := string(line[:j+1]); {
			case line[j] == 'm' && (seq == "\x1b[m" || seq == "\x1b[0m"):
				pen = ""
			case line[j] == 'm':
				pen += seq
			case seq == ansi.EraseLineRight && j+1 == len(line):
				r.erased, r.eraseP = true, pen
			default:
				return "", false
			}
			line = line[j+1:]
		case b < 0x20 || b == 0x7f:
			return "", false
		case b < utf8.RuneSelf:
			r.cells = append(r.cells, scell{g: string(line[:1]), pen: pen})
			line = line[1:]
		default:
			g, width := ansi.FirstGraphemeCluster(line, ansi.GraphemeWidth)
			if len(g) == 0 {
				return "", false
			}
			if c, size := utf8.DecodeRune(g); width != 1 || size != len(g) || c == utf8.RuneError || c >= 0x80 && c < 0xa0 {
				r.simple = false
			}
			r.cells = append(r.cells, scell{g: string(g), pen: pen})
			line = line[len(g):]
		}
	}
	if !r.simple {
		r.cells = nil
	}
	return pen, true
}

// adopt records the frame in w.next as what the screen shows.
func (w *cellWriter) adopt(rows []screenRow, n int) []screenRow {
	for len(rows) < n {
		rows = append(rows, screenRow{})
	}
	rows = rows[:n]
	for i, r := range w.next {
		if r.written {
			r.raw = nil // only this frame's rows need their bytes
			rows[i] = r
		}
	}
	return rows
}

// diff returns what brings the screen from w.rows to w.next.
func (w *cellWriter) diff(n int) []byte {
	buf := w.buf[:0]
	pen := w.rows0Pen()
	setPen := func(p string) {
		if p == pen {
			return
		}
		if len(p) > len(pen) && p[:len(pen)] == pen {
			buf = append(buf, p[len(pen):]...)
		} else {
			buf = append(buf, "\x1b[0m"...)
			buf = append(buf, p...)
		}
		pen = p
	}
	moveTo := func(row, col int) {
		buf = append(buf, "\x1b["...)
		buf = strconv.AppendInt(buf, int64(row+1), 10)
		buf = append(buf, ';')
		buf = strconv.AppendInt(buf, int64(col+1), 10)
		buf = append(buf, 'H')
	}
	for i, nr := range w.next {
		if !nr.written {
			continue
		}
		var old screenRow
		if i < len(w.rows) {
			old = w.rows[i]
		}
		if !old.known || !old.simple || !nr.simple {
			moveTo(i, 0)
			setPen(nr.startP)
			buf = append(buf, nr.raw...)
			pen = w.lineEndPen(i)
			continue
		}
		// Runs of changed cells, merged across short gaps (a cursor
		// move costs about as much as a few cells).
		const gap = 4
		start, end := -1, -1 // the pending run [start, end)
		flush := func() {
			if start < 0 {
				return
			}
			moveTo(i, start)
			for _, c := range nr.cells[start:end] {
				setPen(c.pen)
				buf = append(buf, c.g...)
			}
			start = -1
		}
		for col, c := range nr.cells {
			if oc, ok := old.at(col); ok && oc == c {
				continue
			}
			if start >= 0 && col-end > gap {
				flush()
			}
			if start < 0 {
				start = col
			}
			end = col + 1
		}
		if nr.erased && old.needsErase(len(nr.cells), nr.eraseP) {
			if start >= 0 && len(nr.cells)-end > gap {
				flush()
			}
			if start < 0 {
				start = len(nr.cells)
			}
			end = len(nr.cells)
			flush()
			setPen(nr.eraseP)
			buf = append(buf, ansi.EraseLineRight...)
		} else {
			flush()
		}
	}
	if len(buf) > 0 {
		setPen(w.pen)
		buf = append(buf, ansi.CursorPosition(0, n)...)
	}
	w.buf = buf
	return buf
}

// rows0Pen is the pen the terminal has before the frame: the one the last
// write left (w.pen is already the frame's own end pen; the first row's
// start pen is the one before it).
func (w *cellWriter) rows0Pen() string {
	if len(w.next) > 0 {
		return w.next[0].startP
	}
	return w.pen
}

// lineEndPen is the pen in the stream after row i of the frame.
func (w *cellWriter) lineEndPen(i int) string {
	for j := i + 1; j < len(w.next); j++ {
		if w.next[j].written {
			return w.next[j].startP
		}
	}
	return w.pen
}

// at is the cell the row shows at col, if known.
func (r *screenRow) at(col int) (scell, bool) {
	switch {
	case col < len(r.cells):
		return r.cells[col], true
	case r.erased:
		return scell{g: " ", pen: r.eraseP}, false // erased, not drawn: not the same cell
	}
	return scell{}, false
}

// needsErase reports whether the row, from col on, is not already blank
// as erasing with pen would leave it.
func (r *screenRow) needsErase(col int, pen string) bool {
	return !r.erased || len(r.cells) > col || r.eraseP != pen
}
