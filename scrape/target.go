package scrape

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
)

// target is one thing to scrape: its labels after relabeling and where
// (or what) to scrape.
type target struct {
	labels   labels.Labels // job, instance and the rest; no __ labels
	url      *url.URL      // nil for an internal target
	display  string        // URL as shown: without credentials
	interval time.Duration
	timeout  time.Duration
	collect  CollectFunc // set for internal targets
	hash     uint64
}

func (t *target) job() string      { return t.labels.Get(model.JobLabel) }
func (t *target) instance() string { return t.labels.Get(model.InstanceLabel) }

// group is a set of targets with common labels, from static_configs or a
// file_sd file.
type group struct {
	Targets []string
	Labels  map[string]string
	Source  string
}

// targetsFromGroup applies a scrape config to a group: Prometheus' meta
// labels, relabel_configs, then the job/instance rules. Targets dropped by
// relabeling are left out; targets that cannot be scraped are errors.
func targetsFromGroup(sc *ScrapeConfig, g group) ([]*target, []error) {
	var out []*target
	var errs []error
	lb := labels.NewBuilder(labels.EmptyLabels())
	for _, addr := range g.Targets {
		lb.Reset(labels.EmptyLabels())
		for k, v := range g.Labels {
			lb.Set(k, v)
		}
		lb.Set(model.AddressLabel, addr)
		lb.Set(model.JobLabel, sc.JobName)
		lb.Set(model.ScrapeIntervalLabel, sc.ScrapeInterval.String())
		lb.Set(model.ScrapeTimeoutLabel, sc.ScrapeTimeout.String())
		lb.Set(model.MetricsPathLabel, sc.MetricsPath)
		lb.Set(model.SchemeLabel, sc.Scheme)
		for k, vs := range sc.Params {
			if len(vs) > 0 {
				lb.Set(model.ParamLabelPrefix+k, vs[0])
			}
		}
		if !relabel.ProcessBuilder(lb, nonNil(sc.RelabelConfigs)...) {
			continue
		}
		t, err := newTarget(sc, lb)
		if err != nil {
			errs = append(errs, fmt.Errorf("job %q, target %q: %w", sc.JobName, RedactTarget(addr), err))
			continue
		}
		out = append(out, t)
	}
	return out, errs
}

func newTarget(sc *ScrapeConfig, lb *labels.Builder) (*target, error) {
	addr := lb.Get(model.AddressLabel)
	if addr == "" {
		return nil, fmt.Errorf("no address after relabeling")
	}
	if err := checkAddress(addr); err != nil {
		return nil, err
	}
	interval, err := model.ParseDuration(lb.Get(model.ScrapeIntervalLabel))
	if err != nil || interval <= 0 {
		return nil, fmt.Errorf("invalid %s %q after relabeling", model.ScrapeIntervalLabel, lb.Get(model.ScrapeIntervalLabel))
	}
	timeout, err := model.ParseDuration(lb.Get(model.ScrapeTimeoutLabel))
	if err != nil || timeout <= 0 {
		return nil, fmt.Errorf("invalid %s %q after relabeling", model.ScrapeTimeoutLabel, lb.Get(model.ScrapeTimeoutLabel))
	}
	if timeout > interval {
		return nil, fmt.Errorf("scrape timeout %s is greater than scrape interval %s after relabeling", timeout, interval)
	}
	scheme := lb.Get(model.SchemeLabel)
	if scheme != "http" && scheme != "https" {
		return nil, fmt.Errorf("scheme %q after relabeling is not http or https", scheme)
	}
	params := url.Values{}
	for k, vs := range sc.Params {
		params[k] = append([]string(nil), vs...)
	}
	u := &url.URL{Scheme: scheme, Host: addr, Path: lb.Get(model.MetricsPathLabel)}
	if lb.Get(model.InstanceLabel) == "" {
		lb.Set(model.InstanceLabel, addr)
	}
	// Meta labels go; __param_ ones become URL parameters first.
	lb.Range(func(l labels.Label) {
		if strings.HasPrefix(l.Name, model.ParamLabelPrefix) {
			k := l.Name[len(model.ParamLabelPrefix):]
			if len(params[k]) > 0 {
				params[k][0] = l.Value
			} else {
				params[k] = []string{l.Value}
			}
		}
	})
	lb.Range(func(l labels.Label) {
		if strings.HasPrefix(l.Name, model.ReservedLabelPrefix) {
			lb.Del(l.Name)
		}
	})
	u.RawQuery = params.Encode()
	ls := lb.Labels()
	if !ls.IsValid(model.UTF8Validation) {
		return nil, fmt.Errorf("invalid target labels %s", ls)
	}
	t := &target{labels: ls, url: u, display: u.String(), interval: time.Duration(interval), timeout: time.Duration(timeout)}
	t.hash = hashTarget(ls, u.String())
	return t, nil
}

func hashTarget(ls labels.Labels, where string) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%016x", ls.Hash())
	h.Write([]byte(where))
	return h.Sum64()
}

func sortTargets(ts []*target) {
	sort.Slice(ts, func(i, j int) bool { return labels.Compare(ts[i].labels, ts[j].labels) < 0 })
}

// checkAddress accepts host:port, [ipv6]:port and bare hosts (the port
// then comes from the scheme), as Prometheus' __address__ does, and
// refuses at start what a scrape could only fail on later, saying what is
// wrong: a scheme, a path, credentials (whose password the error masks:
// see RedactTarget), an IPv6 address without brackets, a port that is not
// a number from 1 to 65535, no host.
func checkAddress(a string) error {
	switch {
	case a == "":
		return errors.New("empty target")
	case strings.Contains(a, "://"):
		return errors.New("a target is host:port, without a scheme (set scheme: https in the scrape config)")
	case strings.Contains(a, "@"):
		return errors.New("credentials in a target are not accepted, and would end up in its instance label; set basic_auth or authorization in the config instead")
	case strings.Contains(a, "/"):
		return errors.New("a target is host:port, without a path (set metrics_path in the scrape config)")
	case strings.ContainsAny(a, " \t\r\n"):
		return errors.New("a target must not contain spaces")
	}
	host, port := a, ""
	switch {
	case strings.HasPrefix(a, "["):
		end := strings.Index(a, "]")
		if end < 0 {
			return errors.New("an IPv6 address opened with [ is not closed with ]")
		}
		host = a[1:end]
		switch rest := a[end+1:]; {
		case rest == "":
		case rest[0] == ':':
			port = rest[1:]
			if port == "" {
				return errors.New("no port after the colon")
			}
		default:
			return fmt.Errorf("%q after the IPv6 address: want [address]:port", rest)
		}
		if net.ParseIP(host) == nil {
			return fmt.Errorf("%q in brackets is not an IPv6 address", host)
		}
	case strings.Count(a, ":") > 1:
		return fmt.Errorf("an IPv6 address needs brackets, with the port after them: [%s]:9100", a)
	case strings.Contains(a, ":"):
		i := strings.LastIndex(a, ":")
		host, port = a[:i], a[i+1:]
		if port == "" {
			return errors.New("no port after the colon")
		}
	}
	if host == "" {
		return errors.New("no host before the port")
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		switch {
		case err != nil || strings.ContainsAny(port, "+-"):
			return fmt.Errorf("port %q is not a number", port)
		case n < 1 || n > 65535:
			return fmt.Errorf("port %s is out of range: a port is 1 to 65535", port)
		}
	}
	// What else a URL would not take (a stray %, a control byte).
	if _, err := url.Parse("http://" + a + "/"); err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("not host:port: %v", err)
	}
	return nil
}

// RedactTarget is a target, or a URL, as it may be shown: the password of
// any credentials in it replaced by xxxxx (as url.URL.Redacted does), and
// credentials without a password (which may be a token) replaced whole.
func RedactTarget(s string) string {
	rest, scheme := s, ""
	if i := strings.Index(s, "://"); i >= 0 {
		scheme, rest = s[:i+3], s[i+3:]
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return s
	}
	user := "xxxxx"
	if i := strings.Index(authority[:at], ":"); i >= 0 {
		user = authority[:i] + ":xxxxx"
	}
	return scheme + user + rest[at:]
}
