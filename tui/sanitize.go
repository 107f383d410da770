package tui

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Lengths at which outside text is cut before it is laid out. Views cut
// further to fit their columns; these caps bound the work done per string.
const (
	maxLabelLen = 256  // a label name or value
	maxErrorLen = 512  // a scrape or rule error
	maxNameLen  = 200  // a metric name
	maxLineLen  = 4096 // anything else
)

// Sanitize makes text from outside vigil (label names and values, metric
// names, errors, annotations) safe to write to a terminal and returns at
// most max display cells of it (max <= 0: no cap).
//
// Invalid UTF-8 becomes U+FFFD. C0 and C1 control characters (ESC, CSI,
// OSC's BEL and ST, NUL, DEL, ...), line and paragraph separators, bidi
// overrides and other invisible format characters are shown as Go-style
// escapes (\x1b, \n, \u202e), so that they are visible and inert: nothing
// that a terminal interprets survives. A cut string ends in "…".
func Sanitize(s string, max int) string {
	if max > 0 && len(s) > 4*max+4 {
		// Never look at more than a few bytes per cell: megabytes of label
		// value must not cost megabytes of work on every frame.
		s = s[:4*max+4]
	}
	var b strings.Builder
	b.Grow(len(s))
	width := 0
	cut := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		var piece string
		switch {
		case r == utf8.RuneError && size <= 1:
			piece = "\uFFFD"
		case unsafeRune(r):
			piece = escapeRune(r)
		default:
			piece = string(r)
		}
		w := ansi.StringWidth(piece)
		if max > 0 && width+w > max {
			cut = true
			break
		}
		b.WriteString(piece)
		width += w
	}
	if cut {
		return truncateCells(b.String(), max-1) + "…"
	}
	return b.String()
}

// unsafeRune reports whether r must not be written to a terminal as is.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f: // C0 controls and DEL
		return true
	case r >= 0x80 && r <= 0x9f: // C1 controls (CSI is U+009B, OSC U+009D)
		return true
	case r == 0x2028 || r == 0x2029: // line and paragraph separators
		return true
	case r >= 0xD800 && r <= 0xDFFF: // surrogates (never valid UTF-8 anyway)
		return true
	}
	// Bidi overrides and isolates, zero-width characters, the BOM and other
	// format characters can reorder or hide what is on screen.
	return unicode.Is(unicode.Cf, r)
}

func escapeRune(r rune) string {
	switch r {
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	}
	if r < 0x100 {
		return `\x` + pad(strconv.FormatInt(int64(r), 16), 2)
	}
	return `\u` + pad(strconv.FormatInt(int64(r), 16), 4)
}

func pad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// truncateCells cuts a sanitised string to at most n display cells.
func truncateCells(s string, n int) string {
	if n <= 0 {
		return ""
	}
	return ansi.Truncate(s, n, "")
}

// fit cuts a sanitised string to n display cells, marking a cut with "…".
func fit(s string, n int) string {
	if n <= 0 {
		return ""
	}
	return ansi.Truncate(s, n, "…")
}

// padRight pads or cuts a sanitised string to exactly n display cells.
func padRight(s string, n int) string {
	s = fit(s, n)
	if w := ansi.StringWidth(s); w < n {
		s += strings.Repeat(" ", n-w)
	}
	return s
}

// padLeft right-aligns a sanitised string in exactly n display cells.
func padLeft(s string, n int) string {
	s = fit(s, n)
	if w := ansi.StringWidth(s); w < n {
		s = strings.Repeat(" ", n-w) + s
	}
	return s
}
