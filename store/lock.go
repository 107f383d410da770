package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ErrLocked: another process (or another DB in this one) holds the data dir.
// Open returns it wrapped in a *LockedError that names the holder.
var ErrLocked = errors.New("data dir is in use")

// LockedError says who holds a data dir. errors.Is(err, ErrLocked) is true.
type LockedError struct {
	Dir string
	PID int // 0 when the lock file does not say
}

func (e *LockedError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("data dir %s is in use by pid %d (one vigil per data dir; stop it or pass another --data-dir)", e.Dir, e.PID)
	}
	return fmt.Sprintf("data dir %s is in use by another process (one vigil per data dir; stop it or pass another --data-dir)", e.Dir)
}

func (*LockedError) Is(target error) bool { return target == ErrLocked }

// lockFileName is the data-dir lock: an flock(2)ed file holding the pid of
// its owner. The kernel drops the lock when the owner dies, so a stale file
// never blocks a restart.
const lockFileName = "LOCK"

type dirLock struct{ f *os.File }

// acquireLock takes the lock of dir. On a read-only file system it locks an
// existing lock file read-only, or, when there is none, goes on without a
// lock (readOnly true): nobody can write there anyway, and the store runs
// with its snapshots failing and reported.
func acquireLock(dir string) (l *dirLock, readOnly bool, err error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, unix.EROFS) {
		readOnly = true
		f, err = os.Open(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, true, nil
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("open lock file: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, false, &LockedError{Dir: dir, PID: holderPID(path)}
		}
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
	if readOnly {
		return &dirLock{f: f}, true, nil
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, false, fmt.Errorf("write pid to %s: %w", path, err)
	}
	return &dirLock{f: f}, false, nil
}

// holderPID reads the pid in a held lock file. A holder writes it just
// after it takes the lock, so a vigil that lost a race for the lock may
// find the file empty for a moment: it waits up to a fifth of a second
// for the pid, and says 0 (not known) after that.
func holderPID(path string) int {
	for range 20 {
		b, _ := os.ReadFile(path)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0
}

// release unlocks by closing; the file stays (removing it would race with
// the next owner opening it).
func (l *dirLock) release() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("release data dir lock: %w", err)
	}
	return nil
}
