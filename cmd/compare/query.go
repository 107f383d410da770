package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// waitHTTP waits until url answers 200 OK.
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

func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s: %s", url, resp.Status, bytes.TrimSpace(b))
	}
	return b, nil
}

// scrapeMetrics reads a program's own /metrics page: see parseMetrics.
func scrapeMetrics(ctx context.Context, url string) (map[string]float64, error) {
	b, err := get(ctx, url)
	if err != nil {
		return nil, err
	}
	return parseMetrics(bytes.NewReader(b))
}

// parseMetrics returns name → value for a text-format page, summing a
// name's samples over its label sets (prometheus_tsdb_head_samples_appended_total
// has one per sample type). It is for the programs' own metrics, read from
// loopback, not for untrusted bodies.
func parseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				continue
			}
			name, rest = line[:i], line[j+1:]
		} else if f := strings.Fields(line); len(f) >= 2 {
			name, rest = f[0], strings.Join(f[1:], " ")
		} else {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			out[name] += v
		}
	}
	return out, sc.Err()
}

// goroutines reads the total from vigil's goroutine profile.
func goroutines(ctx context.Context, addr string) (int, error) {
	b, err := get(ctx, "http://"+addr+"/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	return parseGoroutines(b)
}

// parseGoroutines reads the first line of a debug=1 goroutine profile.
func parseGoroutines(b []byte) (int, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	var n int
	if _, err := fmt.Sscanf(string(line), "goroutine profile: total %d", &n); err != nil {
		return 0, fmt.Errorf("goroutine profile: %q: %w", line, err)
	}
	return n, nil
}

// promQuery evaluates expr at t through Prometheus' HTTP API.
func promQuery(ctx context.Context, addr, expr string, t time.Time) (float64, error) {
	b, err := promQueryData(ctx, addr, expr, t)
	if err != nil {
		return 0, err
	}
	return parseInstant(b)
}

// promQueryData returns the data object of an instant query.
func promQueryData(ctx context.Context, addr, expr string, t time.Time) ([]byte, error) {
	q := url.Values{"query": {expr}, "time": {strconv.FormatInt(t.Unix(), 10)}}
	b, err := get(ctx, "http://"+addr+"/api/v1/query?"+q.Encode())
	if err != nil {
		return nil, err
	}
	var resp struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, fmt.Errorf("prometheus query %s: %w", expr, err)
	}
	if resp.Status != "success" {
		return nil, fmt.Errorf("prometheus query %s: %s", expr, resp.Error)
	}
	return resp.Data, nil
}

// vigilQuery evaluates expr at t with `vigil query`, over the last
// snapshot in dataDir.
func vigilQuery(ctx context.Context, bin, dataDir, expr string, t time.Time) (float64, error) {
	b, err := vigilQueryData(ctx, bin, dataDir, expr, t)
	if err != nil {
		return 0, err
	}
	return parseInstant(b)
}

// vigilQueryData returns the data object `vigil query --json` prints.
func vigilQueryData(ctx context.Context, bin, dataDir, expr string, t time.Time) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, "query", "--data-dir", dataDir, "--json",
		"--time", strconv.FormatInt(t.Unix(), 10), expr)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("vigil query %s: %w: %s", expr, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return b, nil
}

// parseVector reads the data object of an instant query that returns a
// vector, keyed by each element's labels ({a="b", c="d"}, sorted).
func parseVector(b []byte) (map[string]float64, error) {
	var d struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("query result: %w", err)
	}
	if d.ResultType != "vector" {
		return nil, fmt.Errorf("result type %q, want a vector", d.ResultType)
	}
	out := map[string]float64{}
	for _, e := range d.Result {
		s, _ := e.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("value %v: %w", e.Value[1], err)
		}
		out[labelString(e.Metric)] = v
	}
	return out, nil
}

func labelString(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s=%q", k, v))
	}
	slices.Sort(parts)
	return "{" + strings.Join(parts, ", ") + "}"
}

// vectorDiff lists the keys on which two vectors differ, at most limit.
func vectorDiff(a, b map[string]float64, limit int) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			out = append(out, fmt.Sprintf("%s: vigil %g, Prometheus %s", k, v, orNone(w, ok)))
		}
	}
	for k, w := range b {
		if _, ok := a[k]; !ok {
			out = append(out, fmt.Sprintf("%s: vigil none, Prometheus %g", k, w))
		}
	}
	slices.Sort(out)
	if len(out) > limit {
		out = append(out[:limit], fmt.Sprintf("… and %d more", len(out)-limit))
	}
	return out
}

func orNone(v float64, ok bool) string {
	if !ok {
		return "none"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// parseInstant reads the data object of an instant query, as Prometheus'
// API and `vigil query --json` print it, for an expression with one value:
// a scalar, or a vector of at most one element (empty is 0, as count()
// of nothing is absent rather than 0).
func parseInstant(b []byte) (float64, error) {
	var d struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return 0, fmt.Errorf("query result: %w", err)
	}
	var pair [2]any
	switch d.ResultType {
	case "scalar":
		if err := json.Unmarshal(d.Result, &pair); err != nil {
			return 0, fmt.Errorf("scalar result: %w", err)
		}
	case "vector":
		var v []struct {
			Value [2]any `json:"value"`
		}
		if err := json.Unmarshal(d.Result, &v); err != nil {
			return 0, fmt.Errorf("vector result: %w", err)
		}
		switch len(v) {
		case 0:
			return 0, nil
		case 1:
			pair = v[0].Value
		default:
			return 0, fmt.Errorf("vector result: %d elements, want one", len(v))
		}
	default:
		return 0, fmt.Errorf("result type %q, want a scalar or a vector", d.ResultType)
	}
	s, ok := pair[1].(string)
	if !ok {
		return 0, fmt.Errorf("value %v is not a string", pair[1])
	}
	return strconv.ParseFloat(s, 64)
}

// profile saves a CPU and a heap profile of vigil to out and returns the
// files and the top of each.
func profile(ctx context.Context, addr string, d time.Duration, vigilBin, out string) (files []string, tops string, err error) {
	var b strings.Builder
	for _, p := range []struct{ name, path string }{
		{"cpu.pprof", fmt.Sprintf("/debug/pprof/profile?seconds=%d", max(1, int(d.Seconds())))},
		{"heap.pprof", "/debug/pprof/heap"},
	} {
		file := out + "/" + p.name
		if err := download(ctx, "http://"+addr+p.path, file); err != nil {
			return files, b.String(), err
		}
		files = append(files, file)
		// The top by own time, and by time including callees (-cum),
		// which says which part of vigil the time goes to.
		for _, sort := range []string{"", "-cum"} {
			args := []string{"tool", "pprof", "-top", "-nodecount", "25"}
			if sort != "" {
				args = append(args, sort)
			}
			if p.name == "heap.pprof" {
				args = append(args, "-sample_index", "inuse_space")
			}
			top, err := exec.CommandContext(ctx, "go", append(args, vigilBin, file)...).CombinedOutput()
			if err != nil {
				return files, b.String(), fmt.Errorf("go tool pprof %s: %w\n%s", file, err, top)
			}
			topFile := strings.TrimSuffix(file, ".pprof") + ".top" + sort + ".txt"
			if err := os.WriteFile(topFile, top, 0o644); err != nil {
				return files, b.String(), err
			}
			fmt.Fprintf(&b, "\n%s, go tool pprof %s (%s)\n%s", p.name, strings.TrimSpace("-top "+sort), topFile, top)
		}
	}
	return files, b.String(), nil
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

// heapFigures is the Go runtime's view of vigil's memory at one moment,
// from the runtime.MemStats that a debug=1 heap profile ends with.
type heapFigures struct {
	Alloc    int64 // HeapAlloc: live objects and those not yet swept
	Inuse    int64 // HeapInuse: spans with objects in them
	Idle     int64 // HeapIdle: spans without, retained or released
	Released int64 // HeapReleased: returned to the OS
	Stack    int64 // stack memory in use
	NumGC    int64
}

// heapStats reads vigil's heap figures through its debug listener.
func heapStats(ctx context.Context, addr string) (heapFigures, error) {
	b, err := get(ctx, "http://"+addr+"/debug/pprof/heap?debug=1")
	if err != nil {
		return heapFigures{}, err
	}
	return parseMemStats(b)
}

// parseMemStats reads the "# Name = value" lines of a debug=1 heap profile.
func parseMemStats(b []byte) (heapFigures, error) {
	var h heapFigures
	// Stack is "in use / from the OS".
	fields := map[string]*int64{"HeapAlloc": &h.Alloc, "HeapInuse": &h.Inuse, "HeapIdle": &h.Idle,
		"HeapReleased": &h.Released, "Stack": &h.Stack, "NumGC": &h.NumGC}
	found := 0
	for line := range strings.Lines(string(b)) {
		name, value, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "# "), " = ")
		value, _, _ = strings.Cut(value, " / ")
		if p := fields[name]; ok && p != nil {
			v, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return h, fmt.Errorf("heap profile: %s = %q: %w", name, value, err)
			}
			*p = v
			found++
		}
	}
	if found < len(fields) {
		return h, fmt.Errorf("heap profile: %d of the %d MemStats figures found (is it a debug=1 heap profile?)", found, len(fields))
	}
	return h, nil
}
