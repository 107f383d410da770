// Command compare measures vigil against Prometheus on the same fleet, on
// this machine. It builds vigil and cmd/fleet, starts the fleet, then
// `vigil --headless` and a real Prometheus (the Debian package) with the
// same prometheus.yml: the same targets (file_sd from the fleet), interval
// and rule file (vigil's built-in node rules, written out, so both evaluate
// the same alerts). After a warm-up it measures both over the same window:
// CPU share of one core (utime+stime from /proc/PID/stat), RSS (VmRSS at the
// end, and the most seen), series and samples held, and the ratios. Every
// process it starts is in its own process group and is stopped on exit, on
// an error and on ctrl+c; its temporary directory is removed unless -keep.
//
//	go run ./cmd/compare -targets 100                 # warm-up 2m, window 3m
//	go run ./cmd/compare -targets 10 -warmup 1m -window 2m
//	go run ./cmd/compare -targets 100 -retention 10m -soak 30m
//
// Run it from the repository's root (or say where it is with -root). Series and samples: vigil's from its
// own metrics (vigil_store_series, vigil_store_samples: what the ring
// holds), Prometheus' head series from prometheus_tsdb_head_series and its
// samples as series × the head's time span / the interval. Both include
// their own few series (vigil scrapes itself as job "vigil"; Prometheus
// writes ALERTS). With -soak, vigil's RSS, goroutines and series are also
// sampled every minute for that long (the window is then the soak), to see
// that the ring holds memory flat. At the end it takes a 20 s CPU profile
// and a heap profile of vigil (through its hidden --debug-listen) into
// -out, with their tops. The report is markdown on stdout and in
// -out/report.md, raw figures in -out/report.json.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
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
	root            string
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
	fs.DurationVar(&o.soak, "soak", 0, "sample vigil every minute for this long (replaces -window)")
	fs.StringVar(&o.out, "out", "", "directory for the report and profiles (default: a new one under the temporary directory)")
	fs.IntVar(&o.port, "port", 19100, "the fleet's first port; vigil and Prometheus listen below it")
	fs.BoolVar(&o.keep, "keep", false, "keep the working directory (configs, data, logs)")
	fs.DurationVar(&o.profile, "profile", 20*time.Second, "CPU profile of vigil at the end (0: none)")
	fs.StringVar(&o.prometheus, "prometheus", "prometheus", "the Prometheus binary")
	fs.StringVar(&o.root, "root", ".", "the vigil repository to build")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.targets <= 0 || o.series <= 0 || o.interval <= 0 || o.window <= 0 || o.retention <= 0 {
		return o, errors.New("-targets, -series, -interval, -window and -retention must be positive")
	}
	if o.soak > 0 {
		o.window = o.soak
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	promBin, err := exec.LookPath(o.prometheus)
	if err != nil {
		return fmt.Errorf("no Prometheus to compare with (apt-get install -y prometheus): %w", err)
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "compare: %s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
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
	for _, pkg := range []string{"./cmd/vigil", "./cmd/fleet"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin+"/", pkg)
		cmd.Dir = o.root
		cmd.Stderr = stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build %s (run compare from the repository's root): %w", pkg, err)
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
	if err := fleet.waitLine("fleet: ready", 60*time.Second); err != nil {
		return err
	}
	rules := filepath.Join(work, "rules.yml")
	if err := os.WriteFile(rules, alert.DefaultRulesYAML(), 0o644); err != nil {
		return err
	}
	cfg := filepath.Join(work, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(configFor(o.interval, rules, sd)), 0o644); err != nil {
		return err
	}

	vigilDebug := fmt.Sprintf("127.0.0.1:%d", o.port-2)
	promAddr := fmt.Sprintf("127.0.0.1:%d", o.port-1)
	vigil, err := procs.start(ctx, work, "vigil", filepath.Join(bin, "vigil"),
		"--headless", "--events", "none", "-c", cfg, "--retention", o.retention.String(),
		"--data-dir", filepath.Join(work, "vigil-data"), "--debug-listen", vigilDebug)
	if err != nil {
		return err
	}
	prom, err := procs.start(ctx, work, "prometheus", promBin,
		"--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(work, "prom-data"),
		"--storage.tsdb.retention.time="+o.retention.String(), "--web.listen-address="+promAddr)
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, "http://"+vigilDebug+"/metrics", 30*time.Second); err != nil {
		return fmt.Errorf("vigil did not start: %w\n%s", err, vigil.tail())
	}
	if err := waitHTTP(ctx, "http://"+promAddr+"/-/ready", 60*time.Second); err != nil {
		return fmt.Errorf("prometheus did not start: %w\n%s", err, prom.tail())
	}

	rep := report{Command: "go run ./cmd/compare " + strings.Join(args, " "), Targets: o.targets, Series: o.series,
		Interval: o.interval, Warmup: o.warmup, Window: o.window}
	logf("warming up for %v", o.warmup)
	if err := sleep(ctx, o.warmup); err != nil {
		return err
	}

	rep.Load[0] = loadAverage()
	before := map[string]procSample{}
	for _, p := range []*proc{vigil, prom, fleet} {
		if before[p.name], err = readProc(p.cmd.Process.Pid); err != nil {
			return fmt.Errorf("%s: %w\n%s", p.name, err, p.tail())
		}
	}
	logf("measuring for %v", o.window)
	maxRSS := map[string]int64{}
	start := time.Now()
	var last map[string]procSample
	nextSoak := time.Minute
	for {
		last = map[string]procSample{}
		for _, p := range []*proc{vigil, prom, fleet} {
			s, err := readProc(p.cmd.Process.Pid)
			if err != nil {
				return fmt.Errorf("%s: %w\n%s", p.name, err, p.tail())
			}
			last[p.name] = s
			maxRSS[p.name] = max(maxRSS[p.name], s.RSS)
		}
		elapsed := time.Since(start)
		if o.soak > 0 && elapsed >= nextSoak-time.Second {
			g, _ := goroutines(ctx, vigilDebug)
			m, _ := scrapeMetrics(ctx, "http://"+vigilDebug+"/metrics")
			rep.Soak = append(rep.Soak, soakPoint{At: elapsed.Round(time.Second), RSS: last["vigil"].RSS, Goroutines: g, Series: m["vigil_store_series"]})
			logf("soak %v: RSS %s, %d goroutines, %.0f series", elapsed.Round(time.Second), mib(last["vigil"].RSS), g, m["vigil_store_series"])
			nextSoak += time.Minute
		}
		if elapsed >= o.window {
			break
		}
		if err := sleep(ctx, min(10*time.Second, o.window-elapsed)); err != nil {
			return err
		}
	}
	secs := time.Since(start).Seconds()
	rep.Load[1] = loadAverage()
	fill := func(name string) measured {
		return measured{Name: name, CPU: (last[name].CPUSeconds - before[name].CPUSeconds) / secs,
			RSS: last[name].RSS, RSSMax: maxRSS[name]}
	}
	rep.Vigil, rep.Prom, rep.Fleet = fill("vigil"), fill("prometheus"), fill("fleet")

	vm, err := scrapeMetrics(ctx, "http://"+vigilDebug+"/metrics")
	if err != nil {
		return fmt.Errorf("vigil's metrics: %w", err)
	}
	rep.Vigil.Series, rep.Vigil.Samples, rep.Vigil.ChunkBytes = vm["vigil_store_series"], vm["vigil_store_samples"], vm["vigil_store_chunk_bytes"]
	rep.Vigil.SamplesNote = "vigil's samples are what its ring holds (vigil_store_samples)"
	pm, err := scrapeMetrics(ctx, "http://"+promAddr+"/metrics")
	if err != nil {
		return fmt.Errorf("prometheus' metrics: %w", err)
	}
	rep.Prom.Series = pm["prometheus_tsdb_head_series"]
	span := pm["prometheus_tsdb_head_max_time_seconds"] - pm["prometheus_tsdb_head_min_time_seconds"]
	rep.Prom.Samples = rep.Prom.Series * (span/o.interval.Seconds() + 1)
	rep.Prom.SamplesNote = fmt.Sprintf("Prometheus' samples are its head series × its span (%.0f s) / the interval", span)

	if o.profile > 0 {
		logf("profiling vigil for %v", o.profile)
		files, err := profile(ctx, vigilDebug, o.profile, filepath.Join(bin, "vigil"), o.out, stdout)
		if err != nil {
			logf("profile: %v", err)
		}
		rep.Profiles = files
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

func waitHTTP(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %s", url, resp.Status)
		}
		last = err
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("not ready after %v: %w", limit, last)
}

// scrapeMetrics reads the unlabelled samples of a /metrics page.
func scrapeMetrics(ctx context.Context, url string) (map[string]float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return parseFlatMetrics(resp.Body)
}

// parseFlatMetrics returns name → value for every sample line without
// labels; it is for the programs' own metrics, read from loopback.
func parseFlatMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || strings.ContainsRune(line, '{') {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		if v, err := strconv.ParseFloat(f[1], 64); err == nil {
			out[f[0]] = v
		}
	}
	return out, sc.Err()
}

// goroutines reads the total from vigil's goroutine profile.
func goroutines(ctx context.Context, addr string) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/pprof/goroutine?debug=1", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		return 0, err
	}
	var n int
	if _, err := fmt.Sscanf(line, "goroutine profile: total %d", &n); err != nil {
		return 0, fmt.Errorf("goroutine profile: %q: %w", line, err)
	}
	return n, nil
}

// profile saves a CPU and a heap profile of vigil to out and prints the
// top of each.
func profile(ctx context.Context, addr string, d time.Duration, vigilBin, out string, stdout io.Writer) ([]string, error) {
	var files []string
	for _, p := range []struct{ name, path string }{
		{"cpu.pprof", fmt.Sprintf("/debug/pprof/profile?seconds=%d", int(d.Seconds()))},
		{"heap.pprof", "/debug/pprof/heap"},
	} {
		file := filepath.Join(out, p.name)
		if err := download(ctx, "http://"+addr+p.path, file); err != nil {
			return files, err
		}
		files = append(files, file)
		args := []string{"tool", "pprof", "-top", "-nodecount", "20"}
		if p.name == "heap.pprof" {
			args = append(args, "-sample_index", "inuse_space")
		}
		top, err := exec.CommandContext(ctx, "go", append(args, vigilBin, file)...).CombinedOutput()
		if err != nil {
			return files, fmt.Errorf("go tool pprof %s: %w\n%s", file, err, top)
		}
		topFile := strings.TrimSuffix(file, ".pprof") + ".top.txt"
		if err := os.WriteFile(topFile, top, 0o644); err != nil {
			return files, err
		}
		fmt.Fprintf(stdout, "\n%s\n%s", p.name, top)
	}
	return files, nil
}

func download(ctx context.Context, url, file string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
