package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// measured is one program's figures over the window.
type measured struct {
	Name        string
	CPU         float64 // share of one core over the window
	RSS         int64   // bytes, at the end of the window (VmRSS)
	RSSMax      int64   // bytes, the most seen during the window (read every 10 s)
	HWM         int64   // bytes, VmHWM at the end: the kernel's peak, see peak
	RSSAnon     int64   // bytes of RSS that are anonymous memory, at the end
	RSSFile     int64   // bytes of RSS that are mapped files, at the end
	Series      float64 // series held at the end of the window
	Samples     float64 // samples held at the end of the window
	ChunkBytes  float64 // encoded sample bytes, when the program says (vigil)
	SamplesNote string  // how Series and Samples were found
}

// peak is the most RSS the process had since it started, as far as is
// known: VmHWM, or more. The kernel raises VmHWM to the current RSS only
// when it is read or memory is unmapped, so pages freed with madvise (as
// Go's scavenger does) can take a peak with them that a read in the
// window saw.
func (m measured) peak() int64 { return max(m.HWM, m.RSSMax) }

func (m measured) bytesPerSeries() float64 { return div(float64(m.RSS), m.Series) }
func (m measured) bytesPerSample() float64 { return div(float64(m.RSS), m.Samples) }

func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// check is one PromQL expression evaluated by both at the end of the
// window, to see that they did the same work.
type check struct {
	Name        string
	Expr        string
	Vigil, Prom float64
	Same        bool // the two must agree for the comparison to hold
}

// soakPoint is one minute of a soak run, counted from the moment vigil
// and Prometheus were both up.
type soakPoint struct {
	At         duration
	VigilRSS   int64
	PromRSS    int64
	Goroutines int         // vigil's
	Series     float64     // vigil's
	Heap       heapFigures // vigil's
}

// report is what a run found.
type report struct {
	Command   string
	Machine   string
	Targets   int
	Series    int // per target, as asked of the fleet
	Interval  duration
	Retention duration
	Warmup    duration
	Window    duration
	Vigil     measured
	Prom      measured
	Fleet     measured // CPU and RSS only, for information
	// Baseline: the -baseline vigil over the same window, and the
	// commit it was built from.
	Baseline       *measured `json:",omitempty"`
	BaselineCommit string    `json:",omitempty"`
	Checks         []check
	SeriesDiff     []string   // count by name where the series of the fleet differ
	AlertsDiff     []string   // count by alert name and state where ALERTS differ
	Load           [2]float64 // load average at the start and the end of the window
	Soak           []soakPoint
	Profiles       []string // files written
	// WithoutProm: vigil ran alone (-without-prometheus); Prom and
	// Checks are empty.
	WithoutProm bool
}

// duration is a time.Duration that is "1m30s" in the raw JSON rather
// than nanoseconds.
type duration time.Duration

func (d duration) String() string   { return time.Duration(d).String() }
func (d duration) minutes() float64 { return time.Duration(d).Minutes() }

func (d duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = duration(v)
	return err
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// markdown writes the report as README-ready markdown.
func (r report) markdown(w io.Writer) {
	fmt.Fprintf(w, "%d targets × %d series, scraped every %v, retention %v; warm-up %v, window %v; load average %.2f → %.2f\n\n",
		r.Targets, r.Series, r.Interval, r.Retention, r.Warmup, r.Window, r.Load[0], r.Load[1])
	if r.Machine != "" {
		fmt.Fprintf(w, "%s\n\n", r.Machine)
	}
	fmt.Fprintf(w, "`%s`\n\n", r.Command)
	if r.WithoutProm {
		r.markdownAlone(w)
		return
	}
	fmt.Fprintln(w, "| | vigil | Prometheus | vigil/Prometheus |")
	fmt.Fprintln(w, "|---|--:|--:|--:|")
	v, p := r.Vigil, r.Prom
	fmt.Fprintf(w, "| CPU, share of one core | %.3f | %.3f | %s |\n", v.CPU, p.CPU, ratio(v.CPU, p.CPU))
	fmt.Fprintf(w, "| RSS at the end | %s | %s | %s |\n", mib(v.RSS), mib(p.RSS), ratio(float64(v.RSS), float64(p.RSS)))
	fmt.Fprintf(w, "| RSS, most seen in the window | %s | %s | %s |\n", mib(v.RSSMax), mib(p.RSSMax), ratio(float64(v.RSSMax), float64(p.RSSMax)))
	fmt.Fprintf(w, "| RSS, peak since start (VmHWM) | %s | %s | %s |\n", mib(v.peak()), mib(p.peak()), ratio(float64(v.peak()), float64(p.peak())))
	fmt.Fprintf(w, "| RSS anonymous + file-backed | %s + %s | %s + %s | |\n", mib(v.RSSAnon), mib(v.RSSFile), mib(p.RSSAnon), mib(p.RSSFile))
	fmt.Fprintf(w, "| series held | %.0f | %.0f | |\n", v.Series, p.Series)
	fmt.Fprintf(w, "| samples held | %.0f | %.0f | |\n", v.Samples, p.Samples)
	fmt.Fprintf(w, "| RSS bytes per series | %.0f | %.0f | %s |\n", v.bytesPerSeries(), p.bytesPerSeries(), ratio(v.bytesPerSeries(), p.bytesPerSeries()))
	fmt.Fprintf(w, "| RSS bytes per sample held | %.1f | %.1f | %s |\n", v.bytesPerSample(), p.bytesPerSample(), ratio(v.bytesPerSample(), p.bytesPerSample()))
	if v.ChunkBytes > 0 {
		fmt.Fprintf(w, "| chunk bytes per sample | %.2f | | |\n", div(v.ChunkBytes, v.Samples))
	}
	if len(r.Checks) > 0 {
		fmt.Fprintln(w, "\n| at the end of the window | vigil | Prometheus | |")
		fmt.Fprintln(w, "|---|--:|--:|---|")
		for _, c := range r.Checks {
			verdict := ""
			if c.Same && c.Vigil != c.Prom {
				verdict = "**differ**"
			}
			fmt.Fprintf(w, "| %s: `%s` | %.0f | %.0f | %s |\n", c.Name, c.Expr, c.Vigil, c.Prom, verdict)
		}
	}
	if len(r.SeriesDiff) > 0 {
		fmt.Fprintf(w, "\nSeries of the fleet by name, where they differ: %s.\n", strings.Join(r.SeriesDiff, "; "))
	}
	if len(r.AlertsDiff) > 0 {
		fmt.Fprintf(w, "\nAlerts by name and state, where they differ: %s.\n", strings.Join(r.AlertsDiff, "; "))
	}
	r.markdownBaseline(w)
	fmt.Fprintf(w, "\nThe fleet itself: %.3f of a core, %s. %s; %s.\n", r.Fleet.CPU, mib(r.Fleet.RSS), v.SamplesNote, p.SamplesNote)
	r.markdownSoak(w)
}

// markdownAlone is the body of the report of a run without Prometheus.
func (r report) markdownAlone(w io.Writer) {
	fmt.Fprintln(w, "vigil alone (-without-prometheus):")
	fmt.Fprintln(w, "\n| | vigil |")
	fmt.Fprintln(w, "|---|--:|")
	v := r.Vigil
	fmt.Fprintf(w, "| CPU, share of one core | %.3f |\n", v.CPU)
	fmt.Fprintf(w, "| RSS at the end | %s |\n", mib(v.RSS))
	fmt.Fprintf(w, "| RSS, most seen in the window | %s |\n", mib(v.RSSMax))
	fmt.Fprintf(w, "| RSS, peak since start (VmHWM) | %s |\n", mib(v.peak()))
	fmt.Fprintf(w, "| RSS anonymous + file-backed | %s + %s |\n", mib(v.RSSAnon), mib(v.RSSFile))
	fmt.Fprintf(w, "| series held | %.0f |\n", v.Series)
	fmt.Fprintf(w, "| samples held | %.0f |\n", v.Samples)
	fmt.Fprintf(w, "| RSS bytes per series | %.0f |\n", v.bytesPerSeries())
	fmt.Fprintf(w, "| RSS bytes per sample held | %.1f |\n", v.bytesPerSample())
	if v.ChunkBytes > 0 {
		fmt.Fprintf(w, "| chunk bytes per sample | %.2f |\n", div(v.ChunkBytes, v.Samples))
	}
	r.markdownBaseline(w)
	fmt.Fprintf(w, "\nThe fleet itself: %.3f of a core, %s. %s.\n", r.Fleet.CPU, mib(r.Fleet.RSS), v.SamplesNote)
	r.markdownSoak(w)
}

// markdownBaseline writes vigil beside the -baseline vigil, when there
// was one.
func (r report) markdownBaseline(w io.Writer) {
	b := r.Baseline
	if b == nil {
		return
	}
	v := r.Vigil
	fmt.Fprintf(w, "\n| same window | vigil | baseline vigil (%s) | vigil/baseline |\n", r.BaselineCommit)
	fmt.Fprintln(w, "|---|--:|--:|--:|")
	fmt.Fprintf(w, "| CPU, share of one core | %.4f | %.4f | %s |\n", v.CPU, b.CPU, ratio(v.CPU, b.CPU))
	fmt.Fprintf(w, "| RSS at the end | %s | %s | %s |\n", mib(v.RSS), mib(b.RSS), ratio(float64(v.RSS), float64(b.RSS)))
	fmt.Fprintf(w, "| RSS, most seen in the window | %s | %s | %s |\n", mib(v.RSSMax), mib(b.RSSMax), ratio(float64(v.RSSMax), float64(b.RSSMax)))
	fmt.Fprintf(w, "| series held | %.0f | %.0f | |\n", v.Series, b.Series)
	fmt.Fprintf(w, "| samples held | %.0f | %.0f | |\n", v.Samples, b.Samples)
}

// markdownSoak writes the soak's minutes, its verdict and the profiles.
func (r report) markdownSoak(w io.Writer) {
	if len(r.Soak) > 0 {
		head, rule := "| minute | vigil RSS | heap objects | heap in use | heap idle, not released | goroutines | series |", "|--:|--:|--:|--:|--:|--:|--:|"
		if !r.WithoutProm {
			head, rule = head+" Prometheus RSS |", rule+"--:|"
		}
		fmt.Fprintf(w, "\n%s\n%s\n", head, rule)
		for _, s := range r.Soak {
			fmt.Fprintf(w, "| %.0f | %s | %s | %s | %s | %d | %.0f |", s.At.minutes(), mib(s.VigilRSS),
				mib(s.Heap.Alloc), mib(s.Heap.Inuse), mib(s.Heap.Idle-s.Heap.Released), s.Goroutines, s.Series)
			if !r.WithoutProm {
				fmt.Fprintf(w, " %s |", mib(s.PromRSS))
			}
			fmt.Fprintln(w)
		}
		if verdict := r.soakVerdict(); verdict != "" {
			fmt.Fprintf(w, "\n%s\n", verdict)
		}
	}
	if len(r.Profiles) > 0 {
		fmt.Fprintf(w, "\nProfiles of vigil: %s\n", strings.Join(r.Profiles, ", "))
	}
}

// mismatches names the checks on which the two must agree and do not.
func (r report) mismatches() []string {
	var bad []string
	for _, c := range r.Checks {
		if c.Same && c.Vigil != c.Prom {
			bad = append(bad, fmt.Sprintf("%s (vigil %.0f, Prometheus %.0f)", c.Name, c.Vigil, c.Prom))
		}
	}
	return bad
}

// soakVerdict compares the end of a soak with its tenth minute (RSS) and
// its first (goroutines: by then every target has been scraped and has
// its connection, which minute 0 would not show).
func (r report) soakVerdict() string {
	if len(r.Soak) < 2 {
		return ""
	}
	var at10 *soakPoint
	for i := range r.Soak {
		if time.Duration(r.Soak[i].At) >= 10*time.Minute-30*time.Second {
			at10 = &r.Soak[i]
			break
		}
	}
	first, last := r.Soak[0], r.Soak[len(r.Soak)-1]
	s := fmt.Sprintf("vigil's goroutines: %d at minute %.0f, %d at the end (%+d).",
		first.Goroutines, first.At.minutes(), last.Goroutines, last.Goroutines-first.Goroutines)
	if at10 != nil && at10 != &r.Soak[len(r.Soak)-1] {
		change := div(float64(last.VigilRSS-at10.VigilRSS), float64(at10.VigilRSS))
		s = fmt.Sprintf("vigil's RSS: %s at minute %.0f, %s at the end (%+.1f%%). ",
			mib(at10.VigilRSS), at10.At.minutes(), mib(last.VigilRSS), 100*change) + s
		if at10.Heap.Alloc > 0 && last.Heap.Alloc > 0 {
			s += fmt.Sprintf(" Heap objects (HeapAlloc, garbage not yet swept included): %s at minute %.0f, %s at the end.", mib(at10.Heap.Alloc), at10.At.minutes(), mib(last.Heap.Alloc))
		}
	}
	return s
}

// machine describes where and what was measured: the CPU, the vigil
// commit (and whether the checkout had changes), Prometheus' version, Go.
func machine(ctx context.Context, root, promBin string) string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	commit := commitOf(ctx, root)
	prom := "unknown version"
	if b, err := exec.CommandContext(ctx, promBin, "--version").CombinedOutput(); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		if f := strings.Fields(line); len(f) >= 3 {
			prom = f[2]
		}
	}
	return fmt.Sprintf("%d × %s; vigil %s, Prometheus %s, %s", runtime.NumCPU(), cpu, commit, prom, runtime.Version())
}

// commitOf names the commit checked out in the repository at root.
func commitOf(ctx context.Context, root string) string {
	b, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown commit"
	}
	commit := strings.TrimSpace(string(b))
	if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		commit += " with uncommitted changes"
	}
	return commit
}
