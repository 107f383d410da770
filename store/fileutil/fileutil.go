// Package fileutil replaces files atomically, for vigil's durable files:
// the store's snapshot and the console's silences.
//
// # What it promises
//
// Write replaces the file at a path so that a crash at any moment leaves
// the old file or the new one, whole, never a mix: it creates a temporary
// file NAME.*.tmp (mode 0600) in the same directory, so that the rename
// stays within one file system; writes it; fsyncs and closes it; renames it
// over NAME; and fsyncs the directory, so that the rename itself survives a
// power loss. Every step's error is returned, each fsync's included, and on
// any failure the temporary file is removed, so a failed write (a full or
// read-only disk) leaves NAME as it was and nothing beside it.
//
// Only a crash between creating the temporary file and renaming it leaves
// one behind. RemoveTemps sweeps those; the owner of NAME calls it at
// start, before its first Write.
//
// The disk is reached through FS, so a test can make a write fail the way a
// full or read-only file system does; OS is the real one.
package fileutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File is what Write writes to: the temporary file.
type File interface {
	io.Writer
	io.WriterAt
	Sync() error
	Close() error
	Name() string
}

// FS is the seam between Write and the disk.
type FS interface {
	// CreateTemp creates a new file in dir, as os.CreateTemp does (mode
	// 0600, pattern's last "*" replaced by a random string).
	CreateTemp(dir, pattern string) (File, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	// SyncDir fsyncs the directory dir, making the renames in it durable.
	SyncDir(dir string) error
}

// OS is the FS of the operating system's disk.
type OS struct{}

var _ FS = OS{}

// CreateTemp creates the file with os.CreateTemp, mode 0600.
func (OS) CreateTemp(dir, pattern string) (File, error) { return os.CreateTemp(dir, pattern) }

// Rename is os.Rename.
func (OS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove is os.Remove.
func (OS) Remove(name string) error { return os.Remove(name) }

// SyncDir opens dir, fsyncs it and closes it.
func (OS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return d.Close()
}

// tempSuffix ends the name of every temporary file Write creates:
// NAME.<random>.tmp.
const tempSuffix = ".tmp"

// Write replaces the file at path, through fsys, with what fill writes to
// a temporary file beside it (see the package doc). fill may write at any
// offset (a header written last, once its counts are known); Write syncs
// and closes the file after it.
//
// When Write fails, the temporary file is gone and path is as it was; the
// one exception is a failed fsync of the directory, which Write also
// returns: path then holds the new file, but a power loss may still bring
// back the old one.
func Write(fsys FS, path string, fill func(File) error) (err error) {
	dir, name := filepath.Dir(path), filepath.Base(path)
	f, err := fsys.CreateTemp(dir, name+".*"+tempSuffix)
	if err != nil {
		return err
	}
	tmp := f.Name()
	closed, renamed := false, false
	defer func() {
		if err == nil || renamed {
			return
		}
		if !closed {
			f.Close()
		}
		// Should the removal fail too, RemoveTemps sweeps the file at
		// the next start.
		_ = fsys.Remove(tmp)
	}()
	if err := fill(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	closed = true
	if err := f.Close(); err != nil {
		return err
	}
	if err := fsys.Rename(tmp, path); err != nil {
		return err
	}
	renamed = true
	return fsys.SyncDir(dir)
}

// WriteFile replaces the file at path with data, atomically, on the
// operating system's disk: Write with OS.
func WriteFile(path string, data []byte) error {
	return Write(OS{}, path, func(f File) error {
		_, err := f.Write(data)
		return err
	})
}

// RemoveTemps removes the temporary files Write left beside path when a
// crash stopped it before the rename. Only the owner of path may call it,
// at start: a Write running meanwhile would lose its temporary file. A
// missing directory has nothing to sweep. The error joins those of the
// files that could not be removed (a read-only disk); they are harmless,
// as Write never reuses a name.
func RemoveTemps(path string) error {
	dir, name := filepath.Dir(path), filepath.Base(path)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove temporary files of %s: %w", path, err)
	}
	var errs []error
	for _, e := range entries {
		if !isTemp(e.Name(), name) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// isTemp says whether file is a temporary file Write creates for name: name,
// a dot, something, and tempSuffix.
func isTemp(file, name string) bool {
	rest, ok := strings.CutPrefix(file, name+".")
	if !ok {
		return false
	}
	mid, ok := strings.CutSuffix(rest, tempSuffix)
	return ok && mid != ""
}
