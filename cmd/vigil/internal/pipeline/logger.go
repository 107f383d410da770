package pipeline

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
)

// NewLogger returns vigil's logger: to stderr when toStderr (--headless),
// else to vigil.log in dataDir, never to the terminal the console draws
// on; nowhere when there is no data directory or it cannot be written.
// The returned close closes the file.
func NewLogger(toStderr bool, stderr io.Writer, dataDir string) (*slog.Logger, func()) {
	if toStderr {
		return slog.New(slog.NewTextHandler(stderr, nil)), func() {}
	}
	if dataDir != "" {
		if err := os.MkdirAll(dataDir, 0o700); err == nil {
			f, err := os.OpenFile(filepath.Join(dataDir, "vigil.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
			if err == nil {
				return slog.New(slog.NewTextHandler(f, nil)), func() { f.Close() }
			}
		}
	}
	return slog.New(slog.DiscardHandler), func() {}
}
