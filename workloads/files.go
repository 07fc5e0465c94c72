package workloads

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// PatternPage is the period of the content FillFile writes: every 4 KiB of
// the file repeats one letter, so captured buffers show which part of the
// file they came from ("aaaa" is the first 4 KiB, "bbbb" the next).
const PatternPage = 4096

// PatternByte is the byte FillFile writes at offset off.
func PatternByte(off int64) byte { return byte('a' + (off/PatternPage)%26) }

// FillFile writes size bytes of the pattern to fd from offset 0 with
// pwrite64 in 64 KiB chunks.
func FillFile(fd int, size int64) error {
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	for off := int64(0); off < size; off += chunk {
		n := min(int64(chunk), size-off)
		for i := range n {
			buf[i] = PatternByte(off + i)
		}
		if _, err := unix.Pwrite(fd, buf[:n], off); err != nil {
			return fmt.Errorf("pwrite64 at %d: %w", off, err)
		}
	}
	return nil
}

// Evict makes fd's cached pages cold the only way a workload may: write them
// back (fdatasync, so they are clean) and then drop them with
// POSIX_FADV_DONTNEED. It drops this file's pages only, never the system's caches
// (a retry may write back the rest of the file's filesystem, syncfs).
func Evict(fd int) error {
	if err := unix.Fdatasync(fd); err != nil {
		return fmt.Errorf("fdatasync: %w", err)
	}
	// A page written back can still be held by the filesystem (ext4 keeps a just-committed
	// page's buffers until the journal lets go of them), and DONTNEED skips it: where
	// cachestat says pages stayed, flush the filesystem's journal and ask again, waiting longer
	// each time (under load the journal's commit can take a few hundred milliseconds).
	for try := 0; ; try++ {
		if err := unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED); err != nil {
			return fmt.Errorf("fadvise64 DONTNEED: %w", err)
		}
		st, ok, err := PageCache(fd)
		if err != nil || !ok || st.Cache == 0 || try == 12 {
			return err
		}
		_ = unix.Syncfs(fd)
		time.Sleep(time.Duration(min(10*(try+1), 100)) * time.Millisecond)
	}
}

// PageCache reports fd's page-cache state (cached, dirty and writeback page
// counts) with cachestat(2), which needs no mapping. ok is false on kernels
// before 6.5, which lack cachestat.
func PageCache(fd int) (st unix.Cachestat_t, ok bool, err error) {
	return PageCacheRange(fd, 0, 0) // length 0: to the end of the file
}

// PageCacheRange is PageCache for the bytes off..off+n of the file (n 0: to its end).
func PageCacheRange(fd int, off, n uint64) (st unix.Cachestat_t, ok bool, err error) {
	rng := unix.CachestatRange{Off: off, Len: n}
	if err := unix.Cachestat(uint(fd), &rng, &st, 0); err != nil {
		if errors.Is(err, unix.ENOSYS) {
			return st, false, nil
		}
		return st, false, fmt.Errorf("cachestat: %w", err)
	}
	return st, true, nil
}

// isTmpfs reports whether dir lives on tmpfs, where pages never go cold.
func isTmpfs(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Type == unix.TMPFS_MAGIC
}

// ErrnoName returns the symbolic name of err's errno ("EAGAIN"), or err's
// text when it is not an errno.
func ErrnoName(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		if name := unix.ErrnoName(errno); name != "" {
			return name
		}
	}
	return err.Error()
}
