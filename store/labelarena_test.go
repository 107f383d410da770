package store

import (
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

// TestLabelArena: label sets built in the arena are the ones labels builds
// itself, long values (a four-byte length) and empty ones included.
func TestLabelArena(t *testing.T) {
	var a labelArena
	defer a.done()
	sets := [][]string{
		{"__name__", "up"},
		{"__name__", "node_cpu_seconds_total", "cpu", "0", "instance", "db1:9100", "job", "node", "mode", "idle"},
		{"a", "", "b", strings.Repeat("x", 254), "c", strings.Repeat("y", 255), "d", strings.Repeat("z", 70_000)},
	}
	var got []labels.Labels
	for _, kv := range sets {
		a.reset()
		for i := 0; i < len(kv); i += 2 {
			a.add(kv[i], kv[i+1])
		}
		l, err := a.labels()
		require.NoError(t, err)
		got = append(got, l)
	}
	for i, kv := range sets {
		want := labels.FromStrings(kv...)
		l := got[i] // later sets did not write over it
		require.True(t, labels.Equal(want, l), "%s != %s", want, l)
		require.Equal(t, want.Hash(), l.Hash())
		require.Equal(t, want.String(), l.String())
		require.Equal(t, want.Len(), l.Len())
		for j := 0; j < len(kv); j += 2 {
			require.Equal(t, kv[j+1], l.Get(kv[j]))
		}
	}
}
