package decode

import "strconv"

// openModes returns the O_* flags (all but the access mode) in strace's order, given the four
// flags whose values arm64 moved (arch/arm64/include/uapi/asm/fcntl.h).
func openModes(directory, nofollow, direct, largefile uint64) []sym {
	return []sym{
		{0x40, "O_CREAT"},
		{0x80, "O_EXCL"},
		{0x100, "O_NOCTTY"},
		{0x200, "O_TRUNC"},
		{0x400, "O_APPEND"},
		{0x800, "O_NONBLOCK"},
		{0x101000, "O_SYNC"}, // __O_SYNC|O_DSYNC, so before both
		{0x100000, "__O_SYNC"},
		{0x1000, "O_DSYNC"},
		{direct, "O_DIRECT"},
		{largefile, "O_LARGEFILE"},
		{nofollow, "O_NOFOLLOW"},
		{0x40000, "O_NOATIME"},
		{0x80000, "O_CLOEXEC"},
		{0x200000, "O_PATH"},
		{0x400000 | directory, "O_TMPFILE"}, // __O_TMPFILE|O_DIRECTORY, so before both
		{0x400000, "__O_TMPFILE"},
		{directory, "O_DIRECTORY"},
		{0x2000, "FASYNC"},
	}
}

var (
	openModesAMD64 = openModes(0x10000, 0x20000, 0x4000, 0x8000)
	openModesARM64 = openModes(0x4000, 0x8000, 0x10000, 0x20000)
	accessModes    = []string{"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"}
)

func openModeTab(arch string) []sym {
	if isARM64(arch) {
		return openModesARM64
	}
	return openModesAMD64
}

// OpenFlags formats open/openat flags, and open_how.flags, as strace does: the access mode
// always first (O_RDONLY is 0), then the other flags. It is 64-bit because open_how.flags is;
// for the int argument of open and openat pass the low 32 bits.
func OpenFlags(arch string, v uint64) string {
	var j joiner
	j.add(accessModes[v&3])
	if rest := j.addFlags(v&^3, openModeTab(arch)); rest != 0 {
		j.addHex(rest)
	}
	return j.String()
}

// PipeFlags formats pipe2 flags: O_* without an access mode, "0" when none.
func PipeFlags(arch string, v uint64) string {
	return nameFlags(uint64(uint32(v)), openModeTab(arch), "0")
}

var dup3Flags = []sym{{0x80000, "O_CLOEXEC"}}

// Dup3Flags formats dup3 flags; O_CLOEXEC is the only one the kernel accepts.
func Dup3Flags(v uint64) string {
	return nameFlags(uint64(uint32(v)), dup3Flags, "0")
}

// Mode formats a file mode in octal with a leading 0, at least three digits ("0644", "000").
func Mode(v uint64) string {
	if v < 8 {
		return "00" + string(rune('0'+v))
	}
	return "0" + strconv.FormatUint(v, 8)
}

// DirFD formats a directory descriptor argument: AT_FDCWD by name, otherwise the number.
// The argument is an int, so only the low 32 bits count.
func DirFD(v int64) string {
	if int32(v) == -100 {
		return "AT_FDCWD"
	}
	return strconv.FormatInt(int64(int32(v)), 10)
}

var atFlags = []sym{
	{0x100, "AT_SYMLINK_NOFOLLOW"},
	{0x200, "AT_REMOVEDIR"},
	{0x400, "AT_SYMLINK_FOLLOW"},
	{0x800, "AT_NO_AUTOMOUNT"},
	{0x1000, "AT_EMPTY_PATH"},
	{0x8000, "AT_RECURSIVE"},
}

// AtFlags formats the AT_* flags of the *at calls.
func AtFlags(v uint64) string {
	return nameFlags(uint64(uint32(v)), atFlags, "0")
}

var whenceNames = []string{"SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE"}

// Whence names an lseek origin.
func Whence(v uint64) string {
	return nameIndexed(uint64(uint32(v)), whenceNames)
}

// fcntl commands; the *64 lock commands exist only on 32-bit ABIs and are left out.
var fcntlCmds = []sym{
	{0, "F_DUPFD"},
	{1, "F_GETFD"},
	{2, "F_SETFD"},
	{3, "F_GETFL"},
	{4, "F_SETFL"},
	{5, "F_GETLK"},
	{6, "F_SETLK"},
	{7, "F_SETLKW"},
	{8, "F_SETOWN"},
	{9, "F_GETOWN"},
	{10, "F_SETSIG"},
	{11, "F_GETSIG"},
	{15, "F_SETOWN_EX"},
	{16, "F_GETOWN_EX"},
	{17, "F_GETOWNER_UIDS"},
	{36, "F_OFD_GETLK"},
	{37, "F_OFD_SETLK"},
	{38, "F_OFD_SETLKW"},
	{1024, "F_SETLEASE"},
	{1025, "F_GETLEASE"},
	{1026, "F_NOTIFY"},
	{1027, "F_DUPFD_QUERY"},
	{1028, "F_CREATED_QUERY"},
	{1029, "F_CANCELLK"},
	{1030, "F_DUPFD_CLOEXEC"},
	{1031, "F_SETPIPE_SZ"},
	{1032, "F_GETPIPE_SZ"},
	{1033, "F_ADD_SEALS"},
	{1034, "F_GET_SEALS"},
	{1035, "F_GET_RW_HINT"},
	{1036, "F_SET_RW_HINT"},
	{1037, "F_GET_FILE_RW_HINT"},
	{1038, "F_SET_FILE_RW_HINT"},
}

// FcntlCmd names an fcntl command.
func FcntlCmd(v uint64) string {
	return nameEnum(uint64(uint32(v)), fcntlCmds)
}

var fdFlags = []sym{{1, "FD_CLOEXEC"}}

// FdFlags formats F_SETFD's argument and F_GETFD's result.
func FdFlags(v uint64) string {
	return nameFlags(uint64(uint32(v)), fdFlags, "0")
}

var (
	sealFlags = []sym{
		{0x1, "F_SEAL_SEAL"},
		{0x2, "F_SEAL_SHRINK"},
		{0x4, "F_SEAL_GROW"},
		{0x8, "F_SEAL_WRITE"},
		{0x10, "F_SEAL_FUTURE_WRITE"},
		{0x20, "F_SEAL_EXEC"},
	}
	leaseTypes  = []string{"F_RDLCK", "F_WRLCK", "F_UNLCK"}
	notifyFlags = []sym{
		{0x1, "DN_ACCESS"},
		{0x2, "DN_MODIFY"},
		{0x4, "DN_CREATE"},
		{0x8, "DN_DELETE"},
		{0x10, "DN_RENAME"},
		{0x20, "DN_ATTRIB"},
		{0x80000000, "DN_MULTISHOT"},
	}
)

// FcntlArg formats fcntl's third argument the way its command reads it. ok is false for
// commands that take no argument, which strace leaves out.
func FcntlArg(arch string, cmd, arg uint64) (s string, ok bool) {
	switch uint32(cmd) {
	case 1, 3, 9, 11, 1025, 1028, 1032, 1034: // F_GET*, F_CREATED_QUERY
		return "", false
	case 2: // F_SETFD
		return FdFlags(arg), true
	case 4: // F_SETFL
		return OpenFlags(arch, uint64(uint32(arg))), true
	case 10: // F_SETSIG
		return Signal(int(int32(arg))), true
	case 1024: // F_SETLEASE
		return nameIndexed(uint64(uint32(arg)), leaseTypes), true
	case 1026: // F_NOTIFY
		return nameFlags(uint64(uint32(arg)), notifyFlags, "0"), true
	case 1033: // F_ADD_SEALS
		return nameFlags(uint64(uint32(arg)), sealFlags, "0"), true
	case 5, 6, 7, 15, 16, 17, 36, 37, 38, 1035, 1036, 1037, 1038: // pointers to structs
		return hex(arg), true
	}
	// descriptors, pids, sizes, and commands this table does not know
	return strconv.FormatInt(int64(int32(arg)), 10), true
}

var rwfFlags = []sym{
	{0x1, "RWF_HIPRI"},
	{0x2, "RWF_DSYNC"},
	{0x4, "RWF_SYNC"},
	{0x8, "RWF_NOWAIT"},
	{0x10, "RWF_APPEND"},
	{0x20, "RWF_NOAPPEND"},
	{0x40, "RWF_ATOMIC"},
	{0x80, "RWF_DONTCACHE"},
	{0x100, "RWF_NOSIGNAL"},
}

// RWFFlags formats the RWF_* flags of preadv2/pwritev2 and of an iocb's aio_rw_flags.
func RWFFlags(v uint64) string {
	return nameFlags(uint64(uint32(v)), rwfFlags, "0")
}

var resolveFlags = []sym{
	{0x1, "RESOLVE_NO_XDEV"},
	{0x2, "RESOLVE_NO_MAGICLINKS"},
	{0x4, "RESOLVE_NO_SYMLINKS"},
	{0x8, "RESOLVE_BENEATH"},
	{0x10, "RESOLVE_IN_ROOT"},
	{0x20, "RESOLVE_CACHED"},
}

// ResolveFlags formats open_how.resolve.
func ResolveFlags(v uint64) string {
	return nameFlags(v, resolveFlags, "0")
}
