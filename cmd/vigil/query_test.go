package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/store"
	"github.com/vigilterm/vigil/tui"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "1700000000", want: time.Unix(1700000000, 0).UTC()},
		{in: "1700000000.5", want: time.Unix(1700000000, 500_000_000).UTC()},
		{in: "2026-11-24T10:00:00Z", want: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)},
		{in: "yesterday", wantErr: true},
		{in: "NaN", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseTime(tc.in)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.True(t, tc.want.Equal(got), "got %v want %v", got, tc.want)
		})
	}
}

func TestQueryOutput(t *testing.T) {
	st := promqltest.LoadedStorage(t, `
load 10s
  up{job="node",instance="a:9100"} 1 1 1
  up{job="node",instance="b:9100"} 0 0 0
`)
	engine := newEngine(nil, 0)
	ts := time.Unix(20, 0)

	tests := []struct {
		name, expr, text, json string
	}{
		{
			name: "vector",
			expr: `up`,
			text: "up{instance=\"a:9100\", job=\"node\"} => 1 @[20]\nup{instance=\"b:9100\", job=\"node\"} => 0 @[20]\n",
			json: `{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"a:9100","job":"node"},"value":[20,"1"]},{"metric":{"__name__":"up","instance":"b:9100","job":"node"},"value":[20,"0"]}]}` + "\n",
		},
		{
			name: "scalar",
			expr: `scalar(sum(up))`,
			text: "scalar: 1 @[20]\n",
			json: `{"resultType":"scalar","result":[20,"1"]}` + "\n",
		},
		{
			name: "empty",
			expr: `up{job="none"}`,
			text: "\n", // promtool prints the empty result: an empty line
			json: `{"resultType":"vector","result":[]}` + "\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tui.NewEngineQuerier(engine, st).Instant(context.Background(), tc.expr, ts)
			require.NoError(t, err)
			var text, js bytes.Buffer
			require.NoError(t, printValue(&text, v))
			require.NoError(t, printJSON(&js, v))
			// The engine does not promise an order for an unsorted vector.
			require.ElementsMatch(t, strings.SplitAfter(tc.text, "\n"), strings.SplitAfter(text.String(), "\n"))
			if tc.name != "vector" {
				require.Equal(t, tc.json, js.String())
			} else {
				require.Contains(t, js.String(), `{"metric":{"__name__":"up","instance":"a:9100","job":"node"},"value":[20,"1"]}`)
				require.Contains(t, js.String(), `{"metric":{"__name__":"up","instance":"b:9100","job":"node"},"value":[20,"0"]}`)
				require.True(t, strings.HasPrefix(js.String(), `{"resultType":"vector","result":[`))
			}
		})
	}

	_, err := tui.NewEngineQuerier(engine, st).Instant(context.Background(), `up{`, ts)
	require.ErrorContains(t, err, "parse error")
}

// TestQueryRangeOutput checks `vigil query --range` against promtool query
// range's format: each series as `{labels} =>` and its points, series in
// label order; --json as the HTTP API's data object.
func TestQueryRangeOutput(t *testing.T) {
	st := promqltest.LoadedStorage(t, `
load 10s
  up{job="node",instance="b:9100"} 0 1 0
  up{job="node",instance="a:9100"} 1 1 1
`)
	v, err := tui.NewEngineQuerier(newEngine(nil, 0), st).Range(context.Background(), "up", time.Unix(0, 0), time.Unix(20, 0), 10*time.Second)
	require.NoError(t, err)
	var text, js bytes.Buffer
	require.NoError(t, printValue(&text, v))
	require.NoError(t, printJSON(&js, v))
	require.Equal(t, `up{instance="a:9100", job="node"} =>
1 @[0]
1 @[10]
1 @[20]
up{instance="b:9100", job="node"} =>
0 @[0]
1 @[10]
0 @[20]
`, text.String())
	require.Contains(t, js.String(), `{"metric":{"__name__":"up","instance":"a:9100","job":"node"},"values":[[0,"1"],[10,"1"],[20,"1"]]}`)
	require.True(t, strings.HasPrefix(js.String(), `{"resultType":"matrix","result":[`), js.String())
}

// TestQueryCommand runs `vigil query` on a snapshot: instant and range,
// the defaults of a range, the step of subqueries that name none, and
// refused flags.
func TestQueryCommand(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(dir, store.DefaultOptions())
	require.NoError(t, err)
	end := time.Unix(1_700_000_000, 0)
	app := db.Appender()
	ls := labels.FromStrings("__name__", "x", "job", "j")
	for i := range 121 { // ten minutes at 5s
		_, err := app.Append(0, ls, end.Add(-time.Duration(120-i)*5*time.Second).UnixMilli(), float64(i))
		require.NoError(t, err)
	}
	require.NoError(t, app.Commit())
	require.NoError(t, db.Close()) // writes the snapshot

	query := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"query", "--data-dir", dir}, args...), &out, &errb)
		return out.String(), errb.String(), code
	}
	e := fmt.Sprint(end.Unix())

	out, _, code := query("--time", e, "x")
	require.Equal(t, exitOK, code)
	require.Equal(t, "x{job=\"j\"} => 120 @["+e+"]\n", out)

	// Subqueries without a step use --eval-interval, 5s by default.
	out, _, _ = query("--time", e, "count_over_time(x[1m:])")
	require.Equal(t, "{job=\"j\"} => 12 @["+e+"]\n", out)
	out, _, _ = query("--time", e, "--eval-interval", "30s", "count_over_time(x[1m:])")
	require.Equal(t, "{job=\"j\"} => 2 @["+e+"]\n", out)

	// A range: 5m before the end by default, at 1s (300s / 250, floored).
	out, _, code = query("--range", "--end", e, "x")
	require.Equal(t, exitOK, code)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Equal(t, `x{job="j"} =>`, lines[0])
	require.Len(t, lines, 1+301)
	require.Equal(t, fmt.Sprintf("60 @[%d]", end.Unix()-300), lines[1])
	require.Equal(t, "120 @["+e+"]", lines[len(lines)-1])

	out, _, code = query("--range", "--start", fmt.Sprint(end.Unix()-60), "--end", e, "--step", "30s", "--json", "x")
	require.Equal(t, exitOK, code)
	require.Equal(t, fmt.Sprintf(`{"resultType":"matrix","result":[{"metric":{"__name__":"x","job":"j"},"values":[[%d,"108"],[%d,"114"],[%d,"120"]]}]}`+"\n", end.Unix()-60, end.Unix()-30, end.Unix()), out)

	// With no end given, a snapshot older than the lookback is queried at
	// its newest sample.
	out, errOut, code := query("--range", "--step", "1m", "x")
	require.Equal(t, exitOK, code)
	require.Contains(t, errOut, "the snapshot ends at")
	require.True(t, strings.HasSuffix(out, "120 @["+e+"]\n"), out)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--start", e, "x"}, "need --range"},
		{[]string{"--range", "--time", e, "x"}, "--time is for instant queries"},
		{[]string{"--range", "--start", e, "--end", e, "x"}, "the start is not before the end"},
		{[]string{"--range", "--end", "tomorrow", "x"}, "--end: cannot parse"},
		{[]string{"--range", "--step", "-1s", "x"}, "must be positive"},
	} {
		_, errOut, code := query(tc.args...)
		require.Equal(t, exitUsage, code, "%v", tc.args)
		require.Contains(t, errOut, tc.want, "%v", tc.args)
	}
	_, errOut, code = query("--range", "--end", e, "rate(x[5m]")
	require.Equal(t, exitFailed, code)
	require.Contains(t, errOut, "parse error")

	// --help is help, with exit 0.
	_, errOut, code = query("--help")
	require.Equal(t, exitOK, code)
	require.Contains(t, errOut, "vigil query --range")
}
