package scrape

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"
	yaml "go.yaml.in/yaml/v3"
)

// The remote_write section, which store/remotewrite sends by. scrape reads
// it with the rest of the file, so that one load reports every problem at
// its line; the binary hands it on as plain values (Config.RemoteWrites).

// RemoteWriteConfig is one remote_write entry, with Prometheus' keys and
// defaults but one: retry_on_http_429 defaults to true, since vigil's
// queue would otherwise drop the batch for good.
type RemoteWriteConfig struct {
	URL                  string            `yaml:"url"`
	Name                 string            `yaml:"name"`
	RemoteTimeout        model.Duration    `yaml:"remote_timeout"`
	Headers              map[string]string `yaml:"headers"`
	WriteRelabelConfigs  []*relabel.Config `yaml:"write_relabel_configs"`
	ProtobufMessage      string            `yaml:"protobuf_message"`
	QueueConfig          QueueConfig       `yaml:"queue_config"`
	MetadataConfig       MetadataConfig    `yaml:"metadata_config"`
	SendExemplars        bool              `yaml:"send_exemplars"`         // accepted: vigil holds no exemplars
	SendNativeHistograms bool              `yaml:"send_native_histograms"` // accepted: vigil holds no native histograms

	HTTPClientConfig config.HTTPClientConfig `yaml:",inline"`
}

// QueueConfig is remote_write's queue_config. capacity is accepted and
// has no effect: the on-disk spool is the buffer.
type QueueConfig struct {
	Capacity          int            `yaml:"capacity"`
	MaxShards         int            `yaml:"max_shards"`
	MinShards         int            `yaml:"min_shards"`
	MaxSamplesPerSend int            `yaml:"max_samples_per_send"`
	BatchSendDeadline model.Duration `yaml:"batch_send_deadline"`
	MinBackoff        model.Duration `yaml:"min_backoff"`
	MaxBackoff        model.Duration `yaml:"max_backoff"`
	RetryOnRateLimit  *bool          `yaml:"retry_on_http_429"`
	SampleAgeLimit    model.Duration `yaml:"sample_age_limit"`
}

// MetadataConfig is remote_write's metadata_config.
type MetadataConfig struct {
	Send              bool           `yaml:"send"`
	SendInterval      model.Duration `yaml:"send_interval"`
	MaxSamplesPerSend int            `yaml:"max_samples_per_send"`
}

// The protobuf messages remote_write can send.
const (
	ProtobufMessageV1 = "prometheus.WriteRequest"        // Remote-Write 1.0, the default
	ProtobufMessageV2 = "io.prometheus.write.v2.Request" // Remote-Write 2.0
)

// DefaultRemoteWriteConfig holds Prometheus' defaults (with
// retry_on_http_429 true).
var DefaultRemoteWriteConfig = RemoteWriteConfig{
	RemoteTimeout:   model.Duration(30 * time.Second),
	ProtobufMessage: ProtobufMessageV1,
	QueueConfig: QueueConfig{
		Capacity:          10000,
		MaxShards:         50,
		MinShards:         1,
		MaxSamplesPerSend: 2000,
		BatchSendDeadline: model.Duration(5 * time.Second),
		MinBackoff:        model.Duration(30 * time.Millisecond),
		MaxBackoff:        model.Duration(5 * time.Second),
	},
	MetadataConfig: MetadataConfig{
		Send:              true,
		SendInterval:      model.Duration(time.Minute),
		MaxSamplesPerSend: 2000,
	},
	HTTPClientConfig: config.HTTPClientConfig{FollowRedirects: true, EnableHTTP2: false},
}

// RemoteWrite is one remote in the plain form the remote-write queue
// needs: the keys of RemoteWriteConfig, defaults applied.
type RemoteWrite struct {
	Name              string // as written; "" when none
	URL               string
	Timeout           time.Duration
	Headers           map[string]string
	HTTPClient        config.HTTPClientConfig
	WriteRelabel      []*relabel.Config
	ProtobufMessage   string // ProtobufMessageV1 or ProtobufMessageV2
	Capacity          int
	MinShards         int
	MaxShards         int
	MaxSamplesPerSend int
	BatchSendDeadline time.Duration
	MinBackoff        time.Duration
	MaxBackoff        time.Duration
	RetryOnRateLimit  bool
	SampleAgeLimit    time.Duration
	SendMetadata      bool
	MetadataInterval  time.Duration
	MetadataPerSend   int
}

// RemoteWrites returns the remote_write entries, in the file's order.
func (c *Config) RemoteWrites() []RemoteWrite {
	var out []RemoteWrite
	for _, rw := range c.RemoteWriteConfigs {
		q := rw.QueueConfig
		retry := true
		if q.RetryOnRateLimit != nil {
			retry = *q.RetryOnRateLimit
		}
		out = append(out, RemoteWrite{
			Name: rw.Name, URL: rw.URL, Timeout: time.Duration(rw.RemoteTimeout),
			Headers: rw.Headers, HTTPClient: rw.HTTPClientConfig, WriteRelabel: rw.WriteRelabelConfigs,
			ProtobufMessage: rw.ProtobufMessage,
			Capacity:        q.Capacity, MinShards: q.MinShards, MaxShards: q.MaxShards,
			MaxSamplesPerSend: q.MaxSamplesPerSend, BatchSendDeadline: time.Duration(q.BatchSendDeadline),
			MinBackoff: time.Duration(q.MinBackoff), MaxBackoff: time.Duration(q.MaxBackoff),
			RetryOnRateLimit: retry, SampleAgeLimit: time.Duration(q.SampleAgeLimit),
			SendMetadata: rw.MetadataConfig.Send, MetadataInterval: time.Duration(rw.MetadataConfig.SendInterval),
			MetadataPerSend: rw.MetadataConfig.MaxSamplesPerSend,
		})
	}
	return out
}

// reservedHeaders are the request headers remote write sets itself (as
// Prometheus reserves them).
var reservedHeaders = map[string]bool{
	"host": true, "content-encoding": true, "content-length": true, "content-type": true,
	"user-agent": true, "connection": true, "keep-alive": true, "proxy-authenticate": true,
	"proxy-authorization": true, "www-authenticate": true, "accept-encoding": true,
	"x-prometheus-remote-write-version": true, "x-prometheus-remote-read-version": true,
	"x-prometheus-scrape-timeout-seconds": true, "retry-attempt": true,
	"x-remote-write-version": true,
}

// loadRemoteWrite decodes and checks the remote_write section (n, nil when
// absent).
func (l *loader) loadRemoteWrite(cfg *Config, n *yaml.Node) {
	if n == nil || n.Kind != yaml.SequenceNode {
		if n != nil && n.Tag != "!!null" {
			l.errorf(n, "remote_write must be a list")
		}
		return
	}
	names := map[string]int{}
	for _, item := range n.Content {
		rw := DefaultRemoteWriteConfig
		rw.HTTPClientConfig.FollowRedirects = true
		if !l.decode(item, &rw) {
			continue
		}
		rw.HTTPClientConfig.SetDirectory(l.dir)
		l.problems(item, rw.finish(), 0)
		// The queue knows a remote by its name, or its URL without
		// credentials: each must be unique.
		id := rw.Name
		if id == "" {
			id = redactedURL(rw.URL)
		}
		if line, dup := names[id]; dup && id != "" {
			at := keyNode(item, "name")
			if rw.Name == "" {
				at = keyNode(item, "url")
			}
			l.errorf(at, "remote_write %q is already configured on line %d: give each remote a name of its own", id, line)
		}
		names[id] = item.Line
		cfg.RemoteWriteConfigs = append(cfg.RemoteWriteConfigs, &rw)
	}
}

// finish checks a remote_write entry as Prometheus does.
func (rw *RemoteWriteConfig) finish() []problem {
	var ps []problem
	add := func(key string, format string, args ...any) {
		var path []any
		if key != "" {
			for _, k := range strings.Split(key, ".") {
				path = append(path, k)
			}
		}
		ps = append(ps, problem{path, "remote_write: " + fmt.Sprintf(format, args...)})
	}
	switch u, err := url.Parse(rw.URL); {
	case rw.URL == "":
		add("", "url is missing")
	case err != nil:
		add("url", "url %q: %v", redactedURL(rw.URL), err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		add("url", "url %q: want http(s)://host[:port]/path, such as http://victoria:8428/api/v1/write", redactedURL(rw.URL))
	}
	if rw.RemoteTimeout <= 0 {
		add("remote_timeout", "remote_timeout must be positive")
	}
	for _, h := range slices.Sorted(maps.Keys(rw.Headers)) {
		switch lh := strings.ToLower(h); {
		case lh == "authorization":
			add("headers", "the Authorization header is set through basic_auth, authorization or oauth2, not headers")
		case reservedHeaders[lh]:
			add("headers", "header %s is set by vigil and cannot be changed", h)
		}
	}
	if rw.ProtobufMessage != ProtobufMessageV1 && rw.ProtobufMessage != ProtobufMessageV2 {
		add("protobuf_message", "protobuf_message %q: want %s (Remote-Write 1.0) or %s (2.0)", rw.ProtobufMessage, ProtobufMessageV1, ProtobufMessageV2)
	}
	for i, c := range rw.WriteRelabelConfigs {
		if c == nil {
			ps = append(ps, problem{[]any{"write_relabel_configs", i}, "remote_write: empty write_relabel_configs entry"})
			continue
		}
		if err := c.Validate(model.UTF8Validation); err != nil {
			ps = append(ps, problem{[]any{"write_relabel_configs", i}, fmt.Sprintf("remote_write write_relabel_configs: %v", err)})
		}
	}
	if err := rw.HTTPClientConfig.Validate(); err != nil {
		add("", "%v", err)
	}
	q := rw.QueueConfig
	switch {
	case q.MaxShards <= 0:
		add("queue_config.max_shards", "queue_config max_shards must be positive")
	case q.MinShards <= 0:
		add("queue_config.min_shards", "queue_config min_shards must be positive")
	case q.MinShards > q.MaxShards:
		add("queue_config.min_shards", "queue_config min_shards %d is greater than max_shards %d", q.MinShards, q.MaxShards)
	}
	if q.MaxSamplesPerSend <= 0 {
		add("queue_config.max_samples_per_send", "queue_config max_samples_per_send must be positive")
	}
	if q.Capacity <= 0 {
		add("queue_config.capacity", "queue_config capacity must be positive")
	}
	if q.BatchSendDeadline <= 0 {
		add("queue_config.batch_send_deadline", "queue_config batch_send_deadline must be positive")
	}
	if q.MinBackoff <= 0 {
		add("queue_config.min_backoff", "queue_config min_backoff must be positive")
	}
	if q.MaxBackoff < q.MinBackoff {
		add("queue_config.max_backoff", "queue_config max_backoff %s is less than min_backoff %s", q.MaxBackoff, q.MinBackoff)
	}
	if q.SampleAgeLimit < 0 {
		add("queue_config.sample_age_limit", "queue_config sample_age_limit must not be negative")
	}
	md := rw.MetadataConfig
	if md.Send && md.SendInterval <= 0 {
		add("metadata_config.send_interval", "metadata_config send_interval must be positive")
	}
	if md.Send && md.MaxSamplesPerSend <= 0 {
		add("metadata_config.max_samples_per_send", "metadata_config max_samples_per_send must be positive")
	}
	return ps
}

// redactedURL is u without its password, for messages.
func redactedURL(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	return pu.Redacted()
}
