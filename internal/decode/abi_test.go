package decode

import (
	"encoding/binary"
	"reflect"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/iotrace/iotrace/internal/event"
)

// le builds a little-endian struct image: put(off, value) writes 1, 2, 4 or 8 bytes by type.
type le []byte

func (b le) put(off int, v any) le {
	switch x := v.(type) {
	case uint8:
		b[off] = x
	case uint16:
		binary.LittleEndian.PutUint16(b[off:], x)
	case uint32:
		binary.LittleEndian.PutUint32(b[off:], x)
	case uint64:
		binary.LittleEndian.PutUint64(b[off:], x)
	default:
		panic("le.put: unsupported type")
	}
	return b
}

func fieldsEqual(t *testing.T, name string, got, want event.Fields) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", name, got, want)
	}
}

func fieldsOf(kv ...any) event.Fields {
	f := event.Fields{}
	for i := 0; i < len(kv); i += 2 {
		f = append(f, event.Field{Key: kv[i].(string), Val: kv[i+1]})
	}
	return f
}

func TestEpollEvent(t *testing.T) {
	amd := make(le, 12).put(0, uint32(0x80000001)).put(4, uint64(0x1122334455667788))
	arm := make(le, 16).put(0, uint32(0x80000001)).put(8, uint64(0x1122334455667788))
	want := fieldsOf("events", "EPOLLIN|EPOLLET", "data", uint64(0x1122334455667788))
	tests := []struct {
		name  string
		arch  string
		b     []byte
		want  event.Fields
		wantN int
	}{
		{"amd64 packed", "amd64", amd, want, 12},
		{"arm64 padded", "arm64", arm, want, 16},
		{"amd64 with more after", "amd64", append(amd, 0xff, 0xff), want, 12},
		{"amd64 short", "amd64", amd[:8], fieldsOf("events", "EPOLLIN|EPOLLET", "truncated", true), 8},
		// arm64's data is at 8: the 12-byte amd64 image is short on arm64
		{"arm64 short", "arm64", arm[:12], fieldsOf("events", "EPOLLIN|EPOLLET", "truncated", true), 12},
		{"empty", "amd64", nil, fieldsOf("truncated", true), 0},
	}
	for _, tt := range tests {
		got, n := EpollEvent(tt.arch, tt.b)
		fieldsEqual(t, tt.name, got, tt.want)
		if n != tt.wantN {
			t.Errorf("%s: used %d bytes, want %d", tt.name, n, tt.wantN)
		}
	}
}

// The host's struct epoll_event, as x/sys lays it out, decodes with the host arch.
func TestEpollEventHostLayout(t *testing.T) {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: 7, Pad: 9}
	if got, want := EpollEventSize(runtime.GOARCH), int(unsafe.Sizeof(ev)); got != want {
		t.Fatalf("EpollEventSize(%s) = %d, want %d", runtime.GOARCH, got, want)
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&ev)), unsafe.Sizeof(ev))
	got, _ := EpollEvent(runtime.GOARCH, b)
	fieldsEqual(t, "host epoll_event", got, fieldsOf("events", "EPOLLIN|EPOLLRDHUP", "data", uint64(9)<<32|7))
}

func TestEpollEventArray(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		size := EpollEventSize(arch)
		b := make(le, 2*size+4) // two events and a cut third
		b.put(0, uint32(unix.EPOLLIN))
		b.put(size, uint32(unix.EPOLLOUT))
		var events []string
		for len(b) > 0 {
			f, n := EpollEvent(arch, b)
			ev, _ := f.Str("events")
			events = append(events, ev)
			b = b[n:]
		}
		if want := []string{"EPOLLIN", "EPOLLOUT", "0"}; !reflect.DeepEqual(events, want) {
			t.Errorf("%s: events %v, want %v", arch, events, want)
		}
	}
}

// rawSockname returns the kernel's own bytes for a socket's address.
func rawSockname(t *testing.T, fd int) []byte {
	t.Helper()
	buf := make([]byte, 128)
	n := uint32(len(buf))
	if _, _, errno := unix.Syscall(unix.SYS_GETSOCKNAME, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Fatalf("getsockname: %v", errno)
	}
	return buf[:n]
}

// boundPort is the port the kernel picked, as x/sys parses it.
func boundPort(t *testing.T, fd int) int64 {
	t.Helper()
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatalf("getsockname: %v", err)
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return int64(a.Port)
	case *unix.SockaddrInet6:
		return int64(a.Port)
	}
	t.Fatalf("getsockname: unexpected %T", sa)
	return 0
}

func boundSocket(t *testing.T, family, typ int, sa unix.Sockaddr) int {
	t.Helper()
	fd, err := unix.Socket(family, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, sa); err != nil {
		t.Fatalf("bind: %v", err)
	}
	return fd
}

func TestSockAddrFromKernel(t *testing.T) {
	fd := boundSocket(t, unix.AF_INET, unix.SOCK_DGRAM, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	fieldsEqual(t, "AF_INET", SockAddr(rawSockname(t, fd)),
		fieldsOf("family", "AF_INET", "addr", "127.0.0.1", "port", boundPort(t, fd)))

	fd = boundSocket(t, unix.AF_UNIX, unix.SOCK_STREAM, &unix.SockaddrUnix{Name: "@iotrace-test\x00x"})
	fieldsEqual(t, "abstract", SockAddr(rawSockname(t, fd)), fieldsOf("family", "AF_UNIX", "path", `@iotrace-test\0x`))

	path := t.TempDir() + "/s"
	fd = boundSocket(t, unix.AF_UNIX, unix.SOCK_STREAM, &unix.SockaddrUnix{Name: path})
	fieldsEqual(t, "path", SockAddr(rawSockname(t, fd)), fieldsOf("family", "AF_UNIX", "path", path))

	if fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM, 0); err == nil {
		defer unix.Close(fd)
		if err := unix.Bind(fd, &unix.SockaddrInet6{Addr: [16]byte{15: 1}}); err == nil {
			fieldsEqual(t, "AF_INET6", SockAddr(rawSockname(t, fd)), fieldsOf("family", "AF_INET6", "addr", "::1", "port", boundPort(t, fd),
				"flowinfo", uint64(0), "scope_id", uint64(0)))
		}
	}
}

func TestSockAddr(t *testing.T) {
	in4 := le{2, 0, 0x1f, 0x90, 10, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0}
	in6 := make(le, 28).put(0, uint16(10)).put(24, uint32(2))
	in6[2], in6[3] = 0x01, 0xbb                          // port 443, network order
	in6[4], in6[5], in6[6], in6[7] = 0, 0x0a, 0xbc, 0xde // flowinfo, network order
	copy(in6[8:], []byte{0xfe, 0x80, 15: 0x01})
	mapped := make(le, 28).put(0, uint16(10))
	copy(mapped[8:], []byte{10: 0xff, 11: 0xff, 12: 192, 13: 0, 14: 2, 15: 1})
	nl := make(le, 12).put(0, uint16(16)).put(4, uint32(1234)).put(8, uint32(1))

	tests := []struct {
		name string
		b    []byte
		want event.Fields
	}{
		{"inet", in4, fieldsOf("family", "AF_INET", "addr", "10.1.2.3", "port", int64(8080))},
		{"inet short", in4[:6], fieldsOf("family", "AF_INET", "truncated", true)},
		{"inet6", in6, fieldsOf("family", "AF_INET6", "addr", "fe80::1", "port", int64(443),
			"flowinfo", uint64(0xabcde), "scope_id", uint64(2))},
		{"inet6 rfc2133", in6[:24], fieldsOf("family", "AF_INET6", "addr", "fe80::1", "port", int64(443),
			"flowinfo", uint64(0xabcde))},
		{"inet6 mapped", mapped, fieldsOf("family", "AF_INET6", "addr", "::ffff:192.0.2.1", "port", int64(0),
			"flowinfo", uint64(0), "scope_id", uint64(0))},
		{"inet6 short", in6[:20], fieldsOf("family", "AF_INET6", "truncated", true)},
		{"unix unnamed", le{1, 0}, fieldsOf("family", "AF_UNIX", "path", "")},
		{"unix path to NUL", le{1, 0, '/', 'x', 0, 'y'}, fieldsOf("family", "AF_UNIX", "path", "/x")},
		{"unix abstract", le{1, 0, 0, 'a', '\n'}, fieldsOf("family", "AF_UNIX", "path", `@a\n`)},
		{"netlink", nl, fieldsOf("family", "AF_NETLINK", "pid", uint64(1234), "groups", uint64(1))},
		{"netlink short", nl[:8], fieldsOf("family", "AF_NETLINK", "pid", uint64(1234), "truncated", true)},
		{"packet", le{17, 0, 0, 0}, fieldsOf("family", "AF_PACKET")},
		{"unknown", le{200, 0}, fieldsOf("family", "0xc8")},
		{"one byte", le{2}, fieldsOf("truncated", true)},
	}
	for _, tt := range tests {
		fieldsEqual(t, tt.name, SockAddr(tt.b), tt.want)
	}
}

// iocbImage is a struct iocb with a distinct value in every field, at aio_abi.h's offsets.
func iocbImage(flags uint32) le {
	return make(le, IOCBSize).
		put(0, uint64(0xdead)).           // aio_data
		put(8, uint32(0)).                // aio_key
		put(12, uint32(unix.RWF_NOWAIT)). // aio_rw_flags
		put(16, uint16(7)).               // aio_lio_opcode: PREADV
		put(18, uint16(0xfffe)).          // aio_reqprio: -2
		put(20, uint32(5)).               // aio_fildes
		put(24, uint64(0x7f0000001000)).  // aio_buf
		put(32, uint64(4096)).            // aio_nbytes
		put(40, uint64(8192)).            // aio_offset
		put(48, uint64(0)).               // aio_reserved2
		put(56, flags).                   // aio_flags
		put(60, uint32(9))                // aio_resfd
}

func TestIOCB(t *testing.T) {
	full := fieldsOf("data", uint64(0xdead), "opcode", "IOCB_CMD_PREADV", "fd", int64(5),
		"buf", "0x7f0000001000", "nbytes", uint64(4096), "offset", int64(8192),
		"rw_flags", "RWF_NOWAIT", "flags", "IOCB_FLAG_RESFD", "resfd", int64(9))
	tests := []struct {
		name string
		b    []byte
		want event.Fields
	}{
		{"full", iocbImage(1), full},
		{"ioprio", iocbImage(3), append(full[:7:7],
			event.Field{Key: "flags", Val: "IOCB_FLAG_RESFD|IOCB_FLAG_IOPRIO"},
			event.Field{Key: "resfd", Val: int64(9)},
			event.Field{Key: "reqprio", Val: int64(-2)})},
		{"cut in aio_nbytes", iocbImage(1)[:36], fieldsOf("data", uint64(0xdead), "opcode", "IOCB_CMD_PREADV",
			"fd", int64(5), "buf", "0x7f0000001000", "rw_flags", "RWF_NOWAIT", "truncated", true)},
		{"empty", nil, fieldsOf("truncated", true)},
	}
	for _, tt := range tests {
		fieldsEqual(t, tt.name, IOCB(tt.b), tt.want)
	}
}

func TestIOEvent(t *testing.T) {
	ok := make(le, IOEventSize).put(0, uint64(0xdead)).put(8, uint64(0x7ffd0000)).put(16, uint64(4096))
	failed := make(le, IOEventSize).put(0, uint64(1)).put(8, uint64(0x10)).put(16, uint64(1<<64-11)).put(24, uint64(3))
	tests := []struct {
		name string
		b    []byte
		want event.Fields
	}{
		{"done", ok, fieldsOf("data", uint64(0xdead), "obj", "0x7ffd0000", "res", int64(4096), "res2", int64(0))},
		{"failed", failed, fieldsOf("data", uint64(1), "obj", "0x10", "res", int64(-11), "errno", "EAGAIN", "res2", int64(3))},
		{"short", ok[:20], fieldsOf("data", uint64(0xdead), "obj", "0x7ffd0000", "truncated", true)},
	}
	for _, tt := range tests {
		fieldsEqual(t, tt.name, IOEvent(tt.b), tt.want)
	}
}

func TestUringParams(t *testing.T) {
	b := make(le, UringParamsSize).
		put(0, uint32(64)).put(4, uint32(128)).put(8, uint32(0x2|0x4)).put(12, uint32(3)).
		put(16, uint32(1000)).put(20, uint32(0x3)).put(24, uint32(0xffffffff)).
		put(40, uint32(0xdead)) // sq_off.head: not reported
	want := fieldsOf("sq_entries", uint64(64), "cq_entries", uint64(128),
		"flags", "IORING_SETUP_SQPOLL|IORING_SETUP_SQ_AFF", "sq_thread_cpu", uint64(3),
		"sq_thread_idle", uint64(1000), "features", "IORING_FEAT_SINGLE_MMAP|IORING_FEAT_NODROP",
		"wq_fd", int64(-1))
	fieldsEqual(t, "full", UringParams(b), want)
	fieldsEqual(t, "leading fields only", UringParams(b[:28]), want)
	fieldsEqual(t, "short", UringParams(b[:10]), fieldsOf("sq_entries", uint64(64), "cq_entries", uint64(128), "truncated", true))
}

// The params a live kernel fills in on io_uring_setup decode to what the kernel promised.
func TestUringParamsFromKernel(t *testing.T) {
	var p [UringParamsSize]byte
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, 4, uintptr(unsafe.Pointer(&p[0])), 0)
	if errno != 0 {
		t.Skipf("io_uring_setup: %v (io_uring disabled here)", errno)
	}
	unix.Close(int(fd))
	got := UringParams(p[:])
	if n, _ := got.Int("sq_entries"); n != 4 {
		t.Errorf("sq_entries = %d, want 4", n)
	}
	if n, _ := got.Int("cq_entries"); n != 8 {
		t.Errorf("cq_entries = %d, want 8", n)
	}
	if f, _ := got.Str("features"); len(f) < len("IORING_FEAT_SINGLE_MMAP") || f[:len("IORING_FEAT_SINGLE_MMAP")] != "IORING_FEAT_SINGLE_MMAP" {
		t.Errorf("features = %q, want IORING_FEAT_SINGLE_MMAP first", f)
	}
}

func TestOpenHow(t *testing.T) {
	how := func(flags uint64) le {
		return make(le, OpenHowSize).put(0, flags).put(8, uint64(0o600)).
			put(16, uint64(unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS))
	}
	tests := []struct {
		name string
		arch string
		b    []byte
		want event.Fields
	}{
		{"amd64", "amd64", how(0x10000 | 0x80000), fieldsOf("flags", "O_RDONLY|O_CLOEXEC|O_DIRECTORY", "mode", "0600",
			"resolve", "RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH")},
		{"arm64", "arm64", how(0x4000 | 0x80000), fieldsOf("flags", "O_RDONLY|O_CLOEXEC|O_DIRECTORY", "mode", "0600",
			"resolve", "RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH")},
		{"short", "amd64", how(0x241)[:12], fieldsOf("flags", "O_WRONLY|O_CREAT|O_TRUNC", "truncated", true)},
	}
	for _, tt := range tests {
		fieldsEqual(t, tt.name, OpenHow(tt.b, tt.arch), tt.want)
	}
	// x/sys's OpenHow has the same layout on every arch.
	h := unix.OpenHow{Flags: unix.O_CREAT | unix.O_WRONLY, Mode: 0o644, Resolve: unix.RESOLVE_IN_ROOT}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&h)), unsafe.Sizeof(h))
	fieldsEqual(t, "x/sys OpenHow", OpenHow(b, runtime.GOARCH), fieldsOf("flags", "O_WRONLY|O_CREAT", "mode", "0644", "resolve", "RESOLVE_IN_ROOT"))
}

func TestPollFD(t *testing.T) {
	p := unix.PollFd{Fd: 4, Events: unix.POLLIN | unix.POLLPRI, Revents: unix.POLLHUP}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&p)), unsafe.Sizeof(p))
	if len(b) != PollFDSize {
		t.Fatalf("sizeof(struct pollfd) = %d, PollFDSize = %d", len(b), PollFDSize)
	}
	fieldsEqual(t, "pollfd", PollFD(b), fieldsOf("fd", int64(4), "events", "POLLIN|POLLPRI", "revents", "POLLHUP"))
	fieldsEqual(t, "negative fd", PollFD(le{0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0}), fieldsOf("fd", int64(-1), "events", "POLLIN", "revents", "0"))
	fieldsEqual(t, "short", PollFD(b[:6]), fieldsOf("fd", int64(4), "events", "POLLIN|POLLPRI", "truncated", true))
}

func TestInt32Pair(t *testing.T) {
	// the bytes pipe2 itself writes
	var fds [8]byte
	if _, _, errno := unix.Syscall(unix.SYS_PIPE2, uintptr(unsafe.Pointer(&fds[0])), unix.O_CLOEXEC, 0); errno != 0 {
		t.Fatalf("pipe2: %v", errno)
	}
	r, w, ok := Int32Pair(fds[:])
	if !ok || r < 0 || w != r+1 {
		t.Errorf("Int32Pair(pipe2 fds) = %d, %d, %v", r, w, ok)
	}
	unix.Close(int(r))
	unix.Close(int(w))

	if a, b, ok := Int32Pair(le{0xfe, 0xff, 0xff, 0xff, 3, 0, 0, 0, 9}); a != -2 || b != 3 || !ok {
		t.Errorf("Int32Pair = %d, %d, %v; want -2, 3, true", a, b, ok)
	}
	if _, _, ok := Int32Pair(fds[:7]); ok {
		t.Error("Int32Pair of 7 bytes reports ok")
	}
}

func TestWaitStatus(t *testing.T) {
	tests := []struct {
		s    int32
		want string
	}{
		{3 << 8, "[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]"},
		{9, "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}]"},
		{11 | 0x80, "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}]"},
		{19<<8 | 0x7f, "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}]"},
		{0xffff, "[{WIFCONTINUED(s)}]"},
	}
	for _, tt := range tests {
		if got := WaitStatus(tt.s); got != tt.want {
			t.Errorf("WaitStatus(%#x) = %s, want %s", tt.s, got, tt.want)
		}
	}
	if got := WaitOptions(0x40000001); got != "WNOHANG|__WALL" {
		t.Errorf("WaitOptions(0x40000001) = %s", got)
	}
	if got := WaitOptions(0); got != "0" {
		t.Errorf("WaitOptions(0) = %s", got)
	}
}

// An iovec whose base the BPF side could not read carries the address instead of bytes.
func TestIOVUnreadableBase(t *testing.T) {
	p := make([]byte, 24+16+8)
	binary.LittleEndian.PutUint64(p[0:], 10)
	binary.LittleEndian.PutUint32(p[8:], 0xffffffff)
	binary.LittleEndian.PutUint32(p[12:], 24)
	binary.LittleEndian.PutUint64(p[16:], 0x7fef5d179000)
	binary.LittleEndian.PutUint64(p[24:], 3) // a readable one after it
	binary.LittleEndian.PutUint32(p[32:], 3)
	binary.LittleEndian.PutUint32(p[36:], 24)
	copy(p[40:], "abc")
	got := iovValue(p, 2, -1)
	if len(got) != 2 {
		t.Fatalf("%d iovecs decoded, want 2: %v", len(got), got)
	}
	f := got[0].(event.Fields)
	if b, _ := f.Str("base"); b != "0x7fef5d179000" {
		t.Errorf("unreadable iovec: %v, want base 0x7fef5d179000", f)
	}
	if d, _ := got[1].(event.Fields).Str("data"); d != "abc" {
		t.Errorf("the iovec after it: %v, want data abc", got[1])
	}
}
