package fakenode

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// Recording is a file of real scrapes: gzip of blocks, each a line
// "# vigil-scrape <unix ms> <n>" and then the n bytes of the exposition
// body as served (the store's testdata/store/node_exporter.scrapes.gz
// has this shape). WriteScrape writes one block.
func WriteScrape(w io.Writer, ts time.Time, body []byte) error {
	if _, err := fmt.Fprintf(w, "# vigil-scrape %d %d\n", ts.UnixMilli(), len(body)); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}

// Replay appends the recorded scrapes at path as the target job/instance
// scraped them, with up = 1 beside each, moved in time so that the last
// one is at end. It returns how many scrapes it appended.
func Replay(app Appender, path, job, instance string, end time.Time) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	type scrape struct {
		ts   int64
		body []byte
	}
	var scrapes []scrape
	br := bufio.NewReader(zr)
	for {
		line, err := br.ReadString('\n')
		if errors.Is(err, io.EOF) && line == "" {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		var s scrape
		var n int
		if _, err := fmt.Sscanf(line, "# vigil-scrape %d %d\n", &s.ts, &n); err != nil {
			return 0, fmt.Errorf("%s: scrape %d: %w", path, len(scrapes)+1, err)
		}
		s.body = make([]byte, n)
		if _, err := io.ReadFull(br, s.body); err != nil {
			return 0, fmt.Errorf("%s: scrape %d: %w", path, len(scrapes)+1, err)
		}
		scrapes = append(scrapes, s)
	}
	if len(scrapes) == 0 {
		return 0, fmt.Errorf("%s: no scrapes", path)
	}
	shift := end.UnixMilli() - scrapes[len(scrapes)-1].ts
	st := labels.NewSymbolTable()
	for _, s := range scrapes {
		ts := s.ts + shift
		p := textparse.NewPromParser(s.body, st, false)
		for {
			e, err := p.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return 0, fmt.Errorf("%s: %w", path, err)
			}
			if e != textparse.EntrySeries {
				continue
			}
			var l labels.Labels
			p.Labels(&l)
			_, _, v := p.Series()
			l = labels.NewBuilder(l).Set("job", job).Set("instance", instance).Labels()
			if _, err := app.Append(0, l, ts, v); err != nil {
				return 0, err
			}
		}
		if _, err := app.Append(0, labels.FromStrings("__name__", "up", "instance", instance, "job", job), ts, 1); err != nil {
			return 0, err
		}
	}
	return len(scrapes), app.Commit()
}
