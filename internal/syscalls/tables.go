package syscalls

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
)

// Table maps syscall numbers to tracepoint names and back for one arch.
type Table struct {
	arch    string
	names   []string // by number; "" where the arch has none
	nrs     map[string]int
	aliases map[string]string // x/sys or strace name -> tracepoint name
	sorted  []string
}

func newTable(arch string, names []string, aliases map[string]string) *Table {
	t := &Table{arch: arch, names: names, nrs: make(map[string]int, len(names)), aliases: aliases}
	for nr, name := range names {
		if name != "" {
			t.nrs[name] = nr
			t.sorted = append(t.sorted, name)
		}
	}
	sort.Strings(t.sorted)
	return t
}

var tables = sync.OnceValue(func() map[string]*Table {
	return map[string]*Table{
		"amd64": newTable("amd64", amd64Names[:], amd64Aliases),
		"arm64": newTable("arm64", arm64Names[:], arm64Aliases),
	}
})

// unameArch maps uname -m names, as in a recording's header, to Go's.
var unameArch = map[string]string{"x86_64": "amd64", "aarch64": "arm64"}

// ForArch returns the table of a Go arch name ("amd64", "arm64"); the uname names "x86_64" and
// "aarch64" are accepted too.
func ForArch(goarch string) (*Table, error) {
	if a, ok := unameArch[goarch]; ok {
		goarch = a
	}
	if t, ok := tables()[goarch]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("no syscall table for arch %q: supported are amd64 and arm64", goarch)
}

// Native returns the table of the arch this binary runs on, or nil on an unsupported arch.
func Native() *Table {
	return tables()[runtime.GOARCH]
}

// Arch returns the Go name of the table's arch.
func (t *Table) Arch() string { return t.arch }

// Name returns the tracepoint name of syscall nr, or "" if the arch has no such number.
func (t *Table) Name(nr int) string {
	if nr < 0 || nr >= len(t.names) {
		return ""
	}
	return t.names[nr]
}

// Nr returns the number of the syscall with this tracepoint name.
func (t *Table) Nr(name string) (int, bool) {
	nr, ok := t.nrs[name]
	return nr, ok
}

// Max returns the highest syscall number plus one: the size of an array indexed by number.
func (t *Table) Max() int { return len(t.names) }

// Names returns the arch's syscall names, sorted.
func (t *Table) Names() []string { return append([]string(nil), t.sorted...) }

// resolve returns the tracepoint name on this arch for a tracepoint name or an x/sys (strace)
// name such as "fstat".
func (t *Table) resolve(name string) (string, bool) {
	if _, ok := t.nrs[name]; ok {
		return name, true
	}
	if to, ok := t.aliases[name]; ok {
		return to, true
	}
	return "", false
}
