package main

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// ioPlan says where each stream goes, from the flags and what stdout is
// (DESIGN.md, "Command line"): the console draws on the terminal, stdout
// carries only events, logs never reach a screen the console owns.
type ioPlan struct {
	tui     bool
	tuiIn   *os.File // where the console reads keys; nil without a console
	tuiOut  *os.File // where the console draws
	ownsTTY bool     // tuiIn/tuiOut were opened here and must be closed
	events  string   // json, text or none, on stdout
	logs    string   // "stderr" (headless) or "file" (in the data dir, else discarded)
}

var errNoTerminal = errors.New("no terminal to draw the console on: run with --headless to get events on stdout and logs on stderr")

// planIO decides the ioPlan. openTTY opens the controlling terminal
// (/dev/tty); it is a parameter so tests can stand in for it.
func planIO(o *options, stdin, stdout *os.File, openTTY func() (*os.File, error)) (ioPlan, error) {
	outTTY := isTerminal(stdout)
	p := ioPlan{events: o.events}
	if p.events == "" {
		p.events = "none"
		if !outTTY {
			p.events = "json"
		}
	}
	if o.headless {
		p.logs = "stderr"
		return p, nil
	}
	p.tui, p.logs = true, "file"
	if outTTY {
		if p.events != "none" {
			return p, fmt.Errorf("--events %s would write into the console on this terminal: pipe stdout (vigil | jq) or use --headless", p.events)
		}
		p.tuiOut = stdout
		p.tuiIn = stdin
		if !isTerminal(stdin) {
			// Keys come from the terminal even when stdin is a pipe.
			tty, err := openTTY()
			if err != nil {
				return p, errNoTerminal
			}
			p.tuiIn, p.ownsTTY = tty, true
		}
		return p, nil
	}
	// stdout is a pipe or a file: it carries events only, and the console
	// opens the terminal itself, as fzf does.
	tty, err := openTTY()
	if err != nil {
		return p, errNoTerminal
	}
	p.tuiIn, p.tuiOut, p.ownsTTY = tty, tty, true
	return p, nil
}

func openDevTTY() (*os.File, error) { return os.OpenFile("/dev/tty", os.O_RDWR, 0) }

func isTerminal(f *os.File) bool { return f != nil && term.IsTerminal(int(f.Fd())) }

// terminalGone reports whether f is a terminal that has hung up: after a
// hangup the kernel answers every ioctl on it with EIO.
func terminalGone(f *os.File) bool {
	_, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	return err != nil
}
