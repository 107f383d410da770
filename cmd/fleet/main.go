// Command fleet serves a synthetic fleet of node_exporter-like targets on
// loopback ports: what vigil is measured against (cmd/compare), and what a
// new user can point vigil at to see a busy console:
//
//	go run ./cmd/fleet -targets 20 -sd-file /tmp/fleet.json &
//	go run ./cmd/vigil 127.0.0.1:19100 127.0.0.1:19101 127.0.0.1:19102
//
// or, for all of them, a prometheus.yml whose job reads the file_sd file,
// run with go run ./cmd/vigil -c fleet.yml:
//
//	scrape_configs:
//	  - job_name: fleet
//	    file_sd_configs: [{files: [/tmp/fleet.json]}]
//
// It reads the recording from testdata/fleet, found from the working
// directory or its parents, so run it inside the repository (or pass -body).
//
// Every target serves a real node_exporter 1.5 body, recorded on the
// project's machine into testdata/fleet/node_exporter.prom.txt: the Debian
// package's /usr/bin/prometheus-node-exporter, started with its default
// collectors on a free loopback port (--web.listen-address=127.0.0.1:PORT),
// and one curl of /metrics (505 series). It is scaled to about -series
// series: families other than the ones vigil's rules and cards read
// (node_cpu_seconds_total, node_memory_*, node_load*, node_filesystem_*,
// node_network_*, node_disk_*, node_timex_* and a few more) are dropped
// from the end, or copied with a fleet_copy label; 1000 gives 1000 series,
// and no value gives fewer than the 254 series of those families.
//
// Values change on every request, as a live host's would:
//
//   - counters (TYPE counter, histogram and summary _count, _sum, _bucket,
//     and the netstat and vmstat collectors' untyped counters) grow by
//     about their recorded rate since boot, with one factor per scrape so
//     a histogram's buckets stay in order;
//   - node_cpu_seconds_total: each CPU's modes add up to one second per
//     second; each host keeps its CPUs busy at its own seeded share
//     (mostly 3-50%), wandering, and every tenth target (index 9, 19, …)
//     runs at about 95%, so the default NodeCPUBusy rule fires there;
//   - gauges wander within ±25% of their recorded value, at most ±1% per
//     5 s however often they are scraped; free and available ones only
//     below it, and totals and sizes stay put, so MemAvailable stays under
//     MemTotal and a filesystem's avail and files_free under size and files;
//   - node_time_seconds is the clock;
//   - a value keeps the decimals it was recorded with, up to six: whole
//     numbers (bytes, packets, pages) stay whole, CPU seconds come in
//     hundredths as the kernel counts them, so counters with a low rate
//     tick rather than creep and the samples compress as an exporter's do;
//   - the clock is synchronised (node_timex_sync_status 1, maxerror 50 ms):
//     the recording's VM was not, which would fire NodeClockNotSynchronising
//     on every target.
//
// Each target's values are seeded by its index, so hosts differ but a run
// is repeatable. No instance label is added: the scraper adds its own.
//
// With -steady nothing wanders, so that a console's figures can be checked
// against the truth from the first seconds on: target i keeps every CPU
// busy a fixed share (5% to 94%, the busiest of a hundred being target
// 57), its memory and filesystems at fixed fills, receives and sends,
// reads and writes at fixed rates, and every other counter grows at its
// recorded rate since boot and every other gauge holds its recorded
// value. -expect FILE writes those figures for every target that answers
// (JSON, by address; steady.go's Steady says what each is).
//
// Targets are numbered from 0 and target i listens on the -listen port
// plus i. The first -hostile targets are hostile, the next -slow are slow,
// the last -down are down; the rest are normal:
//
//   - hostile: the normal body plus label values and help text holding ESC,
//     CSI, OSC, C0 and C1 controls and bidi overrides, NaN and ±Inf values,
//     a 100 KiB label value, and a comment line with invalid UTF-8 and a
//     raw C1 byte (Prometheus' parser skips comments unchecked, so this
//     body still parses). For 5 s in every 20 s of the wall clock the body
//     also carries invalid UTF-8 in a label value and a garbage line, which
//     fails that scrape (up=0) as it would in Prometheus, so the target
//     flaps rather than being simply down: a scraper at a 5 s interval
//     sees one scrape in four fail, and two scrapers see the same;
//   - slow: answers after -slow-delay (a scrape timeout shorter than that
//     fails it);
//   - down: nothing listens on its port, so a scrape is refused.
//
// When every listener is up fleet prints "fleet: ready N targets" on
// stdout, and nothing else; it logs to stderr and stops on SIGINT or
// SIGTERM. -sd-file writes a Prometheus file_sd JSON file listing every
// target with a fleet_kind label (normal, hostile, slow or down).
//
// Bodies are the text format 0.0.4, gzipped (gzip.BestSpeed) when the
// scraper asks. A target's series names and labels are rendered once; a
// scrape formats only the values, into a reused buffer (BenchmarkBody:
// about 50 ns a series, 570 with gzip, no allocations). On the project's
// 2-core machine, 300 targets of 1000 series scraped every 5 s with gzip
// cost fleet about 9% of a core and 50 MB of RSS, and 16% and 70 MB when two
// scrapers read every target, as in cmd/compare; gzip is most of it.
package main

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type config struct {
	targets, series     int
	listen              string
	down, slow, hostile int
	slowDelay           time.Duration
	sdFile, body        string
	steady              bool
	expect              string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "fleet: %v\n", err)
		os.Exit(2)
	}
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.targets, "targets", 20, "number of targets")
	fs.IntVar(&c.series, "series", 1000, "approximate series per target")
	fs.StringVar(&c.listen, "listen", "127.0.0.1:19100", "first target's address; target i listens on its port plus i")
	fs.IntVar(&c.down, "down", 0, "this many targets (the last ones) are down: nothing listens")
	fs.IntVar(&c.slow, "slow", 0, "this many targets (after the hostile ones) answer after -slow-delay")
	fs.DurationVar(&c.slowDelay, "slow-delay", 3*time.Second, "how long a slow target takes to answer")
	fs.IntVar(&c.hostile, "hostile", 0, "this many targets (the first ones) send escape sequences, NaN/Inf, huge label values and, 5 s in every 20 s, garbage")
	fs.StringVar(&c.sdFile, "sd-file", "", "write a Prometheus file_sd JSON file listing every target here")
	fs.BoolVar(&c.steady, "steady", false, "values follow known steady rates instead of wandering (see -expect)")
	fs.StringVar(&c.expect, "expect", "", "with -steady: write every target's steady figures here, as JSON by address")
	fs.StringVar(&c.body, "body", "testdata/fleet/node_exporter.prom.txt", "the recorded node_exporter body every target serves")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.targets <= 0 || c.series <= 0 {
		return c, fmt.Errorf("-targets and -series must be positive")
	}
	if c.expect != "" && !c.steady {
		return c, fmt.Errorf("-expect needs -steady")
	}
	if c.down < 0 || c.slow < 0 || c.hostile < 0 || c.down+c.slow+c.hostile > c.targets {
		return c, fmt.Errorf("-down %d, -slow %d and -hostile %d: more than the %d targets", c.down, c.slow, c.hostile, c.targets)
	}
	return c, nil
}

// kindOf is what target i of c is: the first hostile, then slow, the last down.
func (c config) kindOf(i int) Kind {
	switch {
	case i < c.hostile:
		return Hostile
	case i < c.hostile+c.slow:
		return Slow
	case i >= c.targets-c.down:
		return Down
	}
	return Normal
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	raw, err := readBody(c.body)
	if err != nil {
		return fmt.Errorf("read the recorded body (run fleet inside the repository, or pass -body): %w", err)
	}
	rec, err := parseRecording(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", c.body, err)
	}
	host, portStr, err := net.SplitHostPort(c.listen)
	if err != nil {
		return fmt.Errorf("-listen %q: %w", c.listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port+c.targets > 65536 {
		return fmt.Errorf("-listen %q: want a port that leaves room for %d targets", c.listen, c.targets)
	}

	fams := rec.scaled(c.series)
	start := time.Now()
	var (
		servers []*http.Server
		wg      sync.WaitGroup
		groups  = map[Kind][]string{}
		answer  = map[int]string{} // the targets that answer, by index
	)
	defer func() {
		for _, s := range servers {
			_ = s.Close()
		}
		wg.Wait()
	}()
	for i := range c.targets {
		addr := net.JoinHostPort(host, strconv.Itoa(port+i))
		kind := c.kindOf(i)
		groups[kind] = append(groups[kind], addr)
		if kind == Down {
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("target %d: %w", i, err)
		}
		t := newTarget(i, kind, fams, rec.uptime, start)
		if c.steady {
			t.makeSteady()
		}
		answer[i] = addr
		srv := &http.Server{Handler: t.handler(c.slowDelay), ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("serve", "target", i, "err", err)
			}
		}()
	}
	if c.sdFile != "" {
		if err := writeSD(c.sdFile, groups); err != nil {
			return err
		}
	}
	if c.expect != "" {
		if err := writeExpect(c.expect, answer); err != nil {
			return err
		}
	}
	n := len(fams[0].series)
	for _, f := range fams[1:] {
		n += len(f.series)
	}
	log.Info("fleet up", "targets", c.targets, "series_per_target", n, "first", c.listen,
		"hostile", c.hostile, "slow", c.slow, "down", c.down)
	fmt.Fprintf(stdout, "fleet: ready %d targets\n", c.targets)
	<-ctx.Done()
	return nil
}

// readBody reads path or, when it is relative and not there, the same
// path under the nearest parent of the working directory that has it, so
// that go run ./cmd/fleet works from anywhere in the repository.
func readBody(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err == nil || filepath.IsAbs(path) || !errors.Is(err, fs.ErrNotExist) {
		return raw, err
	}
	dir, werr := os.Getwd()
	if werr != nil {
		return nil, err
	}
	for parent := filepath.Dir(dir); parent != dir; dir, parent = parent, filepath.Dir(parent) {
		if raw, perr := os.ReadFile(filepath.Join(parent, path)); perr == nil {
			return raw, nil
		}
	}
	return nil, err
}

// writeSD writes a file_sd JSON file, one group per kind.
func writeSD(path string, groups map[Kind][]string) error {
	type group struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels"`
	}
	var out []group
	for _, k := range []Kind{Normal, Hostile, Slow, Down} {
		if len(groups[k]) > 0 {
			out = append(out, group{Targets: groups[k], Labels: map[string]string{"fleet_kind": string(k)}})
		}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write -sd-file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write -sd-file: %w", err)
	}
	return nil
}

var gzipPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

// bufPool holds body buffers, so a target's lock covers re-valuing and
// formatting but not the write to a slow reader.
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// handler serves the target's body at /metrics.
func (t *target) handler(slowDelay time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		if t.kind == Slow {
			timer := time.NewTimer(slowDelay)
			defer timer.Stop()
			select {
			case <-timer.C:
			case <-r.Context().Done():
				return
			}
		}
		buf := bufPool.Get().(*[]byte)
		defer bufPool.Put(buf)
		body := t.render(time.Now(), (*buf)[:0])
		*buf = body
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			gz := gzipPool.Get().(*gzip.Writer)
			gz.Reset(w)
			_, _ = gz.Write(body)
			_ = gz.Close()
			gz.Reset(io.Discard) // drop the reference to w
			gzipPool.Put(gz)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	return mux
}
