package remote

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/tui"
)

// What the remote sends is untrusted: the fuzz targets feed any body to
// what reads it (parseTargets, here; client_golang's decoding and the
// conversion into the console's types, through a Source) and check that
// the console gets valid values, whatever the body: no panic, label sets
// sorted and unique in a result, points in time order, counts and
// durations in range, at most MaxSeries series. The corpus
// (testdata/fuzz) holds answers of Prometheus 2.42 and VictoriaMetrics
// 1.79 to the requests the console makes.

const fuzzMaxSeries = 50

func FuzzParseTargets(f *testing.F) {
	f.Add([]byte(`{"status":"success","data":{"activeTargets":[{"labels":{"instance":"a:1","job":"j"},"scrapePool":"j","health":"up","lastScrapeDuration":0.1,"scrapeInterval":"15s"}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ts, err := parseTargets(200, body, fuzzMaxSeries)
		if err != nil {
			require.Nil(t, ts)
			return
		}
		require.LessOrEqual(t, len(ts), fuzzMaxSeries)
		for _, tg := range ts {
			checkTarget(t, tg)
		}
	})
}

func checkTarget(t *testing.T, tg tui.Target) {
	checkLabels(t, tg.Labels)
	require.Contains(t, []tui.TargetHealth{tui.TargetUp, tui.TargetDown, tui.TargetUnknown}, tg.Health)
	require.GreaterOrEqual(t, tg.LastDuration, time.Duration(0))
	require.GreaterOrEqual(t, tg.LastSamples, -1)
	require.GreaterOrEqual(t, tg.Series, -1)
	require.GreaterOrEqual(t, tg.ScrapeInterval, time.Duration(0))
	require.GreaterOrEqual(t, tg.ScrapeTimeout, time.Duration(0))
}

func checkLabels(t *testing.T, ls labels.Labels) {
	prev := ""
	first := true
	ls.Range(func(l labels.Label) {
		require.NotEmpty(t, l.Name)
		require.NotEmpty(t, l.Value)
		if !first {
			require.Less(t, prev, l.Name, "labels sorted and unique")
		}
		prev, first = l.Name, false
	})
}

// bodyTransport answers every request with one body.
type bodyTransport struct {
	status int
	body   []byte
}

func (b bodyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: b.status, Status: http.StatusText(b.status), Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(b.body)), ContentLength: int64(len(b.body)), Request: req,
	}, nil
}

// The calls of FuzzAnswers, by the first byte of its input.
const (
	callInstant = iota
	callRange
	callSeries
	callLabelValues
	callLabelNames
	callMetadata
	callRules
	callAlerts
	callTargets
	numCalls
)

func FuzzAnswers(f *testing.F) {
	f.Add(byte(callInstant), uint16(200), []byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"b":"1","a":"2"},"value":[1,"1"]},{"metric":{"a":"2","b":"1"},"value":[1,"2"]}]}}`))
	f.Add(byte(callRange), uint16(200), []byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[[3,"1"],[1,"2"],[3,"NaN"]]}]}}`))
	f.Fuzz(func(t *testing.T, call byte, status uint16, body []byte) {
		s, err := newSource(Options{URL: &url.URL{Scheme: "http", Host: "remote"}, MaxSeries: fuzzMaxSeries, MaxBytes: 1 << 20},
			bodyTransport{status: int(status%600) + 100, body: body})
		require.NoError(t, err)
		defer s.Close()
		ctx := context.Background()
		now := time.Unix(1700000000, 0)
		m := labels.MustNewMatcher(labels.MatchEqual, "job", "node")
		switch call % numCalls {
		case callInstant:
			v, err := s.Instant(ctx, "up", now)
			if err == nil {
				switch v := v.(type) {
				case promql.Vector:
					checkVector(t, v)
				case promql.Matrix:
					checkMatrix(t, v)
				case promql.Scalar, promql.String:
				default:
					t.Fatalf("a result of type %T", v)
				}
			}
		case callRange:
			mat, err := s.Range(ctx, "up", now.Add(-time.Hour), now, time.Minute)
			if err == nil {
				checkMatrix(t, mat)
			}
		case callSeries:
			sets, err := s.Series(ctx, now.Add(-time.Hour), now, 20, m)
			if err == nil {
				require.LessOrEqual(t, len(sets), 20)
				for i, ls := range sets {
					checkLabels(t, ls)
					if i > 0 {
						require.Negative(t, labels.Compare(sets[i-1], ls), "sorted, unique")
					}
				}
			}
		case callLabelValues, callLabelNames:
			var vs []string
			if call%numCalls == callLabelValues {
				vs, err = s.LabelValues(ctx, "job", now.Add(-time.Hour), now)
			} else {
				vs, err = s.LabelNames(ctx, now.Add(-time.Hour), now)
			}
			if err == nil {
				require.LessOrEqual(t, len(vs), fuzzMaxSeries)
				for i, v := range vs {
					require.NotEmpty(t, v)
					if i > 0 {
						require.Less(t, vs[i-1], v, "sorted, unique")
					}
				}
			}
		case callMetadata:
			md, err := s.Metadata(ctx, "")
			if err == nil {
				require.NotEmpty(t, md)
				require.LessOrEqual(t, len(md), fuzzMaxSeries)
				for name := range md {
					require.NotEmpty(t, name)
				}
			}
		case callRules, callAlerts:
			if call%numCalls == callRules {
				s.pollRules(ctx)
			} else {
				s.mu.Lock()
				s.rules.gone = time.Now() // straight to /api/v1/alerts
				s.mu.Unlock()
				s.pollRules(ctx)
			}
			for _, r := range s.RuleSource().Rules() {
				require.GreaterOrEqual(t, r.For, time.Duration(0))
				require.GreaterOrEqual(t, r.LastDuration, time.Duration(0))
				require.GreaterOrEqual(t, r.Interval, time.Duration(0))
				require.Contains(t, []tui.RuleHealth{tui.RuleOK, tui.RuleErr, tui.RuleUnknown}, r.Health)
				checkLabels(t, r.Labels)
			}
			as := s.AlertSource().Alerts()
			require.LessOrEqual(t, len(as), fuzzMaxSeries)
			for _, a := range as {
				require.Contains(t, []tui.AlertState{tui.StateFiring, tui.StatePending, tui.StateInactive}, a.State)
				checkLabels(t, a.Labels)
				checkLabels(t, a.Annotations)
			}
		case callTargets:
			s.pollTargets(ctx)
			ts := s.TargetSource().Targets()
			require.LessOrEqual(t, len(ts), fuzzMaxSeries)
			for _, tg := range ts {
				checkTarget(t, tg)
			}
		}
	})
}

func checkVector(t *testing.T, v promql.Vector) {
	require.LessOrEqual(t, len(v), fuzzMaxSeries)
	seen := map[string]bool{}
	for _, s := range v {
		checkLabels(t, s.Metric)
		k := s.Metric.String()
		require.False(t, seen[k], "two series of %s", k)
		seen[k] = true
	}
}

func checkMatrix(t *testing.T, m promql.Matrix) {
	require.LessOrEqual(t, len(m), fuzzMaxSeries)
	seen := map[string]bool{}
	for _, s := range m {
		checkLabels(t, s.Metric)
		k := s.Metric.String()
		require.False(t, seen[k], "two series of %s", k)
		seen[k] = true
		for i := 1; i < len(s.Floats); i++ {
			require.Less(t, s.Floats[i-1].T, s.Floats[i].T, "points in time order")
		}
		for i := 1; i < len(s.Histograms); i++ {
			require.Less(t, s.Histograms[i-1].T, s.Histograms[i].T, "points in time order")
		}
		for _, p := range s.Histograms {
			require.NotNil(t, p.H)
		}
	}
}
