package syscalls

import (
	"slices"
	"strings"
	"testing"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		arch  string
		exprs []string
		all   bool
		names []string // Names(), or nil to skip
		text  string
		match []string // MatchName true
		nomat []string // MatchName false
	}{
		{arch: "amd64", exprs: nil, all: true, text: "trace=all", match: []string{"read", "fadvise64_64", "not_a_syscall"}},
		{arch: "amd64", exprs: []string{"trace=writev,readv"}, names: []string{"readv", "writev"},
			text: "trace=readv,writev", nomat: []string{"write", "preadv"}},
		{arch: "amd64", exprs: []string{"writev,readv"}, names: []string{"readv", "writev"}, text: "trace=readv,writev"},
		{arch: "amd64", exprs: []string{"t=close"}, names: []string{"close"}, text: "trace=close"},
		{arch: "amd64", exprs: []string{"%vectored"}, names: []string{"preadv", "preadv2", "pwritev", "pwritev2", "readv", "writev"},
			text: "trace=%vectored"},
		{arch: "amd64", exprs: []string{"trace=%file,%desc"}, text: "trace=%desc,%file",
			match: []string{"open", "read", "newstat"}, nomat: []string{"mprotect", "getpid"}},
		{arch: "amd64", exprs: []string{"trace=writev,%dup,/^pread"}, text: "trace=%dup,/^pread,writev",
			names: []string{"close", "dup", "dup2", "dup3", "fcntl", "pread64", "preadv", "preadv2", "writev"}},
		{arch: "amd64", exprs: []string{"trace=!write"}, text: "trace=!write",
			match: []string{"read", "writev", "not_a_syscall"}, nomat: []string{"write"}},
		{arch: "amd64", exprs: []string{"!%memory"}, text: "trace=!%memory", match: []string{"read"}, nomat: []string{"mmap", "brk"}},
		{arch: "amd64", exprs: []string{"trace=!!write"}, names: []string{"write"}, text: "trace=write"},
		{arch: "amd64", exprs: []string{"trace=all"}, all: true, text: "trace=all"},
		{arch: "amd64", exprs: []string{"trace=none"}, names: []string{}, text: "trace=none", nomat: []string{"read"}},
		{arch: "amd64", exprs: []string{"trace=!none"}, all: true, text: "trace=all"},
		{arch: "amd64", exprs: []string{"trace=!all"}, names: []string{}, text: "trace=none"},
		// As in strace, the last trace= wins.
		{arch: "amd64", exprs: []string{"trace=read", "trace=write"}, names: []string{"write"}, text: "trace=write"},
		{arch: "amd64", exprs: []string{"trace=read", "all"}, all: true, text: "trace=all"},
		// strace's names for syscalls whose tracepoint is named otherwise.
		{arch: "amd64", exprs: []string{"fstat,umount2"}, names: []string{"newfstat", "umount"}, text: "trace=newfstat,umount"},
		{arch: "arm64", exprs: []string{"fadvise64"}, names: []string{"fadvise64_64"}, text: "trace=fadvise64",
			match: []string{"fadvise64", "fadvise64_64"}},
		// Valid on some arch, absent on this one.
		{arch: "arm64", exprs: []string{"dup2,dup3"}, names: []string{"dup3"}, text: "trace=dup2,dup3", match: []string{"dup2"}},
		{arch: "arm64", exprs: []string{"%epoll"}, names: []string{"epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_pwait2", "ppoll", "pselect6"},
			match: []string{"epoll_wait"}},
		{arch: "arm64", exprs: []string{"/^epoll_"}, names: []string{"epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_pwait2"}},
		{arch: "amd64", exprs: []string{"?nosuchcall,close"}, names: []string{"close"}, text: "trace=close"},
		{arch: "amd64", exprs: []string{"?nosuchcall"}, names: []string{}, text: "trace=none"},
		{arch: "amd64", exprs: []string{"file"}, text: "trace=%file", match: []string{"openat"}, nomat: []string{"read"}},
		{arch: "amd64", exprs: []string{"%net"}, text: "trace=%network", match: []string{"socket"}},
		{arch: "amd64", exprs: []string{"%%stat"}, names: []string{"newfstat", "newfstatat", "newlstat", "newstat", "statx"}, text: "trace=%%stat"},
	}
	for _, tt := range tests {
		name := tt.arch + " " + strings.Join(tt.exprs, " ")
		tab, _ := ForArch(tt.arch)
		f, err := ParseFilter(tab, tt.exprs)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if f.All() != tt.all {
			t.Errorf("%s: All() = %v", name, f.All())
		}
		if tt.text != "" && f.String() != tt.text {
			t.Errorf("%s: String() = %q, want %q", name, f.String(), tt.text)
		}
		got := f.Names()
		if tt.names != nil && !slices.Equal(got, tt.names) {
			t.Errorf("%s: Names() = %q, want %q", name, got, tt.names)
		}
		for _, n := range tt.match {
			if !f.MatchName(n) {
				t.Errorf("%s: MatchName(%q) = false", name, n)
			}
		}
		for _, n := range tt.nomat {
			if f.MatchName(n) {
				t.Errorf("%s: MatchName(%q) = true", name, n)
			}
		}
		// Match by number agrees with MatchName on every number of the arch.
		for nr := -1; nr <= tab.Max(); nr++ {
			if n := tab.Name(nr); n != "" && f.Match(nr) != f.MatchName(n) {
				t.Errorf("%s: Match(%d) != MatchName(%q)", name, nr, n)
			}
		}
		if len(got) != countMatches(f, tab) {
			t.Errorf("%s: Names() has %d, Match selects %d", name, len(got), countMatches(f, tab))
		}
	}
}

func countMatches(f *Filter, tab *Table) int {
	n := 0
	for nr := range tab.Max() {
		if tab.Name(nr) != "" && f.Match(nr) {
			n++
		}
	}
	return n
}

func TestParseFilterErrors(t *testing.T) {
	tests := []struct {
		expr string
		want string
	}{
		{"trace=wrtiev", `unknown syscall "wrtiev" in -e (did you mean "writev"?)`},
		{"wrtiev", `unknown syscall "wrtiev" in -e (did you mean "writev"?)`},
		{"trace=readv,dupp2", `unknown syscall "dupp2" in -e (did you mean "dup2"?)`},
		{"trace=%fiel", `unknown class "%fiel" in -e (did you mean "%file"?)`},
		{"%epol", `unknown class "%epol" in -e (did you mean "%epoll"?)`},
		{"trace=rea", `unknown syscall "rea" in -e (did you mean "read"?)`},
		{"trace=xyzzyqqq", `unknown syscall "xyzzyqqq" in -e`},
		{"trace=!%nosuchclass", `unknown class "%nosuchclass" in -e`},
		{"signal=none", `unsupported qualifier "signal" in -e "signal=none": only trace= is supported`},
		{"trace=", `empty syscall list in -e "trace="`},
		{"trace=read,,write", `empty syscall name in -e`},
		{"trace=/[", `invalid regular expression "[" in -e: error parsing regexp: missing closing ]: ` + "`[`"},
		{"trace=/^zzz", `regular expression "^zzz" in -e matches no syscall`},
	}
	tab, _ := ForArch("amd64")
	for _, tt := range tests {
		_, err := ParseFilter(tab, []string{"trace=read", tt.expr})
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseFilter(%q) error = %v, want %s", tt.expr, err, tt.want)
		}
	}
}

func TestSuggestLists(t *testing.T) {
	got := suggest("mmapp", []string{"mmap", "mmap2", "munmap", "mmapx", "mmapy"})
	if want := ` (did you mean "mmap", "mmap2" or "mmapx"?)`; got != want {
		t.Errorf("suggest = %q, want %q", got, want)
	}
	if got := suggest("pread", []string{"pread64", "pwrite64"}); got != ` (did you mean "pread64"?)` {
		t.Errorf("suggest(pread) = %q", got)
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"writev", "writev", 0}, {"wrtiev", "writev", 1}, {"writ", "write", 1},
		{"%fiel", "%file", 1}, {"read", "write", 4}, {"", "abc", 3},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
