//go:build unix

package testenv

import (
	"fmt"
	"os"
	"syscall"
)

// lock takes an exclusive lock on the file at path (created when missing), waiting for whoever
// holds it, and returns its release: one build at a time of each binary and source state.
func lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// private fails unless dir belongs to this user and nobody else may write in it: the tests run
// the binaries they find there.
func private(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != os.Getuid() || fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s belongs to another user or others may write in it: remove it", dir)
	}
	return nil
}
