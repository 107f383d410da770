package store

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/store/fileutil"
)

// fill appends rounds samples to each of n series.
func fill(t testing.TB, db *DB, n, rounds int) {
	t.Helper()
	for i := range rounds {
		a := db.Appender()
		for k := range n {
			_, err := a.Append(0, labels.FromStrings("__name__", "m", "k", string(rune('a'+k))), int64(i)*1000, float64(i*k))
			require.NoError(t, err)
		}
		require.NoError(t, a.Commit())
	}
}

func TestOpenLockAndSnapshot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)

	_, err = Open(dir, Options{})
	require.ErrorIs(t, err, ErrLocked)
	var le *LockedError
	require.True(t, errors.As(err, &le))
	require.Positive(t, le.PID)
	require.Contains(t, err.Error(), "pid")

	a := db.Appender()
	for i := range int64(500) {
		_, err := a.Append(0, labels.FromStrings("__name__", "m", "i", "1"), i*1000, float64(i%7))
		require.NoError(t, err)
		_, err = a.Append(0, labels.FromStrings("__name__", "m", "i", "2"), i*1000, float64(i))
		require.NoError(t, err)
	}
	require.NoError(t, a.Commit())
	want := readAll(t, db, math.MinInt64, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m"))
	require.NoError(t, db.Close())
	require.NoError(t, db.Stats().LastSnapshot.Err)

	ro, err := OpenSnapshot(dir, Options{Retention: -1})
	require.NoError(t, err)
	require.Equal(t, want, readAll(t, ro, math.MinInt64, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m")))
	require.NoError(t, ro.Close())

	db, err = Open(dir, Options{Retention: 100 * time.Second, SnapshotInterval: -1})
	require.NoError(t, err)
	rep := db.Stats().Restore
	require.NoError(t, rep.Damage)
	require.EqualValues(t, 2, rep.Series)
	// 100s back from 499s: the chunks ending at 119s, 239s and 359s go.
	require.EqualValues(t, 2*360, rep.ExpiredSamples)
	require.EqualValues(t, 2*140, rep.Samples)
	// Appends continue the restored head chunks.
	a = db.Appender()
	_, err = a.Append(0, labels.FromStrings("__name__", "m", "i", "1"), 500_000, 1)
	require.NoError(t, err)
	_, err = a.Append(0, labels.FromStrings("__name__", "m", "i", "1"), 499_000, 1)
	require.ErrorIs(t, err, ErrOutOfOrder)
	require.NoError(t, a.Commit())
	require.NoError(t, db.Close())
}

func TestSnapshotFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	db, err := Open(dir, Options{SnapshotInterval: -1})
	require.NoError(t, err)
	fill(t, db, 2, 2)
	require.NoError(t, db.Close())
	for path, mode := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, filepath.Join(dir, SnapshotFileName): 0o600, filepath.Join(dir, lockFileName): 0o600} {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, mode, fi.Mode(), path)
	}
}

func TestOpenSnapshotWithoutOne(t *testing.T) {
	_, err := OpenSnapshot(t.TempDir(), Options{})
	require.ErrorIs(t, err, ErrNoSnapshot)
}

func TestOpenSnapshotBesideOwner(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	defer db.Close()
	fill(t, db, 3, 5)
	require.NoError(t, db.Snapshot())
	ro, err := OpenSnapshot(dir, Options{Retention: -1})
	require.NoError(t, err, "no lock needed")
	require.EqualValues(t, 3, ro.Stats().Series)
	require.Error(t, ro.Snapshot(), "read-only")
	require.NoError(t, ro.Close())
}

func TestStaleMarkerSurvivesSnapshot(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
	require.NoError(t, err)
	l := labels.FromStrings("__name__", "up")
	a := db.Appender()
	for i := range int64(200) {
		v := 1.0
		if i%50 == 49 {
			v = math.Float64frombits(value.StaleNaN)
		}
		_, err := a.Append(0, l, i*1000, v)
		require.NoError(t, err)
	}
	require.NoError(t, a.Commit())
	require.NoError(t, db.Close())
	ro, err := OpenSnapshot(dir, Options{Retention: -1})
	require.NoError(t, err)
	defer ro.Close()
	got := readAll(t, ro, math.MinInt64, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "up"))[l.String()]
	require.Len(t, got, 200)
	for i, s := range got {
		require.Equal(t, i%50 == 49, value.IsStaleNaN(s.v), "sample %d", i)
	}
}

// faultFS fails snapshot writes the way a full or read-only disk does.
type faultFS struct {
	fileutil.OS
	createErr error // CreateTemp fails with it
	writeErr  error // writes fail with it after limit bytes
	limit     int
}

func (f faultFS) CreateTemp(dir, pattern string) (fileutil.File, error) {
	if f.createErr != nil {
		return nil, &os.PathError{Op: "open", Path: filepath.Join(dir, pattern), Err: f.createErr}
	}
	file, err := f.OS.CreateTemp(dir, pattern)
	if err != nil || f.writeErr == nil {
		return file, err
	}
	return &faultFile{File: file, err: f.writeErr, left: f.limit}, nil
}

type faultFile struct {
	fileutil.File
	err  error
	left int
}

func (f *faultFile) Write(b []byte) (int, error) {
	if len(b) > f.left {
		n, _ := f.File.Write(b[:f.left])
		f.left = 0
		return n, f.err
	}
	f.left -= len(b)
	return f.File.Write(b)
}

func TestSnapshotWriteFailures(t *testing.T) {
	cases := []struct {
		name string
		fs   fileutil.FS
		want error
	}{
		{"read-only dir", faultFS{createErr: syscall.EROFS}, syscall.EROFS},
		{"disk full at once", faultFS{writeErr: syscall.ENOSPC, limit: 0}, syscall.ENOSPC},
		{"disk full midway", faultFS{writeErr: syscall.ENOSPC, limit: 300}, syscall.ENOSPC},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
			require.NoError(t, err)
			fill(t, db, 20, 10)
			require.NoError(t, db.Snapshot())
			good, err := os.ReadFile(filepath.Join(dir, SnapshotFileName))
			require.NoError(t, err)

			fill(t, db, 20, 0)
			a := db.Appender()
			_, err = a.Append(0, labels.FromStrings("__name__", "later"), 20_000, 1)
			require.NoError(t, err)
			require.NoError(t, a.Commit())
			db.fs = tc.fs
			err = db.Snapshot()
			require.ErrorIs(t, err, tc.want)
			st := db.Stats()
			require.ErrorIs(t, st.LastSnapshot.Err, tc.want)
			require.EqualValues(t, 1, st.SnapshotFailures)
			require.Contains(t, st.LastSnapshot.Err.Error(), dir, "the error says where")

			// The old snapshot is intact, no temporary file is left, and
			// the store goes on.
			now, err := os.ReadFile(filepath.Join(dir, SnapshotFileName))
			require.NoError(t, err)
			require.Equal(t, good, now)
			tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
			require.Empty(t, tmps)
			a = db.Appender()
			_, err = a.Append(0, labels.FromStrings("__name__", "later"), 21_000, 2)
			require.NoError(t, err)
			require.NoError(t, a.Commit())
			require.Len(t, readAll(t, db, math.MinInt64, math.MaxInt64, allSeries), 21)

			// Once the disk is back, snapshots are too.
			db.fs = fileutil.OS{}
			require.NoError(t, db.Close())
			require.NoError(t, db.Stats().LastSnapshot.Err)
		})
	}
}

// TestOnSnapshot: every attempt, periodic or not, good or failed, is
// reported to Options.OnSnapshot.
func TestOnSnapshot(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	var got []error
	db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1, OnSnapshot: func(st SnapshotStats) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, st.Err)
	}})
	require.NoError(t, err)
	fill(t, db, 2, 2)
	require.NoError(t, db.Snapshot())
	db.fs = faultFS{createErr: syscall.EROFS}
	require.Error(t, db.Snapshot())
	db.fs = fileutil.OS{}
	require.NoError(t, db.Close())
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 3)
	require.NoError(t, got[0])
	require.ErrorIs(t, got[1], syscall.EROFS)
	require.NoError(t, got[2], "Close's last snapshot")
}

// TestSnapshotRealFullAndReadOnlyDisk does the same on real file systems: a
// tiny tmpfs that fills up, and the data dir bind-mounted read-only over
// itself. It needs mount(2), so root.
func TestSnapshotRealFullAndReadOnlyDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs; the faultFS cases cover the logic")
	}
	mount := func(t *testing.T, args ...string) {
		t.Helper()
		if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
			t.Skipf("mount %v: %v: %s", args, err, out)
		}
	}
	t.Run("full", func(t *testing.T) {
		dir := t.TempDir()
		mount(t, "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", dir)
		t.Cleanup(func() { exec.Command("umount", dir).Run() })
		db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
		require.NoError(t, err)
		fill(t, db, 5, 10)
		require.NoError(t, db.Snapshot())
		good, err := os.ReadFile(filepath.Join(dir, SnapshotFileName))
		require.NoError(t, err)
		// Random values that do not compress: far more than 256k.
		a := db.Appender()
		for k := range 2000 {
			for i := range 60 {
				_, err := a.Append(0, labels.FromStrings("__name__", "big", "k", strings.Repeat("x", k%50)+string(rune(k))), int64(i)*1000, math.Float64frombits(uint64(k*7919+i)*0x9E3779B97F4A7C15))
				require.NoError(t, err)
			}
		}
		require.NoError(t, a.Commit())
		err = db.Snapshot()
		require.ErrorIs(t, err, syscall.ENOSPC)
		require.ErrorIs(t, db.Stats().LastSnapshot.Err, syscall.ENOSPC)
		now, err := os.ReadFile(filepath.Join(dir, SnapshotFileName))
		require.NoError(t, err)
		require.Equal(t, good, now)
		tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
		require.Empty(t, tmps)
		require.ErrorIs(t, db.Close(), syscall.ENOSPC, "the last snapshot fails too, and says so")
	})
	t.Run("read-only", func(t *testing.T) {
		dir := t.TempDir()
		db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
		require.NoError(t, err)
		fill(t, db, 5, 10)
		require.NoError(t, db.Snapshot())
		good, err := os.ReadFile(filepath.Join(dir, SnapshotFileName))
		require.NoError(t, err)
		mount(t, "--bind", dir, dir)
		t.Cleanup(func() { exec.Command("umount", dir).Run() })
		mount(t, "-o", "remount,bind,ro", dir)
		err = db.Snapshot()
		require.ErrorIs(t, err, syscall.EROFS)
		now, err := os.ReadFile(filepath.Join(dir, SnapshotFileName))
		require.NoError(t, err)
		require.Equal(t, good, now)
		fill(t, db, 5, 0)
		require.ErrorIs(t, db.Close(), syscall.EROFS)
	})
	for _, withLock := range []bool{true, false} {
		t.Run(fmt.Sprintf("read-only at open, lock file %v", withLock), func(t *testing.T) {
			dir := t.TempDir()
			db, err := Open(dir, Options{Retention: -1, SnapshotInterval: -1})
			require.NoError(t, err)
			fill(t, db, 5, 10)
			require.NoError(t, db.Close())
			if !withLock {
				require.NoError(t, os.Remove(filepath.Join(dir, lockFileName)))
			}
			mount(t, "--bind", dir, dir)
			t.Cleanup(func() { exec.Command("umount", dir).Run() })
			mount(t, "-o", "remount,bind,ro", dir)

			db, err = Open(dir, Options{Retention: -1, SnapshotInterval: -1})
			require.NoError(t, err, "a read-only data dir still runs")
			require.EqualValues(t, 5, db.Stats().Restore.Series)
			if withLock {
				_, err := Open(dir, Options{})
				require.ErrorIs(t, err, ErrLocked, "the lock still holds")
			}
			require.ErrorIs(t, db.Snapshot(), syscall.EROFS)
			require.ErrorIs(t, db.Stats().LastSnapshot.Err, syscall.EROFS)
			fill(t, db, 5, 0)
			require.ErrorIs(t, db.Close(), syscall.EROFS)
		})
	}
}
