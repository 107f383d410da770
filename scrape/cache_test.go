package scrape_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape"
)

// TestSeriesOrderChanges: the loop finds a series by its place in the last
// body first; a body that reorders, inserts, drops or renames series, or
// fails halfway, still puts every sample on its own series and marks the
// vanished ones stale.
func TestSeriesOrderChanges(t *testing.T) {
	b := &body{}
	db := newTestDB(t)
	l, addr := newTestLoop(t, b, db, nil)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
	steps := []struct {
		body string
		fail bool
	}{
		{body: "a 1\nb 2\nc 3\n"},
		{body: "c 4\na 5\nx 6\nb 7\n"},                    // reordered, one inserted
		{body: "a 8\nc{l=\"1\"} 9\n"},                     // b, c, x gone; another c at c's place
		{body: "a 10\nz 11\nb{ 12\n", fail: true},         // fails after a new series
		{body: "b 12\nz 13\nc{l=\"1\"} 14\ny 15\nc 16\n"}, // z where it was in the failed body
		{body: "a 17\n"},
	}
	for i, s := range steps {
		b.set(s.body)
		h := l.Scrape(at(i))
		require.Equal(t, s.fail, h.LastError != "", "step %d: %q", i, h.LastError)
	}
	ms := func(i int) int64 { return at(i).UnixMilli() }
	stale := math.Float64frombits(value.StaleNaN)
	check := func(want []sample, kv ...string) {
		t.Helper()
		l := tl(addr, kv...)
		got := db.samples(l)
		require.Len(t, got, len(want), l.String())
		for i := range want {
			require.Equal(t, want[i].T, got[i].T, "%s sample %d", l, i)
			if isStale(want[i].V) {
				require.True(t, isStale(got[i].V), "%s sample %d: %v", l, i, got[i].V)
			} else {
				require.Equal(t, want[i].V, got[i].V, "%s sample %d", l, i)
			}
		}
	}
	check([]sample{{ms(0), 1}, {ms(1), 5}, {ms(2), 8}, {ms(3), stale}, {ms(5), 17}}, "__name__", "a")
	check([]sample{{ms(0), 2}, {ms(1), 7}, {ms(2), stale}, {ms(4), 12}, {ms(5), stale}}, "__name__", "b")
	check([]sample{{ms(0), 3}, {ms(1), 4}, {ms(2), stale}, {ms(4), 16}, {ms(5), stale}}, "__name__", "c")
	check([]sample{{ms(1), 6}, {ms(2), stale}}, "__name__", "x")
	check([]sample{{ms(2), 9}, {ms(3), stale}, {ms(4), 14}, {ms(5), stale}}, "__name__", "c", "l", "1")
	check([]sample{{ms(4), 15}, {ms(5), stale}}, "__name__", "y")
	check([]sample{{ms(4), 13}, {ms(5), stale}}, "__name__", "z")
}

// TestContentTypeChanges: the loop remembers a Content-Type that textparse
// read as the text format; a target that then sends another type gets
// that type's parser.
func TestContentTypeChanges(t *testing.T) {
	db := newTestDB(t)
	l := scrape.NewTestFuncLoop(scrape.InternalTarget{Job: "ct", Instance: "x", Collect: func(context.Context, io.Writer) error { return nil }}, db)
	const text, om = "text/plain; version=0.0.4", "application/openmetrics-text; version=1.0.0"
	steps := []struct {
		ct, body string
		fail     bool
	}{
		{ct: text, body: "a 1\n"},
		{ct: text, body: "a 2\n"},
		{ct: om, body: "a 3\n", fail: true}, // OpenMetrics ends with # EOF
		{ct: om, body: "a 4\n# EOF\n"},
		{ct: text, body: "a 5\n"},
		{ct: "", body: "a 6\n"}, // the fallback, text
	}
	for i, s := range steps {
		h := l.ScrapeBody(s.ct, []byte(s.body), t0.Add(time.Duration(i)*time.Second))
		require.Equal(t, s.fail, h.LastError != "", "step %d: %q", i, h.LastError)
	}
}

// TestMapsGoWhenQuiet: a target whose series keep their places leaves its
// loop with no lookup maps after a few scrapes. What the last body's order
// does not find later (a moved series, another form of a known one, one
// back after its entry went) is found as before, from maps built again.
func TestMapsGoWhenQuiet(t *testing.T) {
	b := &body{}
	db := newTestDB(t)
	l, addr := newTestLoop(t, b, db, nil)
	i := 0
	scrape := func(n int, body string) {
		t.Helper()
		b.set(body)
		for range n {
			h := l.Scrape(t0.Add(time.Duration(i) * time.Second))
			require.Empty(t, h.LastError)
			i++
		}
	}
	added := func() float64 {
		t.Helper()
		s, ok := db.last(tl(addr, "__name__", "scrape_series_added"))
		require.True(t, ok)
		return s.V
	}
	dA, dB := "d{x=\"1\",y=\"2\"}", "d{ y=\"2\", x=\"1\" }"

	scrape(5, "a 1\nb 2\n"+dA+" 3\n")
	require.False(t, l.MapsHeld(), "every series kept its place")
	scrape(1, "b 2\n"+dA+" 3\na 1\n") // moved
	require.True(t, l.MapsHeld())
	require.Equal(t, 0.0, added())
	scrape(4, "b 2\n"+dA+" 3\na 1\n")
	require.False(t, l.MapsHeld())
	scrape(1, "b 2\n"+dB+" 3\na 1\n") // another form, the same series
	require.Equal(t, 0.0, added())
	d := tl(addr, "__name__", "d", "x", "1", "y", "2")
	require.Len(t, db.samples(d), 11, "no stale marker between the forms")

	// With a series new every scrape the maps stay, and d's entry, now
	// under both forms' keys, goes while they are held: its other key
	// must not find it afterwards.
	for k := range 12 {
		scrape(1, fmt.Sprintf("b 2\na 1\nc{n=\"%d\"} 1\n", k))
		require.True(t, l.MapsHeld())
	}
	scrape(1, "b 2\n"+dB+" 4\na 1\nc{n=\"x\"} 1\n")
	require.Equal(t, 2.0, added(), "c{n=\"x\"} and d are new to the loop")
	got := db.samples(d)
	require.Len(t, got, 13)
	require.True(t, isStale(got[11].V))
	require.Equal(t, 4.0, got[12].V)
}
