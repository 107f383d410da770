package pipeline

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/store"
)

// TestFirstScrapeLog: the "restored and scraping" line is logged once, for
// the first committed scrape of a target; vigil's own metrics, a
// transaction with nothing in it and a store failure do not count.
func TestFirstScrapeLog(t *testing.T) {
	db := store.New(store.DefaultOptions())
	defer db.Close()
	var log bytes.Buffer
	f := &firstScrape{Appendable: db, logger: slog.New(slog.NewTextHandler(&log, nil)), begin: time.Now()}
	scrape := func(job string, ts int64, up float64) error {
		app := f.Appender()
		if _, err := app.Append(0, labels.FromStrings("__name__", "node_load1", "instance", "db1:9100", "job", job), ts, 0.5); err != nil {
			return err
		}
		// As a scrape loop writes it: through the store's reserve.
		if _, err := app.AppendReserved(0, labels.FromStrings("__name__", "up", "instance", "db1:9100", "job", job), ts, up); err != nil {
			return err
		}
		return app.Commit()
	}
	lines := func() int { return strings.Count(log.String(), "restored and scraping") }

	require.NoError(t, scrape(selfJob, 1000, 1))
	require.NoError(t, f.Appender().Commit())
	require.Zero(t, lines(), "vigil's own metrics or an empty commit are no scrape of a target:\n%s", log.String())

	require.NoError(t, scrape("node", 1000, 1))
	require.Equal(t, 1, lines())
	require.Contains(t, log.String(), "job=node instance=db1:9100 up=1 since_start=")

	require.NoError(t, scrape("node", 2000, 1))
	require.Equal(t, 1, lines(), "once only")
	_, isWrapped := f.Appender().(*firstScrapeAppender)
	require.False(t, isWrapped, "after the first scrape the store's appender is handed out as is")
}
