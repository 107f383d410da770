package store

import (
	"context"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/require"
)

// testStorage adapts a DB to storage.Storage, which promqltest loads and
// queries through. Histogram samples are refused: the store keeps floats.
type testStorage struct{ db *DB }

func newTestStorage(t testing.TB) storage.Storage {
	return &testStorage{db: New(Options{Retention: -1, MaxSeries: -1})}
}

func (s *testStorage) Querier(mint, maxt int64) (storage.Querier, error) {
	return s.db.Querier(mint, maxt)
}

// Appender is the V1 interface, which promqltest does not use.
func (*testStorage) Appender(context.Context) storage.Appender {
	panic("promqltest appends through AppenderV2")
}

func (*testStorage) ChunkQuerier(int64, int64) (storage.ChunkQuerier, error) {
	return nil, errors.New("chunk queries are not supported")
}

func (s *testStorage) AppenderV2(context.Context) storage.AppenderV2 {
	return &testAppender{Appender: s.db.Appender()}
}

func (*testStorage) StartTime() (int64, error) { return 0, nil }

func (s *testStorage) Close() error { return s.db.Close() }

type testAppender struct{ Appender }

func (a *testAppender) Append(ref storage.SeriesRef, l labels.Labels, _, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, _ storage.AppendV2Options) (storage.SeriesRef, error) {
	if h != nil || fh != nil {
		return 0, errors.New("histogram samples are not supported")
	}
	return a.Appender.Append(ref, l, t, v)
}

// skipFiles are the acceptance files that do not run whole, with why. The
// store keeps float samples only (vigil scrapes the text format, which has
// no native histograms) and no start timestamps.
const histogramReason = "loads native histogram samples, which the store does not keep; its float blocks run in TestPromQLAcceptanceFloatBlocks"

var skipFiles = map[string]string{
	"testdata/aggregators.test":       histogramReason,
	"testdata/extended_vectors.test":  histogramReason,
	"testdata/functions.test":         histogramReason,
	"testdata/histograms.test":        histogramReason,
	"testdata/info.test":              histogramReason,
	"testdata/limit.test":             histogramReason,
	"testdata/native_histograms.test": histogramReason,
	"testdata/operators.test":         histogramReason,
	"testdata/range_queries.test":     histogramReason,
	"testdata/subquery.test":          histogramReason,
	"testdata/start_timestamps.test":  "tests start timestamps (created timestamps) per sample, which the store does not keep",
}

type skippingRunner struct{ *testing.T }

func (r skippingRunner) Run(name string, f func(*testing.T)) bool {
	return r.T.Run(name, func(t *testing.T) {
		if why, ok := skipFiles[name]; ok {
			t.Skip(why)
		}
		f(t)
	})
}

func TestPromQLAcceptance(t *testing.T) {
	eng := promqltest.NewTestEngine(t, false, 5*time.Minute, 50_000_000)
	promqltest.RunBuiltinTestsWithStorage(skippingRunner{t}, eng, newTestStorage)
}

// TestPromQLAcceptanceFloatBlocks runs the float parts of the files that
// skipFiles skips for native histograms: each file is cut into blocks at
// its `clear` commands, and the blocks that load or expect a histogram
// ({{…}} or load_with_nhcb) are dropped. The files are read from the module
// cache, where the pinned Prometheus version's source is.
func TestPromQLAcceptanceFloatBlocks(t *testing.T) {
	dir := promqltestDir(t)
	eng := promqltest.NewTestEngine(t, false, 5*time.Minute, 50_000_000)
	for _, name := range slices.Sorted(maps.Keys(skipFiles)) {
		if skipFiles[name] != histogramReason {
			continue
		}
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, name))
			require.NoError(t, err)
			kept, dropped := floatBlocks(string(b))
			t.Logf("%d blocks run, %d with histograms dropped", len(kept), dropped)
			for _, blk := range kept {
				promqltest.RunTestWithStorage(t, blk, eng, newTestStorage)
			}
		})
	}
}

// floatBlocks cuts a promqltest file at its clear commands and returns the
// blocks without histogram samples, each padded with empty lines so line
// numbers in failures match the file.
func floatBlocks(src string) (kept []string, dropped int) {
	lines := strings.Split(src, "\n")
	start := 0
	flush := func(end int) {
		blk := lines[start:end]
		hist := false
		for _, l := range blk {
			if strings.Contains(l, "{{") || strings.HasPrefix(strings.TrimSpace(l), "load_with_nhcb") {
				hist = true
				break
			}
		}
		if hist {
			dropped++
		} else {
			kept = append(kept, strings.Repeat("\n", start)+strings.Join(blk, "\n"))
		}
		start = end
	}
	for i, l := range lines {
		if strings.TrimSpace(l) == "clear" {
			flush(i)
		}
	}
	flush(len(lines))
	return kept, dropped
}

// promqltestDir finds promql/promqltest of the pinned Prometheus version in
// the module cache.
func promqltestDir(t *testing.T) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/prometheus/prometheus").Output()
	dir := filepath.Join(strings.TrimSpace(string(out)), "promql/promqltest")
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Skipf("cannot find the Prometheus module source (go list -m: %v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "testdata")); err != nil {
		t.Skipf("promqltest sources not in the module cache: %v", err)
	}
	return dir
}
