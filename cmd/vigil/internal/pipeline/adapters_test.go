package pipeline

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/store"
	"github.com/vigilterm/vigil/tui"
)

var (
	labelsType    = reflect.TypeFor[labels.Labels]()
	timeType      = reflect.TypeFor[time.Time]()
	durationType  = reflect.TypeFor[time.Duration]()
	metricTypeTyp = reflect.TypeFor[model.MetricType]()
)

// filled returns a T whose every field holds a value of its own, none
// zero, so that a field an adapter forgets or mixes up shows.
func filled[T any](t *testing.T) T {
	var v T
	rv := reflect.ValueOf(&v).Elem()
	base := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for i := range rv.NumField() {
		f, name := rv.Field(i), rv.Type().Field(i).Name
		switch {
		case f.Type() == labelsType:
			f.Set(reflect.ValueOf(labels.FromStrings("field", name)))
		case f.Type() == timeType:
			f.Set(reflect.ValueOf(base.Add(time.Duration(i+1) * time.Minute)))
		case f.Type() == durationType:
			f.SetInt(int64(time.Duration(i+1) * time.Millisecond))
		case f.Type() == metricTypeTyp:
			f.SetString(string(model.MetricTypeCounter))
		case f.Kind() == reflect.String:
			f.SetString(name + " value")
		case f.Kind() == reflect.Int:
			f.SetInt(int64(i + 1))
		case f.Kind() == reflect.Float64:
			f.SetFloat(float64(i) + 0.5)
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		default:
			t.Fatalf("%T.%s: no value for a %s; teach filled", v, name, f.Type())
		}
	}
	return v
}

// requireSame checks that got (a tui type) has the fields of src (what it
// adapts), no more and no fewer, each with src's value.
func requireSame(t *testing.T, src, got any) {
	t.Helper()
	sv, gv := reflect.ValueOf(src), reflect.ValueOf(got)
	var srcNames, gotNames []string
	for i := range sv.NumField() {
		srcNames = append(srcNames, sv.Type().Field(i).Name)
	}
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		gotNames = append(gotNames, name)
		sf := sv.FieldByName(name)
		if !sf.IsValid() {
			continue // reported below
		}
		want := sf
		if sf.Type() != gv.Field(i).Type() {
			want = sf.Convert(gv.Field(i).Type()) // a health or a state
		}
		require.Equal(t, want.Interface(), gv.Field(i).Interface(), "%T.%s", got, name)
	}
	require.ElementsMatch(t, srcNames, gotNames, "%T and %T differ in their fields", src, got)
}

// TestAdapters: the console gets every field of what scrape and alert
// report, under the same name.
func TestAdapters(t *testing.T) {
	th := filled[scrape.TargetHealth](t)
	requireSame(t, th, consoleTarget(th))
	a := filled[alert.Alert](t)
	requireSame(t, a, consoleAlert(a))
	r := filled[alert.RuleStatus](t)
	requireSame(t, r, consoleRule(r))
	e := filled[alert.Event](t)
	requireSame(t, e, consoleEvent(e))
	md := filled[scrape.Metadata](t)
	requireSame(t, md, tui.Metadata{Type: md.Type})
}

// TestHealthAndStateNames: a health or a state is converted by its name,
// so both sides must name each the same (Prometheus' names).
func TestHealthAndStateNames(t *testing.T) {
	for _, c := range []struct{ theirs, ours string }{
		{string(scrape.HealthUnknown), string(tui.TargetUnknown)},
		{string(scrape.HealthUp), string(tui.TargetUp)},
		{string(scrape.HealthDown), string(tui.TargetDown)},
		{string(alert.HealthUnknown), string(tui.RuleUnknown)},
		{string(alert.HealthOK), string(tui.RuleOK)},
		{string(alert.HealthErr), string(tui.RuleErr)},
		{string(alert.StatePending), string(tui.StatePending)},
		{string(alert.StateFiring), string(tui.StateFiring)},
		{string(alert.StateResolved), string(tui.StateResolved)},
		{string(alert.StateInactive), string(tui.StateInactive)},
	} {
		require.Equal(t, c.theirs, c.ours)
	}
}

// TestScrapeAdapters reads a real scrape through the adapters: the
// target and what its TYPE lines declare.
func TestScrapeAdapters(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "# TYPE jobs_total counter\njobs_total 3\n# TYPE queue gauge\nqueue 1\n")
	}))
	defer srv.Close()
	db := store.New(store.DefaultOptions())
	defer db.Close()
	m := scrape.NewManager(db, scrape.Options{})
	defer m.Close()
	cfg, err := scrape.NewStaticConfig([]string{srv.URL}, 50*time.Millisecond)
	require.NoError(t, err)
	require.NoError(t, m.ApplyConfig(cfg))

	targets := Targets(m)
	require.Eventually(t, func() bool {
		ts := targets()
		return len(ts) == 1 && ts[0].Health == tui.TargetUp
	}, 20*time.Second, 10*time.Millisecond)
	require.Equal(t, "node", targets()[0].Job)
	md, err := Metadata(m)(context.Background(), "")
	require.NoError(t, err)
	require.Equal(t, map[string][]tui.Metadata{
		"jobs_total": {{Type: model.MetricTypeCounter}},
		"queue":      {{Type: model.MetricTypeGauge}},
	}, md)
}

// TestAlertAdapters reads a real evaluation through the adapters.
func TestAlertAdapters(t *testing.T) {
	db := store.New(store.DefaultOptions())
	defer db.Close()
	groups, err := alert.AlertFlagGroups([]string{"Always: vector(1) > 0"})
	require.NoError(t, err)
	m, err := alert.NewManager(groups, alert.Options{Queryable: db, Appendable: db, Engine: promql.NewEngine(alert.DefaultEngineOptions(nil))})
	require.NoError(t, err)
	defer m.Close()
	m.Eval(context.Background(), time.Now())

	as := Alerts(m)()
	require.Len(t, as, 1)
	require.Equal(t, tui.StateFiring, as[0].State)
	require.Equal(t, "Always", as[0].Labels.Get("alertname"))
	rs := Rules(m)()
	require.Len(t, rs, 1)
	require.Equal(t, tui.RuleOK, rs[0].Health)
	require.Equal(t, 1, rs[0].Firing)
}

// TestEventRelay: events reach the console in its type and in order, and
// the relay ends on Close even while it holds one nobody takes.
func TestEventRelay(t *testing.T) {
	sink := alert.NewChannelSink(4)
	r := RelayEvents(sink.C())
	for i := range 3 {
		sink.Send(alert.Event{State: alert.StateFiring, Labels: labels.FromStrings("alertname", fmt.Sprint("A", i)), Value: float64(i)})
	}
	for i := range 3 {
		select {
		case e := <-r.C():
			require.Equal(t, tui.StateFiring, e.State)
			require.Equal(t, fmt.Sprint("A", i), e.Labels.Get("alertname"))
			require.InDelta(t, float64(i), e.Value, 0)
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d never arrived", i)
		}
	}
	sink.Send(alert.Event{State: alert.StateResolved})
	r.Close()
	r.Close()
}
