package tui

import (
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
)

// hostile are label values an exporter could send to take over a
// terminal or hide what it shows.
var hostile = []string{
	"\x1b[2J\x1b[H",                       // clear screen, cursor home
	"\x1b]0;pwned\x07",                    // OSC: set window title
	"\x1b]52;c;cm0gLXJmIH4=\x1b\\",        // OSC 52: write the clipboard
	"\x1bP+q544e\x1b\\",                   // DCS query
	"\x9b31m\x9d0;t\x9c",                  // C1 CSI, OSC, ST as UTF-8
	"\xc2\x9b6n",                          // C1 CSI device status report
	"a\x00b\x7fc\x08\x08\x08",             // NUL, DEL, backspaces
	"line1\nline2\r\nline3\tx",            // line breaks
	"\xff\xfe\xfd broken \xe2\x82",        // invalid UTF-8
	"evil\u202egnp.exe",                   // bidi override
	"zero\u200bwidth\u2060joiner\ufeff",   // invisible characters
	"sep\u2028line\u2029para",             // Unicode line separators
	strings.Repeat("\x1b[31mA", 100000),   // megabytes of escapes
	"\x1b[?1049l\x1b[?25l\x1b[6n\x1b[21t", // leave alt screen, hide cursor, queries
}

// requireSafe fails when s holds anything a terminal would interpret.
func requireSafe(t testing.TB, s string) {
	t.Helper()
	require.True(t, utf8.ValidString(s), "invalid UTF-8 in %q", s)
	for i, r := range s {
		if r == '\n' {
			continue
		}
		require.False(t, unsafeRune(r), "unsafe rune %U at %d in %q", r, i, s)
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "db1:9100", 0, "db1:9100"},
		{"escape", "a\x1b[31mb", 0, `a\x1b[31mb`},
		{"osc", "\x1b]0;t\x07", 0, `\x1b]0;t\x07`},
		{"c1", "\u009b31m", 0, `\x9b31m`},
		{"newline", "a\nb", 0, `a\nb`},
		{"tab", "a\tb", 0, `a\tb`},
		{"invalid utf8", "a\xffb", 0, "a\uFFFDb"},
		{"bidi", "a\u202eb", 0, `a\u202eb`},
		{"zero width", "a\u200bb", 0, `a\u200bb`},
		{"cap", "abcdefghij", 5, "abcd…"},
		{"cap exact", "abcde", 5, "abcde"},
		{"cap escape", "ab\x1bcd", 4, "ab…"},
		{"wide", "日本語テキスト", 7, "日本語…"},
		{"utf8 kept", "Grüße, 世界", 0, "Grüße, 世界"},
		{"empty", "", 10, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Sanitize(tc.in, tc.max)
			require.Equal(t, tc.want, got)
			requireSafe(t, got)
			if tc.max > 0 {
				require.LessOrEqual(t, ansi.StringWidth(got), tc.max)
			}
		})
	}
}

func TestSanitizeHostile(t *testing.T) {
	for _, in := range hostile {
		for _, max := range []int{0, 1, 2, 10, maxLabelLen} {
			got := Sanitize(in, max)
			requireSafe(t, got)
			if max > 0 {
				require.LessOrEqual(t, ansi.StringWidth(got), max)
			}
		}
	}
}

func FuzzSanitize(f *testing.F) {
	for _, h := range hostile {
		if len(h) < 1000 {
			f.Add(h, 20)
		}
	}
	f.Add("plain", 0)
	f.Fuzz(func(t *testing.T, s string, max int) {
		max %= 1000
		got := Sanitize(s, max)
		requireSafe(t, got)
		if max > 0 {
			require.LessOrEqual(t, ansi.StringWidth(got), max)
		}
	})
}

func TestFormat(t *testing.T) {
	require.Equal(t, "0s", formatDuration(0))
	require.Equal(t, "850ms", formatDuration(850*time.Millisecond))
	require.Equal(t, "4m5s", formatDuration(245*time.Second))
	require.Equal(t, "2d4h", formatDuration(52*time.Hour))
	require.Equal(t, "1.2MB/s", formatSI(1_234_567, "B/s"))
	require.Equal(t, "2.99M", formatAxis(2_994_530))
	require.Equal(t, "NaN", formatValue(math.NaN()))
	require.Equal(t, "+Inf", formatValue(math.Inf(1)))
	require.Equal(t, "2305260.0659", formatValue(2305260.065912345))
	require.Equal(t, "1h", formatRange(time.Hour))
	require.Equal(t, `{a="\x1b", b="c"}`, labelsString(labels.FromStrings("a", "\x1b", "b", "c"), false, 0))
	require.Equal(t, `up{job="x"}`, labelsString(labels.FromStrings("__name__", "up", "job", "x"), true, 0))
	require.Equal(t, `up`, labelsString(labels.FromStrings("__name__", "up"), true, 0))
}

// TestFormatRoundsIntoTheNextUnit: a value that rounds up to 1,000 of a
// unit is printed in the next one, and no label gets an exponent ("1e+03"
// was on the axis of a chart of disk reads at about 1,000 B/s).
func TestFormatRoundsIntoTheNextUnit(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{formatAxis(999.7), "1k"},
		{formatAxis(999_960), "1M"},
		{formatAxis(-999.7), "-1k"},
		{formatAxis(999.4), "999"},
		{formatIEC(1000), "1000B"},
		{formatIEC(1023), "1020B"},
		{formatIEC(1023.9), "1020B"},
		{formatIEC(1024), "1KiB"},
		{formatIEC(2048 * 1024), "2MiB"},
		{formatSeconds(0.9997), "1s"},
		{formatSeconds(0.0009997), "1ms"},
		{formatSeconds(0.25), "250ms"},
		{formatSeconds(59.99), "60s"},
	} {
		require.Equal(t, c.want, c.got)
	}
	for v := 0.5; v < 1e19; v *= 1.0007 {
		for _, s := range []string{formatAxis(v), formatIEC(v), formatSeconds(v / 1e6)} {
			require.NotContains(t, s, "e+", "%v", v)
			require.LessOrEqual(t, len(s), 8, "%v: %q", v, s)
		}
	}
}

func TestSelector(t *testing.T) {
	ls := labels.FromStrings("__name__", "evil\x1b[2J", "job", "a\"b\\c\n", "weird.name", "v")
	expr := selector(ls)
	m, err := parser.NewParser(parser.Options{}).ParseMetricSelector(expr)
	require.NoError(t, err, expr)
	for _, mt := range m {
		require.Equal(t, ls.Get(mt.Name), mt.Value)
	}
	require.Len(t, m, 3)
}

func TestRedactURL(t *testing.T) {
	require.Equal(t, "http://u:xxxxx@h:9100/metrics", redactURL("http://u:secret@h:9100/metrics"))
	require.Equal(t, "http://h:9100/metrics", redactURL("http://h:9100/metrics"))
	require.Equal(t, "::bad", redactURL("::bad"))
}
