package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
)

// reportingSource lists what it is given and says why the list is not
// what there is, as a remote source does through Reporting.
type reportingSource struct {
	targets []Target
	alerts  []Alert
	rules   []Rule
	err     error
}

type (
	reportingTargets struct{ *reportingSource }
	reportingAlerts  struct{ *reportingSource }
	reportingRules   struct{ *reportingSource }
)

func (s reportingTargets) Targets() []Target { return s.targets }
func (s reportingAlerts) Alerts() []Alert    { return s.alerts }
func (s reportingRules) Rules() []Rule       { return s.rules }
func (s *reportingSource) Reporting() error  { return s.err }

var (
	_ Reporting = reportingTargets{}
	_ Reporting = reportingAlerts{}
	_ Reporting = reportingRules{}
)

// TestNotReported: what a source does not report is said where its list
// would be, and in the header as not known, never as an empty list with
// counts of zero; a source that reports again is shown as before.
func TestNotReported(t *testing.T) {
	src := &reportingSource{err: fmt.Errorf("targets: %w", ErrNotReported)}
	opts := testOptions(t)
	opts.Targets = reportingTargets{src}
	opts.Alerts = reportingAlerts{src}
	opts.Rules = reportingRules{src}
	opts.Metadata = MetadataFunc(func(context.Context, string) (map[string][]Metadata, error) {
		return nil, fmt.Errorf("metadata: %w", ErrNotReported)
	})

	for _, size := range [][2]int{{80, 24}, {40, 12}} {
		m := newTestModel(t, opts, size[0], size[1])
		head := strings.SplitN(m.View(), "\n", 2)[0]
		if size[0] >= 80 {
			require.Contains(t, head, "targets not reported")
			require.Contains(t, head, "alerts not reported")
			require.NotContains(t, head, "0/0")
		} else {
			require.Contains(t, head, "?↑ ?F ?P", "narrow: the counts are not known")
		}
	}

	m := newTestModel(t, opts, 80, 24)
	scr := press(t, m, "2").View()
	require.Contains(t, scr, "targets: not reported by the remote")
	require.NotContains(t, scr, "no targets")

	scr = press(t, m, "3").View()
	require.Contains(t, scr, "not reported by the remote")
	require.NotContains(t, scr, "all quiet")
	scr = press(t, newTestModel(t, opts, 80, 24), "3", "l").View()
	require.Contains(t, scr, "rules: targets: not reported by the remote")

	scr = press(t, m, "4").View()
	require.Contains(t, scr, "metric types not reported by the remote: counters are told by their names")
	require.NotContains(t, scr, "metric types: ", "not an error: the remote keeps none")

	// Not known yet (a remote that has not answered) is not "not reported".
	src.err = errors.New("not known yet: reading from the remote")
	m = tick(t, m)
	require.Contains(t, strings.SplitN(m.View(), "\n", 2)[0], "targets not known")
	require.Contains(t, press(t, m, "2").View(), "targets: not known yet: reading from the remote")

	// The source reports again: the lists and counts are back.
	src.err = nil
	src.targets = testTargets()
	src.alerts = testAlerts()
	src.rules = testRules()
	m = tick(t, m)
	head := strings.SplitN(m.View(), "\n", 2)[0]
	require.Contains(t, head, "targets 2/4 up")
	require.Contains(t, head, "1 firing")
	scr = press(t, m, "2").View()
	require.Contains(t, scr, "db1:9100")
	require.NotContains(t, scr, "not reported")
}

// TestTargetCountsNotKnown: a remote target whose samples and series are
// not known (-1) and whose interval is not known (0) shows them as not
// known, not as 0 or -1.
func TestTargetCountsNotKnown(t *testing.T) {
	opts := testOptions(t)
	opts.Targets = TargetsFunc(func() []Target {
		ts := testTargets()[:1]
		ts[0].LastSamples, ts[0].Series = -1, -1
		ts[0].ScrapeInterval, ts[0].ScrapeTimeout = 0, 0
		return ts
	})
	m := press(t, newTestModel(t, opts, 100, 24), "2")
	scr := m.View()
	require.NotContains(t, scr, "-1")
	require.Regexp(t, `db1:9100 +up +2\.0s +23ms +- `, scr)
	scr = press(t, m, "enter").View()
	require.Regexp(t, `samples +-\n`, scr)
	require.Regexp(t, `series +-\n`, scr)
	require.Contains(t, scr, "interval   - (timeout -)")
	require.NotContains(t, scr, "-1")
}

// failingQuerier fails every call while fail is set, as a remote that
// does not answer.
type failingQuerier struct {
	Querier
	fail atomic.Bool
}

var errNoAnswer = errors.New(`Post "http://remote:9090/api/v1/query": context deadline exceeded`)

func (q *failingQuerier) Instant(ctx context.Context, expr string, ts time.Time) (parser.Value, error) {
	if q.fail.Load() {
		return nil, errNoAnswer
	}
	return q.Querier.Instant(ctx, expr, ts)
}

func (q *failingQuerier) Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	if q.fail.Load() {
		return nil, errNoAnswer
	}
	return q.Querier.Range(ctx, expr, start, end, step)
}

// TestFailedReadKeepsHosts: when the queries fail (a remote that does not
// answer), the Overview and the host page keep what they read, with the
// error above it, rather than say there are no hosts; they are read again
// when the queries answer.
func TestFailedReadKeepsHosts(t *testing.T) {
	opts := testOptions(t)
	q := &failingQuerier{Querier: opts.Querier}
	opts.Querier = q
	now := testNow
	opts.Now = func() time.Time { return now }
	m := newTestModel(t, opts, 100, 30)
	before := m.View()
	require.Contains(t, before, "db1:9100")
	require.NotContains(t, before, "query: ")

	q.fail.Store(true)
	now = now.Add(10 * time.Second)
	m = tick(t, m)
	scr := m.View()
	require.Contains(t, scr, "query: "+errNoAnswer.Error()[:40])
	require.Contains(t, scr, "db1:9100", "the hosts last read stay")
	require.NotContains(t, scr, "no hosts")

	q.fail.Store(false)
	now = now.Add(10 * time.Second)
	m = tick(t, m)
	require.NotContains(t, m.View(), "query: ")

	// The host page: read, then failing.
	m = press(t, m, "enter")
	page := m.View()
	require.Contains(t, page, "LOAD")
	q.fail.Store(true)
	now = now.Add(10 * time.Second)
	m = tick(t, m)
	scr = m.View()
	require.Contains(t, scr, "query: ")
	loadLine := func(scr string) string {
		for _, l := range strings.Split(scr, "\n") {
			if strings.HasPrefix(l, "LOAD") {
				return l
			}
		}
		return ""
	}
	require.Regexp(t, `^LOAD +[0-9.]+ `, loadLine(page))
	require.Equal(t, loadLine(page), loadLine(scr), "what the page read stays")
	q.fail.Store(false)
	now = now.Add(10 * time.Second)
	m = tick(t, m)
	require.NotContains(t, m.View(), "query: ")
	m = press(t, m, "esc")
	require.NotContains(t, m.View(), "query: ")
	require.Contains(t, m.View(), "db1:9100")
}
