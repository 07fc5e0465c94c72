package aio

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/workloads"
)

// articleText is the content of the article's testfile.txt, longer than the
// 99 bytes its aio_read asks for.
const articleText = "Asynchronous I/O lets a program initiate I/O operations without blocking the calling thread, " +
	"then get notified upon completion.\n"

// preadResult is what runGoroutinePread saw.
type preadResult struct {
	callerTid, readerTid int
	n                    int
	data                 string
}

func runGoroutinePread(env *workloads.Env) error { _, err := goroutinePread(env); return err }

// goroutinePread is the article's aio_read example the way Go does it: the
// read runs in a goroutine while the caller carries on. glibc's POSIX AIO is
// the same thing underneath, a helper thread doing pread. Both goroutines
// lock their OS threads so the read provably runs on another tid, which the
// timeline's tid column can be matched against.
func goroutinePread(env *workloads.Env) (preadResult, error) {
	var res preadResult
	path := env.Path("testfile.txt")
	wfd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return res, fmt.Errorf("create testfile.txt: %w", err)
	}
	_, err = unix.Write(wfd, []byte(articleText))
	unix.Close(wfd)
	if err != nil {
		return res, fmt.Errorf("write testfile.txt: %w", err)
	}

	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return res, fmt.Errorf("open testfile.txt: %w", err)
	}
	defer unix.Close(fd)

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	res.callerTid = unix.Gettid()

	type result struct {
		tid, n int
		err    error
	}
	done := make(chan result, 1)
	buf := make([]byte, 100) // the article's char buffer[100], read with size 99
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid := unix.Gettid()
		n, err := unix.Pread(fd, buf[:len(buf)-1], 0)
		done <- result{tid, n, err}
	}()
	env.Printf("reading in the background (caller on tid %d)...", res.callerTid)
	r := <-done
	if r.err != nil {
		return res, fmt.Errorf("pread64: %w", r.err)
	}
	res.readerTid, res.n, res.data = r.tid, r.n, string(buf[:r.n])
	env.Printf("pread64 on tid %d read %d bytes: %q", res.readerTid, res.n, res.data)
	return res, nil
}
