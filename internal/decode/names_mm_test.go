package decode

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMmapProt(t *testing.T) {
	tests := []struct {
		arch string
		v    uint64
		want string
	}{
		{"amd64", 0, "PROT_NONE"},
		{"amd64", 0x3, "PROT_READ|PROT_WRITE"}, // strace 6.1
		{"amd64", 0x5, "PROT_READ|PROT_EXEC"},
		{"amd64", unix.PROT_GROWSDOWN | unix.PROT_READ, "PROT_READ|PROT_GROWSDOWN"},
		// PROT_BTI and PROT_MTE exist only on arm64
		{"arm64", 0x15, "PROT_READ|PROT_EXEC|PROT_BTI"},
		{"arm64", 0x23, "PROT_READ|PROT_WRITE|PROT_MTE"},
		{"amd64", 0x15, "PROT_READ|PROT_EXEC|0x10"},
	}
	for _, tt := range tests {
		if got := MmapProt(tt.arch, tt.v); got != tt.want {
			t.Errorf("MmapProt(%s, %#x) = %q, want %q", tt.arch, tt.v, got, tt.want)
		}
	}
}

func TestMmapFlags(t *testing.T) {
	tests := []struct {
		arch string
		v    uint64
		want string
	}{
		// seen in strace 6.1 on x86_64
		{"amd64", 0x2, "MAP_PRIVATE"},
		{"amd64", 0x22, "MAP_PRIVATE|MAP_ANONYMOUS"},
		{"amd64", 0x812, "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE"},
		{"amd64", 0x40028021, "MAP_SHARED|MAP_ANONYMOUS|MAP_POPULATE|MAP_STACK|16<<MAP_HUGE_SHIFT"},
		{"amd64", 0x40008022, "MAP_PRIVATE|MAP_ANONYMOUS|MAP_POPULATE|16<<MAP_HUGE_SHIFT"},
		// the type field
		{"amd64", 0x0, "MAP_FILE"},
		{"amd64", 0x3, "MAP_SHARED_VALIDATE"},
		{"amd64", 0x8, "MAP_DROPPABLE"},
		{"amd64", 0x4, "0x4"},
		{"amd64", 0x80003, "MAP_SHARED_VALIDATE|MAP_SYNC"},
		{"amd64", 0x100022, "MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE"},
		{"amd64", 0x44022, "MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE|MAP_HUGETLB"},
		{"amd64", 0x54040022, "MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|21<<MAP_HUGE_SHIFT"},
		{"amd64", 0x3022, "MAP_PRIVATE|MAP_ANONYMOUS|MAP_EXECUTABLE|MAP_LOCKED"},
		{"amd64", 0x10122, "MAP_PRIVATE|MAP_ANONYMOUS|MAP_NONBLOCK|MAP_GROWSDOWN"},
		// MAP_32BIT and MAP_ABOVE4G are x86 only
		{"amd64", 0x62, "MAP_PRIVATE|MAP_ANONYMOUS|MAP_32BIT"},
		{"amd64", 0xa2, "MAP_PRIVATE|MAP_ANONYMOUS|MAP_ABOVE4G"},
		{"arm64", 0x62, "MAP_PRIVATE|MAP_ANONYMOUS|0x40"},
		{"arm64", 0x22, "MAP_PRIVATE|MAP_ANONYMOUS"},
	}
	for _, tt := range tests {
		if got := MmapFlags(tt.arch, tt.v); got != tt.want {
			t.Errorf("MmapFlags(%s, %#x) = %q, want %q", tt.arch, tt.v, got, tt.want)
		}
	}
}

// Each flag by its x/sys value on the host arch, after MAP_PRIVATE.
func TestMmapFlagsMatchXSys(t *testing.T) {
	consts := map[string]int{
		"MAP_FIXED": unix.MAP_FIXED, "MAP_ANONYMOUS": unix.MAP_ANONYMOUS,
		"MAP_NORESERVE": unix.MAP_NORESERVE, "MAP_POPULATE": unix.MAP_POPULATE,
		"MAP_NONBLOCK": unix.MAP_NONBLOCK, "MAP_GROWSDOWN": unix.MAP_GROWSDOWN,
		"MAP_DENYWRITE": unix.MAP_DENYWRITE, "MAP_EXECUTABLE": unix.MAP_EXECUTABLE,
		"MAP_LOCKED": unix.MAP_LOCKED, "MAP_STACK": unix.MAP_STACK,
		"MAP_HUGETLB": unix.MAP_HUGETLB, "MAP_SYNC": unix.MAP_SYNC,
		"MAP_FIXED_NOREPLACE": unix.MAP_FIXED_NOREPLACE,
	}
	for name, v := range consts {
		want := "MAP_PRIVATE|" + name
		if got := MmapFlags(runtime.GOARCH, uint64(v|unix.MAP_PRIVATE)); got != want {
			t.Errorf("MmapFlags(%#x) = %q, want %q", v, got, want)
		}
	}
	for v, name := range map[int]string{unix.MAP_SHARED: "MAP_SHARED", unix.MAP_SHARED_VALIDATE: "MAP_SHARED_VALIDATE"} {
		if got := MmapFlags(runtime.GOARCH, uint64(v)); got != name {
			t.Errorf("MmapFlags(%#x) = %q, want %q", v, got, name)
		}
	}
}

func TestMremapMsyncFlags(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{MremapFlags(unix.MREMAP_MAYMOVE), "MREMAP_MAYMOVE"},
		{MremapFlags(unix.MREMAP_MAYMOVE | unix.MREMAP_FIXED), "MREMAP_MAYMOVE|MREMAP_FIXED"},
		{MremapFlags(unix.MREMAP_DONTUNMAP | unix.MREMAP_MAYMOVE), "MREMAP_MAYMOVE|MREMAP_DONTUNMAP"},
		{MremapFlags(0), "0"},
		{MsyncFlags(unix.MS_SYNC), "MS_SYNC"}, // strace 6.1
		{MsyncFlags(unix.MS_ASYNC | unix.MS_INVALIDATE), "MS_ASYNC|MS_INVALIDATE"},
		{MsyncFlags(0), "0"},
		{MsyncFlags(0x10), "0x10"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestMadvise(t *testing.T) {
	tests := []struct {
		v    uint64
		want string
	}{
		{unix.MADV_NORMAL, "MADV_NORMAL"}, {unix.MADV_RANDOM, "MADV_RANDOM"},
		{unix.MADV_SEQUENTIAL, "MADV_SEQUENTIAL"}, {unix.MADV_WILLNEED, "MADV_WILLNEED"},
		{unix.MADV_DONTNEED, "MADV_DONTNEED"}, {unix.MADV_FREE, "MADV_FREE"},
		{unix.MADV_REMOVE, "MADV_REMOVE"}, {unix.MADV_DONTFORK, "MADV_DONTFORK"},
		{unix.MADV_DOFORK, "MADV_DOFORK"}, {unix.MADV_MERGEABLE, "MADV_MERGEABLE"},
		{unix.MADV_UNMERGEABLE, "MADV_UNMERGEABLE"}, {unix.MADV_HUGEPAGE, "MADV_HUGEPAGE"},
		{unix.MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE"}, {unix.MADV_DONTDUMP, "MADV_DONTDUMP"},
		{unix.MADV_DODUMP, "MADV_DODUMP"}, {unix.MADV_WIPEONFORK, "MADV_WIPEONFORK"},
		{unix.MADV_KEEPONFORK, "MADV_KEEPONFORK"}, {unix.MADV_COLD, "MADV_COLD"},
		{unix.MADV_PAGEOUT, "MADV_PAGEOUT"}, {unix.MADV_POPULATE_READ, "MADV_POPULATE_READ"},
		{unix.MADV_POPULATE_WRITE, "MADV_POPULATE_WRITE"},
		{unix.MADV_DONTNEED_LOCKED, "MADV_DONTNEED_LOCKED"},
		{unix.MADV_COLLAPSE, "MADV_COLLAPSE"}, {unix.MADV_HWPOISON, "MADV_HWPOISON"},
		{101, "MADV_SOFT_OFFLINE"}, // not in x/sys
		{unix.MADV_GUARD_INSTALL, "MADV_GUARD_INSTALL"},
		{unix.MADV_GUARD_REMOVE, "MADV_GUARD_REMOVE"},
		{0xfa, "0xfa /* MADV_??? */"}, // strace: 0xfa /* MADV_??? */
	}
	for _, tt := range tests {
		if got := Madvise(tt.v); got != tt.want {
			t.Errorf("Madvise(%d) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestFadvise(t *testing.T) {
	tests := []struct {
		v    uint64
		want string
	}{
		{unix.FADV_NORMAL, "POSIX_FADV_NORMAL"}, {unix.FADV_RANDOM, "POSIX_FADV_RANDOM"},
		{unix.FADV_SEQUENTIAL, "POSIX_FADV_SEQUENTIAL"}, {unix.FADV_WILLNEED, "POSIX_FADV_WILLNEED"},
		{unix.FADV_DONTNEED, "POSIX_FADV_DONTNEED"}, {unix.FADV_NOREUSE, "POSIX_FADV_NOREUSE"},
		// pinned: 4 and 5 on amd64 and arm64 alike (6 and 7 are s390x's)
		{4, "POSIX_FADV_DONTNEED"}, {5, "POSIX_FADV_NOREUSE"},
		{6, "0x6"}, {9, "0x9"},
	}
	for _, tt := range tests {
		if got := Fadvise(tt.v); got != tt.want {
			t.Errorf("Fadvise(%d) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
