package epoll

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// x/sys's EpollWait and Poll issue epoll_pwait and ppoll. amd64 still has the
// article's epoll_wait and plain poll, so call them: the timeline then shows
// the calls the article names, and this code's epoll_wait stays apart from
// the Go runtime netpoller's epoll_pwait.
const (
	epollWaitName = "epoll_wait"
	pollName      = "poll"
)

func epollWait(epfd int, events []unix.EpollEvent, msec int) (int, error) {
	r, _, errno := unix.Syscall6(unix.SYS_EPOLL_WAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), uintptr(msec), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

func poll(fds []unix.PollFd, msec int) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_POLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), uintptr(msec))
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}
