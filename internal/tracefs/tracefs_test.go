package tracefs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// mountForTest mounts tracefs if needed; it needs root, as the tracer does.
func mountForTest(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting tracefs needs root")
	}
	p, mounted, err := Mount()
	if err != nil {
		t.Fatalf("Mount: %v", err)
	}
	if mounted {
		t.Logf("mounted tracefs at %s", p)
	}
	return p
}

func TestMount(t *testing.T) {
	p := mountForTest(t)
	if got, err := Path(); err != nil || got != p {
		t.Errorf("Path() = %q, %v; want %q", got, err, p)
	}
	// Already mounted now: a second call finds it.
	if got, mounted, err := Mount(); err != nil || got != p || mounted {
		t.Errorf("second Mount() = %q, %v, %v; want %q, false, nil", got, mounted, err, p)
	}
}

func TestExists(t *testing.T) {
	mountForTest(t)
	tests := []struct {
		group, name string
		want        bool
	}{
		{"syscalls", "sys_enter_writev", true},
		{"sched", "sched_process_fork", true},
		{"syscalls", "sys_enter_no_such_call", false},
		{"no_such_group", "sys_enter_writev", false},
		{"..", "syscalls", false},
		{"syscalls", "", false},
	}
	for _, tt := range tests {
		if got := Exists(tt.group, tt.name); got != tt.want {
			t.Errorf("Exists(%q, %q) = %v, want %v", tt.group, tt.name, got, tt.want)
		}
	}
}

func TestFormatLive(t *testing.T) {
	mountForTest(t)
	f, err := Format("syscalls", "sys_enter_writev")
	if err != nil {
		t.Fatalf("Format: %v", err)
	}
	if f.ID <= 0 {
		t.Errorf("ID = %d, want > 0", f.ID)
	}
	for _, want := range []struct {
		name   string
		offset int
	}{{"__syscall_nr", 8}, {"fd", 16}, {"vec", 24}, {"vlen", 32}} {
		fld, ok := f.Field(want.name)
		if !ok {
			t.Errorf("no field %q in %+v", want.name, f.Fields)
			continue
		}
		if fld.Offset != want.offset {
			t.Errorf("%s offset = %d, want %d", want.name, fld.Offset, want.offset)
		}
	}
}

func TestFormatErrors(t *testing.T) {
	mountForTest(t)
	tests := []struct {
		group, name string
		notExist    bool
	}{
		{"syscalls", "sys_enter_no_such_call", true},
		{"no_such_group", "x", true},
		{"syscalls/../..", "x", false},
		{"syscalls", "1abc", false},
	}
	for _, tt := range tests {
		_, err := Format(tt.group, tt.name)
		if err == nil {
			t.Errorf("Format(%q, %q) succeeded, want an error", tt.group, tt.name)
			continue
		}
		if got := errors.Is(err, os.ErrNotExist); got != tt.notExist {
			t.Errorf("Format(%q, %q) = %v; errors.Is(err, os.ErrNotExist) = %v, want %v",
				tt.group, tt.name, err, got, tt.notExist)
		}
	}
}

func TestValidIdentifier(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"sys_enter_writev", true},
		{"mm_filemap_add_to_page_cache", true},
		{"io_uring", true},
		{"A-b9", true},
		{"", false},
		{"9abc", false},
		{"-abc", false},
		{"..", false},
		{"a/b", false},
		{"a b", false},
	}
	for _, tt := range tests {
		if got := validIdentifier(tt.in); got != tt.want {
			t.Errorf("validIdentifier(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestFindInMountinfo(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{
			name: "tracefs after other mounts",
			in: "22 1 0:21 / /proc rw,nosuid - proc proc rw\n" +
				"35 24 0:12 / /sys/kernel/tracing rw,nosuid,nodev,noexec,relatime shared:15 - tracefs tracefs rw\n",
			want: "/sys/kernel/tracing",
		},
		{
			name: "escaped mount point",
			in:   `40 1 0:12 / /mnt/my\040trace\134fs rw - tracefs tracefs rw` + "\n",
			want: `/mnt/my trace\fs`,
		},
		{
			name: "bind mount of a subdirectory is not the root",
			in:   "41 1 0:12 /instances/x /mnt/x rw - tracefs tracefs rw\n",
			want: "",
		},
		{
			name: "none",
			in:   "22 1 0:21 / /proc rw,nosuid - proc proc rw\n",
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "mountinfo")
			if err := os.WriteFile(file, []byte(tt.in), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := findInMountinfo(file)
			if err != nil {
				t.Fatalf("findInMountinfo: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
