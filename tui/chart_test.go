package tui

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/NimbleMarkets/ntcharts/sparkline"
	"github.com/charmbracelet/lipgloss"
	"github.com/stretchr/testify/require"
)

// ntchartsSpark is how renderSpark drew with ntcharts' sparkline, the
// reference its cells must match.
func ntchartsSpark(values []float64, width int, maxV float64) string {
	sl := sparkline.New(width, 1)
	sl.AutoMaxValue = false
	sl.SetMax(maxV)
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			v = 0
		}
		sl.Push(math.Min(v, maxV))
	}
	sl.Draw()
	return sl.View()
}

func TestRenderSparkMatchesNtcharts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		width := 1 + rng.IntN(40)
		n := rng.IntN(50)
		maxV := []float64{1, 100, 0.02, 7}[i%4]
		vals := make([]float64, n)
		for j := range vals {
			switch rng.IntN(12) {
			case 0:
				vals[j] = math.NaN()
			case 1:
				vals[j] = maxV * 3 // above the scale: a full block
			case 2:
				vals[j] = 0
			default:
				vals[j] = rng.Float64() * maxV
			}
		}
		want := vals
		if len(want) > width {
			want = want[len(want)-width:]
		}
		require.Equal(t, ntchartsSpark(want, width, maxV), renderSpark(vals, width, maxV, lipgloss.NewStyle()), "values %v, width %d, max %v", vals, width, maxV)
	}
}

// TestTimeTicks: a time axis labels round times of the wall clock, evenly
// spaced, each at the column where it falls, with a free column after each
// label, over ranges and widths from a minute to a day.
func TestTimeTicks(t *testing.T) {
	kolkata := time.FixedZone("IST", 5*3600+1800) // a zone off the hour
	for _, tc := range []struct {
		loc      *time.Location
		rng      time.Duration
		cols     int
		step     time.Duration
		layout   string
		firstMin int // the first label's minute of the hour, or -1
	}{
		{time.UTC, 15 * time.Minute, 75, 2 * time.Minute, "15:04", -1},
		{time.UTC, 15 * time.Minute, 155, time.Minute, "15:04", -1},
		{time.UTC, 5 * time.Minute, 75, time.Minute, "15:04", -1},
		{time.UTC, 2 * time.Minute, 75, 15 * time.Second, "15:04:05", -1},
		{time.UTC, time.Hour, 75, 5 * time.Minute, "15:04", -1},
		{time.UTC, time.Hour, 40, 10 * time.Minute, "15:04", -1},
		{kolkata, 24 * time.Hour, 75, 2 * time.Hour, "15:04", 0},
		{kolkata, 7 * 24 * time.Hour, 75, 24 * time.Hour, "01-02", 0},
	} {
		start := time.Date(2026, 12, 5, 9, 45, 17, 0, time.UTC)
		end := start.Add(tc.rng)
		f := timeTicks(tc.loc, start, end, tc.cols)
		perCol := tc.rng.Seconds() / float64(tc.cols)
		var cols []int
		var times []time.Time
		for i := range tc.cols {
			s := f(i, float64(start.Unix())+perCol*float64(i))
			if s == "" {
				continue
			}
			require.Len(t, s, len(tc.layout), "%v over %d: %q", tc.rng, tc.cols, s)
			at, err := time.ParseInLocation(tc.layout, s, tc.loc)
			require.NoError(t, err)
			// It falls in its column: [column start, + perCol), by the
			// wall clock's seconds of the day.
			col := start.Add(time.Duration(perCol * float64(i) * float64(time.Second))).In(tc.loc)
			ofDay := func(x time.Time) int { return x.Hour()*3600 + x.Minute()*60 + x.Second() }
			late := ((ofDay(at)-ofDay(col))%86400 + 86400) % 86400
			require.Less(t, float64(late), perCol+1, "%v over %d: %s at column %d (%s)", tc.rng, tc.cols, s, i, col.Format("15:04:05"))
			// And it is that day's: a date label names the day whose
			// midnight falls in the column.
			require.Equal(t, col.Add(time.Duration(late)*time.Second).Format(tc.layout), s, "%v over %d: column %d", tc.rng, tc.cols, i)
			cols, times = append(cols, i), append(times, at)
		}
		require.GreaterOrEqual(t, len(times), 3, "%v over %d columns", tc.rng, tc.cols)
		for k := range times {
			wall := times[k].Hour()*3600 + times[k].Minute()*60 + times[k].Second()
			require.Zero(t, wall%int(tc.step.Seconds()), "%v over %d: label %s is not a multiple of %v", tc.rng, tc.cols, times[k].Format(tc.layout), tc.step)
			if k > 0 {
				d := times[k].Sub(times[k-1]) // labels carry no date: past midnight it is negative
				if d < 0 {
					d += 24 * time.Hour
				}
				require.Equal(t, tc.step, d, "%v over %d: labels evenly spaced", tc.rng, tc.cols)
				require.Greater(t, cols[k]-cols[k-1], len(tc.layout), "%v over %d: a free column after a label", tc.rng, tc.cols)
			}
		}
		if tc.firstMin >= 0 {
			require.Equal(t, tc.firstMin, times[0].Minute(), "labels on the hour of %s", tc.loc)
		}
	}
}
