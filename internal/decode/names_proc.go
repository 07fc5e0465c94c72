package decode

import (
	"math/bits"
	"strconv"
	"strings"

	"github.com/iotrace/iotrace/internal/event"
)

// Signal names, asm-generic numbering (amd64 and arm64 agree), as strace prints them.
var signalNames = [...]string{
	"0", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
	"SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT",
	"SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
	"SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS", "SIGRTMIN",
}

const sigRTMax = 64

// Signal names a signal number: SIGINT, SIGRTMIN for 32, SIGRT_n above it (counting from the
// kernel's SIGRTMIN, not glibc's), the number itself otherwise.
func Signal(n int) string {
	switch {
	case n >= 0 && n < len(signalNames):
		return signalNames[n]
	case n > len(signalNames)-1 && n <= sigRTMax:
		return "SIGRT_" + strconv.Itoa(n-(len(signalNames)-1))
	}
	return strconv.Itoa(n)
}

// CLONE_* flags, include/uapi/linux/sched.h, in strace's order. The low byte is the exit signal.
var cloneFlags = []sym{
	{0x100, "CLONE_VM"},
	{0x200, "CLONE_FS"},
	{0x400, "CLONE_FILES"},
	{0x800, "CLONE_SIGHAND"},
	{0x1000, "CLONE_PIDFD"},
	{0x2000, "CLONE_PTRACE"},
	{0x4000, "CLONE_VFORK"},
	{0x8000, "CLONE_PARENT"},
	{0x10000, "CLONE_THREAD"},
	{0x20000, "CLONE_NEWNS"},
	{0x40000, "CLONE_SYSVSEM"},
	{0x80000, "CLONE_SETTLS"},
	{0x100000, "CLONE_PARENT_SETTID"},
	{0x200000, "CLONE_CHILD_CLEARTID"},
	{0x800000, "CLONE_UNTRACED"},
	{0x1000000, "CLONE_CHILD_SETTID"},
	{0x2000000, "CLONE_NEWCGROUP"},
	{0x4000000, "CLONE_NEWUTS"},
	{0x8000000, "CLONE_NEWIPC"},
	{0x10000000, "CLONE_NEWUSER"},
	{0x20000000, "CLONE_NEWPID"},
	{0x40000000, "CLONE_NEWNET"},
	{0x80000000, "CLONE_IO"},
}

const cloneSignalMask = 0xff

// CloneFlags formats clone's flags argument: the flags, then the exit signal
// ("CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD").
func CloneFlags(v uint64) string {
	var j joiner
	if rest := j.addFlags(v&^cloneSignalMask, cloneFlags); rest != 0 {
		j.addHex(rest)
	}
	if sig := v & cloneSignalMask; sig != 0 {
		j.add(Signal(int(sig)))
	}
	if j.n == 0 {
		return "0"
	}
	return j.String()
}

// wait4 options, include/uapi/linux/wait.h, in strace's order.
var waitOptions = []sym{
	{0x1, "WNOHANG"}, {0x2, "WUNTRACED"}, {0x8, "WCONTINUED"},
	{0x20000000, "__WNOTHREAD"}, {0x40000000, "__WALL"}, {0x80000000, "__WCLONE"},
}

// WaitOptions formats wait4's options, "0" when none.
func WaitOptions(v uint64) string {
	return nameFlags(uint64(uint32(v)), waitOptions, "0")
}

// WaitStatus formats a child's status as strace does: [{WIFEXITED(s) && WEXITSTATUS(s) == 3}].
func WaitStatus(s int32) string {
	var w string
	switch sig := s & 0x7f; {
	case sig == 0:
		w = "WIFEXITED(s) && WEXITSTATUS(s) == " + strconv.Itoa(int(s>>8&0xff))
	case s&0xff == 0x7f:
		w = "WIFSTOPPED(s) && WSTOPSIG(s) == " + Signal(int(s>>8&0xff))
		if ev := s >> 16 & 0xff; ev != 0 {
			w += " && s>>16 == " + strconv.Itoa(int(ev))
		}
	case s == 0xffff:
		w = "WIFCONTINUED(s)"
	default:
		w = "WIFSIGNALED(s) && WTERMSIG(s) == " + Signal(int(sig))
		if s&0x80 != 0 {
			w += " && WCOREDUMP(s)"
		}
	}
	return "[{" + w + "}]"
}

// MSG_* flags of send and recv calls, include/linux/socket.h, in strace's order.
var msgFlags = []sym{
	{0x1, "MSG_OOB"}, {0x2, "MSG_PEEK"}, {0x4, "MSG_DONTROUTE"}, {0x8, "MSG_CTRUNC"},
	{0x10, "MSG_PROBE"}, {0x20, "MSG_TRUNC"}, {0x40, "MSG_DONTWAIT"}, {0x80, "MSG_EOR"},
	{0x100, "MSG_WAITALL"}, {0x200, "MSG_FIN"}, {0x400, "MSG_SYN"}, {0x800, "MSG_CONFIRM"},
	{0x1000, "MSG_RST"}, {0x2000, "MSG_ERRQUEUE"}, {0x4000, "MSG_NOSIGNAL"}, {0x8000, "MSG_MORE"},
	{0x10000, "MSG_WAITFORONE"}, {0x20000, "MSG_SENDPAGE_NOPOLICY"}, {0x4000000, "MSG_ZEROCOPY"},
	{0x20000000, "MSG_FASTOPEN"}, {0x40000000, "MSG_CMSG_CLOEXEC"},
}

// MsgFlags formats send/recv flags, "0" when none.
var accessOKs = []sym{{0x4, "R_OK"}, {0x2, "W_OK"}, {0x1, "X_OK"}}

// AccessMode names access's mode as strace does: F_OK for 0.
func AccessMode(v uint64) string {
	return nameFlags(uint64(uint32(v)), accessOKs, "F_OK")
}

func MsgFlags(v uint64) string {
	return nameFlags(uint64(uint32(v)), msgFlags, "0")
}

// SigHow names rt_sigprocmask's how.
func SigHow(v uint64) string {
	switch v {
	case 0:
		return "SIG_BLOCK"
	case 1:
		return "SIG_UNBLOCK"
	case 2:
		return "SIG_SETMASK"
	}
	return strconv.FormatUint(v, 10)
}

// SigSet writes a 64-signal set as strace does: the names without "SIG", space-separated
// ([USR1 CHLD]); when two thirds or more are in it, the ones that are not, after a ~ (~[KILL
// STOP], ~[] for all).
func SigSet(mask uint64) string {
	var b strings.Builder
	if bits.OnesCount64(mask)*3 >= 64*2 {
		b.WriteByte('~')
		mask = ^mask
	}
	b.WriteByte('[')
	sep := ""
	for n := 1; n <= 64; n++ {
		if mask&(1<<(n-1)) == 0 {
			continue
		}
		b.WriteString(sep + strings.TrimPrefix(Signal(n), "SIG"))
		sep = " "
	}
	b.WriteByte(']')
	return b.String()
}

// sa_flags, in strace's order.
var sigactionFlags = []sym{
	{0x04000000, "SA_RESTORER"}, {0x08000000, "SA_ONSTACK"}, {0x10000000, "SA_RESTART"},
	{0x40000000, "SA_NODEFER"}, {0x80000000, "SA_RESETHAND"}, {0x4, "SA_SIGINFO"},
	{0x2, "SA_NOCLDWAIT"}, {0x1, "SA_NOCLDSTOP"},
}

// SigAction decodes the kernel's struct sigaction (handler, flags, restorer, mask: the same on
// x86_64 and arm64) as strace prints it; sa_restorer only when SA_RESTORER says it is set.
func SigAction(b []byte) event.Fields {
	if len(b) < 32 {
		return nil
	}
	handler, flags, restorer, mask := le64(b), le64(b[8:]), le64(b[16:]), le64(b[24:])
	h := hex(handler)
	switch handler {
	case 0:
		h = "SIG_DFL"
	case 1:
		h = "SIG_IGN"
	}
	f := event.Fields{
		{Key: "sa_handler", Val: h},
		{Key: "sa_mask", Val: SigSet(mask)},
		{Key: "sa_flags", Val: nameFlags(uint64(uint32(flags)), sigactionFlags, "0")},
	}
	if flags&0x04000000 != 0 {
		f = append(f, event.Field{Key: "sa_restorer", Val: hex(restorer)})
	}
	return f
}

// ArchPrctl names x86_64's arch_prctl codes.
func ArchPrctl(v uint64) string {
	if s, ok := lookupSym(v, archPrctlCodes); ok {
		return s
	}
	return hex(v)
}

var archPrctlCodes = []sym{
	{0x1001, "ARCH_SET_GS"}, {0x1002, "ARCH_SET_FS"}, {0x1003, "ARCH_GET_FS"}, {0x1004, "ARCH_GET_GS"},
	{0x1011, "ARCH_GET_CPUID"}, {0x1012, "ARCH_SET_CPUID"}, {0x1021, "ARCH_GET_XCOMP_SUPP"},
	{0x1022, "ARCH_GET_XCOMP_PERM"}, {0x1023, "ARCH_REQ_XCOMP_PERM"}, {0x2001, "ARCH_MAP_VDSO_X32"},
	{0x2002, "ARCH_MAP_VDSO_32"}, {0x2003, "ARCH_MAP_VDSO_64"},
}

var rlimitNames = []string{
	"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS",
	"RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS",
	"RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
}

// RlimitResource names prlimit64's resource (the same numbers on x86_64 and arm64).
func RlimitResource(v uint64) string {
	if v < uint64(len(rlimitNames)) {
		return rlimitNames[v]
	}
	return strconv.FormatUint(v, 10)
}

// RlimValue writes a limit as strace does: RLIM64_INFINITY, a multiple of 1024 as N*1024.
func RlimValue(v uint64) string {
	switch {
	case v == ^uint64(0):
		return "RLIM64_INFINITY"
	case v > 0 && v%1024 == 0:
		return strconv.FormatUint(v/1024, 10) + "*1024"
	}
	return strconv.FormatUint(v, 10)
}

var grndFlags = []sym{{0x1, "GRND_NONBLOCK"}, {0x2, "GRND_RANDOM"}, {0x4, "GRND_INSECURE"}}

// EscapeHex writes every byte as \xNN, as strace shows binary buffers (getrandom's).
func EscapeHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 4*len(b))
	for _, c := range b {
		out = append(out, '\\', 'x', digits[c>>4], digits[c&15])
	}
	return string(out)
}
