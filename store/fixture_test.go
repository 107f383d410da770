package store

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape/peertest"
)

var record = flag.Bool("record", false, "re-record "+fixturePath+" from a real node_exporter (takes two minutes)")

// fixturePath holds real node_exporter scrapes taken exactly one second
// apart: gzip of blocks, each a line "# vigil-scrape <unix ms> <n>" and then
// the n bytes of the exposition body as served.
const (
	fixturePath     = "../testdata/store/node_exporter.scrapes.gz"
	fixtureScrapes  = 120
	fixtureInterval = time.Second
)

func TestRecordNodeExporter(t *testing.T) {
	if !*record {
		t.Skip("run with -record to re-record the fixture")
	}
	p := peertest.NodeExporter(t)
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	require.NoError(t, err)
	next := time.Now().Truncate(fixtureInterval).Add(fixtureInterval)
	for i := 0; i < fixtureScrapes; i++ {
		time.Sleep(time.Until(next))
		resp, err := http.Get(p.URL + "/metrics")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		fmt.Fprintf(zw, "# vigil-scrape %d %d\n", next.UnixMilli(), len(body))
		zw.Write(body)
		next = next.Add(fixtureInterval)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, os.MkdirAll(filepath.Dir(fixturePath), 0o755))
	require.NoError(t, os.WriteFile(fixturePath, out.Bytes(), 0o644))
	t.Logf("wrote %d scrapes, %d bytes", fixtureScrapes, out.Len())
}

type fixtureSample struct {
	lset labels.Labels
	t    int64
	v    float64
}

// loadFixture returns the recorded scrapes as samples, scrape after scrape.
func loadFixture(tb testing.TB) (samples []fixtureSample, scrapes int) {
	tb.Helper()
	f, err := os.Open(fixturePath)
	require.NoError(tb, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(tb, err)
	br := bufio.NewReader(zr)
	st := labels.NewSymbolTable()
	for {
		var ts int64
		var n int
		line, err := br.ReadString('\n')
		if errors.Is(err, io.EOF) && line == "" {
			return samples, scrapes
		}
		require.NoError(tb, err)
		_, err = fmt.Sscanf(line, "# vigil-scrape %d %d\n", &ts, &n)
		require.NoError(tb, err)
		body := make([]byte, n)
		_, err = io.ReadFull(br, body)
		require.NoError(tb, err)
		scrapes++
		p := textparse.NewPromParser(body, st, false)
		for {
			e, err := p.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(tb, err)
			if e != textparse.EntrySeries {
				continue
			}
			var l labels.Labels
			p.Labels(&l)
			_, _, v := p.Series()
			samples = append(samples, fixtureSample{lset: l, t: ts, v: v})
		}
	}
}

// appendFixture appends the recorded scrapes to db, a scrape a commit, as
// a scrape loop does.
func appendFixture(tb testing.TB, db *DB, samples []fixtureSample) {
	tb.Helper()
	a := db.Appender()
	for i, s := range samples {
		if i > 0 && s.t != samples[i-1].t {
			require.NoError(tb, a.Commit())
			a = db.Appender()
		}
		if _, err := a.Append(0, s.lset, s.t, s.v); err != nil {
			tb.Fatal(err)
		}
	}
	require.NoError(tb, a.Commit())
}
