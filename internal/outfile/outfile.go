// Package outfile writes an output file the safe way: into a new file beside it, renamed over
// the name only when the output is complete. A run that fails before it has anything to write
// (a command that does not exist, a pid that cannot be traced) leaves an older file of that
// name as it was; a link planted at the name in a shared directory redirects nothing.
package outfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// File is an output being written. Commit puts it in place; Abort throws it away.
type File struct {
	*os.File
	path string // where it goes
	tmp  string // where it is written; "" when written in place (not a regular file)
	done bool
}

var counter atomic.Uint64

// Create starts an output for path with permissions perm. An existing path that is not a
// regular file (a pipe, /dev/null, a terminal) is written in place. A symlink is refused.
func Create(path string, perm os.FileMode) (*File, error) {
	if st, err := os.Lstat(path); err == nil {
		switch {
		case st.Mode()&os.ModeSymlink != 0:
			return nil, fmt.Errorf("create %s: it is a symbolic link; iotrace does not write through one", path)
		case st.IsDir():
			return nil, fmt.Errorf("create %s: it is a directory", path)
		case !st.Mode().IsRegular():
			f, err := os.OpenFile(path, os.O_WRONLY|unix.O_NOFOLLOW, 0)
			if err != nil {
				return nil, fmt.Errorf("open %s: %w", path, err)
			}
			return &File{File: f, path: path}, nil
		}
	}
	dir, base := filepath.Split(path)
	for {
		tmp := filepath.Join(dir, "."+base+".tmp-"+strconv.Itoa(os.Getpid())+"-"+strconv.FormatUint(counter.Add(1), 10))
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		owner(f)
		return &File{File: f, path: path, tmp: tmp}, nil
	}
}

// owner gives a file made under sudo to the user who ran sudo, so that reading it back (show,
// export) needs no root.
func owner(f *os.File) {
	uid, err1 := strconv.Atoi(os.Getenv("SUDO_UID"))
	gid, err2 := strconv.Atoi(os.Getenv("SUDO_GID"))
	if err1 == nil && err2 == nil && os.Geteuid() == 0 {
		_ = f.Chown(uid, gid)
	}
}

// Path is where the output goes.
func (f *File) Path() string { return f.path }

// Commit closes the output and puts it at its name.
func (f *File) Commit() error {
	if f.done {
		return nil
	}
	f.done = true
	if err := f.File.Close(); err != nil {
		f.remove()
		return fmt.Errorf("close %s: %w", f.path, err)
	}
	if f.tmp == "" {
		return nil
	}
	if err := os.Rename(f.tmp, f.path); err != nil {
		f.remove()
		return fmt.Errorf("put %s in place: %w", f.path, err)
	}
	return nil
}

// Abort closes the output and removes it; an older file at its name stays.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	_ = f.File.Close()
	f.remove()
}

func (f *File) remove() {
	if f.tmp != "" {
		_ = os.Remove(f.tmp)
	}
}

// Modes: a raw recording holds kernel addresses (open files, requests), so it is readable by its
// owner only, as perf.data is.
const (
	Public  os.FileMode = 0o644
	Private os.FileMode = 0o600
)
