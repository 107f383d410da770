package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/stretchr/testify/require"

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
	engine := newEngine(nil)
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
			text: "",
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
