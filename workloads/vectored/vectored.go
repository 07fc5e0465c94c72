// Package vectored is the scatter/gather workload: writev and readv, the
// same bytes written with one write per buffer, preadv2 with RWF_NOWAIT on
// cold and warm pages, and writev past IOV_MAX.
package vectored

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/workloads"
)

// The article's four buffers: 8 + 11 + 11 + 8 = 38 bytes.
var articleParts = [][]byte{
	[]byte("HEADER: "),
	[]byte("Data part 1"),
	[]byte("Data part 2"),
	[]byte("\nFOOTER\n"),
}

// iovMax is the kernel's UIO_MAXIOV; one more iovec makes writev fail.
const iovMax = 1024

// Workload returns the scatter/gather workload. Options.Size sets the
// nowait file's size (default 1 MiB).
func Workload() *workloads.Workload {
	return &workloads.Workload{
		Name: "vectored",
		Desc: "scatter/gather I/O: writev, readv, preadv2(RWF_NOWAIT), IOV_MAX",
		Guide: "writev hands the kernel four buffers in one call: the timeline shows one syscall " +
			"with each iovec's length and first bytes, beside the writes variant where the same 38 " +
			"bytes take four write calls. readv scatters one file into three buffers and stops short " +
			"in the last one. preadv2 with RWF_NOWAIT returns EAGAIN instead of waiting for a cold " +
			"page, and data once the page is cached. 1025 iovecs is one past IOV_MAX: EINVAL.",
		Syscalls: []string{"writev", "readv", "preadv2", "pwritev2", "write", "pread64"},
		Variants: []workloads.Variant{
			{Name: "writev", Desc: "the article: header, two data parts and footer in one writev", Run: runWritev,
				Predictions: []workloads.Prediction{
					{ID: "one-call", Says: "one writev writes all four iovecs", Check: "writev-whole", File: writevFile},
				}},
			{Name: "writes", Desc: "the same 38 bytes with four write calls, as the contrast", Run: runWrites,
				Predictions: []workloads.Prediction{
					{ID: "four-calls", Says: "the same bytes take four write calls", Check: "write-calls", File: writesFile, N: 4},
				}},
			{Name: "readv", Desc: "readv scattering a 38-byte file into three buffers (the last one short)", Run: runReadv,
				Predictions: []workloads.Prediction{
					{ID: "fill-order", Says: "readv fills iov[0] before iov[1]: only the last buffer is short", Check: "readv-fill-order", File: "input.txt"},
				}},
			{Name: "nowait", Desc: "preadv2(RWF_NOWAIT) on a cold page (no wait: EAGAIN), then on a warm one (data)", Run: runNowait,
				Predictions: []workloads.Prediction{
					{ID: "cold-eagain", Says: "RWF_NOWAIT on an evicted page does not wait for the disk: EAGAIN, or data only if the read it started was already done", Check: "nowait-cold", File: "nowait.dat"},
					{ID: "warm-data", Says: "once pread64 has cached the page, the same RWF_NOWAIT read returns data", Check: "nowait-warm", File: "nowait.dat"},
				}},
			{Name: "iov-max", Desc: "writev with 1024 iovecs (IOV_MAX, works) and 1025 (EINVAL)", Run: runIovMax,
				Predictions: []workloads.Prediction{
					{ID: "iov-max", Says: "writev takes IOV_MAX (1024) iovecs and refuses 1025 with EINVAL", Check: "iov-max", File: "iov.dat", N: iovMax},
				}},
		},
	}
}

// The files the variants leave behind, read back by the tests.
const (
	writevFile = "output.txt"
	writesFile = "output-writes.txt"
)

// runWritev is the article's example.
func runWritev(env *workloads.Env) error {
	fd, err := unix.Open(env.Path(writevFile), unix.O_WRONLY|unix.O_CREAT, 0o644) // the article's flags
	if err != nil {
		return fmt.Errorf("open %s: %w", writevFile, err)
	}
	defer unix.Close(fd)
	n, err := unix.Writev(fd, articleParts)
	if err != nil {
		return fmt.Errorf("writev: %w", err)
	}
	env.Printf("wrote %d bytes with 1 writev of %d iovecs (%s)", n, len(articleParts), lengths(articleParts))
	return nil
}

// runWrites writes the article's buffers one write call each.
func runWrites(env *workloads.Env) error {
	fd, err := unix.Open(env.Path(writesFile), unix.O_WRONLY|unix.O_CREAT, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", writesFile, err)
	}
	defer unix.Close(fd)
	total := 0
	for _, p := range articleParts {
		n, err := unix.Write(fd, p)
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		total += n
	}
	env.Printf("wrote %d bytes with %d write calls (%s)", total, len(articleParts), lengths(articleParts))
	return nil
}

// readvResult is what runReadv saw, for the tests.
type readvResult struct {
	n    int
	bufs [][]byte // each buffer cut to the bytes readv put in it
}

func runReadv(env *workloads.Env) error {
	_, err := readv(env)
	return err
}

// readv writes the article's 38 bytes, then scatters them into buffers of
// 8, 22 and 16 bytes: the header, both data parts, and the footer, which
// fills only 8 of the last 16 bytes because the file ends there.
func readv(env *workloads.Env) (readvResult, error) {
	path := env.Path("input.txt")
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return readvResult{}, fmt.Errorf("open input.txt: %w", err)
	}
	defer unix.Close(fd)
	var content []byte
	for _, p := range articleParts {
		content = append(content, p...)
	}
	if _, err := unix.Pwrite(fd, content, 0); err != nil {
		return readvResult{}, fmt.Errorf("pwrite64: %w", err)
	}

	bufs := [][]byte{make([]byte, 8), make([]byte, 22), make([]byte, 16)}
	n, err := unix.Readv(fd, bufs)
	if err != nil {
		return readvResult{}, fmt.Errorf("readv: %w", err)
	}
	res := readvResult{n: n}
	left := n
	for i, b := range bufs {
		got := min(left, len(b))
		left -= got
		res.bufs = append(res.bufs, b[:got])
		env.Printf("readv buffer %d: %d of %d bytes %q", i, got, len(b), b[:got])
	}
	env.Printf("readv read %d bytes into %d buffers of %d bytes in all; the file ended inside the last one", n, len(bufs), 8+22+16)
	return res, nil
}

// nowaitResult is what runNowait saw, for the tests.
type nowaitResult struct {
	coldErr error // preadv2(RWF_NOWAIT) on the evicted page
	coldN   int
	// the first page's residency just before that call (cachestat), where the kernel tells it
	coldCached, coldKnown bool
	warmN                 int // preadv2(RWF_NOWAIT) after a plain pread64 cached the page
}

func runNowait(env *workloads.Env) error {
	_, err := nowait(env)
	return err
}

// nowait reads the first page of a file with RWF_NOWAIT twice: after the
// workload evicted it (the kernel refuses to wait for disk: EAGAIN) and
// after a plain pread64 brought it back (the data comes from the cache).
func nowait(env *workloads.Env) (nowaitResult, error) {
	var res nowaitResult
	size := env.Size(1 << 20)
	fd, err := unix.Open(env.Path("nowait.dat"), unix.O_RDWR|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return res, fmt.Errorf("open nowait.dat: %w", err)
	}
	defer unix.Close(fd)
	if err := workloads.FillFile(fd, size); err != nil {
		return res, err
	}
	if err := workloads.Evict(fd); err != nil {
		return res, err
	}

	page := make([]byte, min(4096, size))
	if st, ok, err := workloads.PageCacheRange(fd, 0, uint64(len(page))); err == nil && ok {
		res.coldKnown, res.coldCached = true, st.Cache > 0
	}
	// RWF_NOWAIT never sleeps on the disk: on a cold page the kernel starts the read (readahead)
	// and answers EAGAIN if the page is not filled when it looks again, which on a fast device
	// (a VM's disk served from the host's cache) it sometimes already is.
	res.coldN, res.coldErr = unix.Preadv2(fd, [][]byte{page}, 0, unix.RWF_NOWAIT)
	switch {
	case errors.Is(res.coldErr, unix.EAGAIN):
		env.Printf("cold page: preadv2(RWF_NOWAIT) = EAGAIN (reading it would have to wait for the disk)")
	case res.coldErr != nil:
		return res, fmt.Errorf("preadv2 RWF_NOWAIT on a cold page: %w", res.coldErr)
	case res.coldKnown && res.coldCached:
		env.Printf("cold page: preadv2(RWF_NOWAIT) = %d bytes: the page was still cached (eviction did not take)", res.coldN)
	default:
		env.Printf("cold page: preadv2(RWF_NOWAIT) = %d bytes: the read it started had finished by the time it looked again (a fast disk)", res.coldN)
	}

	n, err := unix.Pread(fd, page, 0)
	if err != nil {
		return res, fmt.Errorf("pread64: %w", err)
	}
	env.Printf("pread64 waited for the disk and read %d bytes, caching the page", n)

	res.warmN, err = unix.Preadv2(fd, [][]byte{page}, 0, unix.RWF_NOWAIT)
	if err != nil {
		return res, fmt.Errorf("preadv2 RWF_NOWAIT on a warm page: %w", err)
	}
	env.Printf("warm page: preadv2(RWF_NOWAIT) = %d bytes %q...", res.warmN, page[:min(8, res.warmN)])
	return res, nil
}

// iovMaxResult is what runIovMax saw, for the tests.
type iovMaxResult struct {
	atMaxN  int   // writev with iovMax iovecs
	pastErr error // writev with iovMax+1 iovecs
}

func runIovMax(env *workloads.Env) error {
	_, err := iovMaxWrites(env)
	return err
}

// iovMaxWrites writes 1024 one-byte iovecs, then 1025.
func iovMaxWrites(env *workloads.Env) (iovMaxResult, error) {
	var res iovMaxResult
	fd, err := unix.Open(env.Path("iov.dat"), unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return res, fmt.Errorf("open iov.dat: %w", err)
	}
	defer unix.Close(fd)
	one := []byte("x")
	iovs := make([][]byte, iovMax+1)
	for i := range iovs {
		iovs[i] = one
	}

	res.atMaxN, err = unix.Writev(fd, iovs[:iovMax])
	if err != nil {
		return res, fmt.Errorf("writev with %d iovecs: %w", iovMax, err)
	}
	env.Printf("writev with %d iovecs (IOV_MAX) wrote %d bytes", iovMax, res.atMaxN)

	_, res.pastErr = unix.Writev(fd, iovs)
	if res.pastErr == nil {
		return res, fmt.Errorf("writev with %d iovecs succeeded; expected EINVAL", iovMax+1)
	}
	env.Printf("writev with %d iovecs = %s (one past IOV_MAX)", iovMax+1, workloads.ErrnoName(res.pastErr))
	return res, nil
}

// lengths formats buffer lengths as "8+11+11+8".
func lengths(bufs [][]byte) string {
	s := ""
	for i, b := range bufs {
		if i > 0 {
			s += "+"
		}
		s += fmt.Sprint(len(b))
	}
	return s
}
