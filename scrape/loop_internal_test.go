package scrape

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
			require.Equal(t, tc.want, snap(tc.prev, tc.now, tc.interval))
		})
	}
}
