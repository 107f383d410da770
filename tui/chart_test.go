package tui

import (
	"math"
	"math/rand/v2"
	"testing"

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
