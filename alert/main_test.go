package alert_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/store"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Idle keep-alive connections of the HTTP clients of peers.
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
	)
}

// t0 is the start of every test's timeline.
var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// testStore is vigil's store with helpers for the tests.
type testStore struct {
	*store.DB
}

func newTestStore(t testing.TB) testStore {
	db := store.New(store.DefaultOptions())
	t.Cleanup(func() { _ = db.Close() })
	return testStore{db}
}

// add appends one sample of the series given as name and label pairs.
func (s testStore) add(t testing.TB, ts time.Time, v float64, name string, lv ...string) {
	t.Helper()
	app := s.Appender()
	ls := labels.NewBuilder(labels.FromStrings(lv...)).Set(labels.MetricName, name).Labels()
	_, err := app.Append(0, ls, timestamp.FromTime(ts), v)
	require.NoError(t, err)
	require.NoError(t, app.Commit())
}

// recorder is a sink that keeps every event.
type recorder struct{ events []alert.Event }

func (r *recorder) Send(ev alert.Event) { r.events = append(r.events, ev) }

// take returns the events so far as "state alertname" strings and forgets them.
func (r *recorder) take() []string {
	var out []string
	for _, ev := range r.events {
		out = append(out, string(ev.State)+" "+ev.Labels.Get("alertname"))
	}
	r.events = nil
	return out
}

// newManager builds a manager over st from rule-file YAML.
func newManager(t testing.TB, st testStore, yaml string, o alert.Options) *alert.Manager {
	t.Helper()
	gs := mustGroups(t, yaml)
	o.Queryable = st
	o.Appendable = st
	m, err := alert.NewManager(gs, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func mustGroups(t testing.TB, yaml string) []alert.GroupConfig {
	t.Helper()
	gs, err := alert.ParseGroups("test.yml", []byte(yaml))
	require.NoError(t, err)
	return gs
}

// lastSample is the newest sample of the one series matching the
// selector, at or before ts.
func lastSample(t testing.TB, q storage.Queryable, ts time.Time, ms ...*labels.Matcher) (labels.Labels, float64, bool) {
	t.Helper()
	qr, err := q.Querier(0, timestamp.FromTime(ts))
	require.NoError(t, err)
	defer qr.Close()
	ss := qr.Select(context.Background(), false, nil, ms...)
	var (
		ls labels.Labels
		v  float64
		ok bool
	)
	for ss.Next() {
		it := ss.At().Iterator(nil)
		for it.Next() != 0 {
			_, v = it.At()
			ok = true
		}
		ls = ss.At().Labels()
	}
	require.NoError(t, ss.Err())
	return ls, v, ok
}
