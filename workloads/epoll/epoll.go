// Package epoll is the I/O multiplexing workload: the article's
// edge-triggered echo server, edge- against level-triggered on the same
// input, poll against epoll over many idle pipes, and the Go runtime's own
// netpoller.
package epoll

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/workloads"
)

// Workload returns the epoll workload. Options.Count sets the number of
// pipes poll-vs-epoll watches (default 1000).
func Workload() *workloads.Workload {
	return &workloads.Workload{
		Name: "epoll",
		Desc: "epoll: the article's edge-triggered echo server, ET vs LT, poll vs epoll, Go's netpoller",
		Guide: "Follow the interest list: epoll_ctl adds the listening socket, then each accepted " +
			"connection with EPOLLIN|EPOLLET. Each epoll_wait shows how long the server slept and " +
			"which fd woke it. On the same 96 bytes, edge-triggered with one 16-byte read per event " +
			"gets a single event and strands 80 bytes; draining to EAGAIN reads them all; " +
			"level-triggered reports the fd again after every read. poll() over 1000 idle pipes " +
			"scans all of them on every call, while epoll_wait only reads its ready list. The last " +
			"variant writes no epoll code at all: its epoll_ctl and epoll_pwait come from the Go runtime.",
		Syscalls: []string{
			"epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
			"poll", "ppoll", "accept", "accept4", "read", "write",
		},
		Variants: []workloads.Variant{
			{Name: "echo", Desc: "the article's edge-triggered echo server on 127.0.0.1 with a client thread", Run: runEcho,
				Predictions: []workloads.Prediction{
					{ID: "both-ready", Says: "epoll reports the listening socket, then the accepted connection, ready", Check: "both-ready"},
				}},
			{Name: "et-stranded", Desc: "edge-triggered, one short read per event: bytes left stranded", Run: runETStranded,
				Predictions: []workloads.Prediction{
					{ID: "no-second-edge", Says: "edge-triggered epoll_wait does not report the fd again while data is left", Check: "et-no-second-edge"},
				}},
			{Name: "et-drain", Desc: "edge-triggered, reading until EAGAIN on the same input", Run: runETDrain,
				Predictions: []workloads.Prediction{
					{ID: "drained", Says: "each edge-triggered event is read until EAGAIN", Check: "et-drain"},
				}},
			{Name: "level", Desc: "level-triggered, one short read per event on the same input", Run: runLevel,
				Predictions: []workloads.Prediction{
					{ID: "ready-again", Says: "level-triggered epoll_wait reports the fd again while data is left", Check: "ready-again", N: 2},
				}},
			{Name: "poll-vs-epoll", Desc: "poll() over 1000 idle pipes beside epoll_wait over the same pipes", Run: runPollVsEpoll,
				Predictions: []workloads.Prediction{
					{ID: "one-ready", Says: "poll and epoll_wait over the same idle pipes each find just the one ready pipe", Check: "one-ready-of-many"},
				}},
			{Name: "netpoller", Desc: "a net.Listen echo server: the Go runtime's own epoll", Run: runNetpoller,
				Predictions: []workloads.Prediction{
					{ID: "runtime-et", Says: "the Go runtime registers the connection edge-triggered on its own epoll", Check: "runtime-et"},
				}},
		},
	}
}

// waitMillis bounds every epoll_wait that expects an event, so a broken
// kernel or network setup fails the workload instead of hanging it.
const waitMillis = 2000

// listenLoopback opens a listening TCP socket on 127.0.0.1 and an ephemeral
// port, like the article's server minus the fixed port 8080.
func listenLoopback() (fd, port int, err error) {
	fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, 0, fmt.Errorf("socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("bind 127.0.0.1:0: %w", err)
	}
	if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("listen: %w", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("getsockname: %w", err)
	}
	return fd, sa.(*unix.SockaddrInet4).Port, nil
}

// dialLoopback connects a blocking TCP socket to 127.0.0.1:port.
func dialLoopback(port int) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("connect 127.0.0.1:%d: %w", port, err)
	}
	return fd, nil
}

// setNonblocking is the article's set_nonblocking: F_GETFL, then F_SETFL.
func setNonblocking(fd int) error {
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return fmt.Errorf("fcntl F_GETFL: %w", err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags|unix.O_NONBLOCK); err != nil {
		return fmt.Errorf("fcntl F_SETFL: %w", err)
	}
	return nil
}

// echoMessages are what the echo variant's client sends, one at a time.
var echoMessages = []string{"hello, epoll\n", "edge-triggered echo\n"}

// runEcho is the article's server: level-triggered on the listening socket,
// edge-triggered on connections, one 1024-byte read per event. A client
// thread connects, sends each message, waits for its echo and hangs up.
func runEcho(env *workloads.Env) error {
	lfd, port, err := listenLoopback()
	if err != nil {
		return err
	}
	defer unix.Close(lfd)
	env.Printf("server running on 127.0.0.1:%d", port)

	epfd, err := unix.EpollCreate1(0)
	if err != nil {
		return fmt.Errorf("epoll_create1: %w", err)
	}
	defer unix.Close(epfd)
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(lfd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, lfd, &ev); err != nil {
		return fmt.Errorf("epoll_ctl ADD listener: %w", err)
	}

	clientErr := make(chan error, 1)
	go func() { clientErr <- echoClient(env, port) }()

	events := make([]unix.EpollEvent, 10)
	for done := false; !done; {
		n, err := epollWait(epfd, events, waitMillis)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", epollWaitName, err)
		}
		if n == 0 {
			return fmt.Errorf("%s: no event in %d ms (client error: %v)", epollWaitName, waitMillis, pending(clientErr))
		}
		for _, e := range events[:n] {
			fd := int(e.Fd)
			if fd == lfd {
				conn, _, err := unix.Accept4(lfd, 0)
				if err != nil {
					return fmt.Errorf("accept: %w", err)
				}
				if err := setNonblocking(conn); err != nil {
					return err
				}
				ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: int32(conn)}
				if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, conn, &ev); err != nil {
					return fmt.Errorf("epoll_ctl ADD connection: %w", err)
				}
				env.Printf("new client connected (fd %d, EPOLLIN|EPOLLET)", conn)
				continue
			}
			var buf [1024]byte
			n, err := unix.Read(fd, buf[:])
			if err != nil && !errors.Is(err, unix.EAGAIN) {
				return fmt.Errorf("read: %w", err)
			}
			if n <= 0 {
				unix.Close(fd)
				env.Printf("client disconnected (fd %d)", fd)
				done = true
				continue
			}
			if _, err := unix.Write(fd, buf[:n]); err != nil {
				return fmt.Errorf("write: %w", err)
			}
			env.Printf("server echoed %d bytes on fd %d", n, fd)
		}
	}
	return <-clientErr
}

// echoClient runs on its own OS thread, so the server's epoll_wait sleeps
// and is woken by another tid.
func echoClient(env *workloads.Env, port int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fd, err := dialLoopback(port)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	env.Printf("client connected from tid %d", unix.Gettid())
	for _, msg := range echoMessages {
		if _, err := unix.Write(fd, []byte(msg)); err != nil {
			return fmt.Errorf("client write: %w", err)
		}
		got := make([]byte, 0, len(msg))
		for len(got) < len(msg) {
			buf := make([]byte, len(msg)-len(got))
			n, err := unix.Read(fd, buf)
			if err != nil {
				return fmt.Errorf("client read: %w", err)
			}
			if n == 0 {
				return fmt.Errorf("client read: connection closed after %d of %d bytes", len(got), len(msg))
			}
			got = append(got, buf[:n]...)
		}
		if string(got) != msg {
			return fmt.Errorf("client got %q back, sent %q", got, msg)
		}
		env.Printf("client got its %d bytes back: %q", len(got), got)
	}
	return nil
}

// pending returns the client's result if it has finished, or nil.
func pending(c chan error) error {
	select {
	case err := <-c:
		return err
	default:
		return nil
	}
}
