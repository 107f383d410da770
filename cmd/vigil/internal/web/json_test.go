package web

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzJSONString holds appendString to encoding/json's escaping, which is
// what Prometheus' encoder follows: every string, valid UTF-8 or not.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[31m<b>&\"\\\n\u2028\u2029é\x7f", "\xff\xfe", "a\x00b\tc\rd\be\ff", "\xe2\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		require.Equal(t, string(want), string(appendString(nil, s)))
	})
}

// TestNumbers: times are written as Prometheus writes them (three
// decimals when there are any, trailing zeros kept), and JSON numbers as
// encoding/json writes them.
func TestNumbers(t *testing.T) {
	for _, tc := range []struct {
		t    int64
		want string
	}{
		{0, "0"}, {1500, "1.500"}, {1001, "1.001"}, {1010, "1.010"}, {1435781451781, "1435781451.781"}, {-1500, "-1.500"}, {-2000, "-2"},
	} {
		e := &encoder{}
		e.timestamp(tc.t)
		require.Equal(t, tc.want, string(e.b), "%d", tc.t)
	}
	for _, f := range []float64{0, 1, -1.5, 1e-7, 1e21, 123456789.125, 5e-324} {
		e := &encoder{}
		e.number(f)
		want, err := json.Marshal(f)
		require.NoError(t, err)
		require.Equal(t, string(want), string(e.b), "%v", f)
	}
}
