package store

import (
	"fmt"
	"io"
	"os"
)

// snapshotFile is what a snapshot is written to.
type snapshotFile interface {
	io.Writer
	io.WriterAt
	Sync() error
	Close() error
	Name() string
}

// fileSystem is the seam between snapshots and the disk, so tests can make
// a write fail the way a full or read-only file system does.
type fileSystem interface {
	CreateTemp(dir, pattern string) (snapshotFile, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	SyncDir(dir string) error
}

type osFS struct{}

func (osFS) CreateTemp(dir, pattern string) (snapshotFile, error) {
	return os.CreateTemp(dir, pattern) // mode 0600
}
func (osFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }
func (osFS) Remove(name string) error             { return os.Remove(name) }

func (osFS) SyncDir(dir string) error {
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
