package epoll

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/workloads"
)

// pollResult is what runPollVsEpoll saw.
type pollResult struct {
	pipes             int
	pollReady         int
	epollReady        int
	pollDur, epollDur time.Duration
	readyFd           int
}

func runPollVsEpoll(env *workloads.Env) error {
	_, err := pollVsEpoll(env)
	return err
}

// pollVsEpoll makes Count pipes (default 1000), writes one byte into the
// last, and asks poll() and then epoll which are readable. poll() copies in
// and checks every descriptor on every call; epoll pays once per descriptor
// in epoll_ctl and then reads only its ready list.
func pollVsEpoll(env *workloads.Env) (pollResult, error) {
	res := pollResult{pipes: env.Count(1000)}
	if err := raiseNofile(2*res.pipes + 64); err != nil {
		return res, err
	}
	// Write ends stay open to the end: a pipe whose writer is gone reports
	// POLLHUP, and idle pipes must stay quiet.
	readEnds := make([]int, 0, res.pipes)
	writeEnds := make([]int, 0, res.pipes)
	defer func() {
		for _, fd := range append(readEnds, writeEnds...) {
			unix.Close(fd)
		}
	}()
	for range res.pipes {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			return res, fmt.Errorf("pipe2 (pipe %d of %d): %w", len(readEnds)+1, res.pipes, err)
		}
		readEnds = append(readEnds, p[0])
		writeEnds = append(writeEnds, p[1])
	}
	res.readyFd = readEnds[len(readEnds)-1]
	if _, err := unix.Write(writeEnds[len(writeEnds)-1], []byte{'!'}); err != nil {
		return res, fmt.Errorf("write: %w", err)
	}
	env.Printf("%d pipes, one byte waiting in the last (fd %d)", res.pipes, res.readyFd)

	fds := make([]unix.PollFd, len(readEnds))
	for i, fd := range readEnds {
		fds[i] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	}
	start := time.Now()
	n, err := poll(fds, waitMillis)
	res.pollDur = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("%s: %w", pollName, err)
	}
	res.pollReady = n
	env.Printf("%s over %d fds: %d ready after %v (the kernel checked every fd)", pollName, len(fds), n, res.pollDur)

	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return res, fmt.Errorf("epoll_create1: %w", err)
	}
	defer unix.Close(epfd)
	for _, fd := range readEnds {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			return res, fmt.Errorf("epoll_ctl ADD fd %d: %w", fd, err)
		}
	}
	events := make([]unix.EpollEvent, 8)
	start = time.Now()
	n, err = epollWait(epfd, events, waitMillis)
	res.epollDur = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("%s: %w", epollWaitName, err)
	}
	res.epollReady = n
	if n > 0 && int(events[0].Fd) != res.readyFd {
		return res, fmt.Errorf("%s reported fd %d, want %d", epollWaitName, events[0].Fd, res.readyFd)
	}
	env.Printf("%s over the same %d fds (after %d epoll_ctl calls): %d ready after %v (only the ready list was read)",
		epollWaitName, len(readEnds), len(readEnds), n, res.epollDur)
	return res, nil
}

// raiseNofile lifts the soft RLIMIT_NOFILE to the hard limit when need
// descriptors would not fit. (Go already does this at startup; a parent may
// have lowered it again.)
func raiseNofile(need int) error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("getrlimit RLIMIT_NOFILE: %w", err)
	}
	if lim.Cur >= uint64(need) {
		return nil
	}
	if lim.Max < uint64(need) {
		return fmt.Errorf("RLIMIT_NOFILE hard limit %d is below the %d descriptors needed; lower the pipe count", lim.Max, need)
	}
	lim.Cur = lim.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("setrlimit RLIMIT_NOFILE: %w", err)
	}
	return nil
}
