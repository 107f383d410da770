package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// measured is one program's figures over the window.
type measured struct {
	Name        string
	CPU         float64 // share of one core over the window
	RSS         int64   // bytes, at the end of the window
	RSSMax      int64   // bytes, the most seen during the window
	Series      float64 // series held at the end of the window
	Samples     float64 // samples held at the end of the window
	ChunkBytes  float64 // encoded sample bytes, when the program says (vigil)
	SamplesNote string  // how Samples was found
}

func (m measured) bytesPerSeries() float64 { return div(float64(m.RSS), m.Series) }
func (m measured) bytesPerSample() float64 { return div(float64(m.RSS), m.Samples) }

func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// soakPoint is one minute of a soak run.
type soakPoint struct {
	At         time.Duration
	RSS        int64
	Goroutines int
	Series     float64
}

// report is what a run found.
type report struct {
	Command  string
	Targets  int
	Series   int // per target, as the fleet says
	Interval time.Duration
	Warmup   time.Duration
	Window   time.Duration
	Vigil    measured
	Prom     measured
	Fleet    measured // CPU and RSS only, for information
	Load     [2]float64
	Soak     []soakPoint
	Profiles []string // files written
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
	fmt.Fprintf(w, "%d targets × %d series, scraped every %v; warm-up %v, window %v; load average %.2f → %.2f\n\n",
		r.Targets, r.Series, r.Interval, r.Warmup, r.Window, r.Load[0], r.Load[1])
	fmt.Fprintf(w, "`%s`\n\n", r.Command)
	fmt.Fprintln(w, "| | vigil | Prometheus | vigil/Prometheus |")
	fmt.Fprintln(w, "|---|---|---|---|")
	v, p := r.Vigil, r.Prom
	fmt.Fprintf(w, "| CPU, share of one core | %.3f | %.3f | %s |\n", v.CPU, p.CPU, ratio(v.CPU, p.CPU))
	fmt.Fprintf(w, "| RSS at the end | %s | %s | %s |\n", mib(v.RSS), mib(p.RSS), ratio(float64(v.RSS), float64(p.RSS)))
	fmt.Fprintf(w, "| RSS, most seen | %s | %s | %s |\n", mib(v.RSSMax), mib(p.RSSMax), ratio(float64(v.RSSMax), float64(p.RSSMax)))
	fmt.Fprintf(w, "| series | %.0f | %.0f | |\n", v.Series, p.Series)
	fmt.Fprintf(w, "| samples held | %.0f | %.0f | |\n", v.Samples, p.Samples)
	fmt.Fprintf(w, "| RSS bytes per series | %.0f | %.0f | %s |\n", v.bytesPerSeries(), p.bytesPerSeries(), ratio(v.bytesPerSeries(), p.bytesPerSeries()))
	fmt.Fprintf(w, "| RSS bytes per sample held | %.1f | %.1f | %s |\n", v.bytesPerSample(), p.bytesPerSample(), ratio(v.bytesPerSample(), p.bytesPerSample()))
	if v.ChunkBytes > 0 {
		fmt.Fprintf(w, "| chunk bytes per sample | %.2f | | |\n", div(v.ChunkBytes, v.Samples))
	}
	fmt.Fprintf(w, "\nThe fleet itself: %.3f of a core, %s. %s; %s.\n", r.Fleet.CPU, mib(r.Fleet.RSS), v.SamplesNote, p.SamplesNote)
	if len(r.Soak) > 0 {
		fmt.Fprintln(w, "\n| minute | vigil RSS | goroutines | series |")
		fmt.Fprintln(w, "|---|---|---|---|")
		for _, s := range r.Soak {
			fmt.Fprintf(w, "| %.0f | %s | %d | %.0f |\n", s.At.Minutes(), mib(s.RSS), s.Goroutines, s.Series)
		}
		if verdict := r.soakVerdict(); verdict != "" {
			fmt.Fprintf(w, "\n%s\n", verdict)
		}
	}
	if len(r.Profiles) > 0 {
		fmt.Fprintf(w, "\nProfiles of vigil: %s\n", strings.Join(r.Profiles, ", "))
	}
}

// soakVerdict compares the end of a soak with its tenth minute (RSS) and
// its first minute (goroutines).
func (r report) soakVerdict() string {
	if len(r.Soak) < 2 {
		return ""
	}
	var at10 *soakPoint
	for i := range r.Soak {
		if r.Soak[i].At >= 10*time.Minute {
			at10 = &r.Soak[i]
			break
		}
	}
	first, last := r.Soak[0], r.Soak[len(r.Soak)-1]
	s := fmt.Sprintf("Goroutines: %d at minute %.0f, %d at the end.", first.Goroutines, first.At.Minutes(), last.Goroutines)
	if at10 != nil && at10 != &r.Soak[len(r.Soak)-1] {
		change := div(float64(last.RSS-at10.RSS), float64(at10.RSS))
		s = fmt.Sprintf("RSS: %s at minute %.0f, %s at the end (%+.1f%%). ", mib(at10.RSS), at10.At.Minutes(), mib(last.RSS), 100*change) + s
	}
	return s
}
