package store

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/require"
)

// crashEnv names the data dir a re-executed test binary writes snapshots
// into until it is killed.
const crashEnv = "VIGIL_STORE_CRASH_CHILD"

const crashSeries = 300

func crashLabels(k int) labels.Labels {
	return labels.FromStrings("__name__", "crash_test", "k", fmt.Sprint(k))
}

// crashChild runs the child side of TestSnapshotSurvivesSIGKILL when the
// environment asks for it: it opens the store, says "ready", then appends
// one sample to every series and writes a snapshot, round after round,
// until it is killed. Round i writes value i at i seconds, so a whole
// snapshot holds the same samples 0..n-1 in every series.
func crashChild() bool {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		return false
	}
	db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	round := int(db.Stats().Samples / crashSeries)
	fmt.Println("ready")
	refs := make([]storage.SeriesRef, crashSeries)
	for ; ; round++ {
		a := db.Appender()
		for k := range refs {
			if refs[k], err = a.Append(refs[k], crashLabels(k), int64(round)*1000, float64(round)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(4)
			}
		}
		if err := a.Commit(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		if err := db.Snapshot(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(5)
		}
	}
}

// TestSnapshotSurvivesSIGKILL kills a process that writes snapshots in a
// loop at random moments, many times. Every restore must succeed, report no
// damage, and hold one whole snapshot: every series with the same samples,
// never fewer rounds than the last restore saw.
func TestSnapshotSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary many times")
	}
	dir := t.TempDir()
	deadline := time.Now().Add(12 * time.Second)
	last, kills, midWrite := 0, 0, 0
	for i := 0; i < 60 && time.Now().Before(deadline); i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		line, err := bufio.NewReader(out).ReadString('\n')
		require.NoError(t, err, "child did not start")
		require.Equal(t, "ready\n", line)
		time.Sleep(time.Duration(rand.IntN(80_000)) * time.Microsecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		err = cmd.Wait()
		require.Error(t, err, "the child only ends by the kill")
		kills++
		if tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmps) > 0 {
			midWrite++
		}

		db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
		require.NoError(t, err)
		rep := db.Stats().Restore
		require.NoError(t, rep.Damage)
		tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
		require.Empty(t, tmps, "Open sweeps temporary files")
		got := readAll(t, db, math.MinInt64, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "crash_test"))
		n := -1
		if rep.Path != "" && rep.Series > 0 {
			require.Len(t, got, crashSeries)
		}
		for _, s := range got {
			if n < 0 {
				n = len(s)
			}
			require.Len(t, s, n, "a series from another snapshot")
			for j, smp := range s {
				require.Equal(t, sample{int64(j) * 1000, float64(j)}, smp)
			}
		}
		n = max(n, 0)
		require.GreaterOrEqual(t, n, last, "a restore went back in time")
		last = n
		// Close writes that same state again; the next child goes on from it.
		require.NoError(t, db.Close())
	}
	t.Logf("%d kills, %d of them mid-write; the last restore held %d rounds", kills, midWrite, last)
	require.Positive(t, last, "no snapshot was ever written")
}
