package tui

import (
	"net"
	"net/url"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// briefNames names the hosts and targets briefly where that is
// unambiguous, instance → sanitised name: node_exporter's nodename when
// every host has one and no two share it, else the host without the port
// when every instance has the same port and no two the same host, else
// the instance as it is. Only names that differ from the instance are
// listed.
func briefNames(hosts []host, targets []Target) map[string]string {
	out := map[string]string{}
	seen := map[string]bool{}
	unique := len(hosts) > 0
	for _, h := range hosts {
		if h.nodename == "" || seen[h.nodename] {
			unique = false
			break
		}
		seen[h.nodename] = true
	}
	if unique {
		for _, h := range hosts {
			if h.nodename != h.instance {
				out[h.instance] = Sanitize(h.nodename, maxLabelLen)
			}
		}
		return out
	}

	insts := map[string]bool{}
	for _, h := range hosts {
		insts[h.instance] = true
	}
	for _, t := range targets {
		insts[t.Instance] = true
	}
	port := ""
	names := map[string]string{}
	byName := map[string]bool{}
	for inst := range insts {
		hostPart, p, err := net.SplitHostPort(inst)
		if err != nil || hostPart == "" || (port != "" && p != port) || byName[hostPart] {
			return out
		}
		port = p
		names[inst] = hostPart
		byName[hostPart] = true
	}
	for inst, n := range names {
		out[inst] = Sanitize(n, maxLabelLen)
	}
	return out
}

// briefError is a target's last error without what the screen already
// says: Go's `Get "URL": ` in front, and `dial tcp ADDR: ` for the
// target's own address, so "connection refused" is not cut off behind
// them. The Targets view shows the whole error.
func briefError(t Target) string {
	e := targetError(t)
	// Prometheus' and vigil's scrapes, then VictoriaMetrics'.
	for _, pre := range []string{`Get "`, `error when scraping "`} {
		if rest, ok := strings.CutPrefix(e, pre); ok {
			if i := strings.Index(rest, `": `); i >= 0 {
				e = rest[i+3:]
			}
		}
	}
	e = strings.TrimSuffix(e, "; try -enableTCP6 command-line flag if you scrape ipv6 addresses")
	addr := t.Instance
	if u, err := url.Parse(t.URL); err == nil && u.Host != "" {
		addr = u.Host
	}
dial:
	for _, a := range []string{addr, t.Instance} {
		for _, dial := range []string{"dial tcp ", "dial tcp4 ", "dial tcp6 "} {
			if rest, ok := strings.CutPrefix(e, dial+a+": "); ok {
				e = rest
				break dial
			}
		}
	}
	if e == "" {
		return targetError(t)
	}
	return e
}

// cellWidth is the display width of a styled string.
func cellWidth(s string) int { return ansi.StringWidth(s) }

// truncateANSI cuts a styled string to width cells, ending in tail.
func truncateANSI(s string, width int, tail string) string { return ansi.Truncate(s, width, tail) }

// padANSI pads or cuts a styled string to exactly w cells.
func padANSI(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "")
	}
	return s + strings.Repeat(" ", w-sw)
}
