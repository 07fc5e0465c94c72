package decode

import (
	"fmt"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// amd64 and arm64 share the asm-generic signal numbers, so the host's x/sys names stand for both.
func TestSignalMatchesXSys(t *testing.T) {
	for n := 1; n < 32; n++ {
		want := unix.SignalName(syscall.Signal(n))
		if got := Signal(n); got != want {
			t.Errorf("Signal(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestSignal(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, "0"}, // kill(pid, 0), as strace prints it
		{17, "SIGCHLD"},
		{32, "SIGRTMIN"},
		{40, "SIGRT_8"}, // strace 6.1
		{64, "SIGRT_32"},
		{65, "65"},
		{-1, "-1"},
	}
	for _, tt := range tests {
		if got := Signal(tt.n); got != tt.want {
			t.Errorf("Signal(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestCloneFlags(t *testing.T) {
	tests := []struct {
		v    uint64
		want string
	}{
		// strace 6.1: a fork through glibc
		{0x1200011, "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"},
		// a Go runtime thread
		{unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_SYSVSEM |
			unix.CLONE_THREAD, "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM"},
		{unix.CLONE_VFORK | unix.CLONE_VM | 17, "CLONE_VM|CLONE_VFORK|SIGCHLD"},
		{17, "SIGCHLD"},
		{0, "0"},
		{unix.CLONE_IO | unix.CLONE_NEWNET, "CLONE_NEWNET|CLONE_IO"},
		{0x400000, "0x400000"}, // CLONE_DETACHED, ignored by the kernel and unnamed by strace
	}
	for _, tt := range tests {
		if got := CloneFlags(tt.v); got != tt.want {
			t.Errorf("CloneFlags(%#x) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// access's mode as strace prints it; the bits are x/sys's.
func TestAccessMode(t *testing.T) {
	for _, tt := range []struct {
		v    uint64
		want string
	}{
		{unix.F_OK, "F_OK"},
		{unix.R_OK, "R_OK"},
		{unix.R_OK | unix.W_OK | unix.X_OK, "R_OK|W_OK|X_OK"},
		{unix.W_OK | unix.X_OK, "W_OK|X_OK"},
		{0x18, "0x18"},
		{unix.R_OK | 0x10, "R_OK|0x10"},
	} {
		if got := AccessMode(tt.v); got != tt.want {
			t.Errorf("AccessMode(%#x) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// Signal sets and sigactions as strace prints them (checked side by side with strace 6 on
// rt_sigaction and rt_sigprocmask calls).
func TestSigSetAndAction(t *testing.T) {
	bit := func(sigs ...int) uint64 {
		var m uint64
		for _, s := range sigs {
			m |= 1 << (s - 1)
		}
		return m
	}
	for _, tt := range []struct {
		mask uint64
		want string
	}{
		{0, "[]"},
		{bit(10), "[USR1]"},
		{bit(17, 36), "[CHLD RT_4]"},
		{^uint64(0), "~[]"},
		{^bit(2, 32, 33), "~[INT RTMIN RT_1]"},
		{^bit(2, 9, 19, 32, 33), "~[INT KILL STOP RTMIN RT_1]"},
	} {
		if got := SigSet(tt.mask); got != tt.want {
			t.Errorf("SigSet(%#x) = %q, want %q", tt.mask, got, tt.want)
		}
	}
	act := func(handler, flags, restorer, mask uint64) []byte {
		b := make([]byte, 32)
		for i, v := range []uint64{handler, flags, restorer, mask} {
			for j := 0; j < 8; j++ {
				b[i*8+j] = byte(v >> (8 * j))
			}
		}
		return b
	}
	for _, tt := range []struct {
		b    []byte
		want string
	}{
		{act(1, 0x14000000, 0x7f0b149dd050, bit(10)), "[{sa_handler SIG_IGN} {sa_mask [USR1]} {sa_flags SA_RESTORER|SA_RESTART} {sa_restorer 0x7f0b149dd050}]"},
		{act(0, 0, 0, 0), "[{sa_handler SIG_DFL} {sa_mask []} {sa_flags 0}]"},
		{act(0x5647af91e1b9, 0x1c000004, 0x7f00, bit(17, 36)), "[{sa_handler 0x5647af91e1b9} {sa_mask [CHLD RT_4]} {sa_flags SA_RESTORER|SA_ONSTACK|SA_RESTART|SA_SIGINFO} {sa_restorer 0x7f00}]"},
	} {
		if got := fmt.Sprint(SigAction(tt.b)); got != tt.want {
			t.Errorf("SigAction = %s, want %s", got, tt.want)
		}
	}
	if SigAction(make([]byte, 24)) != nil {
		t.Error("a short sigaction copy decoded")
	}
	if got := SigHow(2); got != "SIG_SETMASK" {
		t.Errorf("SigHow(2) = %q", got)
	}
}

// The start-up calls of every program, as strace prints them.
func TestStartupNames(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{ArchPrctl(0x1002), "ARCH_SET_FS"},
		{ArchPrctl(0x9999), "0x9999"},
		{RlimitResource(3), "RLIMIT_STACK"},
		{RlimitResource(7), "RLIMIT_NOFILE"},
		{RlimitResource(99), "99"},
		{RlimValue(8 << 20), "8192*1024"},
		{RlimValue(^uint64(0)), "RLIM64_INFINITY"},
		{RlimValue(1000), "1000"},
		{RlimValue(0), "0"},
		{EscapeHex([]byte{0x93, 0x07, 'A'}), `\x93\x07\x41`},
		{nameFlags(1, grndFlags, "0"), "GRND_NONBLOCK"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
