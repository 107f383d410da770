package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// Defaults of NotifierOptions and AlertmanagerConfig.
const (
	DefaultNotifyQueue     = 10000
	DefaultNotifyBatch     = 256
	DefaultNotifyTimeout   = 10 * time.Second
	DefaultNotifyAttempts  = 3
	DefaultNotifyBackoff   = 500 * time.Millisecond
	alertmanagerAPIPath    = "/api/v2/alerts"
	maxErrorBodyInMessages = 256
)

// AlertmanagerConfig is one alerting.alertmanagers entry (or the
// --alertmanager URLs): where to post, how, and for how long.
type AlertmanagerConfig struct {
	// URLs are Alertmanager base URLs, path_prefix included
	// (http://am:9093, https://host/am); AlertmanagerURLs builds them from a
	// static_config.
	URLs []string
	// HTTPClientConfig carries basic_auth, authorization, tls_config, proxy.
	HTTPClientConfig config.HTTPClientConfig
	// Timeout bounds one POST; 0 is DefaultNotifyTimeout.
	Timeout time.Duration
}

// AlertmanagerURLs builds base URLs from a static_config's targets and the
// entry's scheme (default http) and path_prefix.
func AlertmanagerURLs(scheme, pathPrefix string, targets []string) []string {
	if scheme == "" {
		scheme = "http"
	}
	prefix := strings.TrimSuffix(pathPrefix, "/")
	if prefix != "" && !strings.HasPrefix(prefix, "/") {
		prefix = "/" + prefix
	}
	out := make([]string, 0, len(targets))
	for _, t := range targets {
		out = append(out, scheme+"://"+t+prefix)
	}
	return out
}

// NotifierOptions configure a Notifier.
type NotifierOptions struct {
	Alertmanagers []AlertmanagerConfig
	// QueueCapacity bounds the alerts waiting per Alertmanager; past it the
	// oldest are dropped and counted. 0 is DefaultNotifyQueue.
	QueueCapacity int
	// MaxBatchSize is the most alerts per POST; 0 is DefaultNotifyBatch.
	MaxBatchSize int
	// Attempts is how often a batch is tried before it is given up (firing
	// alerts are re-sent every minute anyway); 0 is DefaultNotifyAttempts.
	Attempts int
	// Backoff is the wait before the first retry, doubled each time; 0 is
	// DefaultNotifyBackoff.
	Backoff time.Duration
	// Logger gets delivery failures; nil discards.
	Logger *slog.Logger
}

// Notifier posts alerts to Alertmanagers (API v2), each from its own
// goroutine and queue, so a slow or dead one delays no other and never
// evaluation. Close stops it.
type Notifier struct {
	opts   NotifierOptions
	logger *slog.Logger
	ams    []*amClient
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// amClient is one Alertmanager.
type amClient struct {
	url    string // where to POST
	shown  string // the URL without credentials, for the console
	client *http.Client
	tmo    time.Duration

	mu      sync.Mutex
	queue   []NotifyAlert
	wake    chan struct{}
	lastOK  time.Time
	lastErr string
	errAt   time.Time

	lastRefusal string // the last alert Alertmanager refused, and why

	sent, failed, dropped, refused atomic.Uint64
}

// NewNotifier starts a notifier. An error names the Alertmanager whose URL
// or HTTP settings are wrong.
func NewNotifier(o NotifierOptions) (*Notifier, error) {
	if o.QueueCapacity <= 0 {
		o.QueueCapacity = DefaultNotifyQueue
	}
	if o.MaxBatchSize <= 0 {
		o.MaxBatchSize = DefaultNotifyBatch
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultNotifyAttempts
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultNotifyBackoff
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{opts: o, logger: o.Logger}
	for _, ac := range o.Alertmanagers {
		client, err := config.NewClientFromConfig(ac.HTTPClientConfig, "alertmanager")
		if err != nil {
			return nil, fmt.Errorf("alertmanager %v: http client: %w", ac.URLs, err)
		}
		tmo := ac.Timeout
		if tmo <= 0 {
			tmo = DefaultNotifyTimeout
		}
		for _, raw := range ac.URLs {
			u, err := url.Parse(raw)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, fmt.Errorf("alertmanager %q: want http(s)://host:port[/prefix]", raw)
			}
			u.Path = strings.TrimSuffix(u.Path, "/") + alertmanagerAPIPath
			n.ams = append(n.ams, &amClient{
				url:    u.String(),
				shown:  u.Redacted(),
				client: client,
				tmo:    tmo,
				wake:   make(chan struct{}, 1),
			})
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	for _, am := range n.ams {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.run(ctx, am)
		}()
	}
	return n, nil
}

// Send queues alerts for every Alertmanager without blocking; it is a
// NotifyFunc.
func (n *Notifier) Send(_ context.Context, alerts ...NotifyAlert) {
	for _, am := range n.ams {
		am.mu.Lock()
		am.queue = append(am.queue, alerts...)
		if over := len(am.queue) - n.opts.QueueCapacity; over > 0 {
			am.queue = append(am.queue[:0:0], am.queue[over:]...)
			am.dropped.Add(uint64(over))
			n.logger.Warn("alertmanager queue full: oldest alerts dropped", "alertmanager", am.shown, "dropped", over)
		}
		am.mu.Unlock()
		select {
		case am.wake <- struct{}{}:
		default:
		}
	}
}

var _ NotifyFunc = (*Notifier)(nil).Send

// Close stops the goroutines; what is still queued is not sent.
func (n *Notifier) Close() error {
	n.cancel()
	n.wg.Wait()
	return nil
}

func (n *Notifier) run(ctx context.Context, am *amClient) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-am.wake:
		}
		for {
			am.mu.Lock()
			k := min(len(am.queue), n.opts.MaxBatchSize)
			batch := append([]NotifyAlert(nil), am.queue[:k]...)
			am.queue = am.queue[k:]
			am.mu.Unlock()
			if k == 0 {
				break
			}
			if !n.deliver(ctx, am, batch) && ctx.Err() != nil {
				return
			}
		}
	}
}

// deliver posts one batch, retrying with doubling backoff. A batch that
// Alertmanager refuses as invalid (400) is not retried: the same alerts
// would be refused again.
func (n *Notifier) deliver(ctx context.Context, am *amClient, batch []NotifyAlert) bool {
	body, err := json.Marshal(toAPIAlerts(batch))
	if err != nil {
		// Only strings and times: cannot happen.
		panic(fmt.Sprintf("marshal alerts: %v", err))
	}
	wait := n.opts.Backoff
	for attempt := 1; ; attempt++ {
		err = am.post(ctx, body)
		if err == nil {
			am.sent.Add(uint64(len(batch)))
			am.mu.Lock()
			am.lastOK = time.Now()
			am.mu.Unlock()
			return true
		}
		var se *statusError
		if errors.As(err, &se) && se.code == http.StatusBadRequest {
			n.refused(am, batch, se)
			return true
		}
		am.mu.Lock()
		am.lastErr, am.errAt = err.Error(), time.Now()
		am.mu.Unlock()
		if ctx.Err() != nil || attempt >= n.opts.Attempts {
			am.failed.Add(uint64(len(batch)))
			if ctx.Err() == nil {
				// At debug level: Status' health is what vigil says once
				// when it starts and ends failing.
				n.logger.Debug("send alerts to alertmanager", "alertmanager", am.shown, "alerts", len(batch), "attempts", attempt, "err", err)
			}
			return false
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		wait *= 2
	}
}

// refused accounts for a batch Alertmanager answered 400: it takes the
// valid alerts of a batch and refuses the others, and its answer does not
// say which. The ones it refuses are those with a label or annotation name
// it does not accept (Alertmanager before 0.27 takes only
// [a-zA-Z_][a-zA-Z0-9_]*, where Prometheus 3 and vigil allow any UTF-8): each
// is counted and logged with its labels and why. When no alert of the batch
// has such a name, the whole batch counts as refused.
func (n *Notifier) refused(am *amClient, batch []NotifyAlert, se *statusError) {
	var bad, good int
	last := ""
	for _, a := range batch {
		reason := AlertmanagerRefusal(a.Labels, a.Annotations)
		if reason == "" {
			good++
			continue
		}
		bad++
		last = a.Labels.Get(labels.AlertName) + ": " + reason
		n.logger.Warn("alertmanager refused an alert", "alertmanager", am.shown, "alert", a.Labels.Get(labels.AlertName),
			"labels", a.Labels.String(), "reason", reason, "response", se.Error())
	}
	if bad == 0 {
		bad, good = len(batch), 0
		last = fmt.Sprintf("%d alerts: %s", len(batch), se.Error())
		n.logger.Warn("alertmanager refused alerts", "alertmanager", am.shown, "alerts", len(batch), "response", se.Error())
	}
	am.refused.Add(uint64(bad))
	am.sent.Add(uint64(good))
	am.mu.Lock()
	am.lastOK = time.Now() // it answered: the refusal is the alerts' fault
	am.lastRefusal = last
	am.mu.Unlock()
}

// AlertmanagerRefusal says why an Alertmanager before 0.27 would refuse an
// alert with these labels and annotations (400 invalid label set), or ""
// when it would take it: a name outside the classic
// [a-zA-Z_][a-zA-Z0-9_]*, which Prometheus 3 and vigil accept.
func AlertmanagerRefusal(ls, annotations labels.Labels) string {
	var why []string
	for _, set := range []struct {
		what string
		ls   labels.Labels
	}{{"label", ls}, {"annotation", annotations}} {
		set.ls.Range(func(l labels.Label) {
			if !model.LegacyValidation.IsValidLabelName(l.Name) {
				why = append(why, fmt.Sprintf("%s name %q is not [a-zA-Z_][a-zA-Z0-9_]*", set.what, l.Name))
			}
		})
	}
	return strings.Join(why, "; ")
}

// statusError is a reply other than 2xx.
type statusError struct {
	code   int
	status string
	body   string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("post alerts: %s: %s", e.status, e.body)
}

func (am *amClient) post(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, am.tmo)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, am.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vigil")
	resp, err := am.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is shown beside the error already
		}
		return fmt.Errorf("post alerts: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyInMessages))
	if resp.StatusCode/100 != 2 {
		return &statusError{code: resp.StatusCode, status: resp.Status, body: strings.TrimSpace(sanitizeLine(string(msg)))}
	}
	return nil
}

// sanitizeLine keeps printable text of a peer's reply for an error message.
func sanitizeLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffd {
			return ' '
		}
		return r
	}, s)
}

// apiAlert is an alert in Alertmanager's API v2 (postableAlert).
type apiAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

func toAPIAlerts(as []NotifyAlert) []apiAlert {
	out := make([]apiAlert, 0, len(as))
	for _, a := range as {
		out = append(out, apiAlert{
			Labels:       a.Labels.Map(),
			Annotations:  a.Annotations.Map(),
			StartsAt:     a.StartsAt.UTC(),
			EndsAt:       a.EndsAt.UTC(),
			GeneratorURL: a.GeneratorURL,
		})
	}
	return out
}

// AlertmanagerStatus is one Alertmanager as the console shows it.
type AlertmanagerStatus struct {
	URL         string    // without credentials
	LastSuccess time.Time // zero before the first delivery
	LastError   string    // of the last failed attempt; empty if none failed yet
	LastErrorAt time.Time
	Healthy     bool // the last attempt succeeded (or none was made)
	Queued      int
	Sent        uint64 // alerts delivered
	Failed      uint64 // alerts given up after every attempt
	Dropped     uint64 // alerts dropped from a full queue
	Refused     uint64 // alerts it refused as invalid (400)
	LastRefusal string // the last refused alert's name and why; empty if none
}

// Status lists the Alertmanagers in order.
func (n *Notifier) Status() []AlertmanagerStatus {
	out := make([]AlertmanagerStatus, 0, len(n.ams))
	for _, am := range n.ams {
		am.mu.Lock()
		s := AlertmanagerStatus{
			URL:         am.shown,
			LastSuccess: am.lastOK,
			LastError:   am.lastErr,
			LastErrorAt: am.errAt,
			Healthy:     am.errAt.IsZero() || am.lastOK.After(am.errAt),
			Queued:      len(am.queue),
			LastRefusal: am.lastRefusal,
		}
		am.mu.Unlock()
		s.Sent, s.Failed, s.Dropped, s.Refused = am.sent.Load(), am.failed.Load(), am.dropped.Load(), am.refused.Load()
		out = append(out, s)
	}
	return out
}

// NotifierStats sums the Alertmanagers' counters, for vigil's own metrics.
type NotifierStats struct {
	Alertmanagers                  int
	Sent, Failed, Dropped, Refused uint64
	Queued                         int
}

// Stats returns the counters so far.
func (n *Notifier) Stats() NotifierStats {
	s := NotifierStats{Alertmanagers: len(n.ams)}
	for _, st := range n.Status() {
		s.Sent += st.Sent
		s.Failed += st.Failed
		s.Dropped += st.Dropped
		s.Refused += st.Refused
		s.Queued += st.Queued
	}
	return s
}
