package decode

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestSockFamily(t *testing.T) {
	tests := []struct {
		v    uint64
		want string
	}{
		{unix.AF_UNSPEC, "AF_UNSPEC"}, {unix.AF_UNIX, "AF_UNIX"}, {unix.AF_INET, "AF_INET"},
		{unix.AF_INET6, "AF_INET6"}, {unix.AF_NETLINK, "AF_NETLINK"},
		{unix.AF_PACKET, "AF_PACKET"}, {unix.AF_DECnet, "AF_DECnet"}, {unix.AF_VSOCK, "AF_VSOCK"},
		{unix.AF_ALG, "AF_ALG"}, {unix.AF_XDP, "AF_XDP"}, {unix.AF_MCTP, "AF_MCTP"},
		{46, "0x2e"},
	}
	for _, tt := range tests {
		if got := SockFamily(tt.v); got != tt.want {
			t.Errorf("SockFamily(%d) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestSockType(t *testing.T) {
	tests := []struct {
		v    uint64
		want string
	}{
		// seen in strace 6.1 on x86_64
		{unix.SOCK_STREAM | unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC, "SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK"},
		{unix.SOCK_DGRAM | unix.SOCK_CLOEXEC, "SOCK_DGRAM|SOCK_CLOEXEC"},
		{unix.SOCK_RAW | unix.SOCK_CLOEXEC, "SOCK_RAW|SOCK_CLOEXEC"},
		{unix.SOCK_SEQPACKET, "SOCK_SEQPACKET"},
		{unix.SOCK_PACKET, "SOCK_PACKET"},
		{unix.SOCK_STREAM | 0x100, "SOCK_STREAM|0x100"},
		{0, "0x0"},
	}
	for _, tt := range tests {
		if got := SockType(tt.v); got != tt.want {
			t.Errorf("SockType(%#x) = %q, want %q", tt.v, got, tt.want)
		}
	}
	if got := SockFlags(unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC); got != "SOCK_CLOEXEC|SOCK_NONBLOCK" {
		t.Errorf("SockFlags = %q", got)
	}
	if got := SockFlags(0); got != "0" {
		t.Errorf("SockFlags(0) = %q", got)
	}
}

func TestEpollNames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{EpollOp(unix.EPOLL_CTL_ADD), "EPOLL_CTL_ADD"},
		{EpollOp(unix.EPOLL_CTL_DEL), "EPOLL_CTL_DEL"},
		{EpollOp(unix.EPOLL_CTL_MOD), "EPOLL_CTL_MOD"},
		{EpollOp(0), "0x0"},
		{EpollCreateFlags(unix.EPOLL_CLOEXEC), "EPOLL_CLOEXEC"},
		{EpollCreateFlags(0), "0"},
		// seen in strace 6.1 on x86_64
		{EpollEvents(0x80002001), "EPOLLIN|EPOLLRDHUP|EPOLLET"},
		{EpollEvents(0x81002001), "EPOLLIN|EPOLLRDHUP|EPOLLET|0x1000000"},
		{EpollEvents(0x40000007), "EPOLLIN|EPOLLPRI|EPOLLOUT|EPOLLONESHOT"},
		{EpollEvents(0x519), "EPOLLIN|EPOLLERR|EPOLLHUP|EPOLLWRNORM|EPOLLMSG"},
		{EpollEvents(0), "0"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestEpollEventsMatchXSys(t *testing.T) {
	consts := map[string]uint32{
		"EPOLLIN": unix.EPOLLIN, "EPOLLPRI": unix.EPOLLPRI, "EPOLLOUT": unix.EPOLLOUT,
		"EPOLLERR": unix.EPOLLERR, "EPOLLHUP": unix.EPOLLHUP, "EPOLLRDNORM": unix.EPOLLRDNORM,
		"EPOLLRDBAND": unix.EPOLLRDBAND, "EPOLLWRNORM": unix.EPOLLWRNORM,
		"EPOLLWRBAND": unix.EPOLLWRBAND, "EPOLLMSG": unix.EPOLLMSG, "EPOLLRDHUP": unix.EPOLLRDHUP,
		"EPOLLEXCLUSIVE": unix.EPOLLEXCLUSIVE, "EPOLLWAKEUP": unix.EPOLLWAKEUP,
		"EPOLLONESHOT": unix.EPOLLONESHOT, "EPOLLET": unix.EPOLLET,
	}
	for name, v := range consts {
		if got := EpollEvents(v); got != name {
			t.Errorf("EpollEvents(%#x) = %q, want %q", v, got, name)
		}
	}
}

func TestPollEvents(t *testing.T) {
	consts := map[string]uint32{
		"POLLIN": unix.POLLIN, "POLLPRI": unix.POLLPRI, "POLLOUT": unix.POLLOUT,
		"POLLERR": unix.POLLERR, "POLLHUP": unix.POLLHUP, "POLLNVAL": unix.POLLNVAL,
		"POLLRDHUP": unix.POLLRDHUP,
		// not in x/sys: asm-generic/poll.h
		"POLLRDNORM": 0x40, "POLLRDBAND": 0x80, "POLLWRNORM": 0x100, "POLLWRBAND": 0x200,
		"POLLMSG": 0x400, "POLLREMOVE": 0x1000, "POLL_BUSY_LOOP": 0x8000,
	}
	for name, v := range consts {
		if got := PollEvents(v); got != name {
			t.Errorf("PollEvents(%#x) = %q, want %q", v, got, name)
		}
	}
	if got := PollEvents(unix.POLLIN | unix.POLLOUT | 0x10000); got != "POLLIN|POLLOUT|0x10000" {
		t.Errorf("PollEvents = %q", got)
	}
	if got := PollEvents(0); got != "0" {
		t.Errorf("PollEvents(0) = %q", got)
	}
}
