package decode

import (
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
