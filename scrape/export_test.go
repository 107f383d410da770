package scrape

import (
	"bytes"
	"context"
	"log/slog"
	"time"

	"github.com/vigilterm/vigil/store"
)

// TestLoop drives one scrape loop by hand, for tests that need each
// scrape at a known time.
type TestLoop struct{ l *loop }

// NewTestLoop builds the loop the Manager would run for the first target
// of sc's first static config.
func NewTestLoop(sc *ScrapeConfig, app store.Appendable) (*TestLoop, error) {
	return NewTestLoopLogged(sc, app, nil)
}

// NewTestLoopLogged is NewTestLoop with a logger.
func NewTestLoopLogged(sc *ScrapeConfig, app store.Appendable, logger *slog.Logger) (*TestLoop, error) {
	m := NewManager(app, Options{Logger: logger})
	defer m.Close()
	p, err := m.newPool(sc, DefaultGlobalConfig)
	if err != nil {
		return nil, err
	}
	ts, errs := targetsFromGroup(sc, p.groups["static/0"][0])
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return &TestLoop{m.newLoop(p, ts[0])}, nil
}

// NewTestFuncLoop builds the loop for an internal target.
func NewTestFuncLoop(it InternalTarget, app store.Appendable) *TestLoop {
	m := NewManager(app, Options{})
	defer m.Close()
	p := m.newInternalPool(&it, DefaultGlobalConfig)
	return &TestLoop{m.newLoop(p, p.internalTarget())}
}

// Scrape scrapes once, stamped ts, and returns the target's health.
func (t *TestLoop) Scrape(ts time.Time) TargetHealth {
	t.l.scrapeOnce(context.Background(), ts)
	return t.l.healthSnapshot()
}

// Offset exposes the first-scrape offset.
func (t *TestLoop) Offset(now time.Time) time.Duration { return t.l.offset(now) }

// staticScraper serves a fixed body with a fixed content type.
type staticScraper struct {
	ct   string
	body []byte
}

func (s staticScraper) scrape(_ context.Context, buf *bytes.Buffer) (string, error) {
	buf.Write(s.body)
	return s.ct, nil
}

// ScrapeBody scrapes once as if the target had sent body with content
// type ct.
func (t *TestLoop) ScrapeBody(ct string, body []byte, ts time.Time) TargetHealth {
	t.l.scraper = staticScraper{ct, body}
	return t.Scrape(ts)
}

// MapsHeld reports whether the loop holds either of its lookup maps.
func (t *TestLoop) MapsHeld() bool { return t.l.series.byKey != nil || t.l.series.byHash != nil }

// CachedSeries is how many series the loop's cache holds.
func (t *TestLoop) CachedSeries() int { return len(t.l.series.all) }
