package remotewrite

import (
	"fmt"
	"net/url"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"
)

// Protocol is the Remote-Write message a remote is sent, by the name
// protobuf_message gives it.
type Protocol string

// The protocols.
const (
	// V1 is Remote-Write 1.0, prometheus.WriteRequest: the default.
	V1 Protocol = "prometheus.WriteRequest"
	// V2 is Remote-Write 2.0, io.prometheus.write.v2.Request.
	V2 Protocol = "io.prometheus.write.v2.Request"
)

// Version is the protocol's version, as the console shows it.
func (p Protocol) Version() string {
	if p == V2 {
		return "2.0"
	}
	return "1.0"
}

// Config is one remote_write entry of prometheus.yml, as plain values
// (package scrape reads the file and checks it).
type Config struct {
	// Name identifies the remote in metrics, logs and the spool: a
	// remote keeps its queue across reloads and restarts by this name.
	// Empty: the URL, without credentials, is its name.
	Name       string
	URL        string
	Timeout    time.Duration // remote_timeout
	Headers    map[string]string
	HTTPClient config.HTTPClientConfig // auth, TLS, proxy, oauth2
	// WriteRelabel applies to each series after the external labels are
	// added, as in Prometheus; a series it drops is not sent.
	WriteRelabel []*relabel.Config
	Protocol     Protocol
	Queue        QueueConfig
	Metadata     MetadataConfig
}

// QueueConfig is queue_config. Capacity is accepted and has no effect: the
// spool is the buffer.
type QueueConfig struct {
	Capacity          int
	MinShards         int
	MaxShards         int
	MaxSamplesPerSend int
	BatchSendDeadline time.Duration
	MinBackoff        time.Duration
	MaxBackoff        time.Duration
	// RetryOnRateLimit retries a 429 like a 5xx; vigil's default is
	// true, since a dropped batch is lost.
	RetryOnRateLimit bool
	// SampleAgeLimit drops samples older than this at send time; 0
	// sends every sample however old.
	SampleAgeLimit time.Duration
}

// MetadataConfig is metadata_config: whether and how often the metric
// families' types go to the remote (1.0: in requests of their own, every
// SendInterval; 2.0: with each series).
type MetadataConfig struct {
	Send              bool
	SendInterval      time.Duration
	MaxSamplesPerSend int
}

// DefaultConfig holds Prometheus' defaults, with RetryOnRateLimit on.
var DefaultConfig = Config{
	Timeout:  30 * time.Second,
	Protocol: V1,
	Queue: QueueConfig{
		Capacity:          10000,
		MinShards:         1,
		MaxShards:         50,
		MaxSamplesPerSend: 2000,
		BatchSendDeadline: 5 * time.Second,
		MinBackoff:        30 * time.Millisecond,
		MaxBackoff:        5 * time.Second,
		RetryOnRateLimit:  true,
	},
	Metadata: MetadataConfig{Send: true, SendInterval: time.Minute, MaxSamplesPerSend: 2000},
}

// ID is the remote's name: Name, or the URL without credentials.
func (c Config) ID() string {
	if c.Name != "" {
		return c.Name
	}
	return RedactURL(c.URL)
}

// RedactURL is u without its password, for names, logs and the console.
func RedactURL(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	return pu.Redacted()
}

// validate checks what the sender needs.
func (c Config) validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("remote_write url %q: want http(s)://host[:port]/path", RedactURL(c.URL))
	}
	if c.Protocol != V1 && c.Protocol != V2 {
		return fmt.Errorf("remote_write %s: protobuf_message %q: want %s or %s", c.ID(), c.Protocol, V1, V2)
	}
	for i, rc := range c.WriteRelabel {
		if rc == nil {
			return fmt.Errorf("remote_write %s: write_relabel_configs %d is empty", c.ID(), i)
		}
		// Sets the name validation a config made in code lacks.
		if err := rc.Validate(model.UTF8Validation); err != nil {
			return fmt.Errorf("remote_write %s: write_relabel_configs %d: %w", c.ID(), i, err)
		}
	}
	q := c.Queue
	if q.MinShards <= 0 || q.MaxShards < q.MinShards || q.MaxSamplesPerSend <= 0 || q.BatchSendDeadline <= 0 || q.MaxBackoff < q.MinBackoff {
		return fmt.Errorf("remote_write %s: queue_config: want 0 < min_shards ≤ max_shards, max_samples_per_send > 0, batch_send_deadline > 0, min_backoff ≤ max_backoff", c.ID())
	}
	return nil
}
