package tui

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
)

// countingQuerier counts the queries that reach the store.
type countingQuerier struct {
	Querier
	instant, rng atomic.Int64
}

func (q *countingQuerier) Instant(ctx context.Context, expr string, ts time.Time) (parser.Value, error) {
	q.instant.Add(1)
	return q.Querier.Instant(ctx, expr, ts)
}

func (q *countingQuerier) Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	q.rng.Add(1)
	return q.Querier.Range(ctx, expr, start, end, step)
}

func (q *countingQuerier) LabelValues(ctx context.Context, name string, start, end time.Time, ms ...*labels.Matcher) ([]string, error) {
	return q.Querier.LabelValues(ctx, name, start, end, ms...)
}

// TestRefreshEconomy checks that a tick which brings no new step neither
// queries the store nor changes any line but the clock: over a slow link
// an idle console sends one short line a second.
func TestRefreshEconomy(t *testing.T) {
	opts := testOptions(t)
	cq := &countingQuerier{Querier: opts.Querier}
	opts.Querier = cq
	now := testNow
	opts.Now = func() time.Time { return now }
	m := newTestModel(t, opts, 80, 24)
	at := func(d time.Duration) {
		now = testNow.Add(d)
		m = drive(t, m, func() tea.Msg { return tickMsg(now) })
	}
	at(0)
	first := m.View()
	ranges, instants := cq.rng.Load(), cq.instant.Load()
	require.Positive(t, ranges)

	at(1 * time.Second)
	require.Equal(t, ranges, cq.rng.Load(), "no range query within a step")
	require.Equal(t, instants, cq.instant.Load(), "no instant query within the value step")
	requireSameBut(t, first, m.View(), 0)

	at(valueStep)
	require.Equal(t, ranges, cq.rng.Load(), "no range query within a step")
	require.Greater(t, cq.instant.Load(), instants, "current values re-read")

	at(time.Minute)
	require.Greater(t, cq.rng.Load(), ranges, "sparklines re-read once a step passed")
}

// requireSameBut fails when a and b differ in any line but line skip.
func requireSameBut(t *testing.T, a, b string, skip int) {
	t.Helper()
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	require.Equal(t, len(la), len(lb))
	for i := range la {
		if i != skip {
			require.Equal(t, la[i], lb[i], "line %d changed", i)
		}
	}
}
