package tui

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
)

// The Query view's history: the queries run, oldest first, at most
// maxHistory, a query typed again moving to the newest place (as a
// shell's erasedups). With Options.HistoryFile it survives a restart:
// one JSON string a line, written whole to a temporary file, synced and
// renamed over the old one, 0600.

const (
	maxHistory      = 1000
	maxHistoryEntry = 4096 // the prompt's CharLimit
)

// addHistory returns h with q as its newest entry.
func addHistory(h []string, q string) []string {
	out := make([]string, 0, len(h)+1)
	for _, e := range h {
		if e != q {
			out = append(out, e)
		}
	}
	out = append(out, q)
	if len(out) > maxHistory {
		out = out[len(out)-maxHistory:]
	}
	return out
}

// parseHistory reads a history file: a JSON string a line. It is the
// operator's file but may be damaged: a line that is not a string, is
// not valid UTF-8 or is longer than a query can be is skipped, and
// counted.
func parseHistory(b []byte) (entries []string, bad int) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 8*maxHistoryEntry+64)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var q string
		if err := json.Unmarshal(line, &q); err != nil || q == "" || !utf8.Valid(line) ||
			len(q) > maxHistoryEntry || strings.ContainsAny(q, "\n\r") {
			bad++
			continue
		}
		entries = addHistory(entries, q)
	}
	if sc.Err() != nil {
		bad++ // a line too long to be a query ends the file
	}
	return entries, bad
}

// historyLoadedMsg carries the history file's entries to the Query view.
type historyLoadedMsg struct {
	entries []string
	err     error
}

// loadHistory reads the history file off the event loop; a missing file
// is an empty history.
func loadHistory(path string) tea.Cmd {
	if path == "" {
		return nil
	}
	return func() tea.Msg {
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return historyLoadedMsg{}
		}
		if err != nil {
			return historyLoadedMsg{err: fmt.Errorf("read query history: %w", err)}
		}
		entries, bad := parseHistory(b)
		msg := historyLoadedMsg{entries: entries}
		if bad > 0 {
			msg.err = fmt.Errorf("%d damaged lines of the query history skipped (%s)", bad, path)
		}
		return msg
	}
}

// historyWriter writes the history file, one write at a time and never
// an older history over a newer one.
type historyWriter struct {
	path string
	mu   sync.Mutex
	gen  int // of the newest history handed over
	done int // of the newest written
}

// historySavedMsg reports a failed write.
type historySavedMsg struct{ err error }

// save returns a command that writes entries off the event loop.
func (w *historyWriter) save(entries []string) tea.Cmd {
	if w == nil || w.path == "" {
		return nil
	}
	w.mu.Lock()
	w.gen++
	gen := w.gen
	w.mu.Unlock()
	entries = append([]string(nil), entries...)
	return func() tea.Msg {
		w.mu.Lock()
		defer w.mu.Unlock()
		if gen < w.done {
			return nil
		}
		w.done = gen
		return historySavedMsg{err: writeHistory(w.path, entries)}
	}
}

// writeHistory replaces the file at path with entries, crash-safely: a
// temporary file in the same directory, written, synced, closed, renamed
// over it, and the directory synced.
func writeHistory(path string, entries []string) (err error) {
	var b bytes.Buffer
	for _, e := range entries {
		j, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("write query history: %w", err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write query history: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("write query history %s: %w", path, err)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(b.Bytes()); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// findHistory returns the entries of h (newest first) that hold every
// word of q, case-insensitively: what ctrl+r lists.
func findHistory(h []string, q string) []string {
	words := strings.Fields(strings.ToLower(q))
	var out []string
	for i := len(h) - 1; i >= 0; i-- {
		e := strings.ToLower(h[i])
		ok := true
		for _, w := range words {
			if !strings.Contains(e, w) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, h[i])
		}
	}
	return out
}
