package alert_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
)

// FuzzParseAlertFlag: no --alert value panics, and what is accepted is a
// rule that compiles and evaluates.
func FuzzParseAlertFlag(f *testing.F) {
	for _, s := range []string{
		"HighLoad: node_load1 > 4 for 2m", "node_load1 > 4", "up == 0 for 30s",
		`Disk: node_filesystem_avail_bytes{mountpoint="/"} < 1e9 FOR 1h`,
		"X: rate(x[5m:1m]) > 1", "a:b:c > 1", ": x", "X:", "for 5m", "\x00: \xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := alert.ParseAlertFlag(s)
		if err != nil {
			require.ErrorIs(t, err, alert.ErrAlertFlag)
			return
		}
		require.NotEmpty(t, r.Alert)
		gs, err := alert.AlertFlagGroups([]string{s})
		require.NoError(t, err)
		_, err = alert.NewManager(gs, alert.Options{Queryable: emptyQueryable})
		require.NoError(t, err)
	})
}

// FuzzParseGroups: no rule file panics the loader, and every file it
// accepts compiles.
func FuzzParseGroups(f *testing.F) {
	for _, p := range []string{"node-mixin.yml", "awesome-host.yml", "bad.yml", "bad-yaml.yml", "bad-groups.yml", "bad-durations.yml", "bad-names.yml", "utf8-names.yml"} {
		b, err := os.ReadFile(fixture(p))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add(alert.DefaultRulesYAML())
	f.Fuzz(func(t *testing.T, b []byte) {
		gs, err := alert.ParseGroups("fuzz.yml", b)
		if err != nil {
			return
		}
		_, err = alert.NewManager(gs, alert.Options{Queryable: emptyQueryable})
		require.NoError(t, err)
	})
}
