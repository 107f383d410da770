package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind is what a target of the fleet does when scraped.
type Kind string

const (
	Normal  Kind = "normal"  // a node_exporter-like body, re-valued on every request
	Hostile Kind = "hostile" // the same body plus what an attacker would put in one
	Slow    Kind = "slow"    // answers after -slow-delay
	Down    Kind = "down"    // nothing listens: connection refused
)

// family is one metric family of the recording: its HELP and TYPE lines
// and its series.
type family struct {
	name   string
	header string // "# HELP …\n# TYPE …\n", as recorded
	typ    string
	series []series
}

// series is one line of the recording, split before its value.
type series struct {
	prefix string  // "name{labels} ", exactly as recorded
	value  float64 // the recorded value
}

// recording is a parsed node_exporter body.
type recording struct {
	families []family
	uptime   float64 // seconds the recorded host had been up: counters grow by value/uptime per second
}

// parseRecording splits a node_exporter body into families and series. It
// reads vigil's own testdata, a body node_exporter wrote, so it only needs
// the shape that writer produces: HELP, then TYPE, then the series.
func parseRecording(body []byte) (*recording, error) {
	rec := &recording{}
	var cur *family
	var boot, now float64
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case line == "":
		case strings.HasPrefix(line, "# HELP "):
			name, _, _ := strings.Cut(strings.TrimPrefix(line, "# HELP "), " ")
			rec.families = append(rec.families, family{name: name, header: line + "\n"})
			cur = &rec.families[len(rec.families)-1]
		case strings.HasPrefix(line, "# TYPE "):
			fields := strings.Fields(line)
			if cur == nil || len(fields) != 4 || fields[2] != cur.name {
				return nil, fmt.Errorf("line %d: TYPE without its HELP", n)
			}
			cur.header += line + "\n"
			cur.typ = fields[3]
		case strings.HasPrefix(line, "#"):
		default:
			i := strings.LastIndexByte(line, ' ')
			if cur == nil || i < 0 {
				return nil, fmt.Errorf("line %d: a sample outside a family", n)
			}
			v, err := strconv.ParseFloat(line[i+1:], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: value: %w", n, err)
			}
			cur.series = append(cur.series, series{prefix: line[:i+1], value: v})
			switch line[:i] {
			case "node_boot_time_seconds":
				boot = v
			case "node_time_seconds":
				now = v
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(rec.families) == 0 {
		return nil, fmt.Errorf("no metric families")
	}
	rec.uptime = now - boot
	if rec.uptime < 60 {
		rec.uptime = 3600 // no boot time recorded: counters grow as if up an hour
	}
	return rec, nil
}

func (r *recording) seriesCount() int {
	n := 0
	for _, f := range r.families {
		n += len(f.series)
	}
	return n
}

// essential families are never dropped or copied when scaling to -series:
// vigil's default rules and the console's cards read them, and copies would
// change their meaning (two node_load1 per host).
var essential = []string{
	"node_cpu_seconds_total", "node_memory_", "node_load", "node_filesystem_",
	"node_network_", "node_disk_", "node_boot_time_seconds", "node_time_seconds",
	"node_uname_info", "node_procs_running", "node_timex_",
}

// synchronised replaces what the recording's VM said of its clock: not
// synchronised, with a maximum error of 16 s, which would fire the default
// NodeClockNotSynchronising rule on every target of the fleet. A fleet
// host's clock is kept by NTP.
var synchronised = map[string]float64{
	"node_timex_sync_status":      1,
	"node_timex_maxerror_seconds": 0.05,
}

func isEssential(name string) bool {
	for _, p := range essential {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// scaled returns the recording's families with about want series: the
// non-essential families are dropped from the end when there are too many,
// or copied with a fleet_copy label when there are too few.
func (r *recording) scaled(want int) []family {
	have := r.seriesCount()
	if want >= have {
		out := append([]family(nil), r.families...)
		for c := 1; have < want; c++ {
			added := 0
			for i := range out {
				f := &out[i]
				if isEssential(f.name) {
					continue
				}
				orig := r.families[i].series
				for _, s := range orig {
					if have >= want {
						break
					}
					f.series = append(f.series, series{prefix: withLabel(s.prefix, "fleet_copy", strconv.Itoa(c)), value: s.value})
					have++
					added++
				}
			}
			if added == 0 {
				break // nothing can be copied
			}
		}
		return out
	}
	var out []family
	n := 0
	for _, f := range r.families {
		if isEssential(f.name) {
			out = append(out, f)
			n += len(f.series)
		}
	}
	for _, f := range r.families {
		if !isEssential(f.name) && n+len(f.series) <= want {
			out = append(out, f)
			n += len(f.series)
		}
	}
	return out
}

// withLabel adds name="value" to a recorded series prefix ("m{a="b"} " or "m ").
func withLabel(prefix, name, value string) string {
	p := strings.TrimSuffix(prefix, " ")
	if strings.HasSuffix(p, "}") {
		return p[:len(p)-1] + "," + name + `="` + value + `"} `
	}
	return p + "{" + name + `="` + value + `"} `
}

// model says how a series' value changes between scrapes.
type model uint8

const (
	constant model = iota // sizes, totals, info metrics, flags
	counter               // only grows, by about its recorded rate
	gauge                 // wanders within ±25% of where it started
	falling               // wanders below where it started (free, available)
	clock                 // the wall clock, in seconds
	cpu                   // node_cpu_seconds_total: a CPU's modes add up to one second per second
	linear                // -steady: grows by exactly line.rate a second
)

// untypedGauges are the untyped node_exporter series that are not counters:
// the netstat and vmstat collectors expose counters untyped.
var untypedGauges = map[string]bool{
	"node_netstat_Tcp_CurrEstab": true,
	"node_netstat_Ip_Forwarding": true,
}

func modelOf(f family, s series) model {
	name := f.name
	switch {
	case name == "node_time_seconds":
		return clock
	case name == "node_cpu_seconds_total":
		return cpu
	case f.typ == "untyped" && !untypedGauges[name] &&
		(strings.HasPrefix(name, "node_netstat_") || strings.HasPrefix(name, "node_vmstat_")):
		return counter
	case f.typ == "counter", f.typ == "histogram", f.typ == "summary" && !strings.Contains(s.prefix, "quantile="):
		return counter
	case f.typ == "summary":
		return gauge // quantiles
	case s.value == 0 || s.value == 1,
		strings.HasSuffix(name, "_info"), strings.Contains(name, "Total"),
		strings.Contains(name, "size"), strings.Contains(name, "boot_time"),
		strings.Contains(name, "limit"), strings.Contains(name, "max"),
		name == "node_filesystem_files", // the inode total, over files_free
		strings.Contains(name, "_bytes") && strings.HasPrefix(name, "node_network_"),
		strings.HasPrefix(name, "go_info"), strings.Contains(name, "start_time"):
		return constant
	case strings.Contains(name, "avail"), strings.Contains(name, "free"),
		strings.Contains(name, "Free"), strings.Contains(name, "Available"):
		return falling
	}
	return gauge
}

// target is one member of the fleet: its pre-rendered series and their
// current values.
type target struct {
	index int
	kind  Kind

	mu     sync.Mutex // guards what follows: a scrape re-values, then formats
	rng    *rand.Rand
	lines  []line
	heads  []int    // index into lines where a family starts, with its header
	header []string // header of the family starting at heads[i]
	last   time.Time
	rate   float64   // counters grow by value*rate per second
	busy   float64   // the share of each CPU this host keeps busy, on average
	cpus   []float64 // each CPU's busy share now, wandering around busy
	steady bool      // -steady: nothing wanders (makeSteady)
}

type line struct {
	prefix string
	model  model
	base   float64 // the value the walk is around, or the counter's rate base
	value  float64
	walk   float64 // gauges: current offset, a fraction of base
	ten    float64 // 10^d for a value recorded with d decimals (whole numbers: 1), 0 for any
	cpu    int     // cpu lines: index into target.cpus
	share  float64 // cpu lines: the mode's share of busy time; -1 for idle
	rate   float64 // linear lines: growth a second
}

// modeShare is how a busy CPU's time splits between the modes of
// node_cpu_seconds_total; idle gets the rest. Modes not listed stay put.
var modeShare = map[string]float64{
	"user": 0.6, "system": 0.3, "iowait": 0.04, "softirq": 0.03,
	"irq": 0.01, "nice": 0.01, "steal": 0.01, "idle": -1,
}

// hotEvery makes every hotEvery'th target (index 9, 19, …) run its CPUs
// nearly flat out, so the default NodeCPUBusy rule has something to fire on.
const hotEvery = 10

// newTarget pre-renders the families for target index, with values that
// differ from the other targets' by a seeded factor.
func newTarget(index int, kind Kind, fams []family, uptime float64, start time.Time) *target {
	rng := rand.New(rand.NewPCG(uint64(index)+1, 0x5eed))
	t := &target{index: index, kind: kind, rng: rng, last: start, rate: 1 / uptime}
	scale := 0.5 + rng.Float64() // counters: this host has done more or less
	u := rng.Float64()
	t.busy = 0.03 + 0.5*u*u // most hosts idle along, a few work
	if index%hotEvery == hotEvery-1 {
		t.busy = 0.95
	}
	cpuIndex := map[string]int{}
	for _, f := range fams {
		t.heads = append(t.heads, len(t.lines))
		t.header = append(t.header, f.header)
		for _, s := range f.series {
			l := line{prefix: s.prefix, model: modelOf(f, s), base: s.value, value: s.value}
			if v, ok := synchronised[f.name]; ok {
				l.base, l.value = v, v
			}
			l.ten = precision(l.value)
			if l.model == cpu {
				l.ten = 100 // the kernel counts CPU time in hundredths (USER_HZ), an idle mode's 0 too
			}
			switch l.model {
			case counter:
				l.value = s.value * scale
				l.base = l.value
			case gauge:
				l.walk = (rng.Float64() - 0.5) * 0.4
			case falling:
				l.walk = -rng.Float64() * 0.2
			case cpu:
				l.value = s.value * scale
				c := labelValue(s.prefix, "cpu")
				i, ok := cpuIndex[c]
				if !ok {
					i = len(t.cpus)
					cpuIndex[c] = i
					t.cpus = append(t.cpus, t.busy)
				}
				l.cpu, l.share = i, modeShare[labelValue(s.prefix, "mode")]
			}
			t.lines = append(t.lines, l)
		}
	}
	return t
}

// maxDecimals is the most decimals a recorded value may have for the fleet
// to keep its values to as many: beyond it (the clock's nanoseconds, a
// ratio) they take whatever the walk gives.
const maxDecimals = 6

// precision returns 10^d for the fewest decimals d that write v exactly,
// or 0 when it takes more than maxDecimals. node_exporter's values are
// mostly whole numbers (bytes, packets, pages), and the rest mostly come
// with a few decimals (CPU seconds in hundredths, load averages): a fleet
// that wrote every value to the last bit of a float64 would hand both
// scrapers samples about twice as hard to compress as an exporter's.
func precision(v float64) float64 {
	ten := 1.0
	for range maxDecimals + 1 {
		if math.Round(v*ten)/ten == v {
			return ten
		}
		ten *= 10
	}
	return 0
}

// labelValue returns the value of label name in a recorded series prefix,
// or "". Recorded values hold no escaped quotes where it is used.
func labelValue(prefix, name string) string {
	_, v, ok := strings.Cut(prefix, `{`+name+`="`)
	if !ok {
		_, v, ok = strings.Cut(prefix, `,`+name+`="`)
	}
	if !ok {
		return ""
	}
	v, _, _ = strings.Cut(v, `"`)
	return v
}

// step re-values every series for time now.
func (t *target) step(now time.Time) {
	dt := now.Sub(t.last).Seconds()
	if dt < 0 {
		dt = 0
	}
	t.last = now
	// One factor per scrape for every counter keeps a histogram's buckets
	// in order: each grows in proportion to its value.
	grow := dt * t.rate * (0.5 + t.rng.Float64())
	if t.steady {
		grow = dt * t.rate
	}
	// Walks move with time, not with scrapes, so two scrapers of one
	// target (vigil and Prometheus in cmd/compare) see the same motion:
	// a gauge moves by up to ±1% of its base in 5 s.
	pace := math.Min(1, math.Sqrt(dt/5))
	for c, b := range t.cpus {
		if t.steady {
			break
		}
		b += (t.rng.Float64() - 0.5) * 0.1 * pace
		t.cpus[c] = math.Max(t.busy*0.5, math.Min(math.Min(1, t.busy*1.5+0.05), b))
	}
	for i := range t.lines {
		l := &t.lines[i]
		switch l.model {
		case counter:
			l.value += l.base * grow
		case cpu:
			busy := t.cpus[l.cpu]
			if l.share < 0 {
				l.value += dt * (1 - busy)
			} else {
				l.value += dt * busy * l.share
			}
		case gauge, falling:
			hi := 0.25
			if l.model == falling {
				hi = 0
			}
			l.walk = math.Max(-0.25, math.Min(hi, l.walk+(t.rng.Float64()-0.5)*0.02*pace))
			l.value = l.base * (1 + l.walk)
		case clock:
			l.value = float64(now.UnixMilli()) / 1000
		case linear:
			l.value += dt * l.rate
		}
	}
}

// hostile is what a hostile target adds to every body.
const hostile = "# HELP fleet_hostile Label values an attacker controls: \x1b[31mred\x1b[0m \x1b]0;pwned\x07.\n" +
	"# TYPE fleet_hostile gauge\n" +
	"fleet_hostile{kind=\"csi\",value=\"\x1b[2J\x1b[H\x1b[31mcleared\x1b[0m\"} 1\n" +
	"fleet_hostile{kind=\"osc\",value=\"\x1b]0;owned title\x07\x1b]52;c;cGFzdGU=\x07\"} 2\n" +
	"fleet_hostile{kind=\"c0c1\",value=\"bell\x07back\x08cr\rdel\x7fc1\u009b31m\"} 3\n" +
	"fleet_hostile{kind=\"bidi\",value=\"admin\u202etxt.exe\u200b\"} 4\n" +
	"# a comment Prometheus skips unchecked: invalid UTF-8 \xff\xfe\xc3\x28, a raw C1 byte \x9b31m, ESC \x1b[5m\n" +
	"fleet_hostile{kind=\"nan\"} NaN\n" +
	"fleet_hostile{kind=\"inf\"} +Inf\n" +
	"fleet_hostile{kind=\"neginf\"} -Inf\n"

// hugeLabel is the size of the label value a hostile target sends.
const hugeLabel = 100 << 10

// garbage is what a hostile target adds to its body during the last
// garbageWindow of every garbageEvery windows of the wall clock (5 s in
// every 20 s): invalid UTF-8 in a label value and a line that is not a
// metric, either of which fails the scrape as a whole, as it would in
// Prometheus. So the target flaps rather than being simply down. It goes
// by the clock, not by a count of requests, so that every scraper at an
// interval of 5 s (vigil and Prometheus side by side in cmd/compare)
// sees exactly one scrape in four fail, whatever their order.
const garbage = "fleet_garbage{value=\"\xff\xfe invalid utf-8\"} 1\n" +
	"this is not { a metric line\n"

const (
	garbageWindow = 5 * time.Second
	garbageEvery  = 4
)

// garbageAt says whether a hostile body rendered at now carries garbage.
func garbageAt(now time.Time) bool {
	return now.UnixNano()/int64(garbageWindow)%garbageEvery == garbageEvery-1
}

// render appends the target's body for a scrape at now to b.
func (t *target) render(now time.Time, b []byte) []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.step(now)
	h := 0
	for i, l := range t.lines {
		for h < len(t.heads) && t.heads[h] == i {
			b = append(b, t.header[h]...)
			h++
		}
		b = append(b, l.prefix...)
		v := l.value
		if l.ten > 0 {
			v = math.Round(v*l.ten) / l.ten
		}
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
		b = append(b, '\n')
	}
	if t.kind == Hostile {
		b = append(b, hostile...)
		b = append(b, "fleet_hostile{kind=\"huge\",value=\""...)
		for range hugeLabel / 8 {
			b = append(b, "AAAAAAAA"...)
		}
		b = append(b, "\"} 5\n"...)
		if garbageAt(now) {
			b = append(b, garbage...)
		}
	}
	return b
}
