// Package aio is the asynchronous I/O workload: Linux native AIO
// (io_setup/io_submit/io_getevents) on a buffered and an O_DIRECT file,
// io_uring with and without SQPOLL, all through raw syscalls with the kernel
// structures built by hand, and a goroutine doing pread, which is what
// POSIX aio_read amounts to.
package aio

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/workloads"
)

// Workload returns the asynchronous I/O workload. Options.Count sets the
// number of requests per batch (default 4) and Options.Size the file size
// they are spread over (default 1 MiB).
func Workload() *workloads.Workload {
	return &workloads.Workload{
		Name: "aio",
		Desc: "asynchronous I/O: native AIO buffered and O_DIRECT, io_uring, SQPOLL, a goroutine's pread",
		Guide: "Native AIO reads of a buffered file are not asynchronous: io_submit itself reads the cold " +
			"pages and returns late, and io_getevents finds the events already done. With O_DIRECT " +
			"io_submit returns at once, block requests go out, and io_getevents is where the thread " +
			"waits. io_uring batches the same work into one io_uring_enter per batch; watch its " +
			"submissions, completions and any io-wq worker threads. With SQPOLL a kernel thread " +
			"takes submissions from the ring, so the I/O happens with no syscall at all. The last " +
			"variant is what POSIX aio_read is in glibc: another thread doing pread64; its tid is printed.",
		Syscalls: []string{
			"io_setup", "io_submit", "io_getevents", "io_pgetevents", "io_destroy",
			"io_uring_setup", "io_uring_enter", "io_uring_register", "pread64", "pwrite64",
		},
		Variants: []workloads.Variant{
			{Name: "native", Desc: "io_submit of 4 reads on a cold buffered file: they complete inside io_submit", Run: runNative,
				Predictions: []workloads.Prediction{
					{ID: "done-in-submit", Says: "io_submit on a buffered file completes the reads before it returns", Check: "aio-done-in-submit"},
				}},
			{Name: "native-direct", Desc: "the same reads with O_DIRECT: io_submit returns, io_getevents waits", Run: runNativeDirect,
				Predictions: []workloads.Prediction{
					{ID: "bypasses-cache", Says: "O_DIRECT reads go to the block device and leave the page cache alone", Check: "direct-bypasses-cache"},
				}},
			{Name: "uring", Desc: "io_uring: 4 writes, then 4 reads of the cold file, one io_uring_enter each", Run: runUring,
				Predictions: []workloads.Prediction{
					{ID: "batches", Says: "each io_uring_enter submits its whole batch of four", Check: "uring-batches", N: 2},
				}},
			{Name: "sqpoll", Desc: "io_uring with SQPOLL: a kernel thread submits, no io_uring_enter needed", Run: runSQPoll,
				Predictions: []workloads.Prediction{
					{ID: "no-enter", Says: "with SQPOLL the kernel takes the submissions: no io_uring_enter submits", Check: "sqpoll-no-enter"},
				}},
			{Name: "goroutine-pread", Desc: "the article's aio_read as Go does it: a goroutine on its own thread doing pread64", Run: runGoroutinePread,
				Predictions: []workloads.Prediction{
					{ID: "cached", Says: "the pread64 of the just-written file is served from the page cache: no block I/O", Check: "cached-read", File: "testfile.txt"},
				}},
		},
	}
}

// blockSize is the size and alignment of each request; 4 KiB satisfies
// O_DIRECT on every common filesystem.
const blockSize = 4096

// ops returns how many requests a variant makes (Count, default 4) and
// their offsets, spread over a file of env's size.
func ops(env *workloads.Env) (size int64, offsets []int64) {
	n := env.Count(4)
	size = max(env.Size(1<<20), int64(n)*blockSize)
	stride := size / int64(n) / blockSize * blockSize
	for i := range n {
		offsets = append(offsets, int64(i)*stride)
	}
	return size, offsets
}

// alignedBuffer returns n bytes starting on an align boundary, as O_DIRECT
// requires; Go's allocator guarantees no such alignment by itself.
func alignedBuffer(n, align int) []byte {
	b := make([]byte, n+align)
	skip := (align - int(uintptr(unsafe.Pointer(&b[0]))%uintptr(align))) % align
	return b[skip : skip+n : skip+n]
}

// checkBlock verifies that buf holds the file's pattern from offset off.
func checkBlock(buf []byte, off int64) error {
	for i, b := range buf {
		if want := workloads.PatternByte(off + int64(i)); b != want {
			return fmt.Errorf("byte %d of the block at offset %d is %q, want %q", i, off, b, want)
		}
	}
	return nil
}

// createFile writes the pattern to name and, if cold, evicts it.
func createFile(env *workloads.Env, name string, size int64, cold bool) error {
	fd, err := unix.Open(env.Path(name), unix.O_RDWR|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	defer unix.Close(fd)
	if err := workloads.FillFile(fd, size); err != nil {
		return err
	}
	if cold {
		return workloads.Evict(fd)
	}
	return nil
}
