package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/store"
	"github.com/vigilterm/vigil/store/remotewrite"
	"github.com/vigilterm/vigil/tui"
)

// remoteWrites turns the config's remote_write entries into the queue's
// configs.
func remoteWrites(cfg *scrape.Config) []remotewrite.Config {
	var out []remotewrite.Config
	for _, rw := range cfg.RemoteWrites() {
		out = append(out, remotewrite.Config{
			Name: rw.Name, URL: rw.URL, Timeout: rw.Timeout, Headers: rw.Headers,
			HTTPClient: rw.HTTPClient, WriteRelabel: rw.WriteRelabel,
			Protocol: remotewrite.Protocol(rw.ProtobufMessage),
			Queue: remotewrite.QueueConfig{
				Capacity: rw.Capacity, MinShards: rw.MinShards, MaxShards: rw.MaxShards,
				MaxSamplesPerSend: rw.MaxSamplesPerSend, BatchSendDeadline: rw.BatchSendDeadline,
				MinBackoff: rw.MinBackoff, MaxBackoff: rw.MaxBackoff,
				RetryOnRateLimit: rw.RetryOnRateLimit, SampleAgeLimit: rw.SampleAgeLimit,
			},
			Metadata: remotewrite.MetadataConfig{
				Send: rw.SendMetadata, SendInterval: rw.MetadataInterval, MaxSamplesPerSend: rw.MetadataPerSend,
			},
		})
	}
	return out
}

// openRemoteWrite makes the remote-write queue, once the store holds the
// data directory's lock: its spool lives in the data directory (in memory
// without one). Its remotes are set by Start.
func (p *Pipeline) openRemoteWrite() error {
	dir := ""
	if p.opts.DataDir != "" {
		dir = filepath.Join(p.opts.DataDir, remotewrite.SpoolDirName)
	}
	rw, err := remotewrite.New(remotewrite.Options{
		Dir:        dir,
		SpoolBytes: p.opts.RemoteWriteSpool,
		Logger:     p.logger,
		UserAgent:  "vigil",
		Types:      p.familyTypes,
	})
	if err != nil {
		return err
	}
	p.rw = rw
	return nil
}

// onCommit hands what the store accepted to remote write (the store's
// Options.OnCommit).
func (p *Pipeline) onCommit(samples []store.CommittedSample) {
	if p.rw != nil {
		p.rw.Append(samples)
	}
}

// familyTypes reads the types the targets declare, for remote write's
// metadata; a family declared two ways takes the first.
func (p *Pipeline) familyTypes() map[string]model.MetricType {
	if p.scrape == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	md, err := p.scrape.Metadata(ctx, "")
	if err != nil {
		return nil
	}
	out := make(map[string]model.MetricType, len(md))
	for name, ms := range md {
		if len(ms) > 0 {
			out[name] = ms[0].Type
		}
	}
	return out
}

// RemoteWrites reports the remote_write receivers to the console.
func RemoteWrites(rw *remotewrite.Writer) tui.RemoteWritesFunc {
	return func() []tui.RemoteWrite {
		st := rw.Status()
		out := make([]tui.RemoteWrite, len(st.Remotes))
		for i, r := range st.Remotes {
			out[i] = tui.RemoteWrite{
				Name: r.Name, URL: r.URL, Protocol: r.Protocol.Version(), FellBack: r.FellBack,
				Failing: r.Failing, Pending: r.Pending, Lag: r.Lag, LagKnown: r.LagKnown,
				Sent: r.Sent, Dropped: r.DroppedTotal(), LastSend: r.LastSend, LastError: r.LastError,
				InMemory: st.InMemory,
			}
		}
		return out
	}
}

// remoteBehind is how far a remote may lag (or fail, before anything was
// sent) before vigil says so: a healthy one is a batch deadline (5s) and
// a request behind.
const remoteBehind = time.Minute

// dropsSeen remembers when each remote's drops last grew, so that a burst
// of drops is one failure that ends once they stop (as events' drops).
type dropsSeen struct {
	mu   sync.Mutex
	seen map[string]uint64
	at   map[string]time.Time
}

// recent records total as name's drops at now and says whether they grew
// within eventDropQuiet.
func (d *dropsSeen) recent(name string, total uint64, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen == nil {
		d.seen, d.at = map[string]uint64{}, map[string]time.Time{}
	}
	if total > d.seen[name] {
		d.seen[name], d.at[name] = total, now
	}
	at, ok := d.at[name]
	return ok && now.Sub(at) < eventDropQuiet
}

// remoteWriteState is remote write's probe for Failures.
func (p *Pipeline) remoteWriteState() error {
	return remoteWriteTrouble(p.rw.Status(), time.Now(), p.rwDrops.recent)
}

// remoteWriteTrouble says what goes wrong with remote write, nil while
// every remote keeps up: a remote a minute behind, or failing for a
// minute before it sent anything; samples dropped within the last
// eventDropQuiet (write_relabel_configs' are not a loss); a spool that
// cannot be written.
func remoteWriteTrouble(st remotewrite.Status, now time.Time, dropped func(name string, total uint64, now time.Time) bool) error {
	var errs []string
	if dropped("", st.WriteFailures, now) {
		errs = append(errs, fmt.Sprintf("remote write spool: %d samples lost: %s", st.WriteFailures, st.LastWriteErr))
	}
	for _, r := range st.Remotes {
		behind := r.LagKnown && r.Lag >= remoteBehind
		stuck := r.Failing && !r.LagKnown && now.Sub(r.FailingSince) >= remoteBehind
		switch {
		case r.Failing && (behind || stuck):
			errs = append(errs, fmt.Sprintf("remote write %s: failing, %s behind, %d samples waiting: %s", r.Name, lagText(r), r.Pending, r.LastError))
		case behind:
			errs = append(errs, fmt.Sprintf("remote write %s: %s behind, %d samples waiting", r.Name, lagText(r), r.Pending))
		}
		if n := r.DroppedTotal(); dropped(" "+r.Name, n, now) {
			errs = append(errs, fmt.Sprintf("remote write %s: %d samples dropped%s", r.Name, n, lastErrText(r)))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.New(strings.Join(errs, "; "))
}

func lagText(r remotewrite.RemoteStatus) string {
	if !r.LagKnown {
		return "? (nothing sent yet)"
	}
	return r.Lag.Truncate(time.Second).String()
}

func lastErrText(r remotewrite.RemoteStatus) string {
	if r.Failed > 0 && r.LastError != "" {
		return " (the receiver refused them: " + r.LastError + ")"
	}
	if r.Dropped["spool_full"] > 0 {
		return " (past --remote-write-spool)"
	}
	return ""
}

// writeRemoteWriteMetrics writes remote write's state as vigil_remote_write_*.
func writeRemoteWriteMetrics(w io.Writer, st remotewrite.Status) error {
	t := scrape.NewTextWriter(w)
	gauge := func(name, help string, v float64) {
		t.Header(name, "gauge", help)
		t.Sample(name, v)
	}
	gauge("vigil_remote_write_spool_bytes", "Bytes the remote-write spool holds.", float64(st.SpoolBytes))
	gauge("vigil_remote_write_spool_limit_bytes", "The --remote-write-spool bound.", float64(st.SpoolBound))
	gauge("vigil_remote_write_spool_segments", "Segments the remote-write spool holds.", float64(st.Segments))
	inMemory := 0.0
	if st.InMemory {
		inMemory = 1
	}
	gauge("vigil_remote_write_spool_in_memory", "1 when the spool is in memory (no data directory) and lost on exit.", inMemory)
	t.Header("vigil_remote_write_samples_spooled_total", "counter", "Samples written to the remote-write spool.")
	t.Sample("vigil_remote_write_samples_spooled_total", float64(st.Spooled))
	t.Header("vigil_remote_write_spool_write_failures_total", "counter", "Samples lost because the spool could not be written.")
	t.Sample("vigil_remote_write_spool_write_failures_total", float64(st.WriteFailures))
	if len(st.Remotes) == 0 {
		return t.Err()
	}
	each := func(name, typ, help string, v func(r remotewrite.RemoteStatus) (float64, bool)) {
		t.Header(name, typ, help)
		for _, r := range st.Remotes {
			if x, ok := v(r); ok {
				t.Sample(name, x, "remote", r.Name, "url", r.URL)
			}
		}
	}
	each("vigil_remote_write_samples_sent_total", "counter", "Samples the receiver took.",
		func(r remotewrite.RemoteStatus) (float64, bool) { return float64(r.Sent), true })
	each("vigil_remote_write_samples_failed_total", "counter", "Samples the receiver refused (4xx other than 429): dropped.",
		func(r remotewrite.RemoteStatus) (float64, bool) { return float64(r.Failed), true })
	each("vigil_remote_write_samples_retried_total", "counter", "Samples of requests that failed and were tried again.",
		func(r remotewrite.RemoteStatus) (float64, bool) { return float64(r.Retried), true })
	t.Header("vigil_remote_write_samples_dropped_total", "counter", "Samples not sent, by reason: spool_full, damaged, spool_write_failed, too_old, write_relabel.")
	for _, r := range st.Remotes {
		for _, reason := range []string{"spool_full", "damaged", "spool_write_failed", "too_old", "write_relabel"} {
			t.Sample("vigil_remote_write_samples_dropped_total", float64(r.Dropped[reason]), "remote", r.Name, "url", r.URL, "reason", reason)
		}
	}
	each("vigil_remote_write_samples_pending", "gauge", "Samples in the spool the receiver has not taken yet.",
		func(r remotewrite.RemoteStatus) (float64, bool) { return float64(r.Pending), true })
	each("vigil_remote_write_last_send_timestamp_seconds", "gauge", "When the receiver last took a request.",
		func(r remotewrite.RemoteStatus) (float64, bool) {
			return float64(r.LastSend.UnixMilli()) / 1000, !r.LastSend.IsZero()
		})
	each("vigil_remote_write_lag_seconds", "gauge", "How far what the receiver took is behind what was spooled, in sample time.",
		func(r remotewrite.RemoteStatus) (float64, bool) { return r.Lag.Seconds(), r.LagKnown })
	each("vigil_remote_write_shards", "gauge", "Requests sent at once.",
		func(r remotewrite.RemoteStatus) (float64, bool) { return float64(r.Shards), true })
	t.Header("vigil_remote_write_protocol_info", "gauge", "The Remote-Write version each remote is sent; fell_back=\"true\" when it refused 2.0.")
	for _, r := range st.Remotes {
		t.Sample("vigil_remote_write_protocol_info", 1, "remote", r.Name, "url", r.URL, "version", r.Protocol.Version(), "fell_back", fmt.Sprint(r.FellBack))
	}
	return t.Err()
}
