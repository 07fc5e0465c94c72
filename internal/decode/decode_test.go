package decode

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/iotrace/iotrace/bpf"
	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/syscalls"
	"github.com/iotrace/iotrace/internal/tracefs"
)

var arches = []string{"amd64", "arm64"}

func table(t testing.TB, arch string) *syscalls.Table {
	t.Helper()
	tab, err := syscalls.ForArch(arch)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// decodeAll feeds records in order and returns the events they produced.
func decodeAll(t testing.TB, d *Decoder, recs ...[]byte) []event.Event {
	t.Helper()
	var out []event.Event
	for i, r := range recs {
		e, err := d.Decode(r)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

func asSyscall(t testing.TB, e event.Event) *event.Syscall {
	t.Helper()
	s, ok := e.(*event.Syscall)
	if !ok {
		t.Fatalf("got %T, want *event.Syscall", e)
	}
	return s
}

func jsonOf(f event.Fields) string {
	b, _ := f.MarshalJSON()
	return string(b)
}

func argNames(s *event.Syscall) []string {
	var n []string
	for _, a := range s.Args {
		n = append(n, a.Name)
	}
	return n
}

const (
	ptrA    = 0x7ffd_0000_1000
	ptrB    = 0x7ffd_0000_2000
	atFDCWD = 0xffff_ffff_ffff_ff9c // int -100, sign-extended into the register
)

func TestSyscallNumbersAndArgs(t *testing.T) {
	tests := []struct {
		name   string
		arch   string
		nr     int
		rec    func(nr int) []byte
		want   string // syscall name
		args   []string
		ret    int64
		errno  string
		unfin  bool
		values []uint64
	}{
		{
			name: "writev amd64", arch: "amd64", nr: 20, want: "writev", ret: 38,
			rec:  func(nr int) []byte { return syscallRec(7, nr, 38, []uint64{3, ptrA, 4, 0xdead, 0xdead, 0xdead}) },
			args: []string{"fd", "vec", "vlen"}, values: []uint64{3, ptrA, 4},
		},
		{
			name: "writev arm64", arch: "arm64", nr: 66, want: "writev", ret: 38,
			rec:  func(nr int) []byte { return syscallRec(7, nr, 38, []uint64{3, ptrA, 4, 0xdead, 0xdead, 0xdead}) },
			args: []string{"fd", "vec", "vlen"}, values: []uint64{3, ptrA, 4},
		},
		{
			name: "failed read amd64", arch: "amd64", nr: 0, want: "read", ret: -11, errno: "EAGAIN",
			rec:  func(nr int) []byte { return syscallRec(7, nr, -11, []uint64{3, ptrA, 4096}) },
			args: []string{"fd", "buf", "count"}, values: []uint64{3, ptrA, 4096},
		},
		{
			name: "failed read arm64", arch: "arm64", nr: 63, want: "read", ret: -4, errno: "EINTR",
			rec:  func(nr int) []byte { return syscallRec(7, nr, -4, []uint64{3, ptrA, 4096}) },
			args: []string{"fd", "buf", "count"}, values: []uint64{3, ptrA, 4096},
		},
		{
			// -4096 is past the errno range: a value, not an error
			name: "not an errno", arch: "amd64", nr: 8, want: "lseek", ret: -4096,
			rec:  func(nr int) []byte { return syscallRec(7, nr, -4096, []uint64{3, 0, 1}) },
			args: []string{"fd", "offset", "whence"}, values: []uint64{3, 0, 1},
		},
		{
			name: "exit_group never returns", arch: "amd64", nr: 231, want: "exit_group", unfin: true,
			rec:  func(nr int) []byte { return noreturnRec(7, nr, []uint64{3}) },
			args: []string{"error_code"}, values: []uint64{3},
		},
		{
			name: "exit_group arm64", arch: "arm64", nr: 94, want: "exit_group", unfin: true,
			rec:  func(nr int) []byte { return noreturnRec(7, nr, []uint64{0}) },
			args: []string{"error_code"}, values: []uint64{0},
		},
		{
			name: "unknown number", arch: "amd64", nr: 999, want: "syscall_999", ret: -38, errno: "ENOSYS",
			rec:    func(nr int) []byte { return syscallRec(7, nr, -38, []uint64{1, 2, 3, 4, 5, 6}) },
			args:   []string{"arg0", "arg1", "arg2", "arg3", "arg4", "arg5"},
			values: []uint64{1, 2, 3, 4, 5, 6},
		},
		{
			// arm64 leaves 244-259 to the arch; it uses none of them
			name: "hole in the arm64 table", arch: "arm64", nr: 250, want: "syscall_250",
			rec:    func(nr int) []byte { return syscallRec(7, nr, 0, nil) },
			args:   []string{"arg0", "arg1", "arg2", "arg3", "arg4", "arg5"},
			values: []uint64{0, 0, 0, 0, 0, 0},
		},
		{
			name: "past the table", arch: "amd64", nr: 1023, want: "syscall_1023",
			rec:    func(nr int) []byte { return syscallRec(7, nr, 0, nil) },
			args:   []string{"arg0", "arg1", "arg2", "arg3", "arg4", "arg5"},
			values: []uint64{0, 0, 0, 0, 0, 0},
		},
		{
			name: "negative number", arch: "amd64", nr: -1, want: "syscall_-1",
			rec:    func(nr int) []byte { return syscallRec(7, nr, 0, nil) },
			args:   []string{"arg0", "arg1", "arg2", "arg3", "arg4", "arg5"},
			values: []uint64{0, 0, 0, 0, 0, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := table(t, tt.arch)
			if name := tab.Name(tt.nr); name != "" && name != tt.want {
				t.Fatalf("table says nr %d is %q, test expects %q", tt.nr, name, tt.want)
			}
			s := asSyscall(t, decodeAll(t, New(tab), tt.rec(tt.nr))[0])
			if s.Name != tt.want || s.Nr != tt.nr {
				t.Errorf("name %q nr %d, want %q nr %d", s.Name, s.Nr, tt.want, tt.nr)
			}
			if got := strings.Join(argNames(s), ","); got != strings.Join(tt.args, ",") {
				t.Errorf("args %s, want %s", got, strings.Join(tt.args, ","))
			}
			for i, v := range tt.values {
				if i < len(s.Args) && s.Args[i].Value != v {
					t.Errorf("arg %d = %#x, want %#x", i, s.Args[i].Value, v)
				}
			}
			if s.Ret != tt.ret || s.Errno != tt.errno || s.Unfinished != tt.unfin {
				t.Errorf("ret %d errno %q unfinished %v, want %d %q %v", s.Ret, s.Errno, s.Unfinished, tt.ret, tt.errno, tt.unfin)
			}
			if s.PID != testPID || s.TID != 7 || s.TS != testTS {
				t.Errorf("common %+v", s.Common)
			}
			if !tt.unfin && s.Dur != 1500 {
				t.Errorf("dur %d, want 1500", s.Dur)
			}
		})
	}
}

// Every syscall of both tables decodes, with its tracepoint's argument names (at most six),
// whatever its arguments hold.
func TestEverySyscallDecodes(t *testing.T) {
	junk := []uint64{atFDCWD, 1 << 63, 0xffffffff, 15, 0, 1}
	for _, arch := range arches {
		tab := table(t, arch)
		d := New(tab)
		for _, name := range tab.Names() {
			nr, _ := tab.Nr(name)
			e, err := d.Decode(syscallRec(1, nr, -1, junk))
			if err != nil {
				t.Fatalf("%s %s: %v", arch, name, err)
			}
			s := asSyscall(t, e)
			if s.Name != name {
				t.Errorf("%s nr %d: name %q, want %q", arch, nr, s.Name, name)
			}
			want := syscalls.ArgNames(name)
			if want == nil {
				want = genericArgNames
			}
			if got := argNames(s); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s %s: args %v, want %v", arch, name, got, want)
			}
			if s.Errno != "EPERM" {
				t.Errorf("%s %s: errno %q, want EPERM", arch, name, s.Errno)
			}
		}
	}
}

func epollEv(arch string, events uint32, data uint64) []byte {
	b := make(le, EpollEventSize(arch)).put(0, events)
	if arch == "arm64" {
		return b.put(8, data)
	}
	return b.put(4, data)
}

func iocb(data uint64, opcode uint16, fd uint32, buf, nbytes, offset uint64) []byte {
	return make(le, IOCBSize).put(0, data).put(16, opcode).put(20, fd).put(24, buf).put(32, nbytes).put(40, offset)
}

func ioEvent(data, obj uint64, res int64) []byte {
	return make(le, IOEventSize).put(0, data).put(8, obj).put(16, uint64(res))
}

// sockaddr is a 112-byte capture (what the BPF side copies) with an address of addrlen bytes
// and garbage after it.
func sockaddr(addr []byte) []byte {
	b := make([]byte, 112)
	for i := range b {
		b[i] = 0xee
	}
	copy(b, addr)
	return b
}

var (
	sinLoopback8080 = []byte{2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}
	sunTmpSock      = append([]byte{1, 0}, "/tmp/sock\x00"...)
	sunAbstract     = append([]byte{1, 0}, "\x00abc"...)
)

type callCase struct {
	name string
	call string
	args []uint64
	ret  int64
	caps [][]byte // taken at entry or at exit, as the syscall's spec says
	want string   // Decoded as JSON
}

// records are the records the BPF side sends for c: an enter record with the captures taken
// at entry, if any, then the exit record with the others.
func (c callCase) records(arch string, nr int) [][]byte {
	spec := syscalls.SpecFor(arch, c.call)
	var enter, exit [][]byte
	for _, cp := range c.caps {
		slot := cp[unsafe.Offsetof(bpf.IotraceIotCap{}.Slot)]
		if spec.Captures[slot].AtExit {
			exit = append(exit, cp)
		} else {
			enter = append(enter, cp)
		}
	}
	var recs [][]byte
	if enter != nil {
		recs = append(recs, enterRec(7, nr, enter...))
	}
	return append(recs, syscallRec(7, nr, c.ret, c.args, exit...))
}

// callCases are calls with their captures as the BPF side takes them on arch; a case whose
// syscall the arch lacks is skipped.
func callCases(arch string) []callCase {
	evSize := EpollEventSize(arch)
	long := strings.Repeat("0123456789", 4) // 40 bytes, more than snap
	params := make(le, UringParamsSize).put(0, uint32(8)).put(4, uint32(16)).put(20, uint32(3)).put(24, uint32(0xffffffff))
	return []callCase{
		{
			name: "writev at entry", call: "writev", args: []uint64{3, ptrA, 4}, ret: 53,
			caps: [][]byte{capIOV(0, 4, snap, iov{8, "HEADER: "}, iov{5, "hello"}, iov{40, long[:snap]}, iov{0, ""})},
			want: `{"vec":[{"len":8,"data":"HEADER: "},{"len":5,"data":"hello"},{"len":40,"data":"` + long[:snap] + `","trunc":true},{"len":0,"data":""}]}`,
		},
		{
			// -s 5: entries are 16+8 bytes apart, not 16+5
			name: "writev with a small snap length", call: "writev", args: []uint64{3, ptrA, 2}, ret: 11,
			caps: [][]byte{capIOV(0, 2, 5, iov{8, "HEADE"}, iov{3, "a\x00\n"})},
			want: `{"vec":[{"len":8,"data":"HEADE","trunc":true},{"len":3,"data":"a\\0\\n"}]}`,
		},
		{
			// only IOT_IOV_MAX iovecs are captured; the count stays the call's
			name: "writev with more iovecs than captured", call: "writev", args: []uint64{3, ptrA, 100}, ret: 2,
			caps: [][]byte{capIOV(0, 100, snap, iov{1, "a"}, iov{1, "b"})},
			want: `{"vec":[{"len":1,"data":"a"},{"len":1,"data":"b"}],"vec_more":98}`,
		},
		{
			name: "writev NULL vector", call: "writev", args: []uint64{3, 0, 1}, ret: -14,
			caps: [][]byte{capIOV(0, 0, snap)},
			want: `{"vec":[]}`,
		},
		{
			// at exit the BPF side copies no more than the call read: 5 bytes, so the second
			// iovec got 1 and the third none, and neither is cut short
			name: "readv at exit", call: "readv", args: []uint64{3, ptrA, 3}, ret: 5,
			caps: [][]byte{capIOV(0, 3, snap, iov{4, "abcd"}, iov{8, "e"}, iov{8, ""})},
			want: `{"vec":[{"len":4,"data":"abcd"},{"len":8,"data":"e"},{"len":8,"data":""}]}`,
		},
		{
			name: "readv past the snap length", call: "readv", args: []uint64{3, ptrA, 1}, ret: 40,
			caps: [][]byte{capIOV(0, 1, snap, iov{64, long[:snap]})},
			want: `{"vec":[{"len":64,"data":"` + long[:snap] + `","trunc":true}]}`,
		},
		{
			// the BPF side still walks the iovecs at exit; they hold nothing
			name: "failed readv", call: "readv", args: []uint64{3, ptrA, 1}, ret: -11,
			caps: [][]byte{capIOV(0, 1, snap, iov{8, ""})},
			want: `{}`,
		},
		{
			name: "failed read", call: "read", args: []uint64{3, ptrA, 4096}, ret: -11,
			caps: [][]byte{capBuf(0, "", 0)},
			want: `{}`,
		},
		{
			name: "read", call: "read", args: []uint64{3, ptrA, 4096}, ret: 5,
			caps: [][]byte{capBuf(0, "hi\x00\x01\n", 5)},
			want: `{"buf":{"data":"hi\\0\\1\\n"}}`,
		},
		{
			name: "read past the snap length", call: "read", args: []uint64{3, ptrA, 4096}, ret: 100,
			caps: [][]byte{capBuf(0, long[:snap], 100)},
			want: `{"buf":{"data":"` + long[:snap] + `","trunc":true}}`,
		},
		{
			name: "read of nothing", call: "read", args: []uint64{3, ptrA, 4096}, ret: 0,
			caps: [][]byte{capBuf(0, "", 0)},
			want: `{"buf":{"data":""}}`,
		},
		{
			name: "write", call: "write", args: []uint64{1, ptrA, 12}, ret: 12,
			caps: [][]byte{capBuf(0, "hello world\n", 12)},
			want: `{"buf":{"data":"hello world\\n"}}`,
		},
		{
			// strace shows what a failed write tried to write
			name: "failed write", call: "write", args: []uint64{4, ptrA, 40}, ret: -11,
			caps: [][]byte{capBuf(0, long[:snap], 40)},
			want: `{"buf":{"data":"` + long[:snap] + `","trunc":true}}`,
		},
		{
			name: "openat", call: "openat", args: []uint64{atFDCWD, ptrA, 0x80000, 0}, ret: 3,
			caps: [][]byte{capStr(0, "/tmp/x")},
			want: `{"dfd":"AT_FDCWD","filename":"/tmp/x","flags":"O_RDONLY|O_CLOEXEC","mode":"000"}`,
		},
		{
			name: "failed openat of an odd name", call: "openat", args: []uint64{5, ptrA, 0x241, 0o644}, ret: -2,
			caps: [][]byte{capStr(0, "a \"b\"\n")},
			want: `{"filename":"a \\\"b\\\"\\n","flags":"O_WRONLY|O_CREAT|O_TRUNC","mode":"0644"}`,
		},
		{
			name: "openat of a missing file", call: "openat", args: []uint64{atFDCWD, ptrA, 0, 0}, ret: -2,
			caps: [][]byte{capStr(0, "/nonexistent")},
			want: `{"dfd":"AT_FDCWD","filename":"/nonexistent","flags":"O_RDONLY","mode":"000"}`,
		},
		{
			name: "openat2", call: "openat2", args: []uint64{atFDCWD, ptrA, ptrB, 24}, ret: 3,
			caps: [][]byte{capStr(0, "/etc/hosts"), capStruct(1, make(le, OpenHowSize).put(0, uint64(0x80000)).put(16, uint64(0x4)), OpenHowSize)},
			want: `{"dfd":"AT_FDCWD","filename":"/etc/hosts","how":{"flags":"O_RDONLY|O_CLOEXEC","mode":"000","resolve":"RESOLVE_NO_SYMLINKS"}}`,
		},
		{
			name: "execve", call: "execve", args: []uint64{ptrA, ptrB, 0x7ffd_0000_3000}, ret: 0,
			caps: [][]byte{capStr(0, "/bin/echo"), capArgv(1, 35, "echo", "hi there", strings.Repeat("x", 64))},
			want: `{"filename":"/bin/echo","argv":["echo","hi there","` + strings.Repeat("x", 64) + `"],"envp_vars":35}`,
		},
		{
			name: "execve with an argument cut at the snap length", call: "execve", args: []uint64{ptrA, ptrB, 0x7ffd_0000_3000}, ret: 0,
			caps: [][]byte{capStr(0, "/bin/sh"), capArgv(1, 2, "sh", "-c", "env -i A=1 B=2 /bin/true; /bin/t...")},
			want: `{"filename":"/bin/sh","argv":["sh","-c",{"data":"env -i A=1 B=2 /bin/true; /bin/t","trunc":true}],"envp_vars":2}`,
		},
		{
			name: "execve with an environment it could not read", call: "execve", args: []uint64{ptrA, ptrB, 0x10}, ret: -14,
			caps: [][]byte{capStr(0, "/bin/echo"), capArgv(1, 0xffffffff, "echo")},
			want: `{"filename":"/bin/echo","argv":["echo"]}`,
		},
		{
			name: "epoll_ctl", call: "epoll_ctl", args: []uint64{5, 1, 3, ptrA}, ret: 0,
			caps: [][]byte{capStruct(0, epollEv(arch, 1|1<<31, 3), evSize)},
			want: `{"op":"EPOLL_CTL_ADD","event":{"events":"EPOLLIN|EPOLLET","data":3}}`,
		},
		{
			name: "epoll_ctl with a data word", call: "epoll_ctl", args: []uint64{5, 3, 3, ptrA}, ret: 0,
			caps: [][]byte{capStruct(0, epollEv(arch, 4, 0x1122334455667788), evSize)},
			want: `{"op":"EPOLL_CTL_MOD","event":{"events":"EPOLLOUT","data":1234605616436508552}}`,
		},
		{
			name: "epoll_wait", call: "epoll_wait", args: []uint64{5, ptrA, 16, 0xffffffffffffffff}, ret: 3,
			caps: [][]byte{capArray(0, 3, epollEv(arch, 1, 3), epollEv(arch, 4, 4), epollEv(arch, 1|8, 5))},
			want: `{"events":[{"events":"EPOLLIN","data":3},{"events":"EPOLLOUT","data":4},{"events":"EPOLLIN|EPOLLERR","data":5}]}`,
		},
		{
			name: "epoll_pwait", call: "epoll_pwait", args: []uint64{5, ptrA, 16, 0, 0, 8}, ret: 1,
			caps: [][]byte{capArray(0, 1, epollEv(arch, 1, 7))},
			want: `{"events":[{"events":"EPOLLIN","data":7}]}`,
		},
		{
			name: "epoll_pwait with none ready", call: "epoll_pwait", args: []uint64{5, ptrA, 16, 0, 0, 8}, ret: 0,
			caps: [][]byte{capArray(0, 0)},
			want: `{"events":[]}`,
		},
		{
			name: "interrupted epoll_pwait", call: "epoll_pwait", args: []uint64{5, ptrA, 16, 0, 0, 8}, ret: -4,
			caps: [][]byte{capArray(0, 0)},
			want: `{}`,
		},
		{
			name: "io_submit", call: "io_submit", args: []uint64{0x7f00_aa00_0000, 3, ptrA}, ret: 2,
			caps: [][]byte{capPtrArr(0, 3, IOCBSize,
				iocb(0x11, 0, 4, 0x1000, 4096, 8192),
				iocb(0x12, 1, 5, 0x2000, 512, 0))},
			want: `{"iocbpp":[` +
				`{"data":17,"opcode":"IOCB_CMD_PREAD","fd":4,"buf":"0x1000","nbytes":4096,"offset":8192,"rw_flags":"0","flags":"0","resfd":0},` +
				`{"data":18,"opcode":"IOCB_CMD_PWRITE","fd":5,"buf":"0x2000","nbytes":512,"offset":0,"rw_flags":"0","flags":"0","resfd":0}],"iocbpp_more":1}`,
		},
		{
			name: "io_getevents", call: "io_getevents", args: []uint64{0x7f00_aa00_0000, 1, 8, ptrA, 0}, ret: 2,
			caps: [][]byte{capArray(0, 2, ioEvent(0x11, 0x3000, 4096), ioEvent(0x12, 0x3040, -5))},
			want: `{"events":[{"data":17,"obj":"0x3000","res":4096,"res2":0},{"data":18,"obj":"0x3040","res":-5,"errno":"EIO","res2":0}]}`,
		},
		{
			name: "pipe2", call: "pipe2", args: []uint64{ptrA, 0x80000}, ret: 0,
			caps: [][]byte{capFDPair(0, 3, 4, 9001, 9001)},
			want: `{"fildes":[3,4],"flags":"O_CLOEXEC","fildes_ino":[9001,9001]}`,
		},
		{
			name: "getsockname", call: "getsockname", args: []uint64{3, ptrA, ptrA + 0x100}, ret: 0,
			caps: [][]byte{capStruct(1, make(le, 4).put(0, uint32(16)), 4)},
			want: `{"usockaddr_len":16}`,
		},
		{
			name: "socketpair", call: "socketpair", args: []uint64{1, 1, 0, ptrA}, ret: 0,
			caps: [][]byte{capFDPair(0, 5, 6, 9002, 9003)},
			want: `{"family":"AF_UNIX","type":"SOCK_STREAM","usockvec":[5,6],"usockvec_ino":[9002,9003]}`,
		},
		{
			name: "pipe2 whose descriptors were gone by its exit", call: "pipe2", args: []uint64{ptrA, 0}, ret: 0,
			caps: [][]byte{capFDPair(0, 3, 4, 0, 0)},
			want: `{"fildes":[3,4],"flags":"0"}`,
		},
		{
			name: "failed pipe2", call: "pipe2", args: []uint64{ptrA, 0}, ret: -24,
			caps: [][]byte{capFDPair(0, -1, -1, 0, 0)},
			want: `{"flags":"0"}`,
		},
		{
			name: "io_setup", call: "io_setup", args: []uint64{128, ptrA}, ret: 0,
			caps: [][]byte{capStruct(0, make(le, 8).put(0, uint64(0x7f00aa000000)), 8)},
			want: `{"ctxp":"0x7f00aa000000"}`,
		},
		{
			name: "accept4", call: "accept4", args: []uint64{3, ptrA, ptrB, 0x80800}, ret: 5,
			caps: [][]byte{capStruct(0, sockaddr(sinLoopback8080), 112)},
			want: `{"upeer_sockaddr":{"family":"AF_INET","addr":"127.0.0.1","port":8080},"flags":"SOCK_CLOEXEC|SOCK_NONBLOCK"}`,
		},
		{
			// the address buffer holds what it held before the call
			name: "failed accept4", call: "accept4", args: []uint64{3, ptrA, ptrB, 0}, ret: -11,
			caps: [][]byte{capStruct(0, sockaddr(sinLoopback8080), 112)},
			want: `{"flags":"0"}`,
		},
		{
			name: "accept4 without an address", call: "accept4", args: []uint64{3, 0, 0, 0}, ret: 5,
			caps: [][]byte{capStruct(0, nil, 112)},
			want: `{"flags":"0"}`,
		},
		{
			name: "connect trimmed by addrlen", call: "connect", args: []uint64{3, ptrA, uint64(len(sunTmpSock))}, ret: 0,
			caps: [][]byte{capStruct(0, sockaddr(sunTmpSock), 112)},
			want: `{"uservaddr":{"family":"AF_UNIX","path":"/tmp/sock"}}`,
		},
		{
			name: "connect to an abstract name", call: "connect", args: []uint64{3, ptrA, uint64(len(sunAbstract))}, ret: 0,
			caps: [][]byte{capStruct(0, sockaddr(sunAbstract), 112)},
			want: `{"uservaddr":{"family":"AF_UNIX","path":"@abc"}}`,
		},
		{
			// strace shows where a refused connect went
			name: "refused connect", call: "connect", args: []uint64{3, ptrA, 16}, ret: -111,
			caps: [][]byte{capStruct(0, sockaddr(sinLoopback8080), 112)},
			want: `{"uservaddr":{"family":"AF_INET","addr":"127.0.0.1","port":8080}}`,
		},
		{
			// addrlen is an int: its upper half is not the caller's, and a negative one cuts nothing
			name: "connect with garbage above addrlen", call: "connect", args: []uint64{3, ptrA, 0xdeadbeef_00000000 | uint64(len(sunAbstract))}, ret: 0,
			caps: [][]byte{capStruct(0, sockaddr(sunAbstract), 112)},
			want: `{"uservaddr":{"family":"AF_UNIX","path":"@abc"}}`,
		},
		{
			name: "connect with a negative addrlen", call: "connect", args: []uint64{3, ptrA, 0xffffffff_ffffffff}, ret: -22,
			caps: [][]byte{capStruct(0, sockaddr(sinLoopback8080), 112)},
			want: `{"uservaddr":{"family":"AF_INET","addr":"127.0.0.1","port":8080}}`,
		},
		{
			name: "io_uring_setup", call: "io_uring_setup", args: []uint64{8, ptrA}, ret: 4,
			caps: [][]byte{capStruct(0, params, UringParamsSize)},
			want: `{"params":{"sq_entries":8,"cq_entries":16,"flags":"0","sq_thread_cpu":0,"sq_thread_idle":0,` +
				`"features":"IORING_FEAT_SINGLE_MMAP|IORING_FEAT_NODROP","wq_fd":-1}}`,
		},
		{
			name: "prctl PR_SET_NAME", call: "prctl", args: []uint64{15, ptrA}, ret: 0,
			caps: [][]byte{capStr(0, "worker-1")},
			want: `{"option":"PR_SET_NAME","arg2":"worker-1"}`,
		},
		{
			// the BPF side copies a string whatever the option; it is one only for PR_SET_NAME
			name: "prctl other option", call: "prctl", args: []uint64{4, 0x7ffd_0000_0001}, ret: 0,
			caps: [][]byte{capStr(0, "garbage")},
			want: `{"option":"PR_SET_DUMPABLE"}`,
		},
		{
			name: "mmap", call: "mmap", args: []uint64{0, 4096, 3, 0x22, 0xffffffffffffffff, 0}, ret: 0x7f12_3456_0000,
			want: `{"prot":"PROT_READ|PROT_WRITE","flags":"MAP_PRIVATE|MAP_ANONYMOUS"}`,
		},
	}
}

func TestSyscallCaptures(t *testing.T) {
	for _, arch := range arches {
		tab := table(t, arch)
		for _, tt := range callCases(arch) {
			nr, ok := tab.Nr(tt.call)
			if !ok {
				continue // epoll_wait: not on arm64
			}
			t.Run(arch+"/"+tt.name, func(t *testing.T) {
				evs := decodeAll(t, New(tab), tt.records(arch, nr)...)
				if len(evs) != 1 {
					t.Fatalf("%d events, want 1 (the enter record makes none)", len(evs))
				}
				s := asSyscall(t, evs[0])
				if s.Name != tt.call {
					t.Fatalf("name %q, want %q", s.Name, tt.call)
				}
				if got := jsonOf(s.Decoded); got != tt.want {
					t.Errorf("decoded\n got %s\nwant %s", got, tt.want)
				}
			})
		}
	}
}

// The records above follow the specs the Go side hands the BPF side: check the element sizes
// they are built with, and when the captures that matter most are taken.
func TestCaptureSpecs(t *testing.T) {
	for _, arch := range arches {
		for _, c := range []struct {
			call   string
			slot   int
			size   int
			atExit bool
			input  bool // what the call was given, read as it returns
		}{
			{"writev", 0, 0, true, true}, // the data the call was given
			{"readv", 0, 0, true, false}, // the data the call read
			{"write", 0, 0, true, true},
			{"read", 0, 0, true, false},
			{"execve", 0, 0, false, false}, // at exit the old address space is gone
			{"execve", 1, 0, false, false},
			{"connect", 0, 112, true, true},
			{"accept4", 0, 112, true, false},
			{"epoll_ctl", 0, EpollEventSize(arch), true, true},
			{"epoll_pwait", 0, EpollEventSize(arch), true, false},
			{"io_submit", 0, IOCBSize, true, true},
			{"io_getevents", 0, IOEventSize, true, false},
			{"io_uring_setup", 0, UringParamsSize, true, false},
			{"openat2", 1, OpenHowSize, true, true},
			{"pipe2", 0, 0, true, false},
			{"socketpair", 0, 0, true, false},
		} {
			spec := syscalls.SpecFor(arch, c.call)
			cp := spec.Captures[c.slot]
			if cp.Size != c.size || cp.AtExit != c.atExit || cp.Input != c.input {
				t.Errorf("%s %s slot %d: size %d at exit %v input %v, want %d %v %v", arch, c.call, c.slot, cp.Size, cp.AtExit, cp.Input, c.size, c.atExit, c.input)
			}
		}
	}
}

// An enter record joins the next exit record of its thread, and only when the numbers match.
func TestEnterJoin(t *testing.T) {
	for _, arch := range arches {
		tab := table(t, arch)
		writev, _ := tab.Nr("writev")
		read, _ := tab.Nr("read")
		vec := func(s string) []byte { return capIOV(0, 1, snap, iov{uint64(len(s)), s}) }
		vecs := func(e event.Event) string {
			v, _ := asSyscall(t, e).Decoded.Get("vec")
			return jsonOf(event.Fields{{Key: "vec", Val: v}})
		}
		t.Run(arch+"/threads interleaved", func(t *testing.T) {
			evs := decodeAll(t, New(tab),
				enterRec(7, writev, vec("seven")),
				enterRec(8, writev, vec("eight")),
				syscallRec(8, writev, 5, []uint64{3, ptrA, 1}),
				syscallRec(7, writev, 5, []uint64{3, ptrA, 1}))
			if got := vecs(evs[0]); got != `{"vec":[{"len":5,"data":"eight"}]}` {
				t.Errorf("tid 8: %s", got)
			}
			if got := vecs(evs[1]); got != `{"vec":[{"len":5,"data":"seven"}]}` {
				t.Errorf("tid 7: %s", got)
			}
		})
		t.Run(arch+"/number mismatch drops the entry", func(t *testing.T) {
			// the writev's exit was lost: its captures must not show up on the read, nor on
			// a later writev of the thread
			evs := decodeAll(t, New(tab),
				seqOf(enterRec(7, writev, vec("stale")), 1),
				seqOf(syscallRec(7, read, 3, []uint64{3, ptrA, 10}, capBuf(0, "abc", 3)), 2),
				seqOf(syscallRec(7, writev, 5, []uint64{3, ptrA, 1}), 3))
			if got := jsonOf(asSyscall(t, evs[0]).Decoded); got != `{"buf":{"data":"abc"}}` {
				t.Errorf("read: %s", got)
			}
			if got := jsonOf(asSyscall(t, evs[1]).Decoded); got != `{}` {
				t.Errorf("later writev: %s", got)
			}
		})
		t.Run(arch+"/entry consumed once", func(t *testing.T) {
			evs := decodeAll(t, New(tab),
				enterRec(7, writev, vec("once")),
				syscallRec(7, writev, 4, []uint64{3, ptrA, 1}),
				syscallRec(7, writev, 4, []uint64{3, ptrA, 1}))
			if got := vecs(evs[0]); got != `{"vec":[{"len":4,"data":"once"}]}` {
				t.Errorf("first: %s", got)
			}
			if got := jsonOf(asSyscall(t, evs[1]).Decoded); got != `{}` {
				t.Errorf("second: %s", got)
			}
		})
		t.Run(arch+"/the reader's buffer is reused", func(t *testing.T) {
			d := New(tab)
			rec := enterRec(7, writev, vec("keep"))
			decodeAll(t, d, rec)
			clear(rec)
			s := asSyscall(t, decodeAll(t, d, syscallRec(7, writev, 4, []uint64{3, ptrA, 1}))[0])
			if got := vecs(s); got != `{"vec":[{"len":4,"data":"keep"}]}` {
				t.Errorf("got %s", got)
			}
		})
	}
}

func TestProcessRecords(t *testing.T) {
	tab := table(t, "amd64")
	getpid, _ := tab.Nr("getpid")
	intp := func(n int) *int { return &n }
	tests := []struct {
		name string
		recs [][]byte
		want []event.Process // Comm and the fields a test sets
		// comms of later syscalls, by tid
		comms map[uint32]string
	}{
		{
			name:  "fork of a process",
			recs:  [][]byte{forkRec(7, 200, 200, false, "sh")},
			want:  []event.Process{{Name: "fork", ChildPID: 200, ChildTID: 200}},
			comms: map[uint32]string{200: "sh"},
		},
		{
			name:  "fork of a thread",
			recs:  [][]byte{forkRec(7, testPID, 201, true, "worker")},
			want:  []event.Process{{Name: "fork", ChildPID: testPID, ChildTID: 201, Thread: true}},
			comms: map[uint32]string{201: "worker"},
		},
		{
			name: "exec renames",
			recs: [][]byte{forkRec(7, 200, 200, false, "sh"), execRec(200, 200, "cat", "/usr/bin/cat")},
			want: []event.Process{
				{Name: "fork", ChildPID: 200, ChildTID: 200},
				{Common: event.Common{Comm: "cat"}, Name: "exec", Filename: "/usr/bin/cat"},
			},
			comms: map[uint32]string{200: "cat"},
		},
		{
			// a non-leader thread's exec takes over the leader's tid; the old one is gone
			name: "exec by a thread",
			recs: [][]byte{forkRec(7, testPID, 201, true, "worker"), execRec(testPID, 201, "ls", "/bin/ls")},
			want: []event.Process{
				{Name: "fork", ChildPID: testPID, ChildTID: 201, Thread: true},
				{Common: event.Common{Comm: "ls"}, Name: "exec", Filename: "/bin/ls"},
			},
			comms: map[uint32]string{testPID: "ls", 201: ""},
		},
		{
			name: "exit with a code",
			recs: [][]byte{exitRec(7, 3<<8, "tool")},
			want: []event.Process{{Common: event.Common{Comm: "tool"}, Name: "exit", ExitCode: intp(3)}},
		},
		{
			name: "exit 0",
			recs: [][]byte{exitRec(7, 0, "tool")},
			want: []event.Process{{Common: event.Common{Comm: "tool"}, Name: "exit", ExitCode: intp(0)}},
		},
		{
			name: "killed by a signal, core dumped",
			recs: [][]byte{exitRec(7, 0x80|11, "tool")},
			want: []event.Process{{Common: event.Common{Comm: "tool"}, Name: "exit", Signal: "SIGSEGV"}},
		},
		{
			name: "killed, comm known from exec",
			recs: [][]byte{execRec(7, 7, "new", "/bin/new"), exitRec(7, 9, "stale")},
			want: []event.Process{
				{Common: event.Common{Comm: "new"}, Name: "exec", Filename: "/bin/new"},
				{Common: event.Common{Comm: "new"}, Name: "exit", Signal: "SIGKILL"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New(tab)
			evs := decodeAll(t, d, tt.recs...)
			if len(evs) != len(tt.want) {
				t.Fatalf("%d events, want %d", len(evs), len(tt.want))
			}
			for i, e := range evs {
				p, ok := e.(*event.Process)
				if !ok {
					t.Fatalf("event %d is %T", i, e)
				}
				w := tt.want[i]
				if p.Name != w.Name || p.Comm != w.Comm || p.ChildPID != w.ChildPID || p.ChildTID != w.ChildTID ||
					p.Thread != w.Thread || p.Filename != w.Filename || p.Signal != w.Signal {
					t.Errorf("event %d: %+v, want %+v", i, *p, w)
				}
				if (p.ExitCode == nil) != (w.ExitCode == nil) || p.ExitCode != nil && *p.ExitCode != *w.ExitCode {
					t.Errorf("event %d: exit code %v, want %v", i, p.ExitCode, w.ExitCode)
				}
				if p.PID != testPID || p.TS != testTS {
					t.Errorf("event %d: common %+v", i, p.Common)
				}
			}
			for tid, comm := range tt.comms {
				s := asSyscall(t, decodeAll(t, d, syscallRec(tid, getpid, int64(tid), nil))[0])
				if s.Comm != comm {
					t.Errorf("tid %d: comm %q, want %q", tid, s.Comm, comm)
				}
			}
		})
	}
}

func TestSetComm(t *testing.T) {
	tab := table(t, "arm64")
	d := New(tab)
	d.SetComm(9, "nginx")
	nr, _ := tab.Nr("getpid")
	if s := asSyscall(t, decodeAll(t, d, syscallRec(9, nr, 1, nil))[0]); s.Comm != "nginx" {
		t.Errorf("comm %q", s.Comm)
	}
}

// A made-up tracepoint with a field of every kind the decoder treats apart.
var testFormat = KernelFormat{Name: "block_test", Fields: []tracefs.FormatField{
	{Name: "common_type", Type: "unsigned short", Offset: 0, Size: 2},
	{Name: "common_pid", Type: "int", Offset: 4, Size: 4, Signed: true},
	{Name: "rq", Type: "struct request *", Offset: 8, Size: 8},
	{Name: "dev", Type: "dev_t", Offset: 16, Size: 4},
	{Name: "delta", Type: "int", Offset: 20, Size: 4, Signed: true},
	{Name: "comm", Type: "char[16]", Offset: 24, Size: 16},
	{Name: "name", Type: "__data_loc char[]", Offset: 40, Size: 4},
	{Name: "small", Type: "s8", Offset: 44, Size: 1, Signed: true},
	{Name: "prio", Type: "short", Offset: 46, Size: 2, Signed: true},
	{Name: "pfn", Type: "unsigned long", Offset: 48, Size: 8},
	{Name: "sector", Type: "sector_t", Offset: 56, Size: 8},
	{Name: "user_data", Type: "u64", Offset: 64, Size: 8},
	{Name: "odd", Type: "char", Offset: 72, Size: 3},
	{Name: "beyond", Type: "unsigned int", Offset: 120, Size: 4},
}}

func kernelData(rq uint64, comm string) []byte {
	b := make(le, 80).
		put(0, uint16(42)).put(4, uint32(testPID)).
		put(8, rq).
		put(16, uint32(8<<20|16)).
		put(20, uint32(0xfffffffb)).
		put(40, uint32(0x00080050)).
		put(44, uint8(0xff)).
		put(46, uint16(0xfffe)).
		put(48, uint64(0x12345)).
		put(56, uint64(2048)).
		put(64, uint64(0xffffffffffffffff))
	copy(b[24:40], comm)
	return b
}

func TestKernelRecords(t *testing.T) {
	d := New(table(t, "amd64"))
	d.SetKernelFormats(map[uint16]KernelFormat{42: testFormat})
	const rqA, rqB = 0xffff_8880_0000_1000, 0xffff_8880_0000_2000
	tests := []struct {
		name string
		rec  []byte
		want string // Name and Args as JSON
	}{
		{
			name: "first request",
			rec:  kernelRec(7, 42, 4_000_000, kernelData(rqA, "kworker/0:1")),
			want: `block_test {"rq":"#1","dev":"8:16","delta":-5,"comm":"kworker/0:1","small":-1,"prio":-2,"sector":2048,"user_data":18446744073709551615}`,
		},
		{
			name: "another request",
			rec:  kernelRec(7, 42, 0, kernelData(rqB, "a\"b")),
			want: `block_test {"rq":"#2","dev":"8:16","delta":-5,"comm":"a\\\"b","small":-1,"prio":-2,"sector":2048,"user_data":18446744073709551615}`,
		},
		{
			// the same address keeps its id; the full 16-byte comm has no NUL
			name: "first request again",
			rec:  kernelRec(7, 42, 0, kernelData(rqA, "0123456789abcdef")),
			want: `block_test {"rq":"#1","dev":"8:16","delta":-5,"comm":"0123456789abcdef","small":-1,"prio":-2,"sector":2048,"user_data":18446744073709551615}`,
		},
		{
			name: "NULL pointer",
			rec:  kernelRec(7, 42, 0, kernelData(0, "")),
			want: `block_test {"rq":"NULL","dev":"8:16","delta":-5,"comm":"","small":-1,"prio":-2,"sector":2048,"user_data":18446744073709551615}`,
		},
		{
			// fields past the bytes the BPF side copied are left out
			name: "short copy",
			rec:  kernelRec(7, 42, 0, kernelData(rqB, "x")[:24]),
			want: `block_test {"rq":"#2","dev":"8:16","delta":-5}`,
		},
		{
			name: "unknown tracepoint",
			rec:  kernelRec(7, 43, 0, kernelData(rqA, "x")),
			want: `tracepoint_43 {}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := decodeAll(t, d, tt.rec)[0]
			k, ok := e.(*event.Kernel)
			if !ok {
				t.Fatalf("got %T", e)
			}
			if got := k.Name + " " + jsonOf(k.Args); got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
			if k.TID != 7 || k.PID != testPID {
				t.Errorf("common %+v", k.Common)
			}
		})
	}
	k := decodeAll(t, d, kernelRec(7, 42, 4_000_000, kernelData(rqA, "")))[0].(*event.Kernel)
	if k.SyscallTS != 4_000_000 {
		t.Errorf("syscall ts %d, want 4000000", k.SyscallTS)
	}
}

func TestBlockedRecords(t *testing.T) {
	d := New(table(t, "arm64"))
	tests := []struct {
		name string
		rec  []byte
		want string
	}{
		{
			name: "woken",
			rec:  blockedRec(7, 4_000_000, 250_000, 300, 301, "kworker/u8:2"),
			want: `{"off_cpu_ns":250000,"waker_pid":300,"waker_tid":301,"waker_comm":"kworker/u8:2"}`,
		},
		{
			name: "no waker known",
			rec:  blockedRec(7, 4_000_000, 1_000, 0, 0, ""),
			want: `{"off_cpu_ns":1000}`,
		},
	}
	for _, tt := range tests {
		k, ok := decodeAll(t, d, tt.rec)[0].(*event.Kernel)
		if !ok {
			t.Fatalf("%s: not a kernel event", tt.name)
		}
		if k.Name != "sched_blocked" || k.SyscallTS != 4_000_000 || jsonOf(k.Args) != tt.want {
			t.Errorf("%s: %s ts %d %s, want %s", tt.name, k.Name, k.SyscallTS, jsonOf(k.Args), tt.want)
		}
	}
}

// seqOf sets the call number of a syscall or entry record.
func seqOf(rec []byte, seq uint32) []byte {
	off := unsafe.Offsetof(bpf.IotraceIotSyscall{}.Seq)
	if bpf.IotraceIotKind(binary.LittleEndian.Uint16(rec[16:])) == bpf.IotraceIotKindIOT_EV_SYSCALL_ENTER {
		off = unsafe.Offsetof(bpf.IotraceIotScEnter{}.Seq)
	}
	binary.LittleEndian.PutUint32(rec[off:], seq)
	return rec
}

// An exit record takes entry captures only from the entry record of the same call: after a
// loss, the thread's last entry record is another call's, and its data must not be shown.
func TestEntryCapturesJoinOnlyTheirCall(t *testing.T) {
	tab := table(t, "amd64")
	execve, _ := tab.Nr("execve")
	writev, _ := tab.Nr("writev")
	args := []uint64{0x7000, 0x7100, 0x7200}
	entry := func(path string) []byte { return enterRec(7, execve, capStr(0, path)) }

	d := New(tab)
	out := decodeAll(t, d,
		seqOf(entry("/bin/one"), 1), seqOf(syscallRec(7, execve, -2, args), 1),
		// call 2's record is lost; call 3's entry record is lost: call 3 must not take call 2's path
		seqOf(entry("/bin/two"), 2),
		seqOf(syscallRec(7, execve, -2, args), 3),
	)
	if len(out) != 2 {
		t.Fatalf("got %d events, want 2", len(out))
	}
	first, third := asSyscall(t, out[0]), asSyscall(t, out[1])
	if v, _ := first.Decoded.Str("filename"); v != "/bin/one" || first.CaptureLost {
		t.Errorf("call 1: decoded %v, capture_lost %v; want its own path", first.Decoded, first.CaptureLost)
	}
	if v, ok := third.Decoded.Get("filename"); ok {
		t.Errorf("call 3 shows %v from another call's entry record", v)
	}
	if !third.CaptureLost {
		t.Errorf("call 3 lost its entry captures but is not marked capture_lost")
	}
	// Append reports the gap (calls 2 and 3) before call 4
	d = New(tab)
	var evs []event.Event
	for _, r := range [][]byte{seqOf(syscallRec(7, writev, 6, args), 1), seqOf(syscallRec(7, writev, 6, args), 4)} {
		var err error
		if evs, err = d.Append(evs, r); err != nil {
			t.Fatal(err)
		}
	}
	if len(evs) != 3 {
		t.Fatalf("got %d events, want call, lost, call", len(evs))
	}
	l, ok := evs[1].(*event.Lost)
	if !ok || l.Calls != 2 || l.TID != 7 || l.Count != 2 {
		t.Errorf("gap of calls 2 and 3: got %#v", evs[1])
	}
}

// The BPF side flags a call whose entry record it could not send, and one whose entry it
// never saw.
func TestCallFlags(t *testing.T) {
	tab := table(t, "amd64")
	writev, _ := tab.Nr("writev")
	flagged := func(f bpf.IotraceIotScFlags) []byte {
		r := seqOf(syscallRec(3, writev, 6, []uint64{1, 0x7000, 1}), 1)
		r[unsafe.Offsetof(bpf.IotraceIotSyscall{}.Flags)] = uint8(f)
		return r
	}
	s := asSyscall(t, decodeAll(t, New(tab), flagged(bpf.IotraceIotScFlagsIOT_SC_ENTRY_LOST))[0])
	if !s.CaptureLost || s.EntryLost {
		t.Errorf("ENTRY_LOST: capture_lost %v entry_lost %v", s.CaptureLost, s.EntryLost)
	}
	s = asSyscall(t, decodeAll(t, New(tab), flagged(bpf.IotraceIotScFlagsIOT_SC_NO_ENTRY))[0])
	if !s.EntryLost || len(s.Decoded) != 0 {
		t.Errorf("NO_ENTRY: entry_lost %v decoded %v", s.EntryLost, s.Decoded)
	}
}

// Kernel records carry their CPU's count of lost kernel events: a jump is a placed gap.
func TestKernelGaps(t *testing.T) {
	d := New(table(t, "amd64"))
	rec := func(cpu uint32, ts uint64, lostBefore uint32) []byte {
		r := bpf.IotraceIotKernel{H: hdr(9, bpf.IotraceIotKindIOT_EV_KERNEL), LostBefore: lostBefore}
		r.H.Cpu, r.H.Ts = cpu, ts
		return finish(encode(&r), nil)
	}
	var out []event.Event
	for _, r := range [][]byte{rec(0, 10, 0), rec(1, 11, 0), rec(0, 20, 5), rec(1, 21, 0), rec(0, 30, 5)} {
		var err error
		if out, err = d.Append(out, r); err != nil {
			t.Fatal(err)
		}
	}
	var gaps []*event.Lost
	for _, e := range out {
		if l, ok := e.(*event.Lost); ok {
			gaps = append(gaps, l)
		}
	}
	if len(gaps) != 1 || gaps[0].KernelEvents != 5 || gaps[0].CPU != 0 || gaps[0].TS != 10 || gaps[0].EndNS != 20 {
		t.Fatalf("gaps: %+v", gaps)
	}
}

// A call record carries its process's count of lost model-changing calls: when it grows, the
// decoder says so once.
func TestModelGaps(t *testing.T) {
	tab := table(t, "amd64")
	closeNr, _ := tab.Nr("close")
	rec := func(seq, modelLost uint32) []byte {
		r := seqOf(syscallRec(5, closeNr, 0, []uint64{3}), seq)
		binary.LittleEndian.PutUint32(r[unsafe.Offsetof(bpf.IotraceIotSyscall{}.ModelLost):], modelLost)
		return r
	}
	d := New(tab)
	var out []event.Event
	for _, r := range [][]byte{rec(1, 0), rec(2, 0), rec(4, 1), rec(5, 1)} {
		var err error
		if out, err = d.Append(out, r); err != nil {
			t.Fatal(err)
		}
	}
	var models, calls uint64
	for _, e := range out {
		if l, ok := e.(*event.Lost); ok {
			models += l.ModelLost
			calls += l.Calls
		}
	}
	if models != 1 || calls != 1 {
		t.Errorf("model losses %d (want 1), lost calls %d (want 1)", models, calls)
	}
}

func jsonOfAny(v any) string {
	switch x := v.(type) {
	case event.Fields:
		return jsonOf(x)
	case []any:
		var b strings.Builder
		for _, e := range x {
			b.WriteString(jsonOfAny(e))
		}
		return b.String()
	}
	return strings.TrimSpace(fmtAny(v))
}

// corruptRecords are records the BPF side never writes; each must give an error or an event
// decoded from what is there, never a panic.
func corruptRecords(tab *syscalls.Table) map[string][]byte {
	writev, _ := tab.Nr("writev")
	epoll, _ := tab.Nr("epoll_pwait")
	sub, _ := tab.Nr("io_submit")
	exec, _ := tab.Nr("execve")
	full := syscallRec(7, writev, 5, []uint64{3, ptrA, 1}, capIOV(0, 1, snap, iov{5, "hello"}))
	// offsets in a syscall record: its captures start at caps, the first IOV entry at iov0
	caps := int(unsafe.Sizeof(bpf.IotraceIotSyscall{}))
	iov0 := caps + capHdrSize
	sizeOf := func(rec []byte, size uint16) []byte {
		rec = append([]byte(nil), rec...)
		binary.LittleEndian.PutUint16(rec[sizeOff:], size)
		return rec
	}
	bigCounts := func(rec []byte, at int) []byte {
		rec = append([]byte(nil), rec...)
		binary.LittleEndian.PutUint16(rec[at+int(unsafe.Offsetof(bpf.IotraceIotCap{}.N)):], 0xffff)
		return rec
	}
	return map[string][]byte{
		"empty":                 nil,
		"header cut":            full[:20],
		"syscall cut":           full[:40],
		"enter cut":             enterRec(7, writev)[:22],
		"fork cut":              forkRec(7, 8, 8, false, "x")[:30],
		"exec cut":              execRec(7, 7, "x", "/x")[:100],
		"exit cut":              exitRec(7, 0, "x")[:30],
		"kernel cut":            kernelRec(7, 42, 0, nil)[:40],
		"blocked cut":           blockedRec(7, 0, 0, 0, 0, "")[:40],
		"unknown kind":          encode(&bpf.IotraceIotExit{H: hdr(7, 99)}),
		"syscall size too low":  sizeOf(full, 10),
		"enter size too low":    sizeOf(enterRec(7, writev, capStr(0, "x")), 3),
		"syscall size too high": sizeOf(full, 0xffff),
		"captures cut":          full[:len(full)-20],
		"more captures than sent": func() []byte {
			r := append([]byte(nil), full...)
			r[unsafe.Offsetof(bpf.IotraceIotSyscall{}.Ncap)] = 2
			return r
		}(),
		"iov count past the end":   bigCounts(full, caps),
		"array count past the end": bigCounts(syscallRec(7, epoll, 1, []uint64{5, ptrA, 1}, capArray(0, 1, make([]byte, 16))), caps),
		"ptrarr count past the end": bigCounts(syscallRec(7, sub, 1, []uint64{1, 1, ptrA},
			capPtrArr(0, 1, IOCBSize, make([]byte, IOCBSize))), caps),
		"argv count past the end": bigCounts(syscallRec(7, exec, 0, []uint64{ptrA, ptrB},
			capStr(0, "/x"), capArgv(1, 0, "x")), caps+len(capStr(0, "/x"))),
		"iov stride zero": func() []byte {
			r := syscallRec(7, writev, 5, []uint64{3, ptrA, 2}, capIOV(0, 2, snap, iov{5, "hello"}, iov{1, "x"}))
			binary.LittleEndian.PutUint32(r[iov0+int(unsafe.Offsetof(bpf.IotraceIotIov{}.Stride)):], 0)
			return r
		}(),
		"iov caplen huge": func() []byte {
			r := append([]byte(nil), full...)
			binary.LittleEndian.PutUint32(r[iov0+int(unsafe.Offsetof(bpf.IotraceIotIov{}.Caplen)):], 0xffffffff)
			return r
		}(),
		// a record as large as the BPF side makes them, of iovec entries with no room for data
		// that each claim all the bytes after them
		"iov entries overlapping": func() []byte {
			var p []byte
			for len(p) < 8000 {
				p = append(p, encode(&bpf.IotraceIotIov{Len: 1 << 20, Caplen: 0xffffffff, Stride: uint32(iovHdr)})...)
			}
			return syscallRec(7, writev, 5, []uint64{3, ptrA, 1000},
				capture(bpf.IotraceIotCapKindIOT_CAP_IOV, 0, len(p)/iovHdr, 1000, p))
		}(),
		"bad slot": func() []byte {
			r := append([]byte(nil), full...)
			r[caps+int(unsafe.Offsetof(bpf.IotraceIotCap{}.Slot))] = 200
			return r
		}(),
	}
}

func TestCorruptRecords(t *testing.T) {
	for _, arch := range arches {
		tab := table(t, arch)
		for name, rec := range corruptRecords(tab) {
			t.Run(arch+"/"+name, func(t *testing.T) {
				d := New(tab)
				d.SetKernelFormats(map[uint16]KernelFormat{42: testFormat})
				e, err := d.Decode(rec) // must not panic
				// nor blow up: a record decodes to a few times its own size at most
				if s, ok := e.(*event.Syscall); ok && err == nil {
					if n := len(jsonOf(s.Decoded)); n > 8*len(rec) {
						t.Errorf("%d-byte record decoded to %d bytes", len(rec), n)
					}
				}
			})
		}
	}
}

// Records too short for their kind, or whose size is below their fixed part, are errors.
func TestShortRecordsAreErrors(t *testing.T) {
	tab := table(t, "amd64")
	writev, _ := tab.Nr("writev")
	recs := corruptRecords(tab)
	for _, name := range []string{
		"empty", "header cut", "syscall cut", "enter cut", "fork cut", "exec cut", "exit cut",
		"kernel cut", "blocked cut", "unknown kind", "syscall size too low", "enter size too low",
	} {
		if e, err := New(tab).Decode(recs[name]); err == nil {
			t.Errorf("%s: no error (event %v)", name, e)
		}
	}
	// a writev whose enter record was corrupt decodes without its captures
	d := New(tab)
	_, _ = d.Decode(recs["enter size too low"])
	s := asSyscall(t, decodeAll(t, d, syscallRec(7, writev, 5, []uint64{3, ptrA, 1}))[0])
	if len(s.Decoded) != 0 {
		t.Errorf("decoded %s", jsonOf(s.Decoded))
	}
}

// FuzzDecode feeds pairs of records (an enter record and an exit record, or any two) to a
// decoder of each arch. Run it with `go test -fuzz FuzzDecode ./internal/decode/`.
func FuzzDecode(f *testing.F) {
	for _, arch := range arches {
		tab := table(f, arch)
		for _, c := range callCases(arch) {
			if nr, ok := tab.Nr(c.call); ok {
				recs := append(c.records(arch, nr), nil)
				f.Add(recs[0], recs[1])
			}
		}
		for _, rec := range corruptRecords(tab) {
			f.Add(rec, []byte(nil))
		}
	}
	f.Add(forkRec(7, 8, 8, true, "t"), execRec(8, 7, "e", "/bin/e"))
	f.Add(exitRec(7, 9, "k"), blockedRec(7, 1, 2, 3, 4, "w"))
	f.Add(kernelRec(7, 42, 1, kernelData(1, "c")), kernelRec(7, 43, 1, nil))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		for _, arch := range arches {
			d := New(table(t, arch))
			d.SetKernelFormats(map[uint16]KernelFormat{42: testFormat})
			for _, rec := range [][]byte{a, b} {
				e, err := d.Decode(rec)
				if err == nil && e != nil {
					if s, ok := e.(*event.Syscall); ok {
						_ = jsonOf(s.Decoded)
					}
				}
			}
		}
	})
}

func fmtAny(v any) string { return fmt.Sprint(v) }

// fcntl's commands without an argument leave it out, and F_GETFL/F_GETFD name the flags they
// return; socket's protocol is named for the internet families only.
func TestFcntlAndSocketDecoding(t *testing.T) {
	tab := table(t, "amd64")
	dec := func(nr int, ret int64, args ...uint64) *event.Syscall {
		return asSyscall(t, decodeAll(t, New(tab), syscallRec(7, nr, ret, args))[0])
	}
	getfl := dec(72, 0x8002, 3, 3, 0) // fcntl(3, F_GETFL)
	if _, none := getfl.Decoded.Get("arg_none"); !none {
		t.Errorf("F_GETFL: the absent argument is not marked: %v", getfl.Decoded)
	}
	if f, _ := getfl.Decoded.Str("ret_flags"); f != "O_RDWR|O_LARGEFILE" {
		t.Errorf("F_GETFL = 0x8002: ret_flags %q, want O_RDWR|O_LARGEFILE", f)
	}
	has := func(s *event.Syscall, key string) bool { _, ok := s.Decoded.Get(key); return ok }
	if setfl := dec(72, 0, 3, 4, 0x800); has(setfl, "arg_none") || has(setfl, "ret_flags") {
		t.Errorf("F_SETFL takes an argument and returns no flags: %v", setfl.Decoded)
	}
	if getfd := dec(72, 0, 3, 1, 0); has(getfd, "ret_flags") {
		t.Errorf("F_GETFD = 0 names flags: %v", getfd.Decoded)
	}
	for _, tt := range []struct {
		family, proto uint64
		want          any
	}{{2, 0, "IPPROTO_IP"}, {10, 6, "IPPROTO_TCP"}, {2, 17, "IPPROTO_UDP"}, {1, 0, nil}} {
		s := dec(41, 3, tt.family, 1, tt.proto) // socket
		if got, _ := s.Decoded.Get("protocol"); got != tt.want {
			t.Errorf("socket(%d, _, %d): protocol %v, want %v", tt.family, tt.proto, got, tt.want)
		}
	}
}
