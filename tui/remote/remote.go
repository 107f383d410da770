package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/config"

	"github.com/vigilterm/vigil/tui"
)

// Options configure a Source. The zero value of a field means its
// default.
type Options struct {
	// URL is the API's base: what comes before /api/v1 (see ParseURL).
	URL *url.URL
	// Client is how to reach it: auth, TLS, proxy, headers
	// (LoadClientConfig); config.DefaultHTTPClientConfig when zero.
	Client *config.HTTPClientConfig
	// UserAgent is sent with every request: "vigil".
	UserAgent string

	// Poll is how often the targets, rules and alerts are read again: 5s.
	Poll time.Duration
	// Timeout bounds each of the poller's requests: 10s. The console's
	// queries carry its own timeout (tui.Options.QueryTimeout).
	Timeout time.Duration
	// MaxBytes bounds the body of one answer: 16 MiB.
	MaxBytes int64
	// MaxSeries is how many series (or label values, or targets) one
	// answer may hold; the rest are cut, and Warnings says so: 10000.
	// Negative: no cut (vigil query, where a cut answer would be a wrong
	// one; MaxBytes still bounds it).
	MaxSeries int

	// Logger gets what changes: the remote unreachable, back, what it
	// does not serve. Discarded when nil.
	Logger *slog.Logger
	// Now is the clock: time.Now. Location is the zone of the times in
	// warnings: time.Local.
	Now      func() time.Time
	Location *time.Location
}

// The defaults of Options.
const (
	DefaultPoll      = 5 * time.Second
	DefaultTimeout   = 10 * time.Second
	DefaultMaxBytes  = 16 << 20
	DefaultMaxSeries = 10000
)

func (o *Options) setDefaults() {
	if o.UserAgent == "" {
		o.UserAgent = "vigil"
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxSeries == 0 {
		o.MaxSeries = DefaultMaxSeries
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
}

// How long what the remote does not serve goes unasked, and how long a
// note (a cut result, a warning of the remote) stays in the header.
const (
	recheckNotServed = time.Minute
	noteFor          = time.Minute
)

// Source is the console's source on a remote API. New makes it; Start
// starts its poller; Close stops it. Its methods are safe for concurrent
// use.
type Source struct {
	opts   Options
	api    v1.API
	client api.Client
	redact redactor
	where  string // the URL without credentials, for messages

	cancel context.CancelFunc
	wg     sync.WaitGroup
	events chan tui.AlertEvent

	mu         sync.Mutex
	failing    time.Time // since when the remote is unreachable; zero when it answers
	failingErr string
	notes      map[string]note
	targets    list[tui.Target]
	rules      list[tui.Rule]
	alerts     list[tui.Alert]
	// resolved are alerts the poller saw go, kept as vigil keeps its own
	// resolved alerts; by alertKey.
	resolved map[string]tui.Alert
	silences map[string]time.Time // by the alert's labels
}

// list is what the poller last read of one kind, and what the source says
// of it through Reporting.
type list[T any] struct {
	items []T
	read  bool      // an answer arrived once
	err   error     // why items are not what there is (ErrNotReported, the last failure); nil when they are
	gone  time.Time // when the remote last said it does not serve this; zero when it does
}

// note is a warning that goes away by itself.
type note struct {
	text  string
	until time.Time
}

// errNotYet is what a list is before the remote first answered.
var errNotYet = errors.New("not known yet: reading from the remote")

var (
	_ tui.Querier        = (*Source)(nil)
	_ tui.MetadataSource = (*Source)(nil)
	_ tui.Silencer       = (*Source)(nil)
)

// New returns a Source on the API at opts.URL. It makes no request: a
// remote that does not answer yet is no reason to refuse to start.
func New(opts Options) (*Source, error) { return newSource(opts, nil) }

// newSource is New, over base instead of the client config's transport
// when base is not nil (the fuzz tests answer without a network).
func newSource(opts Options, base http.RoundTripper) (*Source, error) {
	opts.setDefaults()
	if opts.URL == nil {
		return nil, errors.New("remote: no URL")
	}
	cfg := config.DefaultHTTPClientConfig
	if opts.Client != nil {
		cfg = *opts.Client
	}
	s := &Source{
		opts:     opts,
		redact:   newRedactor(secrets(cfg)),
		where:    opts.URL.Redacted(),
		events:   make(chan tui.AlertEvent, 256),
		notes:    map[string]note{},
		resolved: map[string]tui.Alert{},
		silences: map[string]time.Time{},
	}
	s.targets.err, s.rules.err, s.alerts.err = errNotYet, errNotYet, errNotYet
	hc, err := config.NewClientFromConfig(cfg, "vigil-source", config.WithUserAgent(opts.UserAgent))
	if err != nil {
		return nil, s.redact.err(fmt.Errorf("source config: %w", err))
	}
	if base != nil {
		hc = &http.Client{Transport: base}
	}
	hc.Transport = &limitTransport{next: hc.Transport, maxBytes: opts.MaxBytes, observe: s.observe}
	s.client, err = api.NewClient(api.Config{Address: opts.URL.String(), Client: hc})
	if err != nil {
		return nil, s.redact.err(fmt.Errorf("source: %w", err))
	}
	s.api = v1.NewAPI(s.client)
	return s, nil
}

// Start starts the poller that reads targets, rules and alerts every
// Options.Poll. Without it Targets, Rules and Alerts stay not known.
func (s *Source) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.loop(ctx, s.pollTargets)
	}()
	go func() {
		defer s.wg.Done()
		s.loop(ctx, s.pollRules)
	}()
}

// Close stops the poller and waits for it. Safe to call more than once,
// and without Start.
func (s *Source) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	if ci, ok := s.client.(api.CloseIdler); ok {
		ci.CloseIdleConnections()
	}
}

// URL is where the source reads, without credentials.
func (s *Source) URL() string { return s.where }

// Events are the alert transitions the poller sees, for the console's
// event log (tui.Options.AlertEvents). Never closed; when the console
// does not keep up, the newest are dropped.
func (s *Source) Events() <-chan tui.AlertEvent { return s.events }

// loop runs poll now and then every Options.Poll after it returns, until
// ctx is done: one request of a kind at a time, never a pile of them.
func (s *Source) loop(ctx context.Context, poll func(context.Context)) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		poll(ctx)
		t.Reset(s.opts.Poll)
	}
}

type pollKey struct{}

// pollCtx is the context of one of the poller's requests: bounded by
// Options.Timeout, and marked, so that no answer in time counts as the
// remote not answering (a query of the console's that times out is that
// query's fault).
func (s *Source) pollCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithValue(ctx, pollKey{}, true), s.opts.Timeout)
}

// observe hears how each request went (limitTransport) and keeps the
// remote's reachability.
func (s *Source) observe(ctx context.Context, status int, err error) {
	switch {
	case err == nil && (status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout):
		s.unreachable(fmt.Sprintf("HTTP %d %s", status, http.StatusText(status)))
	case err == nil:
		s.reachable()
	case errors.Is(err, context.Canceled):
		// The console gave up on it: nothing said of the remote.
	case errors.Is(err, context.DeadlineExceeded):
		if ctx.Value(pollKey{}) != nil {
			s.unreachable("no answer within " + s.opts.Timeout.String())
		}
	default:
		s.unreachable(transportError(err))
	}
}

// pollFailed is how a poll that failed after the answer's headers arrived
// (its body too slow) counts.
func (s *Source) pollFailed(err error) {
	if errors.Is(err, context.DeadlineExceeded) {
		s.unreachable("no answer within " + s.opts.Timeout.String())
	}
}

// transportError is err without the method and URL that net/http puts
// before it: the header has the URL already.
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out: " + err.Error()
	}
	return err.Error()
}

func (s *Source) unreachable(why string) {
	why = s.redact.text(why)
	s.mu.Lock()
	first := s.failing.IsZero()
	if first {
		s.failing = s.opts.Now()
	}
	s.failingErr = why
	s.mu.Unlock()
	if first {
		s.opts.Logger.Warn("remote unreachable", "url", s.where, "err", why)
	}
}

func (s *Source) reachable() {
	s.mu.Lock()
	was := s.failing
	s.failing, s.failingErr = time.Time{}, ""
	s.mu.Unlock()
	if !was.IsZero() {
		s.opts.Logger.Info("remote answers again", "url", s.where, "unreachable_for", s.opts.Now().Sub(was).Round(time.Second).String())
	}
}

// Unreachable reports since when the remote does not answer, and why;
// a zero time when it answers.
func (s *Source) Unreachable() (time.Time, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failing, s.failingErr
}

// note adds a warning for the header, under key, for noteFor.
func (s *Source) note(key, text string) {
	text = s.redact.text(text)
	s.mu.Lock()
	s.notes[key] = note{text: text, until: s.opts.Now().Add(noteFor)}
	s.mu.Unlock()
}

// warned notes the warnings of the remote's answer (Thanos' partial
// responses, for one).
func (s *Source) warned(what string, ws v1.Warnings) {
	if len(ws) > 0 {
		s.note("warning", "remote "+what+": "+ws[0])
	}
}

// Warnings are the console's header warnings of the source
// (tui.Options.Warnings): the remote unreachable and since when, a
// result cut, a warning of the remote, a kind of list that failed to
// read. Cheap: it only looks at what the poller and the calls left.
func (s *Source) Warnings() []tui.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	var out []tui.Status
	if !s.failing.IsZero() {
		since := s.failing.In(s.opts.Location)
		at := since.Format("15:04:05")
		if now.Sub(s.failing) > 20*time.Hour {
			at = since.Format("2006-01-02 15:04:05")
		}
		out = append(out, tui.Status{Source: "remote", Text: "remote " + s.where + " unreachable since " + at + ": " + s.failingErr})
	}
	for key, n := range s.notes {
		if now.After(n.until) {
			delete(s.notes, key)
			continue
		}
		out = append(out, tui.Status{Source: "remote " + key, Text: n.text})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

// reporting is what a list says through tui.Reporting: nil once read and
// served; else why not, the remote's unreachability first when nothing
// was ever read.
func reporting[T any](s *Source, l *list[T]) error {
	if l.read || l.err == nil {
		return l.err
	}
	if !s.failing.IsZero() && errors.Is(l.err, errNotYet) {
		return errors.New("not known: the remote does not answer")
	}
	return l.err
}
