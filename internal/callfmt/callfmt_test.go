package callfmt

import (
	"strings"
	"testing"

	"github.com/iotrace/iotrace/internal/event"
	"github.com/iotrace/iotrace/internal/syscalls"
)

// call builds a syscall event the way the decoder and the annotator leave it: arguments named
// after the tracepoint's fields, errno named for a negative return, decoded values keyed by
// argument name (fd paths from the annotator, "ret" for a returned descriptor's path).
func call(name string, ret int64, args ...uint64) *event.Syscall {
	names := syscalls.ArgNames(name)
	if names == nil {
		names = []string{"arg0", "arg1", "arg2", "arg3", "arg4", "arg5"}
	}
	s := &event.Syscall{Name: name, Ret: ret}
	for i, n := range names {
		var v uint64
		if i < len(args) {
			v = args[i]
		}
		s.Args = append(s.Args, event.Arg{Name: n, Value: v})
	}
	if ret < 0 && ret >= -4095 {
		s.Errno = errnos[-ret]
	}
	return s
}

var errnos = map[int64]string{2: "ENOENT", 4: "EINTR", 11: "EAGAIN", 12: "ENOMEM", 14: "EFAULT", 22: "EINVAL", 38: "ENOSYS", 111: "ECONNREFUSED"}

func dec(s *event.Syscall, kv ...any) *event.Syscall {
	s.Decoded = fields(kv...)
	return s
}

func fields(kv ...any) event.Fields {
	var f event.Fields
	for i := 0; i < len(kv); i += 2 {
		f = append(f, event.Field{Key: kv[i].(string), Val: kv[i+1]})
	}
	return f
}

func iov(n uint64, data string, trunc bool) event.Fields {
	f := fields("len", n, "data", data)
	if trunc {
		f = append(f, event.Field{Key: "trunc", Val: true})
	}
	return f
}

const (
	ptrA    = 0x7ffd_0000_1000
	ctx     = 0x7f00_aa00_0000
	atFDCWD = 0xffff_ffff_ffff_ff9c
	minus1  = 0xffff_ffff_ffff_ffff
)

var long = strings.Repeat("0123456789", 4)[:32]

func unfinished(s *event.Syscall) *event.Syscall {
	s.Unfinished = true
	return s
}

var tests = []struct {
	name string
	s    *event.Syscall
	want string
}{
	{
		"writev", dec(call("writev", 53, 3, ptrA, 4),
			"fd", "/tmp/x",
			"vec", []any{iov(8, "HEADER: ", false), iov(5, "hello", false), iov(40, long, true), iov(0, "", false)}),
		`writev(3</tmp/x>, [{iov_base="HEADER: ", iov_len=8}, {iov_base="hello", iov_len=5}, ` +
			`{iov_base="` + long + `"..., iov_len=40}, {iov_base="", iov_len=0}], 4) = 53`,
	},
	{
		"readv short", dec(call("readv", 5, 3, ptrA, 2), "vec", []any{iov(4, "abcd", false), iov(8, "e", false)}),
		`readv(3, [{iov_base="abcd", iov_len=4}, {iov_base="e", iov_len=8}], 2) = 5`,
	},
	{
		// strace prints an array it could not read as its address, NULL as NULL
		"writev NULL", dec(call("writev", -14, 3, 0, 1), "fd", "/dev/null", "vec", []any{}),
		`writev(3</dev/null>, NULL, 1) = -1 EFAULT (Bad address)`,
	},
	{
		"writev unmapped array", dec(call("writev", -14, 3, ptrA, 1), "fd", "/dev/null", "vec", []any{}, "vec_more", int64(1)),
		`writev(3</dev/null>, 0x7ffd00001000, 1) = -1 EFAULT (Bad address)`,
	},
	{
		"writev unreadable base", dec(call("writev", 10, 3, ptrA, 1), "vec", []any{fields("len", uint64(10), "base", "0x7fef5d179000")}),
		`writev(3, [{iov_base=0x7fef5d179000, iov_len=10}], 1) = 10`,
	},
	{
		"writev no iovecs", dec(call("writev", 0, 3, ptrA, 0), "vec", []any{}),
		`writev(3, [], 0) = 0`,
	},
	{
		"writev SIZE_MAX", dec(call("writev", -22, 3, ptrA, 1), "vec", []any{iov(minus1, "abc", true)}),
		`writev(3, [{iov_base="abc"..., iov_len=18446744073709551615}], 1) = -1 EINVAL (Invalid argument)`,
	},
	{
		"wait4 any child", dec(call("wait4", 0, 0xffffffff, ptrA, 1, 0), "upid", int64(-1), "options", "WNOHANG"),
		`wait4(-1, 0x7ffd00001000, WNOHANG, NULL) = 0`,
	},
	{
		"wait4 status", dec(call("wait4", 42, 42, ptrA, 0, 0), "upid", int64(42), "stat_addr", "[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]", "options", "0"),
		`wait4(42, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 42`,
	},
	{
		"failed read", call("read", -11, 3, ptrA, 4096),
		`read(3, 0x7ffd00001000, 4096) = -1 EAGAIN (Resource temporarily unavailable)`,
	},
	{
		"read cut short", dec(call("read", 100, 3, ptrA, 4096), "fd", "/tmp/x", "buf", fields("data", long, "trunc", true)),
		`read(3</tmp/x>, "` + long + `"..., 4096) = 100`,
	},
	{
		"write escaped", dec(call("write", 12, 1, ptrA, 12), "fd", "/dev/pts/0", "buf", fields("data", `hi\0\n`)),
		`write(1</dev/pts/0>, "hi\0\n", 12) = 12`,
	},
	{
		"openat", dec(call("openat", 3, atFDCWD, ptrA, 0x80000, 0),
			"dfd", "AT_FDCWD", "filename", "/tmp/x", "flags", "O_RDONLY|O_CLOEXEC", "mode", "000", "ret", "/tmp/x"),
		`openat(AT_FDCWD, "/tmp/x", O_RDONLY|O_CLOEXEC) = 3</tmp/x>`, // no mode without O_CREAT, as strace
	},
	{
		"openat in the cwd, creating", dec(call("openat", 3, atFDCWD, ptrA, 0o1101, 0o600),
			"dfd", "AT_FDCWD", "dfd_cwd", "/home/me", "filename", "x", "flags", "O_WRONLY|O_CREAT|O_TRUNC", "mode", "0600", "ret", "/home/me/x"),
		`openat(AT_FDCWD</home/me>, "x", O_WRONLY|O_CREAT|O_TRUNC, 0600) = 3</home/me/x>`,
	},
	{
		"failed openat", dec(call("openat", -2, atFDCWD, ptrA, 0, 0),
			"dfd", "AT_FDCWD", "filename", "/nonexistent", "flags", "O_RDONLY", "mode", "000"),
		`openat(AT_FDCWD, "/nonexistent", O_RDONLY) = -1 ENOENT (No such file or directory)`,
	},
	{
		"openat in a directory, quoted name", dec(call("openat", 4, 5, ptrA, 0x241, 0o644),
			"dfd", "/tmp", "filename", `a \"b\"\n`, "flags", "O_WRONLY|O_CREAT|O_TRUNC", "mode", "0644"),
		`openat(5</tmp>, "a \"b\"\n", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 4`,
	},
	{
		"mkdir", dec(call("mkdir", 0, ptrA, 0o755), "pathname", "/tmp/d", "mode", "0755"),
		`mkdir("/tmp/d", 0755) = 0`,
	},
	{
		// a recording made before modes were decoded
		"mkdir undecoded mode", dec(call("mkdir", 0, ptrA, 0o755), "pathname", "/tmp/d"),
		`mkdir("/tmp/d", 0755) = 0`,
	},
	{
		"mmap", dec(call("mmap", 0x7f12_3456_0000, 0, 4096, 3, 0x22, minus1, 0x1000),
			"prot", "PROT_READ|PROT_WRITE", "flags", "MAP_PRIVATE|MAP_ANONYMOUS"),
		`mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0x1000) = 0x7f1234560000`,
	},
	{
		"failed mmap", dec(call("mmap", -12, 0, 1<<40, 1, 2, 3, 0x1000), "fd", "/tmp/x", "prot", "PROT_READ", "flags", "MAP_PRIVATE"),
		`mmap(NULL, 1099511627776, PROT_READ, MAP_PRIVATE, 3</tmp/x>, 0x1000) = -1 ENOMEM (Cannot allocate memory)`,
	},
	{
		"close", dec(call("close", 0, 3), "fd", "/tmp/x"),
		`close(3</tmp/x>) = 0`,
	},
	{
		"lseek", dec(call("lseek", 99, 3, minus1, 2), "whence", "SEEK_END"),
		`lseek(3, -1, SEEK_END) = 99`,
	},
	{
		"epoll_ctl", dec(call("epoll_ctl", 0, 5, 1, 3, ptrA),
			"epfd", "anon_inode:[eventpoll]", "op", "EPOLL_CTL_ADD", "fd", "socket:[1234]",
			"event", fields("events", "EPOLLIN|EPOLLET", "data", uint64(3))),
		`epoll_ctl(5<anon_inode:[eventpoll]>, EPOLL_CTL_ADD, 3<socket:[1234]>, {events=EPOLLIN|EPOLLET, data={u32=3, u64=3}}) = 0`,
	},
	{
		"epoll_pwait", dec(call("epoll_pwait", 2, 5, ptrA, 16, minus1, 0, 8),
			"events", []any{fields("events", "EPOLLIN", "data", uint64(3)), fields("events", "EPOLLOUT|EPOLLHUP", "data", uint64(4))}),
		`epoll_pwait(5, [{events=EPOLLIN, data={u32=3, u64=3}}, {events=EPOLLOUT|EPOLLHUP, data={u32=4, u64=4}}], 16, -1, NULL, 8) = 2`,
	},
	{
		"epoll_pwait timed out", dec(call("epoll_pwait", 0, 5, ptrA, 16, 100, 0, 8), "events", []any{}),
		`epoll_pwait(5, [], 16, 100, NULL, 8) = 0`,
	},
	{
		"interrupted epoll_wait", call("epoll_wait", -4, 5, ptrA, 16, minus1),
		`epoll_wait(5, 0x7ffd00001000, 16, -1) = -1 EINTR (Interrupted system call)`,
	},
	{
		"refused connect", dec(call("connect", -111, 3, ptrA, 16),
			"uservaddr", fields("family", "AF_INET", "addr", "127.0.0.1", "port", int64(8080))),
		`connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 ECONNREFUSED (Connection refused)`,
	},
	{
		"connect AF_UNIX", dec(call("connect", 0, 3, ptrA, 12), "uservaddr", fields("family", "AF_UNIX", "path", "/tmp/sock")),
		`connect(3, {sa_family=AF_UNIX, sun_path="/tmp/sock"}, 12) = 0`,
	},
	{
		"accept4 with NULL address", dec(call("accept4", 5, 3, 0, 0, 0x80000), "flags", "SOCK_CLOEXEC"),
		`accept4(3, NULL, NULL, SOCK_CLOEXEC) = 5`,
	},
	{
		"epoll_ctl with a pointer in data", dec(call("epoll_ctl", 0, 5, 1, 3, ptrA),
			"op", "EPOLL_CTL_ADD", "event", fields("events", "EPOLLIN", "data", uint64(0x7f0012345678))),
		`epoll_ctl(5, EPOLL_CTL_ADD, 3, {events=EPOLLIN, data={u32=305419896, u64=139638282147448}}) = 0`,
	},
	{
		"connect AF_INET6", dec(call("connect", 0, 3, ptrA, 28),
			"uservaddr", fields("family", "AF_INET6", "addr", "::1", "port", int64(443))),
		`connect(3, {sa_family=AF_INET6, sin6_port=htons(443), inet_pton(AF_INET6, "::1", &sin6_addr)}, 28) = 0`,
	},
	{
		"fcntl F_GETFL", dec(call("fcntl", 0x8002, 3, 3, 0), "cmd", "F_GETFL", "arg_none", true, "ret_flags", "O_RDWR|O_LARGEFILE"),
		`fcntl(3, F_GETFL) = 0x8002 (flags O_RDWR|O_LARGEFILE)`,
	},
	{
		"fcntl F_GETFL of a read-only fd", dec(call("fcntl", 0, 3, 3, 0), "cmd", "F_GETFL", "arg_none", true, "ret_flags", "O_RDONLY"),
		`fcntl(3, F_GETFL) = 0 (flags O_RDONLY)`,
	},
	{
		"fcntl F_GETFD", dec(call("fcntl", 1, 3, 1, 0), "cmd", "F_GETFD", "arg_none", true, "ret_flags", "FD_CLOEXEC"),
		`fcntl(3, F_GETFD) = 0x1 (flags FD_CLOEXEC)`,
	},
	{
		"poll", dec(call("poll", 1, ptrA, 2, 0), "ufds", []any{
			fields("fd", int64(3), "events", "POLLIN", "revents", "POLLIN|POLLHUP"),
			fields("fd", int64(4), "events", "POLLOUT", "revents", "0")}),
		`poll([{fd=3, events=POLLIN}, {fd=4, events=POLLOUT}], 2, 0) = 1 ([{fd=3, revents=POLLIN|POLLHUP}])`,
	},
	{
		"pipe2", dec(call("pipe2", 0, ptrA, 0x80000), "fildes", []any{int64(3), int64(4)}, "flags", "O_CLOEXEC"),
		`pipe2([3, 4], O_CLOEXEC) = 0`,
	},
	{
		"newfstatat", dec(call("newfstatat", 0, 0xffffff9c, ptrA, ptrA+0x100, 0), "dfd", "AT_FDCWD", "filename", "/dev/null",
			"statbuf", fields("st_mode", "S_IFCHR|0666", "st_rdev", "makedev(0x1, 0x3)"), "flag", "0"),
		`newfstatat(AT_FDCWD, "/dev/null", {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}, 0) = 0`,
	},
	{
		"execve", dec(call("execve", 0, ptrA, ptrA+0x100, ptrA+0x200), "filename", "/bin/true", "argv", []any{"true"}, "envp_vars", int64(35)),
		`execve("/bin/true", ["true"], 0x7ffd00001200 /* 35 vars */) = 0`,
	},
	{
		"execve cut", dec(call("execve", 0, ptrA, ptrA+0x100, ptrA+0x200), "filename", "/bin/sh",
			"argv", []any{"sh", fields("data", "0123", "trunc", true)}),
		`execve("/bin/sh", ["sh", "0123"...], 0x7ffd00001200) = 0`,
	},
	{
		"getsockname", dec(call("getsockname", 0, 3, ptrA, ptrA+0x100), "usockaddr_len", int64(16)),
		`getsockname(3, 0x7ffd00001000, [16]) = 0`,
	},
	{
		"pipe2 -y", dec(call("pipe2", 0, ptrA, 0x80000), "fildes", []any{int64(3), int64(4)}, "flags", "O_CLOEXEC",
			"fildes_path", []any{"pipe:[77]", "pipe:[77]"}),
		`pipe2([3<pipe:[77]>, 4<pipe:[77]>], O_CLOEXEC) = 0`,
	},
	{
		"execve", dec(call("execve", 0, ptrA, ptrA+0x100, ptrA+0x200), "filename", "/bin/echo", "argv", []any{"echo", "hi there"}),
		`execve("/bin/echo", ["echo", "hi there"], 0x7ffd00001200) = 0`,
	},
	{
		"exit_group never returns", unfinished(call("exit_group", 0, 0)),
		`exit_group(0) = ?`,
	},
	{
		"io_setup", dec(call("io_setup", 0, 128, ptrA), "ctxp", "0x7f00aa000000"),
		`io_setup(128, [0x7f00aa000000]) = 0`,
	},
	{
		"io_submit", dec(call("io_submit", 1, ctx, 1, ptrA), "iocbpp", []any{fields(
			"data", uint64(17), "opcode", "IOCB_CMD_PREAD", "fd", int64(4), "buf", "0x1000",
			"nbytes", uint64(4096), "offset", int64(0), "rw_flags", "0", "flags", "0", "resfd", int64(0))}),
		`io_submit(0x7f00aa000000, 1, [{data=17, opcode=IOCB_CMD_PREAD, fd=4, buf=0x1000, nbytes=4096, offset=0, rw_flags=0, flags=0, resfd=0}]) = 1`,
	},
	{
		"io_getevents", dec(call("io_getevents", 1, ctx, 1, 8, ptrA, 0), "events", []any{
			fields("data", uint64(17), "obj", "0x3000", "res", int64(-5), "errno", "EIO", "res2", int64(0))}),
		`io_getevents(0x7f00aa000000, 1, 8, [{data=17, obj=0x3000, res=-5, errno=EIO, res2=0}], NULL) = 1`,
	},
	{
		"prctl PR_SET_NAME", dec(call("prctl", 0, 15, ptrA), "option", "PR_SET_NAME", "arg2", "worker-1"),
		`prctl(PR_SET_NAME, "worker-1", 0, 0, 0) = 0`,
	},
	{
		"prctl other option", dec(call("prctl", 0, 4, 1), "option", "PR_SET_DUMPABLE"),
		`prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) = 0`,
	},
	{
		"dup2", dec(call("dup2", 1, 3, 1), "oldfd", "/tmp/x", "newfd", "/dev/pts/0", "ret", "/tmp/x"),
		`dup2(3</tmp/x>, 1</dev/pts/0>) = 1</tmp/x>`,
	},
	{
		// no spec: plain numbers, hex when they do not fit 32 bits
		"unknown syscall", call("syscall_999", -38, 1, minus1, 1<<40, 0xffffffff),
		`syscall_999(1, -1, 0x10000000000, 4294967295, 0, 0) = -1 ENOSYS (Function not implemented)`,
	},
}

func TestCallAndResult(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		tab, err := syscalls.ForArch(arch)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			if _, ok := tab.Nr(tt.s.Name); !ok && !strings.HasPrefix(tt.s.Name, "syscall_") {
				continue // dup2, epoll_wait: not on arm64
			}
			if got := Call(tt.s, arch) + " = " + Result(tt.s, arch); got != tt.want {
				t.Errorf("%s %s:\n got %s\nwant %s", arch, tt.name, got, tt.want)
			}
		}
	}
}

// A recording reads numbers back as int64 whatever they were decoded as: the text is the same.
func TestCallFromRecording(t *testing.T) {
	for _, tt := range tests {
		b, err := tt.s.Decoded.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back event.Fields
		if err := back.UnmarshalJSON(b); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		s := *tt.s
		s.Decoded = back
		if got := Call(&s, "amd64") + " = " + Result(&s, "amd64"); got != tt.want {
			t.Errorf("%s from a recording:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

// Errors read as strace prints them: the errno's text, and the kernel's restart codes as "?".
func TestErrnoResult(t *testing.T) {
	for _, tt := range []struct {
		ret   int64
		errno string
		want  string
	}{
		{-2, "ENOENT", "-1 ENOENT (No such file or directory)"},
		{-11, "EAGAIN", "-1 EAGAIN (Resource temporarily unavailable)"},
		{-25, "ENOTTY", "-1 ENOTTY (Inappropriate ioctl for device)"},
		{-512, "ERESTARTSYS", "? ERESTARTSYS (To be restarted if SA_RESTART is set)"},
		{-516, "ERESTART_RESTARTBLOCK", "? ERESTART_RESTARTBLOCK (Interrupted by signal)"},
	} {
		if got := Result(&event.Syscall{Name: "read", Ret: tt.ret, Errno: tt.errno}, "amd64"); got != tt.want {
			t.Errorf("Result(%d %s) = %q, want %q", tt.ret, tt.errno, got, tt.want)
		}
	}
}
