package store

import (
	"errors"
	"math"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"
)

// TestOnCommit: the hook sees every sample a Commit accepted, in append
// order, with the series' ref and labels, and none that was refused or
// rolled back.
func TestOnCommit(t *testing.T) {
	var got []CommittedSample
	db := New(Options{Retention: -1, OnCommit: func(s []CommittedSample) {
		got = append(got, s...) // the slice is the store's: copy
	}})
	defer db.Close()
	a1 := labels.FromStrings("__name__", "a", "job", "x")
	b1 := labels.FromStrings("__name__", "b", "job", "x")

	app := db.Appender()
	refA, err := app.Append(0, a1, 1000, 1)
	require.NoError(t, err)
	refB, err := app.Append(0, b1, 1000, 2)
	require.NoError(t, err)
	_, err = app.Append(refA, a1, 2000, math.Float64frombits(value.StaleNaN))
	require.NoError(t, err)
	require.Empty(t, got, "nothing before Commit")
	require.NoError(t, app.Commit())
	require.Len(t, got, 3)
	require.Equal(t, CommittedSample{Ref: refA, Labels: a1, T: 1000, V: 1}, got[0])
	require.Equal(t, CommittedSample{Ref: refB, Labels: b1, T: 1000, V: 2}, got[1])
	require.Equal(t, refA, got[2].Ref)
	require.Equal(t, value.StaleNaN, math.Float64bits(got[2].V), "staleness markers bit for bit")

	// Refused at Append (out of order), ignored (the same sample again),
	// and rolled back: none reaches the hook.
	got = nil
	app = db.Appender()
	_, err = app.Append(refA, a1, 500, 9)
	require.True(t, errors.Is(err, ErrOutOfOrder))
	_, err = app.Append(refB, b1, 1000, 2)
	require.NoError(t, err)
	_, err = app.Append(refB, b1, 3000, 3)
	require.NoError(t, err)
	require.NoError(t, app.Commit())
	require.Equal(t, []CommittedSample{{Ref: refB, Labels: b1, T: 3000, V: 3}}, got)

	got = nil
	app = db.Appender()
	_, err = app.Append(refB, b1, 4000, 4)
	require.NoError(t, err)
	require.NoError(t, app.Rollback())
	require.Empty(t, got)

	// Refused at Commit: another transaction got there first.
	first, second := db.Appender(), db.Appender()
	_, err = first.Append(refB, b1, 6000, 6)
	require.NoError(t, err)
	_, err = second.Append(refB, b1, 5000, 5)
	require.NoError(t, err)
	require.NoError(t, first.Commit())
	require.ErrorIs(t, second.Commit(), ErrOutOfOrder)
	require.Equal(t, []CommittedSample{{Ref: refB, Labels: b1, T: 6000, V: 6}}, got)
}
