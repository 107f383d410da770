package scrape_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape"
)

func TestSanitize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a\x1b[31mred\x1b[0m", "ared"},
		{"title\x1b]0;pwned\x07end", "titleend"},
		{"osc st\x1b]8;;http://x\x1b\\link", "osc stlink"},
		{"c1 \u009b31m csi", "c1  csi"},
		{"bad \xff utf8", "bad \ufffd utf8"},
		{"tab\tnl\ncr\r", "tab nl cr "},
		{"bell\x07del\x7f", "belldel"},
		{"ünïcødé ✓", "ünïcødé ✓"},
	} {
		require.Equal(t, tc.want, scrape.Sanitize(tc.in, 0), "%q", tc.in)
	}
	require.Equal(t, "abc…", scrape.Sanitize("abcdef", 3))
	require.Equal(t, "abc", scrape.Sanitize("abc", 3))
}
