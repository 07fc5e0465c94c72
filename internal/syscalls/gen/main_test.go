package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestGeneratedUpToDate fails when the committed tables differ from what the generator makes
// from the pinned golang.org/x/sys and the format snapshots.
func TestGeneratedUpToDate(t *testing.T) {
	files, err := generate(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("generated %d files, want 3", len(files))
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./internal/syscalls", name)
		}
	}
}

// TestTracepointNames checks the amd64 table against formats.txt, the tracepoints of the
// capture kernel: every tracepoint has a number, and the syscalls without a tracepoint there
// are exactly the known ones.
func TestTracepointNames(t *testing.T) {
	xsys, err := goList("-m", "-f", "{{.Dir}}", "golang.org/x/sys")
	if err != nil {
		t.Fatal(err)
	}
	nrs, err := readSysnum(filepath.Join(xsys, "unix", "zsysnum_linux_amd64.go"))
	if err != nil {
		t.Fatal(err)
	}
	names, err := arches[0].apply(nrs)
	if err != nil {
		t.Fatal(err)
	}
	formats, err := readFormats(formatsFile)
	if err != nil {
		t.Fatal(err)
	}
	for name := range formats {
		if !slices.Contains(names, name) {
			t.Errorf("tracepoint sys_enter_%s has no amd64 number", name)
		}
	}
	var missing []string
	for _, name := range names {
		if _, ok := formats[name]; name != "" && !ok {
			missing = append(missing, name)
		}
	}
	slices.Sort(missing)
	want := []string{
		// sys_ni_syscall or removed: no tracepoint on any x86_64 kernel iotrace supports.
		"_sysctl", "afs_syscall", "create_module", "epoll_ctl_old", "epoll_wait_old",
		"get_kernel_syms", "get_thread_area", "getpmsg", "lookup_dcookie", "nfsservctl",
		"putpmsg", "query_module", "security", "set_thread_area", "tuxcall", "vserver",
		// Configured out of the capture kernel; argument names in formats_extra.txt.
		"delete_module", "finit_module", "init_module", "kexec_file_load", "kexec_load",
		"map_shadow_stack", "uselib",
		// Newer than the capture kernel (6.18).
		"listns", "rseq_slice_yield",
	}
	slices.Sort(want)
	if !slices.Equal(missing, want) {
		t.Errorf("amd64 syscalls without a tracepoint in %s:\n got %q\nwant %q", formatsFile, missing, want)
	}
}

func TestParseDecl(t *testing.T) {
	tests := []struct{ decl, typ, name string }{
		{"unsigned long fd", "unsigned long", "fd"},
		{"const struct iovec * vec", "const struct iovec *", "vec"},
		{"struct sockaddr *upeer_sockaddr", "struct sockaddr *", "upeer_sockaddr"},
		{"int", "", ""},
	}
	for _, tt := range tests {
		f, err := parseDecl(tt.decl)
		if tt.name == "" {
			if err == nil {
				t.Errorf("parseDecl(%q) = %+v, want an error", tt.decl, f)
			}
			continue
		}
		if err != nil || f.typ != tt.typ || f.name != tt.name {
			t.Errorf("parseDecl(%q) = %+v, %v; want %q %q", tt.decl, f, err, tt.typ, tt.name)
		}
	}
}
