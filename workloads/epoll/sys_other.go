//go:build !amd64

package epoll

import "golang.org/x/sys/unix"

// arm64 (like every newer port) has no epoll_wait or poll syscall, only
// epoll_pwait and ppoll, which is what x/sys issues.
const (
	epollWaitName = "epoll_pwait"
	pollName      = "ppoll"
)

func epollWait(epfd int, events []unix.EpollEvent, msec int) (int, error) {
	return unix.EpollWait(epfd, events, msec)
}

func poll(fds []unix.PollFd, msec int) (int, error) {
	return unix.Poll(fds, msec)
}
