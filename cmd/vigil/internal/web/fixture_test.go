package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/cmd/vigil/internal/web"
	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/store"
)

// hostileValue is a label value as an exporter may send it: a terminal
// escape, HTML, quotes, a backslash, a newline, JSON's troublesome
// separators and text beyond ASCII.
const hostileValue = "\x1b[31m<b>&\"\\\n\u2028é\x7f"

// step is the fixture's sample interval.
const step = 15 * time.Second

// fixture is a server over a store with known data, the rules of
// testdata/rules.yml evaluated once over it, and the targets and metadata
// of a real scrape of an exporter that sends hostile labels.
type fixture struct {
	now    time.Time // the server's clock; the newest sample is at it
	db     *store.DB
	srv    *web.Server
	url    string
	client v1.API
}

// series of the fixture, as written into the store.
var (
	demoA   = labels.FromStrings("__name__", "demo_metric", "instance", "a:9100", "job", "demo", "mode", "x")
	demoB   = labels.FromStrings("__name__", "demo_metric", "instance", "b:9100", "job", "demo", "mode", "y")
	hostile = labels.FromStrings("__name__", "hostile", "instance", "h", "job", "demo", "v", hostileValue)
	noInst  = labels.FromStrings("__name__", "noinst", "job", "demo")
	gone    = labels.FromStrings("__name__", "gone", "instance", "g", "job", "demo")
	sited   = labels.FromStrings("__name__", "sited", "instance", "s", "job", "demo", "site", "own")
)

// demoValue is demo series i's value at sample k (k = 0 is 10m before now).
func demoValue(i, k int) float64 { return float64((i + 1) * k) }

// fillStore writes 41 samples over 10m to each series; gone ends with a
// staleness marker a minute before now.
func fillStore(t testing.TB, db *store.DB, now time.Time) {
	t.Helper()
	app := db.Appender()
	for k := 0; k <= 40; k++ {
		ts := now.Add(-10 * time.Minute).Add(time.Duration(k) * step).UnixMilli()
		for i, ls := range []labels.Labels{demoA, demoB} {
			_, err := app.Append(0, ls, ts, demoValue(i, k))
			require.NoError(t, err)
		}
		for _, ls := range []labels.Labels{hostile, noInst, sited} {
			_, err := app.Append(0, ls, ts, 1)
			require.NoError(t, err)
		}
		if k < 36 {
			_, err := app.Append(0, gone, ts, 3)
			require.NoError(t, err)
		}
	}
	_, err := app.Append(0, gone, now.Add(-time.Minute).UnixMilli(), math.Float64frombits(value.StaleNaN))
	require.NoError(t, err)
	require.NoError(t, app.Commit())
}

const rulesYAML = `groups:
  - name: demo
    interval: 1m
    rules:
      - record: demo:sum
        expr: sum(demo_metric)
      - alert: DemoHigh
        expr: demo_metric > 30
        labels: {severity: page}
        annotations: {summary: "high on {{ $labels.instance }}"}
      - alert: Hostile
        expr: hostile
        annotations: {summary: "{{ $labels.v }}"}
      - alert: Never
        expr: demo_metric > 1000
        for: 5m
`

// exporterBody is what the scraped exporter sends: hostile label values
// and TYPE lines for the metadata.
const exporterBody = "# HELP exp_gauge A gauge.\n# TYPE exp_gauge gauge\nexp_gauge{v=\"<&>\\\"\\\\\"} 1\n# TYPE exp_total counter\nexp_total 5\n"

// newFixture starts the server on a loopback port with opts (zero fields
// take DefaultOptions').
func newFixture(t testing.TB, opts web.Options) *fixture {
	t.Helper()
	f := &fixture{now: time.Now().Truncate(time.Second)}
	f.db = store.New(store.DefaultOptions())
	t.Cleanup(func() { _ = f.db.Close() })
	fillStore(t, f.db, f.now)

	// The rules read the fixture's store and write elsewhere, so that
	// what the store holds stays what fillStore wrote.
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "rules.yml")
	require.NoError(t, os.WriteFile(rulesFile, []byte(rulesYAML), 0o600))
	groups, err := alert.LoadFiles(rulesFile)
	require.NoError(t, err)
	scratch := store.New(store.DefaultOptions())
	t.Cleanup(func() { _ = scratch.Close() })
	rules, err := alert.NewManager(groups, alert.Options{Queryable: f.db, Appendable: scratch})
	require.NoError(t, err)
	t.Cleanup(func() { _ = rules.Close() })
	rules.Eval(context.Background(), f.now)

	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, exporterBody)
	}))
	t.Cleanup(exporter.Close)
	cfg, err := scrape.NewStaticConfig([]string{exporter.Listener.Addr().String()}, time.Second)
	require.NoError(t, err)
	scrapes := scrape.NewManager(scratch, scrape.Options{})
	t.Cleanup(scrapes.Close)
	require.NoError(t, scrapes.ApplyConfig(cfg))
	require.Eventually(t, func() bool {
		ts := scrapes.Targets()
		return len(ts) == 1 && ts[0].Health == scrape.HealthUp
	}, 30*time.Second, 10*time.Millisecond, "the exporter is scraped")

	def := web.DefaultOptions()
	if opts.QueryTimeout == 0 {
		opts.QueryTimeout = def.QueryTimeout
	}
	if opts.MaxSamples == 0 {
		opts.MaxSamples = def.MaxSamples
	}
	if opts.MaxConcurrency == 0 {
		opts.MaxConcurrency = def.MaxConcurrency
	}
	if opts.MaxResponseBytes == 0 {
		opts.MaxResponseBytes = def.MaxResponseBytes
	}
	if opts.ListenAddress == "" {
		opts.ListenAddress = "127.0.0.1:0"
	}
	f.srv = startServer(t, opts, web.Sources{
		Queryable:     f.db,
		EngineOptions: alert.EngineOptions(nil, time.Minute),
		Targets:       scrapes,
		Rules:         rules,
		Metrics: func(_ context.Context, w io.Writer) error {
			_, err := io.WriteString(w, "# TYPE vigil_test gauge\nvigil_test 1\n")
			return err
		},
		ExternalLabels: labels.FromStrings("site", "lab"),
		Version:        "9.9.9",
		StartTime:      f.now.Add(-time.Hour),
		Retention:      2 * time.Hour,
		Config:         func() (bool, time.Time) { return false, f.now.Add(-time.Minute) },
		Now:            func() time.Time { return f.now },
	})
	f.url = "http://" + f.srv.Addr()
	c, err := api.NewClient(api.Config{Address: f.url})
	require.NoError(t, err)
	f.client = v1.NewAPI(c)
	return f
}

func startServer(t testing.TB, opts web.Options, src web.Sources) *web.Server {
	t.Helper()
	srv, err := web.New(opts, src, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	return srv
}

// get fetches path from the fixture's server.
func (f *fixture) get(t testing.TB, path string) (*http.Response, []byte) {
	t.Helper()
	return do(t, http.MethodGet, f.url+path, nil)
}

func do(t testing.TB, method, url string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// freeAddr is a loopback address whose port was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// unixSeconds is t as the API writes it.
func unixSeconds(t time.Time) string {
	if ms := t.Nanosecond() / 1e6; ms != 0 {
		return fmt.Sprintf("%d.%03d", t.Unix(), ms)
	}
	return fmt.Sprint(t.Unix())
}

// blockingQueryable holds the first Select until release is closed, to
// keep a request in its concurrency slot.
type blockingQueryable struct {
	storage.Queryable
	entered, release chan struct{}
	once             sync.Once
}

func (b *blockingQueryable) Querier(mint, maxt int64) (storage.Querier, error) {
	q, err := b.Queryable.Querier(mint, maxt)
	return &blockingQuerier{Querier: q, b: b}, err
}

type blockingQuerier struct {
	storage.Querier
	b *blockingQueryable
}

func (q *blockingQuerier) Select(ctx context.Context, sorted bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	q.b.once.Do(func() {
		close(q.b.entered)
		<-q.b.release
	})
	return q.Querier.Select(ctx, sorted, hints, ms...)
}

// slowQueryable's Select waits until its query's context ends: a query
// that takes as long as it is let.
type slowQueryable struct{ storage.Queryable }

func (s slowQueryable) Querier(mint, maxt int64) (storage.Querier, error) {
	q, err := s.Queryable.Querier(mint, maxt)
	return slowQuerier{q}, err
}

type slowQuerier struct{ storage.Querier }

func (q slowQuerier) Select(ctx context.Context, sorted bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	<-ctx.Done()
	return q.Querier.Select(ctx, sorted, hints, ms...)
}
