package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It
// is 100 on every Linux architecture Go runs on.
const clockTicks = 100

// procSample is what /proc says of one process at one moment.
type procSample struct {
	CPUSeconds float64 // user + system time since the process started
	RSS        int64   // resident set size, bytes (VmRSS)
	HWM        int64   // peak resident set size, bytes (VmHWM)
	RSSAnon    int64   // the anonymous part of RSS: the heap, not mapped files (RssAnon)
	RSSFile    int64   // the file-backed part of RSS: the binary, mmapped files (RssFile)
	Threads    int
}

// readProc reads /proc/PID/stat and /proc/PID/status.
func readProc(pid int) (procSample, error) {
	var s procSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	if s.CPUSeconds, err = parseStatCPU(stat); err != nil {
		return s, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	if err := parseStatus(status, &s); err != nil {
		return s, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return s, nil
}

// parseStatCPU returns utime+stime in seconds from a /proc/PID/stat line.
// The command name (field 2) is in parentheses and may hold spaces and
// parentheses itself, so the fields are counted from the last ')'.
func parseStatCPU(stat []byte) (float64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name")
	}
	// After ")": state(3) ppid(4) … utime(14) stime(15).
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields after the command name, want at least 13", len(f))
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("utime %q, stime %q: not numbers", f[11], f[12])
	}
	return float64(utime+stime) / clockTicks, nil
}

// parseStatus fills RSS, HWM, RSSAnon, RSSFile and Threads from
// /proc/PID/status. Prometheus mmaps its head chunks and blocks, so part of
// its RSS is page cache the kernel can drop (RssFile); vigil's is nearly all
// heap. Both count, as VmRSS does, but the report shows the split.
func parseStatus(status []byte, s *procSample) error {
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmRSS":
			s.RSS = n << 10 // kB
			found++
		case "VmHWM":
			s.HWM = n << 10
			found++
		case "RssAnon":
			s.RSSAnon = n << 10
		case "RssFile":
			s.RSSFile = n << 10
		case "Threads":
			s.Threads = int(n)
		}
	}
	if found < 2 {
		return fmt.Errorf("no VmRSS or VmHWM (a kernel thread, or a process that has exited?)")
	}
	return nil
}
