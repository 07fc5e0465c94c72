package syscalls

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestTableNumbers(t *testing.T) {
	tests := []struct {
		arch string
		name string
		nr   int // -1: the arch has no such syscall
	}{
		{"amd64", "read", 0},
		{"amd64", "open", 2},
		{"amd64", "newstat", 4},
		{"amd64", "newfstat", 5},
		{"amd64", "newlstat", 6},
		{"amd64", "pread64", 17},
		{"amd64", "writev", 20},
		{"amd64", "dup2", 33},
		{"amd64", "sendfile64", 40},
		{"amd64", "newuname", 63},
		{"amd64", "umount", 166},
		{"amd64", "fadvise64", 221},
		{"amd64", "epoll_wait", 232},
		{"amd64", "newfstatat", 262},
		{"amd64", "epoll_pwait", 281},
		{"amd64", "io_uring_enter", 426},
		{"amd64", "fstat", -1},
		{"amd64", "fadvise64_64", -1},
		{"arm64", "io_setup", 0},
		{"arm64", "epoll_pwait", 22},
		{"arm64", "dup3", 24},
		{"arm64", "umount", 39},
		{"arm64", "openat", 56},
		{"arm64", "writev", 66},
		{"arm64", "sendfile64", 71},
		{"arm64", "newfstatat", 79},
		{"arm64", "newfstat", 80},
		{"arm64", "arm64_personality", 92},
		{"arm64", "newuname", 160},
		{"arm64", "fadvise64_64", 223},
		{"arm64", "io_uring_enter", 426},
		{"arm64", "open", -1},
		{"arm64", "dup2", -1},
		{"arm64", "epoll_wait", -1},
		{"arm64", "epoll_create", -1},
		{"arm64", "fadvise64", -1},
		{"arm64", "personality", -1},
		{"arm64", "arch_specific_syscall", -1},
	}
	for _, tt := range tests {
		tab, err := ForArch(tt.arch)
		if err != nil {
			t.Fatal(err)
		}
		nr, ok := tab.Nr(tt.name)
		if tt.nr < 0 {
			if ok {
				t.Errorf("%s: Nr(%q) = %d, want none", tt.arch, tt.name, nr)
			}
			continue
		}
		if !ok || nr != tt.nr {
			t.Errorf("%s: Nr(%q) = %d, %v; want %d", tt.arch, tt.name, nr, ok, tt.nr)
		}
		if got := tab.Name(tt.nr); got != tt.name {
			t.Errorf("%s: Name(%d) = %q, want %q", tt.arch, tt.nr, got, tt.name)
		}
	}
}

func TestTableConsistency(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		tab, err := ForArch(arch)
		if err != nil {
			t.Fatal(err)
		}
		if tab.Arch() != arch {
			t.Errorf("ForArch(%q).Arch() = %q", arch, tab.Arch())
		}
		names := tab.Names()
		if !slices.IsSorted(names) || len(names) < 300 {
			t.Errorf("%s: Names() not sorted or too short (%d)", arch, len(names))
		}
		for _, name := range names {
			nr, ok := tab.Nr(name)
			if !ok || tab.Name(nr) != name || nr >= tab.Max() {
				t.Errorf("%s: %q does not round-trip: nr %d, %v", arch, name, nr, ok)
			}
		}
		if tab.Name(-1) != "" || tab.Name(tab.Max()) != "" || tab.Name(tab.Max()-1) == "" {
			t.Errorf("%s: Name out of range or Max() = %d wrong", arch, tab.Max())
		}
		names[0] = "changed"
		if tab.Names()[0] == "changed" {
			t.Errorf("%s: Names() shares its slice", arch)
		}
	}
}

func TestForArch(t *testing.T) {
	for in, want := range map[string]string{"amd64": "amd64", "x86_64": "amd64", "arm64": "arm64", "aarch64": "arm64"} {
		tab, err := ForArch(in)
		if err != nil || tab.Arch() != want {
			t.Errorf("ForArch(%q) = %v, %v; want %s", in, tab, err, want)
		}
	}
	_, err := ForArch("riscv64")
	if err == nil || !strings.Contains(err.Error(), `"riscv64"`) || !strings.Contains(err.Error(), "amd64 and arm64") {
		t.Errorf("ForArch(riscv64) error = %v, want one naming the supported arches", err)
	}
	if n := Native(); n != nil && n.Arch() != runtime.GOARCH {
		t.Errorf("Native().Arch() = %q, want %q", n.Arch(), runtime.GOARCH)
	}
}

func TestArgNames(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"writev", []string{"fd", "vec", "vlen"}},
		{"pread64", []string{"fd", "buf", "count", "pos"}},
		{"mmap", []string{"addr", "len", "prot", "flags", "fd", "off"}},
		{"newfstat", []string{"fd", "statbuf"}},
		{"epoll_ctl", []string{"epfd", "op", "fd", "event"}},
		{"io_submit", []string{"ctx_id", "nr", "iocbpp"}},
		{"dup3", []string{"oldfd", "newfd", "flags"}},
		{"getpid", []string{}},
		{"fadvise64_64", []string{"fd", "offset", "len", "advice"}}, // arm64 only: from formats_extra.txt
		{"arm64_personality", []string{"personality"}},
		{"nosuchcall", nil},
	}
	for _, tt := range tests {
		got := ArgNames(tt.name)
		if !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("ArgNames(%q) = %#v, want %#v", tt.name, got, tt.want)
		}
	}
	if a := append(ArgNames("writev"), "x"); len(ArgNames("writev")) != 3 || a[3] != "x" {
		t.Error("append to ArgNames result changed the table")
	}
}

// TestArgNamesCoverage lists the syscalls with no argument names: those that never have a
// tracepoint on a 64-bit kernel and those newer than the kernel formats.txt comes from.
func TestArgNamesCoverage(t *testing.T) {
	want := map[string][]string{
		"amd64": {"_sysctl", "afs_syscall", "create_module", "epoll_ctl_old", "epoll_wait_old",
			"get_kernel_syms", "get_thread_area", "getpmsg", "listns", "lookup_dcookie", "nfsservctl",
			"putpmsg", "query_module", "rseq_slice_yield", "security", "set_thread_area", "tuxcall",
			"vserver"},
		"arm64": {"listns", "lookup_dcookie", "nfsservctl", "rseq_slice_yield"},
	}
	for arch, want := range want {
		tab, _ := ForArch(arch)
		var missing []string
		for _, name := range tab.Names() {
			if ArgNames(name) == nil {
				missing = append(missing, name)
			}
		}
		if !slices.Equal(missing, want) {
			t.Errorf("%s: syscalls without argument names = %q, want %q", arch, missing, want)
		}
	}
}

// TestLiveTracepoints checks the native table against this kernel's tracefs: every syscall
// tracepoint must have a number under its own name (a missing rename shows up here), and the
// argument names of the calls iotrace decodes must match the kernel's format files.
func TestLiveTracepoints(t *testing.T) {
	dir := "/sys/kernel/tracing/events/syscalls"
	events, err := filepath.Glob(filepath.Join(dir, "sys_enter_*"))
	if err != nil || len(events) == 0 {
		t.Skip("no syscall tracepoints readable in " + dir + " (needs root and tracefs)")
	}
	tab := Native()
	if tab == nil {
		t.Skipf("no table for %s", runtime.GOARCH)
	}
	skipIfEmulated(t)
	for _, ev := range events {
		name := strings.TrimPrefix(filepath.Base(ev), "sys_enter_")
		if _, ok := tab.Nr(name); !ok {
			t.Errorf("tracepoint %s has no number in the %s table (a syscall newer than golang.org/x/sys, or a missing rename in gen/main.go)", filepath.Base(ev), tab.Arch())
		}
	}
	for _, name := range []string{"readv", "writev", "preadv2", "pwritev2", "pread64", "mmap", "munmap",
		"madvise", "fadvise64", "epoll_ctl", "epoll_pwait", "io_setup", "io_submit", "io_getevents",
		"io_uring_enter", "dup", "dup3", "fcntl", "openat", "close"} {
		if _, ok := tab.Nr(name); !ok {
			continue // fadvise64 is fadvise64_64 on arm64
		}
		got, err := liveArgNames(filepath.Join(dir, "sys_enter_"+name, "format"))
		if err != nil {
			t.Error(err)
			continue
		}
		if want := ArgNames(name); !slices.Equal(got, want) {
			t.Errorf("%s: this kernel's format has %q, the snapshot %q", name, got, want)
		}
	}
}

func liveArgNames(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names := []string{}
	seenNr := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		decl, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "field:")
		if !ok {
			continue
		}
		decl, _, _ = strings.Cut(decl, ";")
		name := decl[strings.LastIndexAny(decl, " *")+1:]
		if seenNr {
			names = append(names, name)
		}
		seenNr = seenNr || name == "__syscall_nr"
	}
	return names, sc.Err()
}

// skipIfEmulated skips tests that compare the native table with the running kernel when the
// tests run under qemu-user (arm64 tests on an x86_64 host): the kernel is the host's.
func skipIfEmulated(t *testing.T) {
	t.Helper()
	if b, err := os.ReadFile("/proc/sys/kernel/arch"); err == nil && GoArch(strings.TrimSpace(string(b))) != runtime.GOARCH {
		t.Skipf("the kernel is %s but the tests run as %s (emulated): its syscalls are not this table's", strings.TrimSpace(string(b)), runtime.GOARCH)
	}
}
