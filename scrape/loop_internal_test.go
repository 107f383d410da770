package scrape

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/store"
)

func TestSnap(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		prev     time.Time
		now      time.Time
		interval time.Duration
		want     time.Time
	}{
		{"first scrape", time.Time{}, t0.Add(7 * time.Millisecond), 15 * time.Second, t0.Add(7 * time.Millisecond)},
		{"late within tolerance", t0, t0.Add(15*time.Second + 2*time.Millisecond), 15 * time.Second, t0.Add(15 * time.Second)},
		{"early within tolerance", t0, t0.Add(15*time.Second - 1*time.Millisecond), 15 * time.Second, t0.Add(15 * time.Second)},
		{"too late", t0, t0.Add(15*time.Second + 3*time.Millisecond), 15 * time.Second, t0.Add(15*time.Second + 3*time.Millisecond)},
		{"missed a tick", t0, t0.Add(30 * time.Second), 15 * time.Second, t0.Add(30 * time.Second)},
		{"tolerance is 1% of a short interval", t0, t0.Add(100*time.Millisecond + 1500*time.Microsecond), 100 * time.Millisecond, t0.Add(100*time.Millisecond + 1500*time.Microsecond)},
		{"short interval within 1%", t0, t0.Add(100*time.Millisecond + 500*time.Microsecond), 100 * time.Millisecond, t0.Add(100 * time.Millisecond)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, snap(tc.prev, tc.now, tc.interval, DefaultOptions().TimestampTolerance))
		})
	}
}

// TestOnTime: a scrape that starts late within a hundredth of its interval
// counts as started at its slot's planned time, so that the targets a slot
// wakes together keep timestamps exactly one interval apart however long
// each waited to run; a later one counts as started when it did.
func TestOnTime(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	const iv = 5 * time.Second
	require.Equal(t, t0, onTime(t0, t0.Add(30*time.Millisecond), iv))
	require.Equal(t, t0, onTime(t0, t0.Add(50*time.Millisecond), iv))
	require.Equal(t, t0.Add(51*time.Millisecond), onTime(t0, t0.Add(51*time.Millisecond), iv), "later than 1%")
	require.Equal(t, t0.Add(-time.Millisecond), onTime(t0, t0.Add(-time.Millisecond), iv), "before its slot")

	// As run uses it: slots exactly an interval apart (a ticker's times),
	// starts up to 40 ms late, well past snap's 2 ms.
	var aligned time.Time
	for k, lateMs := range []int{0, 7, 40, 3, 25, 0, 39} {
		planned := t0.Add(time.Duration(k) * iv)
		aligned = snap(aligned, onTime(planned, planned.Add(time.Duration(lateMs)*time.Millisecond), iv), iv, DefaultOptions().TimestampTolerance)
		require.Equal(t, planned, aligned, "scrape %d, %d ms late", k, lateMs)
	}
}

// TestRunStampsPlannedTimes: run stamps a scrape with the time its timer
// was due, on its slot, even when the scrape starts late (as the last
// target a slot wakes does), past snap's tolerance but within onTime's;
// and the next scrape one interval later. A run that stamped the time it
// read instead would be late by as much.
func TestRunStampsPlannedTimes(t *testing.T) {
	const iv = 2 * time.Second // onTime's tolerance: 20 ms
	rec := &upTimes{}
	tg := &target{labels: labels.FromStrings("job", "j", "instance", "i"), interval: iv, timeout: time.Second, hash: 7}
	l := newLoop(tg, staticScraper{ct: "text/plain; version=0.0.4", body: []byte("a 1\n")}, rec, loopOptions{fallback: "text/plain"}, discardLogger())
	l.started = func() time.Time { return time.Now().Add(8 * time.Millisecond) }
	ctx, cancel := context.WithCancel(context.Background())
	go l.run(ctx, ctx)
	defer func() { cancel(); <-l.stopped }()

	deadline := time.Now().Add(3 * iv)
	var got []int64
	for len(got) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		got = rec.times()
	}
	require.GreaterOrEqual(t, len(got), 2, "two scrapes in %v", 3*iv)
	slot := int64((tg.hash^l.seed)%ScrapeSlots) * (iv / ScrapeSlots).Milliseconds()
	require.Equal(t, slot, got[0]%iv.Milliseconds(), "the first scrape is stamped on its slot")
	require.Equal(t, got[0]+iv.Milliseconds(), got[1], "the second one interval later")
}

// upTimes is an Appendable that keeps the timestamps of committed up samples.
type upTimes struct {
	mu sync.Mutex
	ts []int64
}

func (u *upTimes) Appender() store.Appender { return &upAppender{u: u} }

func (u *upTimes) times() []int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.ts)
}

type upAppender struct {
	u  *upTimes
	ts []int64
}

func (a *upAppender) Append(ref storage.SeriesRef, l labels.Labels, t int64, _ float64) (storage.SeriesRef, error) {
	if l.Get(labels.MetricName) == "up" {
		a.ts = append(a.ts, t)
	}
	return ref, nil
}

func (a *upAppender) AppendReserved(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	return a.Append(ref, l, t, v)
}

func (a *upAppender) Commit() error {
	a.u.mu.Lock()
	defer a.u.mu.Unlock()
	a.u.ts = append(a.u.ts, a.ts...)
	return nil
}

func (a *upAppender) Rollback() error { return nil }

// TestReloadSameConfigKeepsLoops: loading the same file again (as SIGHUP
// does) leaves every loop running as it is.
func TestReloadSameConfigKeepsLoops(t *testing.T) {
	p := "../testdata/scrape/full.yml"
	a, err := LoadConfig(p)
	require.NoError(t, err)
	b, err := LoadConfig(p)
	require.NoError(t, err)
	m := NewManager(nopAppendable{}, Options{})
	defer m.Close()
	pa, err := m.newPool(a.ScrapeConfigs[0], a.Global)
	require.NoError(t, err)
	pb, err := m.newPool(b.ScrapeConfigs[0], b.Global)
	require.NoError(t, err)
	require.True(t, pa.same(pb), "the same file gives the same pool")
	b.ScrapeConfigs[0].SampleLimit++
	pc, err := m.newPool(b.ScrapeConfigs[0], b.Global)
	require.NoError(t, err)
	require.False(t, pa.same(pc))
}

type nopAppendable struct{}

func (nopAppendable) Appender() store.Appender { return nopAppender{} }

type nopAppender struct{}

func (nopAppender) Append(ref storage.SeriesRef, _ labels.Labels, _ int64, _ float64) (storage.SeriesRef, error) {
	return ref, nil
}
func (a nopAppender) AppendReserved(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	return a.Append(ref, l, t, v)
}
func (nopAppender) Commit() error   { return nil }
func (nopAppender) Rollback() error { return nil }

// TestReleaseBody: a buffer grown for a huge body, or one much larger than
// the body it held, is not given back to the pool, where scrapes would
// keep it alive for good.
func TestReleaseBody(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cap, len int
	}{
		{"over maxPooledBody", maxPooledBody + 1, maxPooledBody},
		{"mostly slack", 8 << 20, 100 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf := bytes.NewBuffer(make([]byte, tc.len, tc.cap))
			releaseBody(buf)
			for range 10 {
				got := bodyPool.Get().(*bytes.Buffer)
				require.NotSame(t, buf, got)
				require.LessOrEqual(t, got.Cap(), maxPooledBody)
			}
		})
	}
}
