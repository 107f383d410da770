package alert_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
)

func TestParseExternalURL(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "http://vigil.example:9090", want: "http://vigil.example:9090"},
		{in: "http://vigil.example:9090/", want: "http://vigil.example:9090"},
		{in: "https://example.com/vigil//", want: "https://example.com/vigil"},
		{in: "vigil.example:9090", err: "absolute http(s) URL"},
		{in: "/vigil", err: "absolute http(s) URL"},
		{in: "ftp://example.com", err: "absolute http(s) URL"},
		{in: `"http://example.com"`, err: "quotes"},
		{in: "http://[::1", err: "missing ']'"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := alert.ParseExternalURL(tc.in)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestExternalURL: $externalURL in templates, and the generator URL sent to
// Alertmanager is absolute, one slash after the external URL's path.
func TestExternalURL(t *testing.T) {
	ext, err := alert.ParseExternalURL("https://example.com/vigil/")
	require.NoError(t, err)
	st := newTestStore(t)
	var sent []alert.NotifyAlert
	m := newManager(t, st, `
groups:
  - name: g
    rules:
      - alert: Up
        expr: vector(1)
        annotations:
          link: "{{ $externalURL }}/alerts"
`, alert.Options{ExternalURL: ext, Notify: func(_ context.Context, as ...alert.NotifyAlert) { sent = append(sent, as...) }})
	m.Eval(context.Background(), t0)
	require.Len(t, sent, 1)
	require.Equal(t, "https://example.com/vigil/alerts", sent[0].Annotations.Get("link"))
	require.Equal(t, "https://example.com/vigil/graph?g0.expr=vector%281%29&g0.tab=1", sent[0].GeneratorURL)
}
