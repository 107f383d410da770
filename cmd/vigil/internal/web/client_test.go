package web_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/cmd/vigil/internal/web"
)

// TestClient reads every /api/v1 endpoint vigil serves with Prometheus'
// own Go client, which decodes Prometheus' shapes strictly: what it reads
// is what the store, the scrapes and the rules hold.
func TestClient(t *testing.T) {
	f := newFixture(t, web.Options{})
	ctx := context.Background()
	at := func(k int) model.Time {
		return model.TimeFromUnixNano(f.now.Add(-10 * time.Minute).Add(time.Duration(k) * step).UnixNano())
	}

	t.Run("query", func(t *testing.T) {
		v, warns, _, err := f.client.Query(ctx, "demo_metric", f.now)
		require.NoError(t, err)
		require.Empty(t, warns)
		now := model.TimeFromUnixNano(f.now.UnixNano())
		require.Equal(t, model.Vector{
			{Metric: metric(demoA), Value: 40, Timestamp: now},
			{Metric: metric(demoB), Value: 80, Timestamp: now},
		}, v)

		v, _, _, err = f.client.Query(ctx, "1 + 1", f.now)
		require.NoError(t, err)
		require.Equal(t, &model.Scalar{Value: 2, Timestamp: now}, v)

		v, warns, _, err = f.client.Query(ctx, "demo_metric", f.now, v1.WithLimit(1))
		require.NoError(t, err)
		require.Len(t, v, 1)
		require.Equal(t, v1.Warnings{"results truncated due to limit"}, warns)
	})

	t.Run("query_range", func(t *testing.T) {
		v, _, _, err := f.client.QueryRange(ctx, "demo_metric", v1.Range{Start: f.now.Add(-2 * time.Minute), End: f.now, Step: 30 * time.Second})
		require.NoError(t, err)
		var a, b []model.SamplePair
		for _, k := range []int{32, 34, 36, 38, 40} {
			a = append(a, model.SamplePair{Timestamp: at(k), Value: model.SampleValue(demoValue(0, k))})
			b = append(b, model.SamplePair{Timestamp: at(k), Value: model.SampleValue(demoValue(1, k))})
		}
		require.Equal(t, model.Matrix{
			{Metric: metric(demoA), Values: a},
			{Metric: metric(demoB), Values: b},
		}, v)
	})

	t.Run("series", func(t *testing.T) {
		got, _, _, err := f.client.Series(ctx, []string{"demo_metric", `{__name__="hostile"}`}, f.now.Add(-time.Hour), f.now)
		require.NoError(t, err)
		require.Equal(t, []model.LabelSet{labelSet(demoA), labelSet(demoB), labelSet(hostile)}, got)
	})

	t.Run("labels", func(t *testing.T) {
		names, _, _, err := f.client.LabelNames(ctx, nil, time.Time{}, time.Time{})
		require.NoError(t, err)
		require.Equal(t, model.LabelNames{"__name__", "instance", "job", "mode", "site", "v"}, names)

		names, _, _, err = f.client.LabelNames(ctx, []string{"hostile"}, time.Time{}, time.Time{})
		require.NoError(t, err)
		require.Equal(t, model.LabelNames{"__name__", "instance", "job", "v"}, names)
	})

	t.Run("label values", func(t *testing.T) {
		vals, _, _, err := f.client.LabelValues(ctx, "__name__", nil, time.Time{}, time.Time{})
		require.NoError(t, err)
		require.Equal(t, model.LabelValues{"demo_metric", "gone", "hostile", "noinst", "sited"}, vals)

		vals, _, _, err = f.client.LabelValues(ctx, "v", nil, time.Time{}, time.Time{})
		require.NoError(t, err)
		require.Equal(t, model.LabelValues{hostileValue}, vals, "a label value comes back as the target sent it")

		vals, _, _, err = f.client.LabelValues(ctx, "instance", []string{"demo_metric"}, time.Time{}, time.Time{})
		require.NoError(t, err)
		require.Equal(t, model.LabelValues{"a:9100", "b:9100"}, vals)
	})

	t.Run("metadata", func(t *testing.T) {
		md, err := f.client.Metadata(ctx, "", "")
		require.NoError(t, err)
		require.Equal(t, map[string][]v1.Metadata{
			"exp_gauge": {{Type: v1.MetricTypeGauge}},
			"exp_total": {{Type: v1.MetricTypeCounter}},
		}, md)
		md, err = f.client.Metadata(ctx, "exp_total", "")
		require.NoError(t, err)
		require.Equal(t, map[string][]v1.Metadata{"exp_total": {{Type: v1.MetricTypeCounter}}}, md)
	})

	t.Run("targets", func(t *testing.T) {
		got, err := f.client.Targets(ctx)
		require.NoError(t, err)
		require.Len(t, got.Active, 1)
		require.Empty(t, got.Dropped)
		tg := got.Active[0]
		require.Equal(t, "node", tg.ScrapePool)
		require.Equal(t, v1.HealthGood, tg.Health)
		require.Equal(t, model.LabelValue("node"), tg.Labels["job"])
		require.Contains(t, tg.ScrapeURL, string(tg.Labels["instance"]))
		require.False(t, tg.LastScrape.IsZero())
		require.Empty(t, tg.LastError)
	})

	t.Run("rules", func(t *testing.T) {
		got, err := f.client.Rules(ctx, nil)
		require.NoError(t, err)
		require.Len(t, got.Groups, 1)
		g := got.Groups[0]
		require.Equal(t, "demo", g.Name)
		require.True(t, strings.HasSuffix(g.File, "rules.yml"), g.File)
		require.Equal(t, 60.0, g.Interval)
		require.Len(t, g.Rules, 4)

		rec, ok := g.Rules[0].(v1.RecordingRule)
		require.True(t, ok, "%T", g.Rules[0])
		require.Equal(t, "demo:sum", rec.Name)
		require.Equal(t, "sum(demo_metric)", rec.Query)
		require.Equal(t, v1.RuleHealth("ok"), rec.Health)
		require.Equal(t, f.now.UTC(), rec.LastEvaluation.UTC())

		high, ok := g.Rules[1].(v1.AlertingRule)
		require.True(t, ok, "%T", g.Rules[1])
		require.Equal(t, "DemoHigh", high.Name)
		require.Equal(t, "firing", high.State)
		require.Equal(t, model.LabelSet{"severity": "page"}, high.Labels)
		require.Len(t, high.Alerts, 2)
		require.Equal(t, "4e+01", high.Alerts[0].Value)
		require.Equal(t, v1.AlertStateFiring, high.Alerts[0].State)
		require.Equal(t, model.LabelValue("high on a:9100"), high.Alerts[0].Annotations["summary"])

		never := g.Rules[3].(v1.AlertingRule)
		require.Equal(t, "inactive", never.State)
		require.Equal(t, 300.0, never.Duration)
		require.Empty(t, never.Alerts)
	})

	t.Run("alerts", func(t *testing.T) {
		got, err := f.client.Alerts(ctx)
		require.NoError(t, err)
		require.Len(t, got.Alerts, 3)
		var hostileSummary model.LabelValue
		for _, a := range got.Alerts {
			require.Equal(t, v1.AlertStateFiring, a.State)
			require.Equal(t, f.now.UTC(), a.ActiveAt.UTC())
			if a.Labels["alertname"] == "Hostile" {
				hostileSummary = a.Annotations["summary"]
			}
		}
		require.Equal(t, model.LabelValue(hostileValue), hostileSummary, "an annotation made of a target's label comes back as it was")
	})

	t.Run("buildinfo", func(t *testing.T) {
		bi, err := f.client.Buildinfo(ctx)
		require.NoError(t, err)
		require.Equal(t, "9.9.9", bi.Version)
		require.Equal(t, runtime.Version(), bi.GoVersion)
	})

	t.Run("runtimeinfo", func(t *testing.T) {
		ri, err := f.client.Runtimeinfo(ctx)
		require.NoError(t, err)
		require.Equal(t, f.now.Add(-time.Hour).UTC(), ri.StartTime.UTC())
		require.False(t, ri.ReloadConfigSuccess)
		require.Equal(t, f.now.Add(-time.Minute).UTC(), ri.LastConfigTime.UTC())
		require.Equal(t, "2h", ri.StorageRetention)
		require.Equal(t, runtime.GOMAXPROCS(0), ri.GOMAXPROCS)
		require.Positive(t, ri.GoroutineCount)
	})
}

// TestClientErrors: what Prometheus refuses, vigil refuses with the same
// error type, which the client reports.
func TestClientErrors(t *testing.T) {
	f := newFixture(t, web.Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		call func() error
		typ  v1.ErrorType
		msg  string
	}{
		{"a query that does not parse", func() error {
			_, _, _, err := f.client.Query(ctx, "rate(x", f.now)
			return err
		}, v1.ErrBadData, `invalid parameter "query": 1:7: parse error`},
		{"a range that ends before it starts", func() error {
			_, _, _, err := f.client.QueryRange(ctx, "up", v1.Range{Start: f.now, End: f.now.Add(-time.Minute), Step: time.Second})
			return err
		}, v1.ErrBadData, "end timestamp must not be before start time"},
		{"a range of too many points", func() error {
			_, _, _, err := f.client.QueryRange(ctx, "up", v1.Range{Start: f.now.Add(-24 * time.Hour), End: f.now, Step: time.Second})
			return err
		}, v1.ErrBadData, "exceeded maximum resolution of 11,000 points"},
		{"a range query of a matrix", func() error {
			_, _, _, err := f.client.QueryRange(ctx, "demo_metric[1m]", v1.Range{Start: f.now.Add(-time.Minute), End: f.now, Step: time.Second})
			return err
		}, v1.ErrBadData, "invalid expression type \"range vector\""},
		{"a series selector that matches everything", func() error {
			_, _, _, err := f.client.Series(ctx, []string{`{job=~".*"}`}, time.Time{}, time.Time{})
			return err
		}, v1.ErrBadData, "match[] must contain at least one non-empty matcher"},
		{"an evaluation that fails", func() error {
			_, _, _, err := f.client.Query(ctx, `label_replace(label_replace(demo_metric, "instance", "i", "", ""), "mode", "m", "", "")`, f.now)
			return err
		}, v1.ErrExec, "vector cannot contain metrics with the same labelset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var apiErr *v1.Error
			require.True(t, errors.As(err, &apiErr), "%v", err)
			require.Equal(t, tc.typ, apiErr.Type)
			require.Contains(t, apiErr.Msg, tc.msg)
		})
	}
}

func metric(ls interface{ Map() map[string]string }) model.Metric {
	return model.Metric(labelSet(ls))
}

func labelSet(ls interface{ Map() map[string]string }) model.LabelSet {
	out := model.LabelSet{}
	for k, v := range ls.Map() {
		out[model.LabelName(k)] = model.LabelValue(v)
	}
	return out
}
