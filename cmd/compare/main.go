// Command compare measures vigil against Prometheus on the same fleet, on
// this machine, and prints a markdown table fit for README.md:
//
//	go run ./cmd/compare -targets 100                  # warm-up 2m, window 3m
//	go run ./cmd/compare -targets 10 -warmup 1m -window 2m
//	go run ./cmd/compare -targets 100 -retention 10m -soak 30m
//	go run ./cmd/compare -targets 100 -without-prometheus -baseline /tmp/before
//
// Run it from the repository's root (or pass -root). It needs Go and
// Prometheus (the Debian package: apt-get install -y prometheus; another
// binary with -prometheus PATH) and says so when either is missing.
//
// What it does: it builds vigil and cmd/fleet into a temporary directory
// (so that what is measured is the binary, not `go run`), starts the fleet
// (-targets targets of about -series series, on ports from -port), then
// `vigil --headless --events none` and Prometheus with the same
// prometheus.yml: one job "node" reading the fleet's file_sd file, the
// same scrape and evaluation interval (-interval, with a scrape timeout as
// long), the same retention (-retention), and the same rule file: vigil's
// built-in node rules, written out, so that both evaluate the same alerts
// (giving vigil a rule file replaces its defaults, so neither has more).
// vigil also scrapes itself (job "vigil"), as it always does; Prometheus is
// not asked to scrape itself, which would add about a thousand series.
//
// After -warmup it measures both over the same -window, reading /proc
// every 10 s:
//
//   - CPU: the growth of utime+stime (/proc/PID/stat) over the window,
//     divided by its length: the share of one core. On a shared machine
//     this is steadier than anything timed;
//   - RSS: VmRSS at the end, the most seen in the window, the peak since
//     start (VmHWM, or the most seen when that is higher: the kernel lets
//     VmHWM lag), and the split into anonymous and file-backed memory
//     (Prometheus mmaps its head chunks, so part of its RSS is page cache);
//   - series and samples held: vigil's from its own metrics
//     (vigil_store_series, vigil_store_samples, vigil_store_chunk_bytes),
//     Prometheus' from prometheus_tsdb_head_series and
//     prometheus_tsdb_head_samples_appended_total (its head keeps every
//     sample until it spans 3 h, so for runs shorter than that this is what
//     it holds, whatever the retention); bytes per series and per sample are
//     RSS divided by them, and for vigil also chunk bytes per sample.
//
// The fleet's CPU and RSS are reported too, for information. At the end of
// the window both are asked the same PromQL at the same instant, to check
// that they did the same work: the fleet's series
// (count({job="node", __name__!~"ALERTS.*"})) and targets up must be equal,
// or the run fails after printing the report with the differing series by
// name; alerts pending or firing are shown, and differences listed by
// alert, as they may differ by an evaluation. Prometheus is asked through
// its HTTP API, vigil through `vigil query --data-dir` on the snapshot it
// writes as it stops.
//
// Then it takes a CPU profile (-profile long, 20 s) and a heap profile of
// vigil through its hidden --debug-listen, after the window so that
// profiling does not count, saves them to -out with the tops of each
// (`go tool pprof -top`, and -top -cum), and prints the tops.
//
// With -soak D the run lasts D from the moment both are up (the window is
// what follows the warm-up), and every minute it records vigil's RSS and
// goroutines (the first line of /debug/pprof/goroutine?debug=1), its series
// and Prometheus' RSS; the report compares vigil's RSS at minute 10 with
// the end, and its goroutines at minute 1 (every target scraped, its
// connection open) with the end.
//
// With -baseline DIR, a second vigil, built from another checkout (say
// `git worktree add /tmp/before HEAD~1`), runs beside the first on the same
// fleet with the same flags, and the report puts the two side by side
// over the same window. Runs on a shared machine vary by a tenth or more
// from one to the next; two vigils in one run see the same noise, so a
// change is measured by their ratio (run it twice, swapping the two, to
// see that the order does not matter).
//
// Both run with the runner's environment less GOGC, GOMEMLIMIT, GOMAXPROCS
// and GODEBUG, so that each has its own defaults (vigil sets GOGC 10
// itself; Prometheus 2.42 leaves Go's 100).
//
// The report is markdown on stdout and in -out/report.md, raw figures in
// -out/report.json, the configuration both read in -out/prometheus.yml
// (-out defaults to a new temporary directory, which is kept). Every
// process it starts is in its own process group (with PR_SET_PDEATHSIG)
// and is stopped, group and all, on exit, on an error and on ctrl+c or
// SIGTERM: SIGTERM, up to 15 s for vigil's final snapshot and Prometheus'
// head (3 s for the fleet, which has nothing to save), then SIGKILL. Its
// working directory (binaries, configs, data, logs) is removed unless
// -keep.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vigilterm/vigil/alert"
)

type options struct {
	targets, series int
	interval        time.Duration
	retention       time.Duration
	warmup, window  time.Duration
	soak            time.Duration
	out             string
	port            int
	keep            bool
	profile         time.Duration
	prometheus      string
	withoutProm     bool
	root            string
	baseline        string
}

// portsBelow is how many ports below -port the run takes: vigil's debug
// listener and Prometheus', and the baseline vigil's with -baseline.
func (o options) portsBelow() int {
	if o.baseline != "" {
		return 3
	}
	return 2
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "compare: %v\n", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.targets, "targets", 100, "fleet targets")
	fs.IntVar(&o.series, "series", 1000, "series per target")
	fs.DurationVar(&o.interval, "interval", 5*time.Second, "scrape and evaluation interval")
	fs.DurationVar(&o.retention, "retention", time.Hour, "retention for both")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Minute, "time before the window")
	fs.DurationVar(&o.window, "window", 3*time.Minute, "the measurement window")
	fs.DurationVar(&o.soak, "soak", 0, "run this long in all, sampling RSS and goroutines every minute (the window is what follows the warm-up)")
	fs.StringVar(&o.out, "out", "", "directory for the report and profiles (default: a new one under the temporary directory)")
	fs.IntVar(&o.port, "port", 0, "the fleet's first port; vigil and Prometheus take the two below it, a -baseline vigil the third (default: a free range)")
	fs.BoolVar(&o.keep, "keep", false, "keep the working directory (configs, data, logs)")
	fs.DurationVar(&o.profile, "profile", 20*time.Second, "CPU profile of vigil at the end (0: none)")
	fs.StringVar(&o.prometheus, "prometheus", "prometheus", "the Prometheus binary")
	fs.BoolVar(&o.withoutProm, "without-prometheus", false, "run vigil alone on the fleet: no Prometheus, no ratios, no agreement checks (for -soak, whose goal concerns vigil only)")
	fs.StringVar(&o.root, "root", ".", "the vigil repository to build")
	fs.StringVar(&o.baseline, "baseline", "", "another vigil repository (say a worktree of the commit before a change) whose vigil runs beside this one on the same fleet, the two measured over the same window: a change measured against the same machine noise")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.targets <= 0 || o.series <= 0 || o.interval <= 0 || o.window <= 0 || o.retention <= 0 {
		return o, errors.New("-targets, -series, -interval, -window and -retention must be positive")
	}
	if below := o.portsBelow(); o.port != 0 && (o.port < 1024+below || o.port+o.targets > 65536) {
		return o, fmt.Errorf("-port %d: vigil and Prometheus (and a -baseline vigil) take the %d ports below it and the fleet %d from it", o.port, below, o.targets)
	}
	if o.soak > 0 {
		if o.soak <= o.warmup {
			return o, fmt.Errorf("-soak %v must be longer than -warmup %v", o.soak, o.warmup)
		}
		o.window = o.soak - o.warmup
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	var promBin string
	if !o.withoutProm {
		if promBin, err = exec.LookPath(o.prometheus); err != nil {
			return fmt.Errorf("no Prometheus to compare with: %w (on Debian and Ubuntu: apt-get install -y prometheus; or pass -prometheus PATH, or -without-prometheus)", err)
		}
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "compare: %s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}

	below := o.portsBelow()
	if o.port == 0 {
		if o.port, err = freeRange(o.targets+below, 20000, 60000); err != nil {
			return err
		}
		o.port += below
	} else if busy := takenPorts(o.port-below, o.targets+below); len(busy) > 0 {
		return fmt.Errorf("-port %d: ports %v are taken (vigil and Prometheus, and a -baseline vigil, need the %d below -port, the fleet %d from it); choose another -port or leave it out", o.port, busy, below, o.targets)
	}

	work, err := os.MkdirTemp("", "vigil-compare-")
	if err != nil {
		return err
	}
	if o.keep {
		logf("working directory %s kept", work)
	} else {
		defer os.RemoveAll(work)
	}
	if o.out == "" {
		if o.out, err = os.MkdirTemp("", "vigil-compare-out-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}

	logf("building vigil and fleet")
	bin := filepath.Join(work, "bin")
	goBuild := func(root, out, pkg string) error {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Dir = root
		cmd.Stderr = stderr
		return cmd.Run()
	}
	for _, pkg := range []string{"./cmd/vigil", "./cmd/fleet"} {
		if err := goBuild(o.root, bin+"/", pkg); err != nil {
			return fmt.Errorf("go build %s (run compare from the repository's root, or pass -root): %w", pkg, err)
		}
	}
	vigilBin := filepath.Join(bin, "vigil")
	var baseBin string
	if o.baseline != "" {
		baseBin = filepath.Join(bin, "baseline", "vigil")
		if err := goBuild(o.baseline, baseBin, "./cmd/vigil"); err != nil {
			return fmt.Errorf("go build ./cmd/vigil in -baseline %s: %w", o.baseline, err)
		}
	}

	var procs procGroup
	defer procs.stopAll(logf)

	// The fleet, then one config for both.
	body, err := filepath.Abs(filepath.Join(o.root, "testdata/fleet/node_exporter.prom.txt"))
	if err != nil {
		return err
	}
	sd := filepath.Join(work, "fleet.json")
	fleet, err := procs.start(ctx, work, "fleet", filepath.Join(bin, "fleet"),
		"-targets", strconv.Itoa(o.targets), "-series", strconv.Itoa(o.series),
		"-listen", fmt.Sprintf("127.0.0.1:%d", o.port), "-sd-file", sd, "-body", body)
	if err != nil {
		return err
	}
	fleet.grace = 3 * time.Second // it has nothing to save
	if err := fleet.waitLine(fmt.Sprintf("fleet: ready %d targets", o.targets), 60*time.Second); err != nil {
		return err
	}
	rules := filepath.Join(work, "rules.yml")
	if err := os.WriteFile(rules, alert.DefaultRulesYAML(), 0o644); err != nil {
		return err
	}
	cfg := filepath.Join(work, "prometheus.yml")
	for _, dir := range []string{work, o.out} { // the one in -out is for the record
		if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(configFor(o.interval, rules, sd)), 0o644); err != nil {
			return err
		}
	}

	vigilDebug := fmt.Sprintf("127.0.0.1:%d", o.port-2)
	promAddr := fmt.Sprintf("127.0.0.1:%d", o.port-1)
	baseDebug := fmt.Sprintf("127.0.0.1:%d", o.port-3)
	vigilData := filepath.Join(work, "vigil-data")
	// startVigil starts a vigil (the one measured, or the baseline) on
	// cfg, with its own data dir and debug listener.
	startVigil := func(name, bin, data, debug string) (*proc, error) {
		return procs.start(ctx, work, name, bin,
			"--headless", "--events", "none", "-c", cfg, "--retention", o.retention.String(),
			"--data-dir", data, "--debug-listen", debug)
	}
	vigil, err := startVigil("vigil", vigilBin, vigilData, vigilDebug)
	if err != nil {
		return err
	}
	var baseline *proc
	if baseBin != "" {
		if baseline, err = startVigil("baseline", baseBin, filepath.Join(work, "baseline-data"), baseDebug); err != nil {
			return err
		}
	}
	var prom *proc
	if !o.withoutProm {
		prom, err = procs.start(ctx, work, "prometheus", promBin,
			"--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(work, "prom-data"),
			"--storage.tsdb.retention.time="+o.retention.String(), "--web.listen-address="+promAddr)
		if err != nil {
			return err
		}
	}
	waitVigil := func(p *proc, debug string) error {
		if err := waitHTTP(ctx, "http://"+debug+"/metrics", 30*time.Second); err != nil {
			return fmt.Errorf("%s did not start: %w\n%s", p.name, err, p.tail())
		}
		return nil
	}
	if err := waitVigil(vigil, vigilDebug); err != nil {
		return err
	}
	if baseline != nil {
		if err := waitVigil(baseline, baseDebug); err != nil {
			return err
		}
	}
	if prom != nil {
		if err := waitHTTP(ctx, "http://"+promAddr+"/-/ready", 60*time.Second); err != nil {
			return fmt.Errorf("prometheus did not start: %w\n%s", err, prom.tail())
		}
	}

	rep := report{Command: "go run ./cmd/compare " + strings.Join(args, " "), Targets: o.targets, Series: o.series,
		Interval: duration(o.interval), Retention: duration(o.retention), Warmup: duration(o.warmup), Window: duration(o.window),
		Machine: machine(ctx, o.root, promBin), WithoutProm: o.withoutProm}
	rep.Command = strings.TrimSpace(rep.Command)

	// One loop from the moment both are up: the warm-up, then the window,
	// with a soak point every minute from the start when -soak is set.
	watched := []*proc{vigil, fleet}
	if prom != nil {
		watched = append(watched, prom)
	}
	if baseline != nil {
		watched = append(watched, baseline)
	}
	readAll := func() (map[string]procSample, error) {
		m := map[string]procSample{}
		for _, p := range watched {
			s, err := readProc(p.cmd.Process.Pid)
			if err != nil {
				return nil, fmt.Errorf("%s stopped during the run: %w\n%s", p.name, err, p.tail())
			}
			m[p.name] = s
		}
		return m, nil
	}
	t0 := time.Now()
	logf("warming up for %v", o.warmup)
	var (
		before, last      map[string]procSample
		start, end, endAt time.Time // endAt: when last was read
		maxRSS            = map[string]int64{}
		nextSoak          = t0.Add(time.Minute)
	)
	for {
		now := time.Now()
		if last, err = readAll(); err != nil {
			return err
		}
		endAt = now
		if before == nil && !now.Before(t0.Add(o.warmup)) {
			before, start, end = last, now, now.Add(o.window)
			rep.Load[0] = loadAverage()
			logf("measuring for %v", o.window)
		}
		if before != nil {
			for name, s := range last {
				maxRSS[name] = max(maxRSS[name], s.RSS)
			}
		}
		if o.soak > 0 && !now.Before(nextSoak) {
			pt := soakPoint{At: duration(now.Sub(t0).Round(time.Second)), VigilRSS: last["vigil"].RSS, PromRSS: last["prometheus"].RSS}
			pt.Goroutines, _ = goroutines(ctx, vigilDebug)
			if m, err := scrapeMetrics(ctx, "http://"+vigilDebug+"/metrics"); err == nil {
				pt.Series = m["vigil_store_series"]
			}
			if h, err := heapStats(ctx, vigilDebug); err == nil {
				pt.Heap = h
			} else {
				logf("soak %v: vigil's heap figures: %v", pt.At, err)
			}
			rep.Soak = append(rep.Soak, pt)
			prom := ""
			if !o.withoutProm {
				prom = "; prometheus RSS " + mib(pt.PromRSS)
			}
			logf("soak %v: vigil RSS %s, heap objects %s (live and not yet swept) in %s in use, %s idle (%s released), %d goroutines, %.0f series%s",
				pt.At, mib(pt.VigilRSS), mib(pt.Heap.Alloc), mib(pt.Heap.Inuse), mib(pt.Heap.Idle), mib(pt.Heap.Released),
				pt.Goroutines, pt.Series, prom)
			// A heap profile every ten minutes, to diff with
			// go tool pprof -base.
			if m := time.Duration(pt.At).Round(time.Minute); m%(10*time.Minute) == 0 {
				file := filepath.Join(o.out, fmt.Sprintf("heap-%dm.pprof", int(m.Minutes())))
				if err := download(ctx, "http://"+vigilDebug+"/debug/pprof/heap", file); err != nil {
					logf("soak %v: heap profile: %v", pt.At, err)
				} else {
					rep.Profiles = append(rep.Profiles, file)
				}
			}
			nextSoak = nextSoak.Add(time.Minute)
		}
		if before != nil && !now.Before(end) {
			break
		}
		next := now.Add(10 * time.Second)
		if before == nil && t0.Add(o.warmup).Before(next) {
			next = t0.Add(o.warmup)
		}
		if before != nil && end.Before(next) {
			next = end
		}
		if o.soak > 0 && nextSoak.Before(next) {
			next = nextSoak
		}
		if err := sleep(ctx, time.Until(next)); err != nil {
			return err
		}
	}
	at := endAt // the end of the window, where both are queried
	secs := endAt.Sub(start).Seconds()
	rep.Load[1] = loadAverage()
	fill := func(name string) measured {
		b, l := before[name], last[name]
		return measured{Name: name, CPU: (l.CPUSeconds - b.CPUSeconds) / secs,
			RSS: l.RSS, RSSMax: maxRSS[name], HWM: l.HWM, RSSAnon: l.RSSAnon, RSSFile: l.RSSFile}
	}
	rep.Vigil, rep.Fleet = fill("vigil"), fill("fleet")
	if prom != nil {
		rep.Prom = fill("prometheus")
	}

	// storeFigures reads what a vigil's store holds from its own metrics.
	storeFigures := func(m *measured, debug string) error {
		vm, err := scrapeMetrics(ctx, "http://"+debug+"/metrics")
		if err != nil {
			return fmt.Errorf("%s's metrics: %w", m.Name, err)
		}
		m.Series, m.Samples, m.ChunkBytes = vm["vigil_store_series"], vm["vigil_store_samples"], vm["vigil_store_chunk_bytes"]
		return nil
	}
	if err := storeFigures(&rep.Vigil, vigilDebug); err != nil {
		return err
	}
	rep.Vigil.SamplesNote = "vigil: series and samples its ring holds (vigil_store_series, vigil_store_samples), with its own job \"vigil\""
	if baseline != nil {
		b := fill("baseline")
		if err := storeFigures(&b, baseDebug); err != nil {
			return err
		}
		rep.Baseline, rep.BaselineCommit = &b, commitOf(ctx, o.baseline)
	}
	var checks []check
	if prom != nil {
		pm, err := scrapeMetrics(ctx, "http://"+promAddr+"/metrics")
		if err != nil {
			return fmt.Errorf("prometheus' metrics: %w", err)
		}
		rep.Prom.Series = pm["prometheus_tsdb_head_series"]
		rep.Prom.Samples = pm["prometheus_tsdb_head_samples_appended_total"]
		rep.Prom.SamplesNote = "Prometheus: its head's series (prometheus_tsdb_head_series) and every sample appended " +
			"(prometheus_tsdb_head_samples_appended_total: the head keeps them all until it spans 3 h), with ALERTS"
		checks = []check{
			// ALERTS and ALERTS_FOR_STATE have the job label of the
			// series that fired them: they are the third check.
			{Name: "series of the fleet", Expr: `count({job="node", __name__!~"ALERTS.*"})`, Same: true},
			{Name: "targets up", Expr: `sum(up{job="node"})`, Same: true},
			{Name: "alerts pending or firing", Expr: `count(ALERTS)`},
		}
	}
	for i := range checks {
		if checks[i].Prom, err = promQuery(ctx, promAddr, checks[i].Expr, at); err != nil {
			return err
		}
	}

	if o.profile > 0 {
		logf("profiling vigil for %v", o.profile)
		files, tops, err := profile(ctx, vigilDebug, o.profile, vigilBin, o.out)
		if err != nil {
			logf("profile: %v", err)
		}
		rep.Profiles = append(rep.Profiles, files...)
		fmt.Fprint(stdout, tops)
	}

	// vigil writes a snapshot as it stops; `vigil query` reads it, at the
	// end of the window as Prometheus was asked.
	procs.stop(vigil, logf)
	if code := vigil.cmd.ProcessState.ExitCode(); code != 0 {
		logf("vigil exited with %d, so its last snapshot may be older than the window's end\n%s", code, vigil.tail())
	}
	for i := range checks {
		if checks[i].Vigil, err = vigilQuery(ctx, vigilBin, vigilData, checks[i].Expr, at); err != nil {
			return fmt.Errorf("%w\n%s", err, vigil.tail())
		}
	}
	rep.Checks = checks
	// Say which series differ, by name, so the difference can be chased;
	// and which alerts each has, which may differ by an evaluation or two.
	diff := func(expr string) ([]string, error) {
		vb, verr := vigilQueryData(ctx, vigilBin, vigilData, expr, at)
		pb, perr := promQueryData(ctx, promAddr, expr, at)
		if err := errors.Join(verr, perr); err != nil {
			return nil, err
		}
		vv, verr := parseVector(vb)
		pv, perr := parseVector(pb)
		if err := errors.Join(verr, perr); err != nil {
			return nil, err
		}
		return vectorDiff(vv, pv, 20), nil
	}
	if len(checks) > 0 && checks[0].Vigil != checks[0].Prom {
		if rep.SeriesDiff, err = diff(`count by (__name__) (` + checks[0].Expr[len("count("):]); err != nil {
			logf("series by name: %v", err)
		}
	}
	if len(checks) > 2 && checks[2].Vigil != checks[2].Prom {
		if rep.AlertsDiff, err = diff(`count by (alertname, alertstate) (ALERTS)`); err != nil {
			logf("alerts by name: %v", err)
		}
	}

	var md strings.Builder
	rep.markdown(&md)
	fmt.Fprint(stdout, "\n"+md.String())
	raw, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(filepath.Join(o.out, "report.json"), raw, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.out, "report.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	logf("report in %s", o.out)
	if bad := rep.mismatches(); len(bad) > 0 {
		return fmt.Errorf("vigil and Prometheus disagree on %s: the comparison is not like for like", strings.Join(bad, ", "))
	}
	return nil
}

// configFor is the prometheus.yml both read.
func configFor(interval time.Duration, rules, sd string) string {
	return fmt.Sprintf(`global:
  scrape_interval: %[1]s
  scrape_timeout: %[1]s
  evaluation_interval: %[1]s
rule_files: [%[2]q]
scrape_configs:
  - job_name: node
    file_sd_configs:
      - files: [%[3]q]
`, durationYAML(interval), rules, sd)
}

// durationYAML writes d as a Prometheus duration (no "1m0s").
func durationYAML(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", int(d/time.Second))
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// freeRange finds n consecutive free loopback ports in [lo, hi) and
// returns the first.
func freeRange(n, lo, hi int) (int, error) {
	for range 200 {
		base := lo + rand.IntN(hi-lo-n)
		if len(takenPorts(base, n)) == 0 {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no %d consecutive free ports between %d and %d", n, lo, hi)
}

// takenPorts lists the ports of [base, base+n) that a listener on
// 127.0.0.1 cannot have.
func takenPorts(base, n int) []int {
	var taken []int
	for p := base; p < base+n; p++ {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			taken = append(taken, p)
			continue
		}
		ln.Close()
	}
	return taken
}

func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
