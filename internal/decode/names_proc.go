package decode

import "strconv"

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
