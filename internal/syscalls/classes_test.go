package syscalls

import (
	"slices"
	"testing"
)

func TestStraceFlagsCoverBothTables(t *testing.T) {
	known := make(map[string]bool)
	for _, arch := range []string{"amd64", "arm64"} {
		tab, _ := ForArch(arch)
		for _, name := range tab.Names() {
			known[name] = true
			if _, ok := straceFlags[name]; !ok {
				t.Errorf("%s syscall %q has no entry in straceFlags", arch, name)
			}
		}
	}
	for name := range straceFlags {
		if !known[name] {
			t.Errorf("straceFlags entry %q is on no arch", name)
		}
	}
	for class, members := range mechanismClasses {
		for _, name := range members {
			if !known[name] {
				t.Errorf("class %%%s: %q is on no arch", class, name)
			}
		}
	}
}

func TestClasses(t *testing.T) {
	tests := []struct {
		class string
		in    []string
		out   []string
		exact bool
	}{
		{class: "file", in: []string{"open", "openat", "openat2", "execve", "execveat", "newstat", "newlstat",
			"newfstatat", "statx", "access", "umount", "inotify_add_watch", "truncate", "getcwd"},
			out: []string{"read", "close", "newfstat", "ftruncate", "fstatfs"}},
		{class: "desc", in: []string{"read", "write", "close", "open", "openat", "mmap", "newfstat", "epoll_wait",
			"epoll_pwait2", "dup2", "fcntl", "fadvise64", "fadvise64_64", "io_uring_setup", "sendfile64", "readahead"},
			out: []string{"mprotect", "io_setup", "io_submit", "socket", "close_range"}},
		{class: "memory", in: []string{"mmap", "munmap", "mremap", "mprotect", "brk", "madvise", "io_setup",
			"io_destroy", "io_uring_register", "shmat", "mlock2", "mseal"},
			out: []string{"io_submit", "read", "pipe"}},
		{class: "network", in: []string{"socket", "connect", "accept4", "sendmsg", "recvmmsg", "sendfile64", "socketpair"},
			out: []string{"read", "write", "pipe2"}},
		{class: "process", in: []string{"clone", "clone3", "fork", "vfork", "execve", "exit", "exit_group",
			"wait4", "waitid", "kill", "tgkill", "pidfd_send_signal"},
			out: []string{"getpid", "setsid"}},
		{class: "signal", in: []string{"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "kill", "sigaltstack",
			"signalfd4", "pause", "io_uring_enter"}, out: []string{"exit"}},
		{class: "ipc", in: []string{"shmget", "shmat", "semop", "msgsnd"}, out: []string{"pipe", "mq_open"}},
		{class: "stat", in: []string{"newstat"}, exact: true},
		{class: "fstat", in: []string{"newfstat", "newfstatat", "statx"}, exact: true},
		{class: "%stat", in: []string{"newfstat", "newfstatat", "newlstat", "newstat", "statx"}, exact: true},
		{class: "%statfs", in: []string{"fstatfs", "statfs", "ustat"}, exact: true},
		{class: "pure", in: []string{"getegid", "geteuid", "getgid", "getpgrp", "getpid", "getppid", "gettid", "getuid"}, exact: true},
		{class: "clock", in: []string{"clock_gettime", "gettimeofday", "time", "adjtimex"}, out: []string{"nanosleep"}},
		{class: "creds", in: []string{"setuid", "getresgid", "capget", "prctl"}, out: []string{"getpid"}},
		{class: "vectored", in: []string{"preadv", "preadv2", "pwritev", "pwritev2", "readv", "writev"}, exact: true},
		{class: "epoll", in: []string{"epoll_create", "epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_pwait2",
			"epoll_wait", "poll", "ppoll", "pselect6", "select"}, exact: true},
		{class: "mmap", in: []string{"madvise", "mincore", "mmap", "mprotect", "mremap", "msync", "munmap"}, exact: true},
		{class: "fadvise", in: []string{"fadvise64", "fadvise64_64", "fdatasync", "fsync", "readahead", "sync_file_range"}, exact: true},
		{class: "aio", in: []string{"io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_setup",
			"io_submit", "io_uring_enter", "io_uring_register", "io_uring_setup"}, exact: true},
		{class: "dup", in: []string{"close", "dup", "dup2", "dup3", "fcntl"}, exact: true},
	}
	all := Classes()
	for _, tt := range tests {
		members, ok := all[tt.class]
		if !ok {
			t.Errorf("no class %q", tt.class)
			continue
		}
		if !slices.IsSorted(members) {
			t.Errorf("class %q is not sorted", tt.class)
		}
		if tt.exact && !slices.Equal(members, tt.in) {
			t.Errorf("class %q = %q, want %q", tt.class, members, tt.in)
		}
		for _, name := range tt.in {
			if !slices.Contains(members, name) {
				t.Errorf("class %q lacks %q", tt.class, name)
			}
		}
		for _, name := range tt.out {
			if slices.Contains(members, name) {
				t.Errorf("class %q has %q", tt.class, name)
			}
		}
	}
	all["file"][0] = "changed"
	delete(all, "desc")
	if again := Classes(); again["file"][0] == "changed" || again["desc"] == nil {
		t.Error("Classes() shares its map or slices")
	}
}
