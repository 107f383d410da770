package pipeline

import (
	"context"
	"io"
	"runtime"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/cmd/vigil/internal/procs"
	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/store"
)

// selfJob is the job of vigil's own metrics (Self).
const selfJob = "vigil"

// Self is vigil's own metrics, scraped like any target under job "vigil",
// as Prometheus scrapes itself; also what the debug listener serves on
// /metrics.
func (p *Pipeline) Self() scrape.InternalTarget {
	return scrape.InternalTarget{
		Job:      selfJob,
		Instance: "vigil",
		Reserved: true, // they say what a full store refuses: vigil_failing{component="max_series"}
		Collect: func(_ context.Context, w io.Writer) error {
			if err := writeStoreMetrics(w, p.db.Stats()); err != nil {
				return err
			}
			if err := writeTargetMetrics(w, p.scrape.Targets()); err != nil {
				return err
			}
			if err := writeProcessMetrics(w); err != nil {
				return err
			}
			if err := p.failures.WriteMetrics(w); err != nil {
				return err
			}
			if p.rw != nil {
				if err := writeRemoteWriteMetrics(w, p.rw.Status()); err != nil {
					return err
				}
			}
			var sinks []alert.Sink
			if p.events != nil {
				sinks = append(sinks, p.events)
			}
			if p.console != nil {
				sinks = append(sinks, p.console)
			}
			return alert.WriteMetrics(w, p.rules, p.notify, sinks...)
		},
	}
}

// writeProcessMetrics writes the CPU vigil has used and the cores it
// schedules on (see package procs), under the names Prometheus' own Go and
// process collectors give them.
func writeProcessMetrics(w io.Writer) error {
	t := scrape.NewTextWriter(w)
	t.Header("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.")
	t.Sample("process_cpu_seconds_total", procs.CPUTime().Seconds())
	t.Header("go_sched_gomaxprocs_threads", "gauge", "The current runtime.GOMAXPROCS setting: the threads that can run Go code at once.")
	t.Sample("go_sched_gomaxprocs_threads", float64(runtime.GOMAXPROCS(0)))
	return t.Err()
}

// writeStoreMetrics writes the store's Stats in the text format.
func writeStoreMetrics(w io.Writer, st store.Stats) error {
	t := scrape.NewTextWriter(w)
	gauge := func(name, help string, v float64) {
		t.Header(name, "gauge", help)
		t.Sample(name, v)
	}
	counter := func(name, help string, v float64) {
		t.Header(name, "counter", help)
		t.Sample(name, v)
	}
	gauge("vigil_store_series", "Series held in the store.", float64(st.Series))
	gauge("vigil_store_samples", "Samples held in the store.", float64(st.Samples))
	gauge("vigil_store_chunks", "Chunks held in the store, open head chunks included.", float64(st.Chunks))
	gauge("vigil_store_chunk_bytes", "Encoded size of the store's chunks.", float64(st.ChunkBytes))
	gauge("vigil_store_max_series", "The --max-series limit.", float64(st.MaxSeries))
	gauge("vigil_store_reserved_series", "Series outside --max-series: up and the other synthetic scrape series, ALERTS, ALERTS_FOR_STATE.", float64(st.ReservedSeries))
	counter("vigil_store_samples_appended_total", "Samples committed to the store.", float64(st.Appended))
	t.Header("vigil_store_samples_refused_total", "counter", "Samples the store refused, by reason.")
	for _, r := range []struct {
		reason string
		n      uint64
	}{
		{"out_of_order", st.Refused.OutOfOrder},
		{"duplicate", st.Refused.Duplicate},
		{"too_many_series", st.Refused.TooManySeries},
		{"too_old", st.Refused.TooOld},
		{"invalid", st.Refused.Invalid},
	} {
		t.Sample("vigil_store_samples_refused_total", float64(r.n), "reason", r.reason)
	}
	counter("vigil_store_series_created_total", "Series created since start.", float64(st.SeriesCreated))
	counter("vigil_store_series_removed_total", "Series removed past the retention.", float64(st.SeriesRemoved))
	counter("vigil_store_snapshots_total", "Snapshots written.", float64(st.Snapshots))
	counter("vigil_store_snapshot_failures_total", "Snapshots that failed.", float64(st.SnapshotFailures))
	if !st.LastSnapshot.Time.IsZero() {
		gauge("vigil_store_last_snapshot_duration_seconds", "How long the last snapshot took.", st.LastSnapshot.Duration.Seconds())
		gauge("vigil_store_last_snapshot_size_bytes", "Size of the last snapshot written.", float64(st.LastSnapshot.Size))
	}
	if !st.LastGoodSnapshot.IsZero() {
		gauge("vigil_store_last_snapshot_success_timestamp_seconds", "When the last successful snapshot started.", float64(st.LastGoodSnapshot.UnixMilli())/1000)
	}
	return t.Err()
}

// writeTargetMetrics writes how many targets are in each health state.
func writeTargetMetrics(w io.Writer, targets []scrape.TargetHealth) error {
	t := scrape.NewTextWriter(w)
	n := map[scrape.HealthState]int{}
	for _, th := range targets {
		n[th.Health]++
	}
	t.Header("vigil_targets", "gauge", "Scrape targets by health.")
	for _, h := range []scrape.HealthState{scrape.HealthUp, scrape.HealthDown, scrape.HealthUnknown} {
		t.Sample("vigil_targets", float64(n[h]), "health", string(h))
	}
	return t.Err()
}
