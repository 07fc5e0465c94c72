// Package mmap is the memory-mapped I/O workload: the article's file copy
// through two mappings with a cold and a warm source, MAP_POPULATE,
// copy-on-write on a MAP_PRIVATE write, and msync of a shared mapping.
package mmap

import (
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/workloads"
)

// Workload returns the mmap workload. Options.Size sets the size of the
// mapped files (default 1 MiB).
func Workload() *workloads.Workload {
	return &workloads.Workload{
		Name: "mmap",
		Desc: "memory-mapped I/O: the article's mmap copy, cold/warm source, MAP_POPULATE, copy-on-write, msync",
		Guide: "The copy moves the whole file with no read or write syscall: look for the two mmap " +
			"calls (PROT_READ/MAP_PRIVATE and PROT_READ|PROT_WRITE/MAP_SHARED), then page faults " +
			"attributed to each mapping; one read fault can map several pages already in the cache " +
			"(fault-around: its note says how many). With a cold source the faults also add pages " +
			"to the page cache by readahead around the faulting page; warm, they only map what is " +
			"cached. MAP_POPULATE does all of that inside mmap, so touching the " +
			"pages later faults nothing. A write to a MAP_PRIVATE page faults again and copies it, " +
			"leaving the file untouched; msync writes a shared mapping's dirty pages back.",
		// every call that moves data through a descriptor is traced: "zero read()/write() calls"
		// is then something the trace shows, not assumes
		Syscalls: []string{"mmap", "munmap", "msync", "madvise", "ftruncate", "read", "write", "pread64",
			"pwrite64", "readv", "writev", "preadv", "pwritev", "preadv2", "pwritev2", "sendfile64", "copy_file_range", "splice"},
		Variants: []workloads.Variant{
			{Name: "copy", Desc: "the article: copy a just-written file through two mappings, one memcpy", Run: runCopy,
				Predictions: []workloads.Prediction{
					{ID: "no-read-write", Says: "the copy moves the data with zero read()/write() calls", Check: "no-read-write", File: "source.dat"},
				}},
			{Name: "cold", Desc: "the copy with a cold source: page faults fill the page cache", Run: runCold,
				Predictions: []workloads.Prediction{
					{ID: "fault-fills", Says: "page faults on the cold mapping fill the page cache, with no read() call", Check: "fault-fills", File: "source.dat"},
				}},
			{Name: "warm", Desc: "the copy with a clean, cached source: faults only map pages", Run: runWarm,
				Predictions: []workloads.Prediction{
					{ID: "no-fills", Says: "faults on the cached source only map pages: nothing enters the page cache", Check: "no-fills", File: "source.dat"},
				}},
			{Name: "populate", Desc: "MAP_POPULATE reads and maps the whole cold file inside mmap", Run: runPopulate,
				Predictions: []workloads.Prediction{
					{ID: "no-faults-later", Says: "MAP_POPULATE reads the file inside mmap: no page faults on it afterwards", Check: "populated", File: "source.dat"},
				}},
			{Name: "cow", Desc: "a write to a MAP_PRIVATE file page: copy-on-write, the file is unchanged", Run: runCOW,
				Predictions: []workloads.Prediction{
					{ID: "write-fault", Says: "the write to the MAP_PRIVATE page is a write fault: copy-on-write", Check: "cow-fault", File: "private.dat"},
					{ID: "file-unchanged", Says: "the file keeps its own byte: the write went to the private copy", Check: "file-unchanged", File: "private.dat"},
				}},
			{Name: "msync", Desc: "msync(MS_SYNC) writing back a MAP_SHARED mapping's dirty pages", Run: runMsync,
				Predictions: []workloads.Prediction{
					{ID: "writes-back", Says: "msync(MS_SYNC) writes the dirty pages back with block write requests", Check: "msync-writes", File: "shared.dat"},
				}},
		},
	}
}

// Files the copy variants leave behind, compared by the tests.
const (
	srcFile = "source.dat"
	dstFile = "dest.dat"
)

// source states for the copy.
type sourceState int

const (
	justWritten sourceState = iota // the article: dirty, in the cache
	warm                           // written back and still cached
	cold                           // written back and evicted
)

func runCopy(env *workloads.Env) error { _, err := copyFile(env, justWritten); return err }
func runCold(env *workloads.Env) error { _, err := copyFile(env, cold); return err }
func runWarm(env *workloads.Env) error { _, err := copyFile(env, warm); return err }

// copyFile writes the source in the given cache state, then runs the
// article's copy and returns the page faults the copy took.
func copyFile(env *workloads.Env, state sourceState) (faults int64, err error) {
	size := env.Size(1 << 20)
	if err := makeSource(env, size, state); err != nil {
		return 0, err
	}

	// From here on, the article's program.
	srcFd, err := unix.Open(env.Path(srcFile), unix.O_RDONLY, 0)
	if err != nil {
		return 0, fmt.Errorf("open source: %w", err)
	}
	defer unix.Close(srcFd)
	var st unix.Stat_t
	if err := unix.Fstat(srcFd, &st); err != nil {
		return 0, fmt.Errorf("fstat: %w", err)
	}
	src, err := unix.Mmap(srcFd, 0, int(st.Size), unix.PROT_READ, unix.MAP_PRIVATE)
	if err != nil {
		return 0, fmt.Errorf("mmap source: %w", err)
	}
	defer unix.Munmap(src)

	dstFd, err := unix.Open(env.Path(dstFile), unix.O_RDWR|unix.O_CREAT|unix.O_TRUNC, 0o666)
	if err != nil {
		return 0, fmt.Errorf("open destination: %w", err)
	}
	defer unix.Close(dstFd)
	if err := unix.Ftruncate(dstFd, st.Size); err != nil {
		return 0, fmt.Errorf("ftruncate: %w", err)
	}
	dst, err := unix.Mmap(dstFd, 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return 0, fmt.Errorf("mmap destination: %w", err)
	}
	defer unix.Munmap(dst)

	var n int
	faults, d, err := countFaults(func() { n = copy(dst, src) })
	if err != nil {
		return 0, err
	}
	pages := (st.Size + int64(unix.Getpagesize()) - 1) / int64(unix.Getpagesize())
	env.Printf("copied %d bytes (%d pages per mapping) with one memcpy in %v: zero read/write syscalls, %d page faults (%s source)",
		n, pages, d.Round(time.Microsecond), faults, state)
	return faults, nil
}

func (s sourceState) String() string {
	switch s {
	case warm:
		return "warm"
	case cold:
		return "cold"
	default:
		return "just-written"
	}
}

// makeSource writes the source file and leaves it in state.
func makeSource(env *workloads.Env, size int64, state sourceState) error {
	fd, err := unix.Open(env.Path(srcFile), unix.O_RDWR|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("create source: %w", err)
	}
	defer unix.Close(fd)
	if err := workloads.FillFile(fd, size); err != nil {
		return err
	}
	switch state {
	case warm:
		if err := unix.Fdatasync(fd); err != nil {
			return fmt.Errorf("fdatasync: %w", err)
		}
	case cold:
		if err := workloads.Evict(fd); err != nil {
			return err
		}
	}
	return nil
}

// countFaults runs f on one locked OS thread and returns the minor plus
// major page faults that thread took meanwhile (getrusage RUSAGE_THREAD).
func countFaults(f func()) (int64, time.Duration, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var before, after unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &before); err != nil {
		return 0, 0, fmt.Errorf("getrusage: %w", err)
	}
	start := time.Now()
	f()
	d := time.Since(start)
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &after); err != nil {
		return 0, 0, fmt.Errorf("getrusage: %w", err)
	}
	return (after.Minflt - before.Minflt) + (after.Majflt - before.Majflt), d, nil
}

// populateResult is what runPopulate saw.
type populateResult struct {
	mmapDur     time.Duration
	touchFaults int64
	sum         uint64
}

func runPopulate(env *workloads.Env) error { _, err := populate(env); return err }

// populate maps a cold file with MAP_POPULATE, which reads and maps every
// page before mmap returns, then touches each page: no faults.
func populate(env *workloads.Env) (populateResult, error) {
	var res populateResult
	size := env.Size(1 << 20)
	if err := makeSource(env, size, cold); err != nil {
		return res, err
	}
	fd, err := unix.Open(env.Path(srcFile), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return res, fmt.Errorf("open source: %w", err)
	}
	defer unix.Close(fd)

	start := time.Now()
	m, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_POPULATE)
	res.mmapDur = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("mmap MAP_POPULATE: %w", err)
	}
	defer unix.Munmap(m)
	env.Printf("mmap(MAP_POPULATE) of %d cold bytes took %v: it read and mapped every page", size, res.mmapDur.Round(time.Microsecond))

	page := unix.Getpagesize()
	res.touchFaults, _, err = countFaults(func() {
		for off := 0; off < len(m); off += page {
			res.sum += uint64(m[off])
		}
	})
	if err != nil {
		return res, err
	}
	env.Printf("touching all %d pages afterwards: %d page faults", (len(m)+page-1)/page, res.touchFaults)
	return res, nil
}

// cowResult is what runCOW saw.
type cowResult struct {
	readFaults, writeFaults int64
	mapped, file            byte // byte 0 in the mapping and in the file after the write
}

func runCOW(env *workloads.Env) error { _, err := cow(env); return err }

// cow reads, then writes, the first page of a MAP_PRIVATE read-write file
// mapping. The read maps the page-cache page; the write faults again and
// gets a private copy, so the file keeps its byte.
func cow(env *workloads.Env) (cowResult, error) {
	var res cowResult
	fd, err := unix.Open(env.Path("private.dat"), unix.O_RDWR|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return res, fmt.Errorf("create private.dat: %w", err)
	}
	defer unix.Close(fd)
	page := unix.Getpagesize()
	if err := workloads.FillFile(fd, int64(page)); err != nil {
		return res, err
	}
	m, err := unix.Mmap(fd, 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	if err != nil {
		return res, fmt.Errorf("mmap MAP_PRIVATE: %w", err)
	}
	defer unix.Munmap(m)

	var first byte
	if res.readFaults, _, err = countFaults(func() { first = m[0] }); err != nil {
		return res, err
	}
	env.Printf("read %q from the private mapping: %d page fault(s), the page-cache page mapped read-only", first, res.readFaults)
	if res.writeFaults, _, err = countFaults(func() { m[0] = 'X' }); err != nil {
		return res, err
	}
	res.mapped = m[0]
	var b [1]byte
	if _, err := unix.Pread(fd, b[:], 0); err != nil {
		return res, fmt.Errorf("pread64: %w", err)
	}
	res.file = b[0]
	env.Printf("wrote 'X' through it: %d page fault(s) (copy-on-write); the mapping holds %q, the file still %q", res.writeFaults, res.mapped, res.file)
	return res, nil
}

// msyncResult is what runMsync saw.
type msyncResult struct {
	haveCachestat           bool
	dirtyBefore, dirtyAfter uint64
}

func runMsync(env *workloads.Env) error { _, err := msync(env); return err }

// msync fills a MAP_SHARED mapping, which dirties the file's pages in the
// cache, then writes them back with msync(MS_SYNC).
func msync(env *workloads.Env) (msyncResult, error) {
	var res msyncResult
	size := env.Size(1 << 20)
	fd, err := unix.Open(env.Path("shared.dat"), unix.O_RDWR|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return res, fmt.Errorf("create shared.dat: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, size); err != nil {
		return res, fmt.Errorf("ftruncate: %w", err)
	}
	m, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return res, fmt.Errorf("mmap MAP_SHARED: %w", err)
	}
	defer unix.Munmap(m)
	for i := range m {
		m[i] = workloads.PatternByte(int64(i))
	}

	before, ok, err := workloads.PageCache(fd)
	if err != nil {
		return res, err
	}
	if err := unix.Msync(m, unix.MS_SYNC); err != nil {
		return res, fmt.Errorf("msync: %w", err)
	}
	after, _, err := workloads.PageCache(fd)
	if err != nil {
		return res, err
	}
	res.haveCachestat, res.dirtyBefore, res.dirtyAfter = ok, before.Dirty, after.Dirty
	if ok {
		env.Printf("msync(MS_SYNC) of %d bytes: %d dirty pages before, %d after", size, before.Dirty, after.Dirty)
	} else {
		env.Printf("msync(MS_SYNC) wrote back %d bytes (no cachestat on this kernel to count dirty pages)", size)
	}
	return res, nil
}
