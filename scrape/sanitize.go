package scrape

import (
	"strings"
	"unicode/utf8"
)

// DefaultSanitizeLen is the length, in runes, that Sanitize cuts errors to
// before they are kept on a target.
const DefaultSanitizeLen = 256

// Sanitize makes s safe to print on a terminal: escape sequences (ESC, CSI,
// OSC, DCS and their 8-bit C1 forms) are removed whole, other C0 and C1
// control characters and DEL are removed, tabs and newlines become spaces,
// invalid UTF-8 becomes U+FFFD, and the result is cut to max runes (with a
// trailing "…" when cut; max <= 0 means no limit).
//
// Everything that comes from a target — error text, label names and values,
// help text — is untrusted: pass it through Sanitize before it is shown.
func Sanitize(s string, max int) string {
	if isClean(s, max) {
		return s
	}
	var b strings.Builder
	if max > 0 {
		b.Grow(min(len(s), 4*max+4))
	} else {
		b.Grow(len(s))
	}
	n := 0
	for i := 0; i < len(s); {
		if max > 0 && n >= max {
			b.WriteString("…")
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
			n++
			i++
			continue
		case r == 0x1b: // ESC: skip the whole sequence
			i = skipEscape(s, i+1)
			continue
		case r == 0x9b: // 8-bit CSI
			i = skipCSI(s, i+size)
			continue
		case r == 0x9d || r == 0x90 || r == 0x9e || r == 0x9f: // 8-bit OSC, DCS, PM, APC
			i = skipString(s, i+size)
			continue
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
			n++
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			// other control characters: dropped
		default:
			b.WriteString(s[i : i+size])
			n++
		}
		i += size
	}
	return b.String()
}

// isClean reports whether s needs no change: printable ASCII or valid
// UTF-8 without control characters, within max runes.
func isClean(s string, max int) bool {
	if max > 0 && len(s) > max {
		if utf8.RuneCountInString(s) > max {
			return false
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size <= 1) || (r >= 0x80 && r < 0xa0) {
			return false
		}
		i += size
	}
	return true
}

// skipEscape returns the index after the escape sequence whose ESC was just
// before i.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']', 'P', '^', '_', 'X': // OSC, DCS, PM, APC, SOS: up to ST or BEL
		return skipString(s, i+1)
	}
	// Two-character sequences (ESC c, ESC 7, ESC ( B ...): intermediate
	// bytes 0x20-0x2f, then one final byte.
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) {
		i++
	}
	return i
}

// skipCSI skips parameter and intermediate bytes and the final byte of a
// control sequence starting at i.
func skipCSI(s string, i int) int {
	for i < len(s) {
		c := s[i]
		i++
		if c >= 0x40 && c <= 0x7e {
			return i
		}
		if c < 0x20 || c > 0x3f && c < 0x40 {
			return i
		}
	}
	return i
}

// skipString skips a control string up to and including its terminator:
// BEL, ESC \ or the 8-bit ST.
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i + 1
		case strings.HasPrefix(s[i:], "\u009c"):
			return i + len("\u009c")
		}
		i++
	}
	return i
}
