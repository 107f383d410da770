package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a program the runner started, in its own process group, with
// its stderr in a log file and its stdout watched line by line.
type proc struct {
	name  string
	cmd   *exec.Cmd
	log   string
	lines chan string
	done  chan struct{} // closed when the process has exited
	grace time.Duration // between SIGTERM and SIGKILL, when not the group's
}

// procGroup owns every process the runner starts.
type procGroup struct {
	grace time.Duration // between SIGTERM and SIGKILL; 15 s when zero

	mu    sync.Mutex
	procs []*proc
}

func (g *procGroup) start(ctx context.Context, dir, name, bin string, args ...string) (*proc, error) {
	logFile := filepath.Join(dir, name+".log")
	lf, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = childEnv(os.Environ())
	cmd.Stderr = lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		lf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logFile, lines: make(chan string, 16), done: make(chan struct{})}
	g.mu.Lock()
	g.procs = append(g.procs, p)
	g.mu.Unlock()
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default: // nobody is waiting for it
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

// childEnv is the environment without the Go runtime's tuning variables:
// vigil and Prometheus are both Go programs, and a GOGC or GOMEMLIMIT
// meant for the runner would change what is measured. Each runs with its
// own defaults (vigil sets GOGC 10 itself).
func childEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOGC", "GOMEMLIMIT", "GOMAXPROCS", "GODEBUG":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// waitLine waits for a line of stdout that starts with prefix.
func (p *proc) waitLine(prefix string, limit time.Duration) error {
	timeout := time.After(limit)
	for {
		select {
		case l := <-p.lines:
			if strings.HasPrefix(l, prefix) {
				return nil
			}
		case <-p.done:
			return fmt.Errorf("%s exited before saying %q\n%s", p.name, prefix, p.tail())
		case <-timeout:
			return fmt.Errorf("%s did not say %q within %v\n%s", p.name, prefix, limit, p.tail())
		}
	}
}

// tail is the end of the process' log, for error messages.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	const n = 2000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return fmt.Sprintf("--- %s (%s):\n%s", p.name, p.log, b)
}

// stopAll stops every process group, the last started first, and waits
// for them: see stop.
func (g *procGroup) stopAll(logf func(string, ...any)) {
	g.mu.Lock()
	procs := g.procs
	g.procs = nil
	g.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		_ = syscall.Kill(-procs[i].cmd.Process.Pid, syscall.SIGTERM)
	}
	sent := time.Now()
	for _, p := range procs {
		p.reap(time.After(time.Until(sent.Add(g.graceOf(p)))), logf)
	}
}

// stop stops one process group early (vigil, so that it writes its final
// snapshot); stopAll then has nothing left to do for it.
func (g *procGroup) stop(p *proc, logf func(string, ...any)) {
	g.mu.Lock()
	for i, q := range g.procs {
		if q == p {
			g.procs = append(g.procs[:i:i], g.procs[i+1:]...)
			break
		}
	}
	g.mu.Unlock()
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	p.reap(time.After(g.graceOf(p)), logf)
}

func (g *procGroup) graceOf(p *proc) time.Duration {
	switch {
	case p.grace > 0:
		return p.grace
	case g.grace > 0:
		return g.grace
	}
	return 15 * time.Second
}

// reap waits for a process that was sent SIGTERM until deadline (vigil
// writes a final snapshot, Prometheus closes its head), then kills its
// whole group. The group is killed even when the leader has exited, so
// that nothing it forked outlives the run.
func (p *proc) reap(deadline <-chan time.Time, logf func(string, ...any)) {
	select {
	case <-p.done:
	case <-deadline:
		logf("%s did not stop on SIGTERM; killing it", p.name)
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}
