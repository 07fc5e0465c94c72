package decode

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOpenFlags(t *testing.T) {
	tests := []struct {
		arch string
		v    uint64
		want string
	}{
		// seen in strace 6.1 on x86_64
		{"amd64", 0x80000, "O_RDONLY|O_CLOEXEC"},
		{"amd64", 0x40080000, "O_RDONLY|O_CLOEXEC|0x40000000"},
		{"amd64", 0x490082, "O_RDWR|O_EXCL|O_CLOEXEC|O_TMPFILE"},
		{"amd64", 0x8c00, "O_RDONLY|O_APPEND|O_NONBLOCK|O_LARGEFILE"},
		{"amd64", 0x90800, "O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY"},
		{"amd64", 0x241, "O_WRONLY|O_CREAT|O_TRUNC"},
		{"amd64", 0, "O_RDONLY"},
		{"amd64", 3, "O_ACCMODE"},
		// O_SYNC is __O_SYNC|O_DSYNC; each half alone keeps its own name
		{"amd64", 0x101001, "O_WRONLY|O_SYNC"},
		{"amd64", 0x1001, "O_WRONLY|O_DSYNC"},
		{"amd64", 0x100001, "O_WRONLY|__O_SYNC"},
		{"amd64", 0x2000, "O_RDONLY|FASYNC"},
		{"amd64", 0x200000, "O_RDONLY|O_PATH"},
		{"amd64", 0x400000, "O_RDONLY|__O_TMPFILE"},
		// the four flags arm64 moves
		{"amd64", 0x4000, "O_RDONLY|O_DIRECT"},
		{"arm64", 0x4000, "O_RDONLY|O_DIRECTORY"},
		{"amd64", 0x8000, "O_RDONLY|O_LARGEFILE"},
		{"arm64", 0x8000, "O_RDONLY|O_NOFOLLOW"},
		{"amd64", 0x10000, "O_RDONLY|O_DIRECTORY"},
		{"arm64", 0x10000, "O_RDONLY|O_DIRECT"},
		{"amd64", 0x20000, "O_RDONLY|O_NOFOLLOW"},
		{"arm64", 0x20000, "O_RDONLY|O_LARGEFILE"},
		{"arm64", 0x404882, "O_RDWR|O_EXCL|O_NONBLOCK|O_TMPFILE"},
		{"aarch64", 0x4000, "O_RDONLY|O_DIRECTORY"},
		// open_how.flags is 64 bits wide
		{"amd64", 1 << 40, "O_RDONLY|0x10000000000"},
	}
	for _, tt := range tests {
		if got := OpenFlags(tt.arch, tt.v); got != tt.want {
			t.Errorf("OpenFlags(%s, %#x) = %q, want %q", tt.arch, tt.v, got, tt.want)
		}
	}
}

// Each flag on its own, by its x/sys value on the host arch (which gives O_LARGEFILE as 0,
// glibc's view, so it is covered above instead).
func TestOpenFlagsMatchXSys(t *testing.T) {
	consts := map[string]int{
		"O_CREAT": unix.O_CREAT, "O_EXCL": unix.O_EXCL, "O_NOCTTY": unix.O_NOCTTY,
		"O_TRUNC": unix.O_TRUNC, "O_APPEND": unix.O_APPEND, "O_NONBLOCK": unix.O_NONBLOCK,
		"O_SYNC": unix.O_SYNC, "O_DSYNC": unix.O_DSYNC, "O_DIRECT": unix.O_DIRECT,
		"O_NOFOLLOW": unix.O_NOFOLLOW, "O_NOATIME": unix.O_NOATIME, "O_CLOEXEC": unix.O_CLOEXEC,
		"O_PATH": unix.O_PATH, "O_TMPFILE": unix.O_TMPFILE, "O_DIRECTORY": unix.O_DIRECTORY,
		"FASYNC": unix.O_ASYNC,
	}
	for name, v := range consts {
		if got, want := OpenFlags(runtime.GOARCH, uint64(v)), "O_RDONLY|"+name; got != want {
			t.Errorf("OpenFlags(%s, %#x) = %q, want %q", runtime.GOARCH, v, got, want)
		}
		if got := PipeFlags(runtime.GOARCH, uint64(v)); got != name {
			t.Errorf("PipeFlags(%s, %#x) = %q, want %q", runtime.GOARCH, v, got, name)
		}
	}
	for v, name := range map[int]string{unix.O_WRONLY: "O_WRONLY", unix.O_RDWR: "O_RDWR"} {
		if got := OpenFlags(runtime.GOARCH, uint64(v)); got != name {
			t.Errorf("OpenFlags(%#x) = %q, want %q", v, got, name)
		}
	}
}

func TestPipeDup3Flags(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"pipe2 strace", PipeFlags("amd64", 0x84800), "O_NONBLOCK|O_DIRECT|O_CLOEXEC"},
		{"pipe2 arm64 O_DIRECT", PipeFlags("arm64", 0x90800), "O_NONBLOCK|O_DIRECT|O_CLOEXEC"},
		{"pipe2 none", PipeFlags("amd64", 0), "0"},
		{"pipe2 int arg", PipeFlags("amd64", 0xffffffff00080000), "O_CLOEXEC"},
		{"dup3", Dup3Flags(unix.O_CLOEXEC), "O_CLOEXEC"},
		{"dup3 none", Dup3Flags(0), "0"},
		{"dup3 other bit", Dup3Flags(0x80800), "O_CLOEXEC|0x800"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestMode(t *testing.T) {
	tests := []struct {
		v    uint64
		want string
	}{
		{0o644, "0644"}, {0o600, "0600"}, {0, "000"}, {7, "007"}, {0o10, "010"},
		{0o4755, "04755"}, {0o100644, "0100644"},
	}
	for _, tt := range tests {
		if got := Mode(tt.v); got != tt.want {
			t.Errorf("Mode(%#o) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestDirFD(t *testing.T) {
	tests := []struct {
		v    int64
		want string
	}{
		{unix.AT_FDCWD, "AT_FDCWD"},
		{0xffffff9c, "AT_FDCWD"}, // -100 as an unsigned 32-bit argument
		{3, "3"},
		{-1, "-1"},
		{0, "0"},
	}
	for _, tt := range tests {
		if got := DirFD(tt.v); got != tt.want {
			t.Errorf("DirFD(%d) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestAtFlags(t *testing.T) {
	tests := []struct {
		v    uint64
		want string
	}{
		{0, "0"},
		{unix.AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"},
		{unix.AT_REMOVEDIR, "AT_REMOVEDIR"},
		{unix.AT_SYMLINK_FOLLOW, "AT_SYMLINK_FOLLOW"},
		{unix.AT_NO_AUTOMOUNT, "AT_NO_AUTOMOUNT"},
		{unix.AT_EMPTY_PATH, "AT_EMPTY_PATH"},
		{unix.AT_RECURSIVE, "AT_RECURSIVE"},
		{unix.AT_EMPTY_PATH | unix.AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH"},
		{0x1 | unix.AT_EMPTY_PATH, "AT_EMPTY_PATH|0x1"},
	}
	for _, tt := range tests {
		if got := AtFlags(tt.v); got != tt.want {
			t.Errorf("AtFlags(%#x) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestWhence(t *testing.T) {
	tests := []struct {
		v    uint64
		want string
	}{
		{unix.SEEK_SET, "SEEK_SET"}, {unix.SEEK_CUR, "SEEK_CUR"}, {unix.SEEK_END, "SEEK_END"},
		{unix.SEEK_DATA, "SEEK_DATA"}, {unix.SEEK_HOLE, "SEEK_HOLE"}, {9, "0x9"},
	}
	for _, tt := range tests {
		if got := Whence(tt.v); got != tt.want {
			t.Errorf("Whence(%d) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestFcntlCmd(t *testing.T) {
	tests := []struct {
		v    uint64
		want string
	}{
		{unix.F_DUPFD, "F_DUPFD"}, {unix.F_GETFD, "F_GETFD"}, {unix.F_SETFD, "F_SETFD"},
		{unix.F_GETFL, "F_GETFL"}, {unix.F_SETFL, "F_SETFL"}, {unix.F_GETLK, "F_GETLK"},
		{unix.F_SETLK, "F_SETLK"}, {unix.F_SETLKW, "F_SETLKW"}, {unix.F_SETOWN, "F_SETOWN"},
		{unix.F_GETOWN, "F_GETOWN"}, {unix.F_SETSIG, "F_SETSIG"}, {unix.F_GETSIG, "F_GETSIG"},
		{unix.F_SETOWN_EX, "F_SETOWN_EX"}, {unix.F_GETOWN_EX, "F_GETOWN_EX"},
		{unix.F_OFD_GETLK, "F_OFD_GETLK"}, {unix.F_OFD_SETLK, "F_OFD_SETLK"},
		{unix.F_OFD_SETLKW, "F_OFD_SETLKW"}, {unix.F_SETLEASE, "F_SETLEASE"},
		{unix.F_GETLEASE, "F_GETLEASE"}, {unix.F_NOTIFY, "F_NOTIFY"},
		{unix.F_DUPFD_QUERY, "F_DUPFD_QUERY"}, {unix.F_CREATED_QUERY, "F_CREATED_QUERY"},
		{unix.F_DUPFD_CLOEXEC, "F_DUPFD_CLOEXEC"}, {1029, "F_CANCELLK"}, // F_CANCELLK is not in x/sys
		{unix.F_SETPIPE_SZ, "F_SETPIPE_SZ"}, {unix.F_GETPIPE_SZ, "F_GETPIPE_SZ"},
		{unix.F_ADD_SEALS, "F_ADD_SEALS"}, {unix.F_GET_SEALS, "F_GET_SEALS"},
		{unix.F_GET_RW_HINT, "F_GET_RW_HINT"}, {unix.F_SET_RW_HINT, "F_SET_RW_HINT"},
		{unix.F_GET_FILE_RW_HINT, "F_GET_FILE_RW_HINT"},
		{unix.F_SET_FILE_RW_HINT, "F_SET_FILE_RW_HINT"},
		{9999, "0x270f"}, // strace: 0x270f /* F_??? */
	}
	for _, tt := range tests {
		if got := FcntlCmd(tt.v); got != tt.want {
			t.Errorf("FcntlCmd(%d) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestFcntlArg(t *testing.T) {
	tests := []struct {
		arch     string
		cmd, arg uint64
		want     string
		ok       bool
	}{
		// seen in strace 6.1 on x86_64
		{"amd64", unix.F_SETFD, unix.FD_CLOEXEC, "FD_CLOEXEC", true},
		{"amd64", unix.F_SETFL, 0xc00, "O_RDONLY|O_APPEND|O_NONBLOCK", true},
		{"amd64", unix.F_DUPFD_CLOEXEC, 10, "10", true},
		{"amd64", unix.F_GETFL, 0, "", false},
		{"amd64", unix.F_GETFD, 0, "", false},
		{"amd64", unix.F_SETFD, 0, "0", true},
		{"arm64", unix.F_SETFL, 0x10000, "O_RDONLY|O_DIRECT", true},
		{"amd64", unix.F_SETSIG, 10, "SIGUSR1", true},
		{"amd64", unix.F_SETLEASE, unix.F_WRLCK, "F_WRLCK", true},
		{"amd64", unix.F_NOTIFY, 0x80000003, "DN_ACCESS|DN_MODIFY|DN_MULTISHOT", true},
		{"amd64", unix.F_ADD_SEALS, unix.F_SEAL_SEAL | unix.F_SEAL_WRITE, "F_SEAL_SEAL|F_SEAL_WRITE", true},
		{"amd64", unix.F_SETLK, 0x7ffd1000, "0x7ffd1000", true},
		{"amd64", unix.F_SETOWN, 0xfffffffffffffc18, "-1000", true},
		{"amd64", unix.F_SETPIPE_SZ, 1 << 20, "1048576", true},
	}
	for _, tt := range tests {
		got, ok := FcntlArg(tt.arch, tt.cmd, tt.arg)
		if got != tt.want || ok != tt.ok {
			t.Errorf("FcntlArg(%s, %s, %#x) = %q, %v; want %q, %v", tt.arch, FcntlCmd(tt.cmd), tt.arg, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRWFFlags(t *testing.T) {
	tests := []struct {
		v    uint64
		want string
	}{
		{0, "0"},
		{unix.RWF_HIPRI, "RWF_HIPRI"}, {unix.RWF_DSYNC, "RWF_DSYNC"}, {unix.RWF_SYNC, "RWF_SYNC"},
		{unix.RWF_NOWAIT, "RWF_NOWAIT"}, {unix.RWF_APPEND, "RWF_APPEND"},
		{unix.RWF_NOAPPEND, "RWF_NOAPPEND"}, {unix.RWF_ATOMIC, "RWF_ATOMIC"},
		{unix.RWF_DONTCACHE, "RWF_DONTCACHE"}, {unix.RWF_NOSIGNAL, "RWF_NOSIGNAL"},
		{unix.RWF_NOWAIT | unix.RWF_HIPRI, "RWF_HIPRI|RWF_NOWAIT"},
		{0x8 | 0x1000, "RWF_NOWAIT|0x1000"},
	}
	for _, tt := range tests {
		if got := RWFFlags(tt.v); got != tt.want {
			t.Errorf("RWFFlags(%#x) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestResolveFlags(t *testing.T) {
	tests := []struct {
		v    uint64
		want string
	}{
		{0, "0"},
		{unix.RESOLVE_NO_XDEV, "RESOLVE_NO_XDEV"},
		{unix.RESOLVE_NO_MAGICLINKS, "RESOLVE_NO_MAGICLINKS"},
		{unix.RESOLVE_NO_SYMLINKS, "RESOLVE_NO_SYMLINKS"},
		{unix.RESOLVE_BENEATH, "RESOLVE_BENEATH"},
		{unix.RESOLVE_IN_ROOT, "RESOLVE_IN_ROOT"},
		{0x20, "RESOLVE_CACHED"}, // not in x/sys,
		{unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS, "RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH"},
	}
	for _, tt := range tests {
		if got := ResolveFlags(tt.v); got != tt.want {
			t.Errorf("ResolveFlags(%#x) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// struct stat as strace shows it without -v, from each arch's layout.
func TestStatStruct(t *testing.T) {
	stat := func(arch string, mode uint32, rdev, size uint64) []byte {
		b := make([]byte, 56)
		modeOff, rdevOff := 24, 40
		if arch == "arm64" {
			modeOff, rdevOff = 16, 32
		}
		binary.LittleEndian.PutUint32(b[modeOff:], mode)
		binary.LittleEndian.PutUint64(b[rdevOff:], rdev)
		binary.LittleEndian.PutUint64(b[48:], size)
		return b
	}
	for _, arch := range []string{"amd64", "arm64"} {
		for _, tt := range []struct {
			mode       uint32
			rdev, size uint64
			want       string
		}{
			{0o100644, 0, 3, `[{st_mode S_IFREG|0644} {st_size 3}]`},
			{0o041777, 0, 4096, `[{st_mode S_IFDIR|S_ISVTX|0777} {st_size 4096}]`},
			{0o104755, 0, 68248, `[{st_mode S_IFREG|S_ISUID|0755} {st_size 68248}]`},
			{0o020666, 0x103, 0, `[{st_mode S_IFCHR|0666} {st_rdev makedev(0x1, 0x3)}]`},
			{0o060660, unix.Mkdev(0x103, 0x8003), 0, `[{st_mode S_IFBLK|0660} {st_rdev makedev(0x103, 0x8003)}]`},
			{0o010000, 0, 0, `[{st_mode S_IFIFO|000} {st_size 0}]`},
		} {
			got := fmt.Sprint(StatStruct(arch, stat(arch, tt.mode, tt.rdev, tt.size)))
			if got != tt.want {
				t.Errorf("%s mode %o: %s, want %s", arch, tt.mode, got, tt.want)
			}
		}
		if f := StatStruct(arch, make([]byte, 40)); f != nil {
			t.Errorf("%s: a short copy decoded as %v", arch, f)
		}
	}
}
