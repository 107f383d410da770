package pipeline

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/store"
	"github.com/vigilterm/vigil/tui"
)

// TestWarnings: what the parts report becomes the console's header
// warnings, and goes away when it is over.
func TestWarnings(t *testing.T) {
	opts := store.DefaultOptions()
	opts.MaxSeries = 1
	db := store.New(opts)
	defer db.Close()
	p := &Pipeline{db: db, logger: slog.New(slog.DiscardHandler), failures: NewFailures(slog.New(slog.DiscardHandler))}
	p.observe()
	require.Empty(t, p.Warnings())

	// Past --max-series: new series are refused, and the header says so.
	app := db.Appender()
	_, err := app.Append(0, labels.FromStrings("__name__", "a"), 1000, 1)
	require.NoError(t, err)
	_, err = app.Append(0, labels.FromStrings("__name__", "b"), 1000, 1)
	require.ErrorIs(t, err, store.ErrTooManySeries)
	require.NoError(t, app.Commit())
	p.observe()
	require.Equal(t, []tui.Status{{Source: "max_series", Text: "max series reached (1): new series refused (1 so far)"}}, p.Warnings())

	// A refused reload is shown until a reload goes through.
	bad := filepath.Join(t.TempDir(), "prometheus.yml")
	require.NoError(t, os.WriteFile(bad, []byte("remote_read:\n  - url: http://127.0.0.1:1/\n"), 0o600))
	p.opts.ConfigFile = bad
	p.Reload()
	require.Contains(t, p.Warnings(), tui.Status{Source: "config", Text: p.reloadErr})
	require.Contains(t, p.reloadErr, "remote_read")

	// The reader of stdout went away.
	r, w, err := os.Pipe()
	require.NoError(t, err)
	require.NoError(t, r.Close())
	p.events = alert.NewEventWriter(w, alert.FormatJSON, alert.WriterOptions{})
	defer p.events.Close(time.Second)
	p.events.Send(alert.Event{State: alert.StateFiring, Labels: labels.FromStrings("alertname", "X")})
	<-p.events.Done()
	p.observe()
	require.Contains(t, p.Warnings()[len(p.Warnings())-1].Text, "events no longer delivered to stdout")
}

// TestConsoleOptionsTimeAndHistory: the console is told the retention
// (the longest range it offers) and keeps its query history in the data
// directory, or nowhere without one.
func TestConsoleOptionsTimeAndHistory(t *testing.T) {
	dir := t.TempDir()
	p := &Pipeline{opts: Options{Retention: 2 * time.Hour, DataDir: dir}}
	opts := p.ConsoleOptions()
	require.Equal(t, 2*time.Hour, opts.Retention)
	require.Equal(t, filepath.Join(dir, QueryHistoryFileName), opts.HistoryFile)

	p.opts.DataDir = ""
	require.Empty(t, p.ConsoleOptions().HistoryFile)
}
