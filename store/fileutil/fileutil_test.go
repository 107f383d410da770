package fileutil_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/store/fileutil"
)

// faultFS fails one step of a Write the way a full or read-only disk does.
type faultFS struct {
	fileutil.OS
	step string // "create", "write", "sync", "close", "rename" or "syncdir"
	err  error
}

func (f faultFS) CreateTemp(dir, pattern string) (fileutil.File, error) {
	if f.step == "create" {
		return nil, &os.PathError{Op: "open", Path: filepath.Join(dir, pattern), Err: f.err}
	}
	file, err := f.OS.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f}, nil
}

func (f faultFS) Rename(oldpath, newpath string) error {
	if f.step == "rename" {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: f.err}
	}
	return f.OS.Rename(oldpath, newpath)
}

func (f faultFS) SyncDir(dir string) error {
	if f.step == "syncdir" {
		return f.err
	}
	return f.OS.SyncDir(dir)
}

type faultFile struct {
	fileutil.File
	fs faultFS
}

func (f *faultFile) Write(b []byte) (int, error) {
	if f.fs.step == "write" {
		// Half goes to the disk before it is full.
		n, _ := f.File.Write(b[:len(b)/2])
		return n, f.fs.err
	}
	return f.File.Write(b)
}

func (f *faultFile) Sync() error {
	if f.fs.step == "sync" {
		return f.fs.err
	}
	return f.File.Sync()
}

func (f *faultFile) Close() error {
	err := f.File.Close()
	if f.fs.step == "close" {
		return f.fs.err
	}
	return err
}

// dirNames returns the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "silences.json")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))

	require.NoError(t, fileutil.WriteFile(path, []byte("new\n")))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "new\n", string(got))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode(), "the new file is private, whatever the old one was")
	require.Equal(t, []string{"silences.json"}, dirNames(t, dir), "nothing is left beside it")

	// A file that did not exist is created.
	other := filepath.Join(dir, "new")
	require.NoError(t, fileutil.WriteFile(other, nil))
	got, err = os.ReadFile(other)
	require.NoError(t, err)
	require.Empty(t, got)
}

// A relative path writes in the working directory: the temporary file goes
// beside the file, and the directory synced is ".".
func TestWriteFileRelative(t *testing.T) {
	t.Chdir(t.TempDir())
	require.NoError(t, fileutil.WriteFile("f", []byte("x")))
	got, err := os.ReadFile("f")
	require.NoError(t, err)
	require.Equal(t, "x", string(got))
	require.Equal(t, []string{"f"}, dirNames(t, "."))
}

// Write's fill may write a header at offset 0 after the rest, as the
// snapshot does.
func TestWriteFillsAtOffsets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snap")
	err := fileutil.Write(fileutil.OS{}, path, func(f fileutil.File) error {
		if _, err := f.Write([]byte("....body")); err != nil {
			return err
		}
		_, err := f.WriteAt([]byte("HEAD"), 0)
		return err
	})
	require.NoError(t, err)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "HEADbody", string(got))
}

// TestWriteFailures: whichever step fails, Write returns its error, the old
// file is as it was and no temporary file is left; a failed fsync of the
// directory is returned too, with the new file already in place.
func TestWriteFailures(t *testing.T) {
	cases := []struct {
		step string
		err  error
		want string // the file's contents after
	}{
		{"create", syscall.EROFS, "old"},
		{"write", syscall.ENOSPC, "old"},
		{"sync", syscall.EIO, "old"},
		{"close", syscall.EIO, "old"},
		{"rename", syscall.EROFS, "old"},
		{"syncdir", syscall.EIO, "new"},
	}
	for _, tc := range cases {
		t.Run(tc.step, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			require.NoError(t, fileutil.WriteFile(path, []byte("old")))

			err := fileutil.Write(faultFS{step: tc.step, err: tc.err}, path, func(f fileutil.File) error {
				_, err := f.Write([]byte("new"))
				return err
			})
			require.ErrorIs(t, err, tc.err)
			got, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			require.Equal(t, tc.want, string(got))
			require.Equal(t, []string{"f"}, dirNames(t, dir))
		})
	}
}

// An error of fill's own ends the write the same way.
func TestWriteFillFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	require.NoError(t, fileutil.WriteFile(path, []byte("old")))
	errFill := errors.New("encode failed")
	err := fileutil.Write(fileutil.OS{}, path, func(f fileutil.File) error {
		if _, err := f.Write([]byte("half")); err != nil {
			return err
		}
		return errFill
	})
	require.ErrorIs(t, err, errFill)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "old", string(got))
	require.Equal(t, []string{"f"}, dirNames(t, dir))
}

func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{
		"vigil.snapshot",                          // the file itself
		"vigil.snapshot.123456.tmp",               // Write's temporaries
		"vigil.snapshot.9.tmp",                    //
		"vigil.snapshot.damaged-20260101T000000Z", // not a temporary
		"vigil.snapshotx.1.tmp",                   // another name's
		"silences.json.77.tmp",                    // another file's
		"vigil.snapshot.tmp",                      // no random part
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o600))
	}
	require.NoError(t, fileutil.RemoveTemps(filepath.Join(dir, "vigil.snapshot")))
	require.Equal(t, []string{
		"silences.json.77.tmp",
		"vigil.snapshot",
		"vigil.snapshot.damaged-20260101T000000Z",
		"vigil.snapshot.tmp",
		"vigil.snapshotx.1.tmp",
	}, dirNames(t, dir))

	// What a crash leaves of a real Write is swept.
	path := filepath.Join(dir, "silences.json")
	crash := errors.New("crash")
	err := fileutil.Write(leaveTemp{}, path, func(fileutil.File) error { return crash })
	require.ErrorIs(t, err, crash)
	require.Contains(t, dirNames(t, dir), "silences.json.77.tmp")
	require.Len(t, dirNames(t, dir), 6, "the crashed write's temporary file is there")
	require.NoError(t, fileutil.RemoveTemps(path))
	require.Equal(t, []string{
		"vigil.snapshot",
		"vigil.snapshot.damaged-20260101T000000Z",
		"vigil.snapshot.tmp",
		"vigil.snapshotx.1.tmp",
	}, dirNames(t, dir))

	require.NoError(t, fileutil.RemoveTemps(filepath.Join(dir, "missing", "f")), "no dir, nothing to sweep")
}

// leaveTemp is a disk on which removing fails, as a crash would leave the
// temporary file.
type leaveTemp struct{ fileutil.OS }

func (leaveTemp) Remove(string) error { return syscall.EIO }
