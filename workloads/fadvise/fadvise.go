// Package fadvise is the file-advice workload: the article's copy with
// POSIX_FADV_SEQUENTIAL and DONTNEED, WILLNEED before reading, RANDOM beside
// SEQUENTIAL on the same cold file, and DONTNEED on dirty pages against
// DONTNEED after fdatasync.
package fadvise

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/workloads"
)

// Workload returns the fadvise workload. Options.Size sets the size of the
// files (default 1 MiB).
func Workload() *workloads.Workload {
	return &workloads.Workload{
		Name: "fadvise",
		Desc: "posix_fadvise: the article's SEQUENTIAL/DONTNEED copy, WILLNEED, RANDOM vs SEQUENTIAL, DONTNEED on dirty pages",
		Guide: "Every cold file here was made cold by the workload's own fdatasync and DONTNEED on " +
			"that file, nothing system-wide. Watch the page-cache events: WILLNEED inserts the pages " +
			"and starts reading them before any read(), but it returns with that I/O in flight, so " +
			"the first read can still block until it completes (its note says whose I/O it waited " +
			"for); the reads after it find the pages ready. SEQUENTIAL doubles the cap on the " +
			"readahead window; the windows grow read after read and the reads come in large block " +
			"requests. RANDOM switches readahead off, so every 4 KiB read misses and waits for its " +
			"own request. DONTNEED evicts clean pages at once; dirty ones stay cached, because " +
			"DONTNEED only starts their writeback and cannot drop a page under writeback, until " +
			"fdatasync has written them and a second DONTNEED drops them.",
		// arm64 names the syscall fadvise64_64.
		Syscalls: []string{"fadvise64", "fadvise64_64", "read", "write", "fdatasync", "cachestat"},
		Variants: []workloads.Variant{
			{Name: "copy", Desc: "the article: 4 KiB read/write copy with SEQUENTIAL, then DONTNEED on both files", Run: runCopy,
				Predictions: []workloads.Prediction{
					{ID: "dontneed-clean", Says: "DONTNEED on the clean source evicts every page of it", Check: "dontneed-evicts-all", File: "source.txt"},
				}},
			{Name: "willneed", Desc: "WILLNEED inserts the pages and starts reading them before the reads", Run: runWillneed,
				Predictions: []workloads.Prediction{
					{ID: "fills-before-read", Says: "WILLNEED puts the whole file in the page cache before the first read", Check: "willneed-fills", File: "willneed.dat"},
					{ID: "reads-find-pages", Says: "the reads then add no page: they are served from the page cache", Check: "reads-no-fills", File: "willneed.dat"},
				}},
			{Name: "random-vs-seq", Desc: "the same cold file read with RANDOM, then with SEQUENTIAL", Run: runRandomVsSeq,
				Predictions: []workloads.Prediction{
					{ID: "random-no-readahead", Says: "after RANDOM each 4 KiB read brings in only its own page", Check: "random-one-page", File: "advice.dat"},
					{ID: "seq-readahead", Says: "after SEQUENTIAL one read brings in many pages ahead", Check: "seq-reads-ahead", File: "advice.dat"},
				}},
			{Name: "dontneed-dirty", Desc: "DONTNEED on freshly written pages, then again after fdatasync", Run: runDontneedDirty,
				Predictions: []workloads.Prediction{
					{ID: "dirty-kept", Says: "DONTNEED drops no dirty page: it starts their writeback and can evict only pages whose write has completed", Check: "dontneed-keeps-dirty", File: "dirty.dat"},
					{ID: "clean-evicted", Says: "after fdatasync, DONTNEED evicts every page still cached", Check: "dontneed-evicts-all", File: "dirty.dat"},
				}},
		},
	}
}

// bufSize is the article's BUF_SIZE.
const bufSize = 4096

// makeCold writes size bytes to name and evicts them.
func makeCold(env *workloads.Env, name string, size int64) error {
	fd, err := unix.Open(env.Path(name), unix.O_RDWR|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	defer unix.Close(fd)
	if err := workloads.FillFile(fd, size); err != nil {
		return err
	}
	return workloads.Evict(fd)
}

// copyResult is what runCopy saw.
type copyResult struct {
	copied, reads  int64
	haveCachestat  bool
	srcCachedAfter uint64 // source pages cached after its DONTNEED
	dstCachedAfter uint64 // destination pages cached after its DONTNEED
}

func runCopy(env *workloads.Env) error { _, err := copyFile(env); return err }

// copyFile is the article's copy, from a source the workload made cold so
// that SEQUENTIAL's readahead has something to do.
func copyFile(env *workloads.Env) (copyResult, error) {
	var res copyResult
	if err := makeCold(env, "source.txt", env.Size(1<<20)); err != nil {
		return res, err
	}

	// From here on, the article's program.
	srcFd, err := unix.Open(env.Path("source.txt"), unix.O_RDONLY, 0)
	if err != nil {
		return res, fmt.Errorf("open source.txt: %w", err)
	}
	defer unix.Close(srcFd)
	dstFd, err := unix.Open(env.Path("dest.txt"), unix.O_WRONLY|unix.O_CREAT, 0o644)
	if err != nil {
		return res, fmt.Errorf("open dest.txt: %w", err)
	}
	defer unix.Close(dstFd)

	if err := unix.Fadvise(srcFd, 0, 0, unix.FADV_SEQUENTIAL); err != nil {
		return res, fmt.Errorf("fadvise64 SEQUENTIAL: %w", err)
	}
	buf := make([]byte, bufSize)
	for {
		n, err := unix.Read(srcFd, buf)
		if err != nil {
			return res, fmt.Errorf("read: %w", err)
		}
		if n == 0 {
			break
		}
		res.reads++
		if _, err := unix.Write(dstFd, buf[:n]); err != nil {
			return res, fmt.Errorf("write: %w", err)
		}
		res.copied += int64(n)
	}
	if err := unix.Fadvise(srcFd, 0, 0, unix.FADV_DONTNEED); err != nil {
		return res, fmt.Errorf("fadvise64 DONTNEED source: %w", err)
	}
	if err := unix.Fadvise(dstFd, 0, 0, unix.FADV_DONTNEED); err != nil {
		return res, fmt.Errorf("fadvise64 DONTNEED destination: %w", err)
	}
	env.Printf("copied %d bytes with %d reads and writes of %d bytes after POSIX_FADV_SEQUENTIAL", res.copied, res.reads, bufSize)

	src, ok, err := workloads.PageCache(srcFd)
	if err != nil || !ok {
		return res, err
	}
	dst, _, err := workloads.PageCache(dstFd)
	if err != nil {
		return res, err
	}
	res.haveCachestat, res.srcCachedAfter, res.dstCachedAfter = true, src.Cache, dst.Cache
	env.Printf("after DONTNEED: source %d pages cached (clean pages dropped); destination %d cached, %d dirty, %d under writeback (pages dirty or under writeback are not dropped)",
		src.Cache, dst.Cache, dst.Dirty, dst.Writeback)
	return res, nil
}

// willneedResult is what runWillneed saw.
type willneedResult struct {
	haveCachestat bool
	cachedBefore  uint64 // pages cached right after WILLNEED, before any read
	read          int64
}

func runWillneed(env *workloads.Env) error { _, err := willneed(env); return err }

// willneed advises WILLNEED on a cold file, which inserts its pages into the
// cache and starts reading them at once, and then reads it.
func willneed(env *workloads.Env) (willneedResult, error) {
	var res willneedResult
	size := env.Size(1 << 20)
	if err := makeCold(env, "willneed.dat", size); err != nil {
		return res, err
	}
	fd, err := unix.Open(env.Path("willneed.dat"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return res, fmt.Errorf("open willneed.dat: %w", err)
	}
	defer unix.Close(fd)

	if err := unix.Fadvise(fd, 0, size, unix.FADV_WILLNEED); err != nil {
		return res, fmt.Errorf("fadvise64 WILLNEED: %w", err)
	}
	st, ok, err := workloads.PageCache(fd)
	if err != nil {
		return res, err
	}
	res.haveCachestat, res.cachedBefore = ok, st.Cache
	if ok {
		env.Printf("WILLNEED on %d cold bytes: %d pages in the cache before the first read", size, st.Cache)
	}
	var d time.Duration
	res.read, d, err = readAll(fd, bufSize)
	if err != nil {
		return res, err
	}
	env.Printf("then read %d bytes in %v", res.read, d.Round(time.Microsecond))
	return res, nil
}

// readAll reads fd to EOF in chunks of size bytes.
func readAll(fd, size int) (int64, time.Duration, error) {
	buf := make([]byte, size)
	var total int64
	start := time.Now()
	for {
		n, err := unix.Read(fd, buf)
		if err != nil {
			return total, 0, fmt.Errorf("read: %w", err)
		}
		if n == 0 {
			return total, time.Since(start), nil
		}
		total += int64(n)
	}
}

// adviceResult is one pass of runRandomVsSeq.
type adviceResult struct {
	name string
	read int64
	dur  time.Duration
}

func runRandomVsSeq(env *workloads.Env) error { _, err := randomVsSeq(env); return err }

// randomVsSeq reads the same cold file front to back twice, 4 KiB at a time:
// once after RANDOM (readahead off: one block request per read) and once,
// cold again, after SEQUENTIAL (a doubled readahead window). Advice belongs
// to the open file description, so each pass opens the file afresh.
func randomVsSeq(env *workloads.Env) ([]adviceResult, error) {
	const name = "advice.dat"
	if err := makeCold(env, name, env.Size(1<<20)); err != nil {
		return nil, err
	}
	passes := []struct {
		name   string
		advice int
	}{
		{"RANDOM", unix.FADV_RANDOM},
		{"SEQUENTIAL", unix.FADV_SEQUENTIAL},
	}
	var res []adviceResult
	for i, p := range passes {
		r, err := readWithAdvice(env.Path(name), p.advice, i > 0)
		if err != nil {
			return res, fmt.Errorf("%s pass: %w", p.name, err)
		}
		r.name = p.name
		res = append(res, r)
		env.Printf("cold file read in %d-byte reads after POSIX_FADV_%s: %d bytes in %v", bufSize, p.name, r.read, r.dur.Round(time.Microsecond))
	}
	return res, nil
}

// readWithAdvice opens path, optionally evicts it again, advises and reads it.
func readWithAdvice(path string, advice int, evict bool) (adviceResult, error) {
	var res adviceResult
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return res, fmt.Errorf("open: %w", err)
	}
	defer unix.Close(fd)
	if evict {
		if err := unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED); err != nil {
			return res, fmt.Errorf("fadvise64 DONTNEED: %w", err)
		}
	}
	if err := unix.Fadvise(fd, 0, 0, advice); err != nil {
		return res, fmt.Errorf("fadvise64: %w", err)
	}
	res.read, res.dur, err = readAll(fd, bufSize)
	return res, err
}

// dirtyResult is what runDontneedDirty saw.
type dirtyResult struct {
	haveCachestat            bool
	dirtyCached, cleanCached uint64 // pages cached after DONTNEED on dirty, then on clean pages
}

func runDontneedDirty(env *workloads.Env) error { _, err := dontneedDirty(env); return err }

// dontneedDirty writes a file and advises DONTNEED while its pages are
// dirty: the kernel starts writeback but cannot drop them. After fdatasync
// they are clean, and the same advice drops them.
func dontneedDirty(env *workloads.Env) (dirtyResult, error) {
	var res dirtyResult
	size := env.Size(1 << 20)
	fd, err := unix.Open(env.Path("dirty.dat"), unix.O_RDWR|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return res, fmt.Errorf("create dirty.dat: %w", err)
	}
	defer unix.Close(fd)
	if err := workloads.FillFile(fd, size); err != nil {
		return res, err
	}
	st, ok, err := workloads.PageCache(fd)
	if err != nil {
		return res, err
	}
	res.haveCachestat = ok
	if ok {
		env.Printf("wrote %d bytes: %d pages cached, %d dirty", size, st.Cache, st.Dirty)
	}

	if err := unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED); err != nil {
		return res, fmt.Errorf("fadvise64 DONTNEED (dirty): %w", err)
	}
	if st, _, err = workloads.PageCache(fd); err != nil {
		return res, err
	}
	res.dirtyCached = st.Cache
	if ok {
		env.Printf("DONTNEED on dirty pages: %d still cached (%d dirty, %d under writeback)", st.Cache, st.Dirty, st.Writeback)
	}

	if err := unix.Fdatasync(fd); err != nil {
		return res, fmt.Errorf("fdatasync: %w", err)
	}
	if err := unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED); err != nil {
		return res, fmt.Errorf("fadvise64 DONTNEED (clean): %w", err)
	}
	if st, _, err = workloads.PageCache(fd); err != nil {
		return res, err
	}
	res.cleanCached = st.Cache
	if ok {
		env.Printf("fdatasync, then DONTNEED again: %d pages cached", st.Cache)
	} else {
		env.Printf("DONTNEED before and after fdatasync done (this kernel has no cachestat to count pages)")
	}
	return res, nil
}
