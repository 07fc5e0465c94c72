package epoll

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/workloads"
)

// The input every trigger variant gets: three 32-byte chunks, read through a
// 16-byte buffer, so one read never empties the socket.
const (
	chunks    = 3
	chunkSize = 32
	readSize  = 16
	// idleMillis is how long the last epoll_wait waits to show that no
	// further event is coming.
	idleMillis = 50
)

// triggerResult is what one trigger variant saw.
type triggerResult struct {
	waits    int // epoll_wait calls, the last of which timed out
	events   int // events reported
	reads    int // successful reads
	read     int // bytes read
	stranded int // bytes still queued on the socket at the end
	found    int // bytes a last read found, when some were stranded
}

func runETStranded(env *workloads.Env) error {
	r, err := trigger(env, true, false)
	if err != nil {
		return err
	}
	env.Printf("edge-triggered, one %d-byte read per event: %d event(s), read %d of %d bytes; the last %s timed out after %d ms with %d bytes stranded",
		readSize, r.events, r.read, chunks*chunkSize, epollWaitName, idleMillis, r.stranded)
	env.Printf("a last read, with no event to prompt it, found the %d stranded bytes", r.found)
	return nil
}

func runETDrain(env *workloads.Env) error {
	r, err := trigger(env, true, true)
	if err != nil {
		return err
	}
	env.Printf("edge-triggered, reading until EAGAIN: %d event(s), %d reads, %d of %d bytes, %d stranded",
		r.events, r.reads, r.read, chunks*chunkSize, r.stranded)
	return nil
}

func runLevel(env *workloads.Env) error {
	r, err := trigger(env, false, false)
	if err != nil {
		return err
	}
	env.Printf("level-triggered, one %d-byte read per event: %d events in %d %s calls, %d of %d bytes, %d stranded",
		readSize, r.events, r.waits, epollWaitName, r.read, chunks*chunkSize, r.stranded)
	return nil
}

// trigger queues the same three chunks on a loopback TCP connection, then
// serves it with EPOLLET or level-triggered epoll, reading one 16-byte
// buffer per event or draining to EAGAIN, until epoll_wait reports nothing
// for idleMillis.
func trigger(env *workloads.Env, edge, drain bool) (triggerResult, error) {
	// The article's server is one thread: its reads and waits must come from one, as the trace
	// judges a wait by the thread whose read came before it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var res triggerResult
	lfd, port, err := listenLoopback()
	if err != nil {
		return res, err
	}
	defer unix.Close(lfd)
	client, err := dialLoopback(port)
	if err != nil {
		return res, err
	}
	defer unix.Close(client)
	conn, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
	if err != nil {
		return res, fmt.Errorf("accept4: %w", err)
	}
	defer unix.Close(conn)
	if err := setNonblocking(conn); err != nil {
		return res, err
	}

	// All input is queued before the server first waits, so every variant
	// starts from the same socket state.
	for i := range chunks {
		chunk := fmt.Appendf(nil, "chunk %d of %d", i+1, chunks)
		for len(chunk) < chunkSize {
			chunk = append(chunk, '.')
		}
		if _, err := unix.Write(client, chunk); err != nil {
			return res, fmt.Errorf("client write: %w", err)
		}
	}
	if err := waitQueued(conn, chunks*chunkSize); err != nil {
		return res, err
	}
	env.Printf("client sent %d chunks of %d bytes", chunks, chunkSize)

	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return res, fmt.Errorf("epoll_create1: %w", err)
	}
	defer unix.Close(epfd)
	mask := uint32(unix.EPOLLIN)
	if edge {
		mask |= unix.EPOLLET
	}
	ev := unix.EpollEvent{Events: mask, Fd: int32(conn)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, conn, &ev); err != nil {
		return res, fmt.Errorf("epoll_ctl ADD: %w", err)
	}

	events := make([]unix.EpollEvent, 4)
	buf := make([]byte, readSize)
	// A bound on the loop: level-triggered needs chunks*chunkSize/readSize
	// events; anything beyond that is a bug, not a slow kernel.
	for res.waits < 4*chunks*chunkSize/readSize {
		n, err := epollWait(epfd, events, idleMillis)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		res.waits++
		if err != nil {
			return res, fmt.Errorf("%s: %w", epollWaitName, err)
		}
		if n == 0 {
			break
		}
		res.events += n
		for {
			m, err := unix.Read(conn, buf)
			if errors.Is(err, unix.EAGAIN) {
				break
			}
			if err != nil {
				return res, fmt.Errorf("read: %w", err)
			}
			res.reads++
			res.read += m
			if !drain || m == 0 {
				break
			}
		}
	}
	res.stranded, err = unix.IoctlGetInt(conn, unix.SIOCINQ)
	if err != nil {
		return res, fmt.Errorf("ioctl SIOCINQ: %w", err)
	}
	if res.stranded > 0 {
		// one read takes what the handler left, so the trace shows the bytes it finds
		rest := make([]byte, res.stranded)
		if res.found, err = unix.Read(conn, rest); err != nil {
			return res, fmt.Errorf("read the stranded bytes: %w", err)
		}
	}
	return res, nil
}

// waitQueued waits until n bytes are queued on fd. Loopback delivery
// normally completes inside the sender's write, so this is one ioctl; the
// retry covers softirq processing deferred to ksoftirqd.
func waitQueued(fd, n int) error {
	deadline := time.Now().Add(time.Second)
	for {
		queued, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
		if err != nil {
			return fmt.Errorf("ioctl SIOCINQ: %w", err)
		}
		if queued >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d bytes arrived on loopback within a second", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}
